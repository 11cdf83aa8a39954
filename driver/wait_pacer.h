// driver::WaitPacer: the pace of one polling wait for the device.
//
// A waiter spins (Platform::Spin) for kSpinNanos from its first pause, then
// Relaxes. A device on another CPU answers most requests within that time (a
// 4 KiB read in 3-5 us on a VM whose system calls cost 1.3 us), and a Relax
// that yields the CPU is a system call whose length the answer may then wait
// out. Time, not turns: a turn costs what the machine's cache lines and locks
// cost. The clock is read every kTurnsPerClockRead turns while it spins.
// From its first turn to its end it is a polling wait to the platform
// (Platform::PollingWaitBegins, PollingWaitEnds).
#ifndef DRIVER_WAIT_PACER_H_
#define DRIVER_WAIT_PACER_H_

#include <cstdint>

#include "base/platform.h"

namespace driver {

class WaitPacer {
 public:
  static constexpr uint64_t kSpinNanos = 20'000;
  static constexpr unsigned kTurnsPerClockRead = 64;

  // A wait for a chain on virtqueue `queue` (Platform::kAnyQueue: several).
  WaitPacer(base::Platform& platform, uint16_t queue)
      : platform_(platform), queue_(queue) {}
  ~WaitPacer() {
    if (turns_ != 0) platform_.PollingWaitEnds();
  }
  WaitPacer(const WaitPacer&) = delete;
  WaitPacer& operator=(const WaitPacer&) = delete;

  // One turn of the wait.
  void Pause() {
    if (!relaxing_ && turns_++ % kTurnsPerClockRead == 0) {
      const uint64_t now = platform_.MonotonicNanos();
      if (turns_ == 1) {
        platform_.PollingWaitBegins();
        spin_end_ = now + kSpinNanos;
      } else {
        relaxing_ = now >= spin_end_;
      }
    }
    if (relaxing_) {
      platform_.Relax();
    } else {
      platform_.Spin(queue_);
    }
  }

 private:
  base::Platform& platform_;
  const uint16_t queue_;
  unsigned turns_ = 0;
  uint64_t spin_end_ = 0;
  bool relaxing_ = false;
};

}  // namespace driver

#endif  // DRIVER_WAIT_PACER_H_
