#include "boot/tsc_clock.h"

#include "boot/x86.h"

namespace boot {
namespace {

constexpr uint16_t kPitChannel0 = 0x40;
constexpr uint16_t kPitCommand = 0x43;
// Channel 0, low byte then high byte, mode 2 (rate generator), binary. Mode 2
// counts down by one per tick and reloads, so the elapsed ticks can be read off
// the counter. Channel 0 because channel 2's gate hangs off the PC speaker
// port, which microvm lacks. Its interrupt is harmless: the image runs with
// interrupts off.
constexpr uint8_t kPitChannel0Mode2 = 0x34;
constexpr uint8_t kPitLatchChannel0 = 0x00;

constexpr uint64_t kPitHz = 1'193'182;
constexpr uint64_t kCalibrationTicks = 11932 * 2;  // ~20 ms.
// Bounds the wait when no PIT answers: 4e9 TSC ticks is over a second on any
// plausible CPU.
constexpr uint64_t kGiveUpTscTicks = 4'000'000'000;

constexpr uint64_t kMinPlausibleHz = 50'000'000;
constexpr uint64_t kMaxPlausibleHz = 50'000'000'000;

uint16_t ReadPitCounter() {
  Out8(kPitCommand, kPitLatchChannel0);
  const uint8_t low = In8(kPitChannel0);
  const uint8_t high = In8(kPitChannel0);
  return static_cast<uint16_t>(high << 8 | low);
}

}  // namespace

bool TscClock::Calibrate() {
  Out8(kPitCommand, kPitChannel0Mode2);
  Out8(kPitChannel0, 0);  // Reload value 0 = 65536 ticks, ~55 ms per period.
  Out8(kPitChannel0, 0);
  uint16_t previous = ReadPitCounter();
  uint64_t elapsed_ticks = 0;
  const uint64_t begin = ReadTsc();
  uint64_t end = begin;
  // The counter is read far more often than once per period (55 ms), so the
  // distance between two reads, modulo the period, is the ticks that passed.
  while (elapsed_ticks < kCalibrationTicks && end - begin < kGiveUpTscTicks) {
    const uint16_t current = ReadPitCounter();
    elapsed_ticks += static_cast<uint16_t>(previous - current);
    previous = current;
    end = ReadTsc();
  }
  const uint64_t measured = elapsed_ticks >= kCalibrationTicks
                                ? (end - begin) * kPitHz / elapsed_ticks
                                : 0;
  const bool plausible =
      measured >= kMinPlausibleHz && measured <= kMaxPlausibleHz;
  hz_ = plausible ? measured : kFallbackHz;
  nanos_per_tick_fixed_ = (uint64_t{1'000'000'000} << 32) / hz_;
  start_ticks_ = ReadTsc();
  last_nanos_ = 0;
  return plausible;
}

uint64_t TscClock::Nanos() {
  const uint64_t ticks = ReadTsc() - start_ticks_;
  const auto product =
      static_cast<unsigned __int128>(ticks) * nanos_per_tick_fixed_;
  const uint64_t nanos = static_cast<uint64_t>(product >> 32);
  // The TSC is invariant on QEMU; the guard keeps the promise on any other CPU
  // too.
  if (nanos > last_nanos_) last_nanos_ = nanos;
  return last_nanos_;
}

}  // namespace boot
