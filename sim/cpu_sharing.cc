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
BusyCount seated;           // Device threads seated.
BusyCount polling_waiters;  // SetWaiterPolling(true).
thread_local bool this_thread_polls = false;

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
  const bool was = this_thread_polls;
  if (polling != was) {
    polling_waiters.threads.fetch_add(polling ? 1 : -1,
                                      std::memory_order_relaxed);
    this_thread_polls = polling;
  }
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
  return seated.threads.load(std::memory_order_relaxed) +
                 polling_waiters.threads.load(std::memory_order_relaxed) >
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
