#include "sim/cpu_sharing.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include <atomic>

namespace sim {
namespace {

// CPUs past this are not counted: their threads spin as before.
constexpr int kCountedCpus = 256;

// Per CPU, on a line of its own: written when a thread arrives or leaves,
// read by every turn of a wait on that CPU.
struct alignas(64) CpuCounts {
  std::atomic<int> device_threads{0};
  std::atomic<int> yielded_waiters{0};
};

CpuCounts cpu_counts[kCountedCpus];

// Busy threads anywhere, each count on a line of its own.
struct alignas(64) BusyCount {
  std::atomic<int> threads{0};
};
BusyCount seated;  // Device threads seated.

// Polling waiters (SetWaiterPolling(true)), each marked on a line that only it
// writes: a waiter marks itself at the start and the end of every wait, and a
// locked add to one count, which device threads and other waiters read, moved
// the count's line between CPUs at each (~1 us of CPU per 2-thread stat,
// 3 requests, sim-thread). Readers add the marks up. A waiter holds its slot
// until it exits; waiters beyond kWaiterSlots at once share a count.
constexpr int kWaiterSlots = 64;
struct alignas(64) WaiterSlot {
  std::atomic<bool> claimed{false};
  std::atomic<bool> polling{false};
};
WaiterSlot waiter_slots[kWaiterSlots];
std::atomic<int> waiter_slots_in_use{0};  // Slots below it may be claimed.
BusyCount unslotted_waiters;

// The calling thread's mark: its slot, or none (then the shared count).
class WaiterMark {
 public:
  WaiterMark() {
    for (int i = 0; i < kWaiterSlots; ++i) {
      bool free = false;
      if (waiter_slots[i].claimed.compare_exchange_strong(
              free, true, std::memory_order_relaxed)) {
        slot_ = &waiter_slots[i];
        int in_use = waiter_slots_in_use.load(std::memory_order_relaxed);
        while (in_use <= i && !waiter_slots_in_use.compare_exchange_weak(
                                  in_use, i + 1, std::memory_order_relaxed)) {
        }
        return;
      }
    }
  }
  ~WaiterMark() {
    Set(false);
    if (slot_ != nullptr) {
      slot_->claimed.store(false, std::memory_order_relaxed);
    }
  }
  WaiterMark(const WaiterMark&) = delete;
  WaiterMark& operator=(const WaiterMark&) = delete;

  bool polling() const { return polling_; }
  void Set(bool polling) {
    if (polling == polling_) return;
    polling_ = polling;
    if (slot_ != nullptr) {
      slot_->polling.store(polling, std::memory_order_relaxed);
    } else {
      unslotted_waiters.threads.fetch_add(polling ? 1 : -1,
                                          std::memory_order_relaxed);
    }
  }

 private:
  WaiterSlot* slot_ = nullptr;
  bool polling_ = false;
};
thread_local WaiterMark this_thread_mark;

int PollingWaiters() {
  int waiters = unslotted_waiters.threads.load(std::memory_order_relaxed);
  const int in_use = waiter_slots_in_use.load(std::memory_order_relaxed);
  for (int i = 0; i < in_use; ++i) {
    waiters += waiter_slots[i].polling.load(std::memory_order_relaxed);
  }
  return waiters;
}

// The CPUs the process may run on: read as the program starts, from the
// thread that starts it, and not from the first caller, which may be a thread
// pinned to one CPU (a benchmark's, a test's).
const int usable_cpus = [] {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  return CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
}();

// The machine's runnable threads against its CPUs (NoteMachineRunnableThreads).
const int online_cpus = [] {
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  return cpus > 0 ? static_cast<int>(cpus) : 1;
}();
struct alignas(64) MachineLoad {
  std::atomic<bool> last_sample_over{false};
  std::atomic<bool> crowded{false};
};
MachineLoad machine;

// The caller's CPU, or -1 when it is not counted.
int CountedCpu() {
  const int cpu = sched_getcpu();
  return cpu >= 0 && cpu < kCountedCpus ? cpu : -1;
}

}  // namespace

void DeviceSeat::Take() {
  const int cpu = CountedCpu();
  if (cpu == cpu_) return;
  Leave();
  if (cpu >= 0) {
    cpu_counts[cpu].device_threads.fetch_add(1, std::memory_order_relaxed);
    seated.threads.fetch_add(1, std::memory_order_relaxed);
  }
  cpu_ = cpu;
}

void DeviceSeat::Leave() {
  if (cpu_ >= 0) {
    cpu_counts[cpu_].device_threads.fetch_sub(1, std::memory_order_relaxed);
    seated.threads.fetch_sub(1, std::memory_order_relaxed);
  }
  cpu_ = -1;
}

bool DeviceSeat::WaiterYielded() const {
  return cpu_ >= 0 &&
         cpu_counts[cpu_].yielded_waiters.load(std::memory_order_relaxed) > 0;
}

bool DeviceThreadOnThisCpu() { return DeviceThreadOnCpu(CountedCpu()); }

bool DeviceThreadOnCpu(int cpu) {
  return cpu >= 0 && cpu < kCountedCpus &&
         cpu_counts[cpu].device_threads.load(std::memory_order_relaxed) > 0;
}

bool SetWaiterPolling(bool polling) {
  const bool was = this_thread_mark.polling();
  this_thread_mark.Set(polling);
  return was;
}

void MachineLoadSampler::MaybeSample(Clock::time_point now) {
  if (now < next_) return;
  next_ = now + kInterval;
  // "0.42 0.30 0.25 3/417 12345": the fourth field's first number. procfs
  // makes the text anew for each read at offset 0.
  static const int loadavg = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
  char text[128];
  const ssize_t length =
      loadavg < 0 ? -1 : pread(loadavg, text, sizeof(text) - 1, 0);
  if (length <= 0) return;  // No procfs: other processes go unseen.
  text[length] = '\0';
  int runnable = 0;
  if (sscanf(text, "%*s %*s %*s %d/", &runnable) == 1) {
    NoteMachineRunnableThreads(runnable);
  }
}

void NoteMachineRunnableThreads(int threads) {
  const bool over = threads > online_cpus;
  if (machine.last_sample_over.exchange(over, std::memory_order_relaxed) ==
      over) {
    machine.crowded.store(over, std::memory_order_relaxed);
  }
}

bool BusyThreadsOutnumberTheCpus() {
  return seated.threads.load(std::memory_order_relaxed) + PollingWaiters() >
             usable_cpus ||
         machine.crowded.load(std::memory_order_relaxed);
}

void YieldAsWaiter() {
  const int cpu = CountedCpu();
  if (cpu < 0) {
    sched_yield();
    return;
  }
  cpu_counts[cpu].yielded_waiters.fetch_add(1, std::memory_order_relaxed);
  sched_yield();
  // Counted off where it was counted: the yield may have moved the thread.
  cpu_counts[cpu].yielded_waiters.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace sim
