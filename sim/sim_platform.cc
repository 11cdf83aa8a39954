#include "sim/sim_platform.h"

#include <sched.h>
#include <time.h>

#include <cstdio>
#include <mutex>

namespace sim {
namespace {

class MutexLock : public base::Lock {
 public:
  void Acquire() override { mutex_.lock(); }
  void Release() override { mutex_.unlock(); }

 private:
  std::mutex mutex_;
};

const char* LevelName(base::LogLevel level) {
  switch (level) {
    case base::LogLevel::kDebug:
      return "debug";
    case base::LogLevel::kInfo:
      return "info";
    case base::LogLevel::kWarning:
      return "warning";
    case base::LogLevel::kError:
      return "error";
  }
  return "log";
}

}  // namespace

SimPlatform::SimPlatform(const GuestMemory& memory, LogSink sink)
    : memory_(memory), allocator_(memory), sink_(std::move(sink)) {}

base::Result<base::DmaRegion> SimPlatform::AllocateDma(size_t size,
                                                       size_t alignment) {
  std::optional<uint64_t> bus = allocator_.Allocate(size, alignment);
  if (!bus.has_value()) return base::Error{ENOMEM};
  return base::DmaRegion{memory_.HostPointer(*bus, size), *bus, size};
}

void SimPlatform::FreeDma(const base::DmaRegion& region) {
  allocator_.Free(region.bus);
}

bool SimPlatform::BusAddressOf(const void* p, size_t size, uint64_t* bus) {
  std::optional<uint64_t> address = memory_.BusAddressOf(p, size);
  if (!address.has_value()) return false;
  *bus = *address;
  return true;
}

uint64_t SimPlatform::MonotonicNanos() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000u +
         static_cast<uint64_t>(now.tv_nsec);
}

void SimPlatform::Log(base::LogLevel level, const char* message) {
  if (sink_) {
    sink_(level, message);
  } else {
    fprintf(stderr, "[%s] %s\n", LevelName(level), message);
  }
}

std::unique_ptr<base::Lock> SimPlatform::CreateLock() {
  return std::make_unique<MutexLock>();
}

void SimPlatform::Relax() {
  // A few pauses let a spinning partner on another core make progress cheaply;
  // the yield keeps a polling loop from starving the device thread on a busy
  // machine.
  for (int i = 0; i < 8; ++i) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  sched_yield();
}

}  // namespace sim
