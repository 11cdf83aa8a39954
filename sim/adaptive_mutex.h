// A mutex that spins a little before it sleeps, with its uncontended lock and
// unlock inline: one atomic instruction each.
//
// The simulation's locks are held for a few hundred nanoseconds: the device
// model's state for a pop or a completion, a driver queue's ring. A thread
// that finds std::mutex held sleeps in the kernel at once, and on a virtual
// machine the wake-up can cost ~12 us (an idle vCPU's exit), far more than
// the wait it replaced: two threads reading through two queues of the inline
// device, which meet on the model's lock, often ran at the speed of one
// (read_2threads_4KiB sim-inline: 0.66 us per read in some runs, 1.18 us in
// others, with some 300 000 futex sleeps and wakes a second on that lock).
// So a waiter spins first, like glibc's PTHREAD_MUTEX_ADAPTIVE_NP.
//
// Not glibc's mutex itself: a request takes and releases some ten of these
// locks (the driver's queue, the device model, the VFS's nodes), and
// pthread_mutex_lock and _unlock cost ~60 instructions a pair where the
// atomics they wrap cost two (tools/request_instructions.sh: 4636 -> 4193
// per 4 KiB pread). The state word is the futex of Drepper's "Futexes Are
// Tricky" (mutex 3): 0 free, 1 held, 2 held with sleepers possible.
#ifndef SIM_ADAPTIVE_MUTEX_H_
#define SIM_ADAPTIVE_MUTEX_H_

#include <atomic>
#include <cstdint>

namespace sim {

// Meets Lockable: use it with std::lock_guard, std::unique_lock and
// std::condition_variable_any.
class AdaptiveMutex {
 public:
  AdaptiveMutex() = default;
  AdaptiveMutex(const AdaptiveMutex&) = delete;
  AdaptiveMutex& operator=(const AdaptiveMutex&) = delete;

  void lock() {
    uint32_t expected = kFree;
    if (!state_.compare_exchange_strong(expected, kHeld,
                                        std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
      LockContended();
    }
  }

  bool try_lock() {
    uint32_t expected = kFree;
    return state_.compare_exchange_strong(
        expected, kHeld, std::memory_order_acquire, std::memory_order_relaxed);
  }

  void unlock() {
    if (state_.exchange(kFree, std::memory_order_release) == kContended) {
      WakeOne();
    }
  }

 private:
  static constexpr uint32_t kFree = 0;
  static constexpr uint32_t kHeld = 1;
  static constexpr uint32_t kContended = 2;

  // Out of line: spins, then sleeps on the futex until it holds the lock.
  void LockContended();
  void WakeOne();

  std::atomic<uint32_t> state_{kFree};
};

}  // namespace sim

#endif  // SIM_ADAPTIVE_MUTEX_H_
