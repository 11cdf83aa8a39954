// A base::Platform over ordinary host memory for unit tests that play the
// device themselves. Bus addresses are deliberately far from the host pointers,
// so a driver that hands the device a pointer instead of a bus address is
// caught: the test's device translates every bus address through BusToCpu(),
// which fails on anything not allocated here.
#ifndef TESTS_DRIVER_FAKE_DMA_PLATFORM_H_
#define TESTS_DRIVER_FAKE_DMA_PLATFORM_H_

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/platform.h"

namespace driver_test {

class FakeDmaPlatform : public base::Platform {
 public:
  static constexpr uint64_t kBusBase = 0x7700'0000'0000;

  ~FakeDmaPlatform() override {
    for (auto& [bus, region] : live_) std::free(region.cpu);
  }

  base::Result<base::DmaRegion> AllocateDma(size_t size,
                                            size_t alignment) override {
    if (fail_allocations_ > 0) {
      --fail_allocations_;
      return base::Error{ENOMEM};
    }
    const size_t align = alignment < 16 ? 16 : alignment;
    const size_t rounded = (size + align - 1) / align * align;
    void* cpu = std::aligned_alloc(align, rounded);
    if (cpu == nullptr) return base::Error{ENOMEM};
    std::memset(cpu, 0, rounded);
    next_bus_ = (next_bus_ + align - 1) / align * align;
    base::DmaRegion region{.cpu = cpu, .bus = next_bus_, .size = size};
    next_bus_ +=
        rounded + 4096;  // A gap, so overruns do not land in a neighbour.
    live_[region.bus] = region;
    return region;
  }

  void FreeDma(const base::DmaRegion& region) override {
    auto it = live_.find(region.bus);
    if (it == live_.end() || it->second.cpu != region.cpu) {
      bad_frees_++;
      return;
    }
    std::free(it->second.cpu);
    live_.erase(it);
  }

  // In place inside an allocation of this platform's; anything else through
  // a bounce buffer allocated here.
  base::Result<base::DmaMapping> MapDma(void* buffer, size_t size,
                                        base::DmaDirection direction) override {
    if (size == 0) return base::Error{EINVAL};
    base::DmaMapping mapping{
        .buffer = buffer, .size = size, .direction = direction};
    for (auto& [b, region] : live_) {
      auto* begin = static_cast<const uint8_t*>(region.cpu);
      auto* q = static_cast<const uint8_t*>(buffer);
      if (q >= begin && q + size <= begin + region.size) {
        mapping.bus = b + (q - begin);
        return mapping;
      }
    }
    base::DmaRegion bounce = TRY(AllocateDma(size, 16));
    mapping.bus = bounce.bus;
    mapping.bounce = bounce.cpu;
    if (direction == base::DmaDirection::kToDevice) {
      std::memcpy(bounce.cpu, buffer, size);
    }
    return mapping;
  }
  void UnmapDma(const base::DmaMapping& mapping, size_t device_wrote) override {
    if (mapping.bounce == nullptr) return;
    if (mapping.direction == base::DmaDirection::kFromDevice) {
      std::memcpy(mapping.buffer, mapping.bounce,
                  device_wrote < mapping.size ? device_wrote : mapping.size);
    }
    FreeDma({mapping.bounce, mapping.bus, mapping.size});
  }

  uint64_t MonotonicNanos() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  void Log(base::LogLevel, const char* message) override {
    logs_.push_back(message);
  }
  std::unique_ptr<base::Lock> CreateLock() override {
    return std::make_unique<MutexLock>();
  }
  void Relax() override {}

  // The host view of [bus, bus + length), or nullptr when it is not all inside
  // one allocation.
  void* BusToCpu(uint64_t bus, uint64_t length) {
    auto it = live_.upper_bound(bus);
    if (it == live_.begin()) return nullptr;
    --it;
    const base::DmaRegion& region = it->second;
    if (bus - region.bus > region.size ||
        length > region.size - (bus - region.bus)) {
      return nullptr;
    }
    return static_cast<uint8_t*>(region.cpu) + (bus - region.bus);
  }

  size_t live_allocations() const { return live_.size(); }
  int bad_frees() const { return bad_frees_; }
  void FailNextAllocations(int count) { fail_allocations_ = count; }
  const std::vector<std::string>& logs() const { return logs_; }
  bool Logged(const std::string& needle) const {
    for (const std::string& line : logs_) {
      if (line.find(needle) != std::string::npos) return true;
    }
    return false;
  }

 private:
  class MutexLock : public base::Lock {
   public:
    void Acquire() override { mutex_.lock(); }
    void Release() override { mutex_.unlock(); }

   private:
    std::mutex mutex_;
  };

  std::map<uint64_t, base::DmaRegion> live_;
  uint64_t next_bus_ = kBusBase;
  int bad_frees_ = 0;
  int fail_allocations_ = 0;
  std::vector<std::string> logs_;
};

}  // namespace driver_test

#endif  // TESTS_DRIVER_FAKE_DMA_PLATFORM_H_
