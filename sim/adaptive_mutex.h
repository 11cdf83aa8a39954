// A mutex that spins a little before it sleeps: glibc's adaptive mutex
// (PTHREAD_MUTEX_ADAPTIVE_NP), which spins up to about a hundred pauses,
// fewer when recent waits were shorter, before it waits in the kernel.
//
// The simulation's locks are held for a few hundred nanoseconds: the device
// model's state for a pop or a completion, a driver queue's ring. A thread
// that finds std::mutex held sleeps in the kernel at once, and on a virtual
// machine the wake-up can cost ~12 us (an idle vCPU's exit), far more than
// the wait it replaced: two threads reading through two queues of the inline
// device, which meet on the model's lock, often ran at the speed of one
// (read_2threads_4KiB sim-inline: 0.66 us per read in some runs, 1.18 us in
// others, with some 300 000 futex sleeps and wakes a second on that lock).
#ifndef SIM_ADAPTIVE_MUTEX_H_
#define SIM_ADAPTIVE_MUTEX_H_

#include <pthread.h>

namespace sim {

// Meets Lockable: use it with std::lock_guard, std::unique_lock and
// std::condition_variable_any.
class AdaptiveMutex {
 public:
  AdaptiveMutex() = default;
  ~AdaptiveMutex() { pthread_mutex_destroy(&mutex_); }
  AdaptiveMutex(const AdaptiveMutex&) = delete;
  AdaptiveMutex& operator=(const AdaptiveMutex&) = delete;

  void lock() { pthread_mutex_lock(&mutex_); }
  bool try_lock() { return pthread_mutex_trylock(&mutex_) == 0; }
  void unlock() { pthread_mutex_unlock(&mutex_); }

 private:
  pthread_mutex_t mutex_ = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
};

}  // namespace sim

#endif  // SIM_ADAPTIVE_MUTEX_H_
