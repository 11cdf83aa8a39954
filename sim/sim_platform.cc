#include "sim/sim_platform.h"

#include <sched.h>
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

#include "sim/adaptive_mutex.h"
#include "sim/cpu_relax.h"
#include "sim/cpu_sharing.h"

namespace sim {
namespace {

class MutexLock : public base::Lock {
 public:
  void Acquire() override { mutex_.lock(); }
  void Release() override { mutex_.unlock(); }

  // base::Lock wants a cache line of its own, and the default aligned `new`
  // is glibc's memalign: ~400 instructions, and its free consolidates the heap
  // (two or three locks are made and freed per open file and node). An
  // ordinary malloc of one line more, aligned by hand, takes the allocator's
  // per-thread fast path instead; the pointer malloc returned is kept in the
  // bytes just below the aligned one (malloc aligns to at least 8, so there
  // are always at least 8 of them).
  static void* operator new(size_t size, std::align_val_t alignment) {
    const size_t align = static_cast<size_t>(alignment);
    void* raw = std::malloc(size + align);
    if (raw == nullptr) throw std::bad_alloc();
    const uintptr_t aligned =
        (reinterpret_cast<uintptr_t>(raw) + align) & ~(align - 1);
    reinterpret_cast<void**>(aligned)[-1] = raw;
    return reinterpret_cast<void*>(aligned);
  }
  static void operator delete(void* p, std::align_val_t) {
    std::free(static_cast<void**>(p)[-1]);
  }

 private:
  AdaptiveMutex mutex_;
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

uint64_t ClockNanos(clockid_t clock) {
  timespec now;
  clock_gettime(clock, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000u +
         static_cast<uint64_t>(now.tv_nsec);
}

}  // namespace

SimPlatform::SimPlatform(const GuestMemory& memory, LogSink sink)
    : memory_(memory),
      allocator_(memory),
      pool_(allocator_),
      sink_(std::move(sink)) {}

base::Result<base::DmaRegion> SimPlatform::AllocateDma(size_t size,
                                                       size_t alignment) {
  std::optional<uint64_t> bus = pool_.Allocate(size, alignment);
  if (!bus.has_value()) return base::Error{ENOMEM};
  return base::DmaRegion{memory_.HostPointer(*bus, size), *bus, size};
}

void SimPlatform::FreeDma(const base::DmaRegion& region) {
  pool_.Free(region.bus, region.size);
}

base::Result<base::DmaMapping> SimPlatform::MapDma(
    void* buffer, size_t size, base::DmaDirection direction) {
  if (size == 0) return base::Error{EINVAL};
  base::DmaMapping mapping{
      .buffer = buffer, .size = size, .direction = direction};
  if (std::optional<uint64_t> bus = memory_.BusAddressOf(buffer, size)) {
    mapping.bus = *bus;
    return mapping;
  }
  const base::DmaRegion bounce = TRY(AllocateDma(size, 8));
  mapping.bus = bounce.bus;
  mapping.bounce = bounce.cpu;
  if (direction == base::DmaDirection::kToDevice) {
    memcpy(bounce.cpu, buffer, size);
  } else {
    // The pool's block last held some other transfer's bytes: the device must
    // not see them (the lesson of Linux's swiotlb, CVE-2022-0854).
    memset(bounce.cpu, 0, size);
  }
  return mapping;
}

void SimPlatform::UnmapDma(const base::DmaMapping& mapping,
                           size_t device_wrote) {
  if (mapping.bounce == nullptr) return;
  if (mapping.direction == base::DmaDirection::kFromDevice) {
    memcpy(mapping.buffer, mapping.bounce,
           device_wrote < mapping.size ? device_wrote : mapping.size);
  }
  pool_.Free(mapping.bus, mapping.size);
}

uint64_t SimPlatform::MonotonicNanos() { return ClockNanos(CLOCK_MONOTONIC); }

uint64_t SimPlatform::CoarseMonotonicNanos() {
  return ClockNanos(CLOCK_MONOTONIC_COARSE);
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
  for (int i = 0; i < 8; ++i) CpuRelax();
  YieldAsWaiter();
}

void SimPlatform::Spin(uint16_t queue) {
  // A device thread on this CPU cannot answer while the waiter spins on it,
  // and on a machine with more busy threads than CPUs a spinning waiter keeps
  // one of them from its work: the waiter does the device's work itself, or
  // when there is none it can take, gives its CPU away; but not while another
  // waiter on another CPU processes the queues (the waiter's chain, often): a
  // yield is a system call, through which that waiter finishes unseen.
  if (DeviceThreadOnThisCpu() || BusyThreadsOutnumberTheCpus()) {
    const WaiterHelp help =
        device_helper_ ? device_helper_(queue) : WaiterHelp::kNothing;
    if (help == WaiterHelp::kProcessed) return;
    if (help == WaiterHelp::kNothing) return YieldAsWaiter();
  }
  CpuRelax();
}

uint32_t SimPlatform::CurrentCpu() const {
  // The host CPU the thread runs on, as Linux maps its CPUs to request
  // queues: threads on different CPUs take different queues, threads sharing
  // a CPU share one (and its lock).
  const int cpu = sched_getcpu();
  return cpu < 0 ? 0 : static_cast<uint32_t>(cpu);
}

void SimPlatform::WaitForInterrupt() {
  // What the calling thread saw when it last returned, on which platform (a
  // thread may serve several machines): a first wait returns at once.
  thread_local const SimPlatform* seen_platform = nullptr;
  thread_local uint64_t seen = 0;
  // Asleep, the waiter is not a busy thread.
  const bool polling = SetWaiterPolling(false);
  std::unique_lock<std::mutex> lock(interrupt_mutex_);
  if (seen_platform == this) {
    interrupt_delivered_.wait_for(lock, kInterruptWaitBound,
                                  [&] { return interrupts_ != seen; });
  }
  seen_platform = this;
  seen = interrupts_;
  lock.unlock();
  SetWaiterPolling(polling);
}

void SimPlatform::InterruptDelivered() {
  {
    std::lock_guard<std::mutex> lock(interrupt_mutex_);
    ++interrupts_;
  }
  interrupt_delivered_.notify_all();
}

}  // namespace sim
