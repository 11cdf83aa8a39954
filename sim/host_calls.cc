#include "sim/host_calls.h"

#include <pthread.h>

#include <chrono>
#include <mutex>
#include <vector>

namespace sim {
namespace host_calls_internal {
namespace {

struct Registry;
Registry& TheRegistry();

struct Registry {
  std::mutex mu;
  std::vector<ThreadCounters*> all;   // Every block made.
  std::vector<ThreadCounters*> free;  // Of threads that have ended.
  pthread_key_t thread_end;           // Returns a thread's block.
};

void ReturnCounters(void* counters) {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.free.push_back(static_cast<ThreadCounters*>(counters));
}

Registry& TheRegistry() {
  static Registry* registry = [] {
    auto* r = new Registry;  // Outlives every thread.
    pthread_key_create(&r->thread_end, ReturnCounters);
    return r;
  }();
  return *registry;
}

// Where the time-stamp counter and the steady clock stood when the process
// started: the ratio of their progress since converts ticks to nanoseconds
// (the counter is invariant on the x86 machines this runs on: constant_tsc,
// nonstop_tsc).
using Clock = std::chrono::steady_clock;
const Clock::time_point start_time = Clock::now();
const uint64_t start_ticks = Ticks();

double TicksPerNano() {
  for (;;) {
    const uint64_t ticks = Ticks() - start_ticks;
    const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           Clock::now() - start_time)
                           .count();
    // A millisecond at least, for a ratio good to a part in a thousand.
    if (nanos >= 1'000'000) return static_cast<double>(ticks) / nanos;
  }
}

}  // namespace

ThreadCounters* AssignThreadCounters() {
  Registry& r = TheRegistry();
  ThreadCounters* counters;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    if (r.free.empty()) {
      counters = new ThreadCounters;
      r.all.push_back(counters);
    } else {
      counters = r.free.back();
      r.free.pop_back();
    }
  }
  pthread_setspecific(r.thread_end, counters);
  return counters;
}

}  // namespace host_calls_internal

HostCallTotals ProcessHostCalls() {
  using namespace host_calls_internal;
  Registry& r = TheRegistry();
  uint64_t calls;
  uint64_t ticks;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    calls = 0;
    ticks = 0;
    for (const ThreadCounters* t : r.all) {
      calls += t->calls.load(std::memory_order_relaxed);
      ticks += t->ticks.load(std::memory_order_relaxed);
    }
  }
  return {calls, ticks};
}

uint64_t HostCallTotals::nanos() const {
  // The ratio improves as the process runs; converting each total with its
  // own would make the difference of two totals of the same ticks nonzero.
  return static_cast<uint64_t>(ticks / host_calls_internal::TicksPerNano());
}

}  // namespace sim
