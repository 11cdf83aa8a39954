// A base::Platform for hosted VFS tests: std::mutex locks, the host's
// monotonic clock, heap memory for DMA. (The VFS needs only locks and time; the
// simulator has the full one.)
#ifndef TESTS_VFS_HOST_PLATFORM_H_
#define TESTS_VFS_HOST_PLATFORM_H_

#include <time.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

#include "base/platform.h"

namespace vfs_test {

class HostPlatform : public base::Platform {
 public:
  base::Result<base::DmaRegion> AllocateDma(size_t size,
                                            size_t alignment) override {
    void* p = std::aligned_alloc(
        alignment, (size + alignment - 1) / alignment * alignment);
    if (!p) return base::Error{ENOMEM};
    memset(p, 0, size);
    return base::DmaRegion{p, reinterpret_cast<uint64_t>(p), size};
  }
  void FreeDma(const base::DmaRegion& region) override {
    std::free(region.cpu);
  }
  // Nothing here talks to a device.
  base::Result<base::DmaMapping> MapDma(void*, size_t,
                                        base::DmaDirection) override {
    return base::Error{ENODEV};
  }
  void UnmapDma(const base::DmaMapping&, size_t) override {}

  uint64_t MonotonicNanos() override {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + ts.tv_nsec +
           offset_nanos_;
  }
  // Moves the clock forward (for cache expiry tests).
  void Advance(uint64_t nanos) { offset_nanos_ += nanos; }

  void Log(base::LogLevel, const char* message) override {
    std::fprintf(stderr, "%s\n", message);
  }

  std::unique_ptr<base::Lock> CreateLock() override {
    locks_created_.fetch_add(1, std::memory_order_relaxed);
    return std::make_unique<MutexLock>();
  }
  void Relax() override { std::this_thread::yield(); }

  uint64_t locks_created() const { return locks_created_.load(); }

 private:
  class MutexLock : public base::Lock {
   public:
    void Acquire() override { mutex_.lock(); }
    void Release() override { mutex_.unlock(); }

   private:
    std::mutex mutex_;
  };

  std::atomic<uint64_t> offset_nanos_{0};
  std::atomic<uint64_t> locks_created_{0};
};

}  // namespace vfs_test

#endif  // TESTS_VFS_HOST_PLATFORM_H_
