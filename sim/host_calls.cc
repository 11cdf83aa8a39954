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

// About 8 us at the GHz rates of x86 time-stamp counters; a clock read takes
// tens of nanoseconds.
constexpr uint64_t kMaxSampleGapTicks = 1 << 14;

}  // namespace

double MeasureTicksPerNano(uint64_t (*ticks)()) {
  using Clock = std::chrono::steady_clock;
  // The clock read between two counter reads: their midpoint is when it was
  // read, to within half the gap, so a pair the thread was preempted in is
  // read again (a 100 us gap would be 5% of the window); the later read if
  // the counter went back.
  const auto sample = [ticks](Clock::time_point* at) {
    for (;;) {
      const uint64_t before = ticks();
      *at = Clock::now();
      const uint64_t after = ticks();
      if (after < before) return after;
      if (after - before <= kMaxSampleGapTicks) {
        return before + (after - before) / 2;
      }
    }
  };
  for (;;) {
    Clock::time_point start, now;
    const uint64_t start_ticks = sample(&start);
    uint64_t now_ticks;
    do {
      now_ticks = sample(&now);
    } while (now - start < kTickCalibration && now_ticks >= start_ticks);
    // A counter that went back meanwhile (see host_calls.h) measures again.
    if (now_ticks <= start_ticks) continue;
    return static_cast<double>(now_ticks - start_ticks) /
           std::chrono::duration<double, std::nano>(now - start).count();
  }
}

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
  if (ticks == 0) return 0;
  return static_cast<uint64_t>(ticks / host_calls_internal::MeasureTicksPerNano(
                                           host_calls_internal::Ticks));
}

}  // namespace sim
