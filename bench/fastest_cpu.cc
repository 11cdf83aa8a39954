#include "bench/fastest_cpu.h"

#include <pthread.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>

namespace bench {
namespace {

// One step is a chain of kSteps dependent multiply-adds, whose time follows
// the CPU's clock and what else shares its core, and kCalls stats of "/",
// whose time follows what the VM makes of the CPU's trips into the kernel and
// of its memory: CPUs alike on the first may differ on the second (on the
// machine this was written on, the same multiply-adds on both CPUs, and a stat
// of "/" in 1.43 us on one and 1.71-2.00 us on the other; a getppid, which
// touches less memory, in 1.03 and 1.07-1.20 us). The rows spend their time on
// both.
constexpr int kSteps = 100'000;
constexpr int kCalls = 40;
// The best of this many runs per CPU: an interrupt slows one run only.
constexpr int kRuns = 3;

double StepNanos() {
  double best = std::numeric_limits<double>::max();
  for (int run = 0; run < kRuns; ++run) {
    const auto start = std::chrono::steady_clock::now();
    uint64_t x = 1;
    for (int i = 0; i < kSteps; ++i) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      asm volatile("" : "+r"(x));  // Kept, step by step.
    }
    struct stat root;
    for (int i = 0; i < kCalls; ++i) stat("/", &root);
    const std::chrono::duration<double, std::nano> took =
        std::chrono::steady_clock::now() - start;
    best = std::min(best, took.count());
  }
  return best;
}

bool PinTo(int cpu) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  return pthread_setaffinity_np(pthread_self(), sizeof(one), &one) == 0;
}

}  // namespace

OnFastestCpu::OnFastestCpu() {
  if (pthread_getaffinity_np(pthread_self(), sizeof(allowed_), &allowed_) !=
          0 ||
      CPU_COUNT(&allowed_) < 2) {
    return;
  }
  int fastest = -1;
  double best = std::numeric_limits<double>::max(), worst = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed_) || !PinTo(cpu)) continue;
    const double step = StepNanos();
    if (step < best) {
      best = step;
      fastest = cpu;
    }
    worst = std::max(worst, step);
  }
  pinned_ = true;  // Wherever the loop left it, until PinTo below.
  if (fastest < 0 || !PinTo(fastest)) return;
  spread_ = worst / best;
}

OnFastestCpu::~OnFastestCpu() {
  if (pinned_) {
    pthread_setaffinity_np(pthread_self(), sizeof(allowed_), &allowed_);
  }
}

}  // namespace bench
