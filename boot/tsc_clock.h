// Time from the CPU's time stamp counter, calibrated once against the PIT
// (channel 0).
//
// Under QEMU's TCG the TSC follows the host's clock and the PIT follows QEMU's
// virtual clock, which in turn follows the host's: the calibration is good to a
// few percent, plenty for the driver's timeouts. What the driver relies on is
// that time never runs backwards, which Nanos() guarantees on its own.
#ifndef BOOT_TSC_CLOCK_H_
#define BOOT_TSC_CLOCK_H_

#include <cstdint>

namespace boot {

class TscClock {
 public:
  // Used when the PIT gives no plausible answer (a machine without one): the
  // result is then only roughly in nanoseconds, still monotonic.
  static constexpr uint64_t kFallbackHz = 1'000'000'000;

  // Measures the TSC's frequency over ~20 ms of PIT ticks. Returns false (and
  // uses kFallbackHz) when there is no PIT or the measurement is implausible.
  bool Calibrate();

  // Nanoseconds since Calibrate().
  uint64_t Nanos();
  uint64_t hz() const { return hz_; }

 private:
  uint64_t hz_ = kFallbackHz;
  uint64_t start_ticks_ = 0;
  // Nanoseconds per tick as a 32.32 fixed-point number.
  uint64_t nanos_per_tick_fixed_ = uint64_t{1} << 32;
  uint64_t last_nanos_ = 0;
};

}  // namespace boot

#endif  // BOOT_TSC_CLOCK_H_
