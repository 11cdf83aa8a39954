#include "sim/adaptive_mutex.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sim/cpu_relax.h"

namespace sim {
namespace {

// About glibc's adaptive bound (MAX_ADAPTIVE_COUNT): a few microseconds of
// pauses, longer than the locks are held, shorter than a sleep and wake-up.
constexpr int kSpins = 100;

}  // namespace

void AdaptiveMutex::LockContended() {
  for (int spin = 0; spin < kSpins; ++spin) {
    uint32_t seen = state_.load(std::memory_order_relaxed);
    // Spin only while nobody sleeps on it: a sleeper is a waiter that
    // already spun in vain: wait beside it rather than burn the CPU.
    if (seen == kContended) break;
    if (seen == kFree &&
        state_.compare_exchange_weak(seen, kHeld, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
      return;
    }
    CpuRelax();
  }
  // Marked contended before each sleep, so that the unlock that frees it
  // wakes a sleeper; taken when the mark finds it free (held as contended:
  // the next unlock may wake a thread needlessly, never miss one).
  while (state_.exchange(kContended, std::memory_order_acquire) != kFree) {
    syscall(SYS_futex, &state_, FUTEX_WAIT_PRIVATE, kContended, nullptr,
            nullptr, 0);
  }
}

void AdaptiveMutex::WakeOne() {
  syscall(SYS_futex, &state_, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

}  // namespace sim
