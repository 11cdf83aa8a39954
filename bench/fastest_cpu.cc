#include "bench/fastest_cpu.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>

namespace bench {
namespace {

// Steps of a chain of dependent multiply-adds: its time follows the CPU's
// clock and what else shares its core, not memory.
constexpr int kSteps = 100'000;
// The best of this many runs per CPU: an interrupt slows one run only.
constexpr int kRuns = 3;

double NanosPerStep() {
  double best = std::numeric_limits<double>::max();
  for (int run = 0; run < kRuns; ++run) {
    const auto start = std::chrono::steady_clock::now();
    uint64_t x = 1;
    for (int i = 0; i < kSteps; ++i) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      asm volatile("" : "+r"(x));  // Kept, step by step.
    }
    const std::chrono::duration<double, std::nano> took =
        std::chrono::steady_clock::now() - start;
    best = std::min(best, took.count() / kSteps);
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
    const double step = NanosPerStep();
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
