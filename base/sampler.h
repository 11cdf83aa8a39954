// base::Sampler: picks one event in every run of `Period`, at a position that
// changes from run to run.
//
// A counter's every Period-th event is phase-locked to any pattern in the
// events whose period shares a factor with Period: where an OPEN and a
// RELEASE alternate it times only one of the two, and where the device has
// extra work every 48 requests (a batch of FORGETs) every sample, or none,
// follows that work. Two sides timing one stream of requests with counters
// (the driver its round trips, the device its work) can then each time a
// different kind, and the difference of their means says nothing. A position
// drawn afresh for each run (xorshift) keeps exactly one pick per run, so the
// counts stay exact over whole runs, while every event has the same chance.
#ifndef BASE_SAMPLER_H_
#define BASE_SAMPLER_H_

#include <cstdint>

namespace base {

template <uint32_t Period>
class Sampler {
  static_assert(Period > 0);

 public:
  // Whether this event is the one its run picks. Not thread-safe: the caller
  // serializes (each side counts under its own lock).
  bool Pick() {
    if (position_ == 0) {
      // xorshift64 (Marsaglia): cheap, and uniform enough for a position.
      state_ ^= state_ << 13;
      state_ ^= state_ >> 7;
      state_ ^= state_ << 17;
      pick_at_ = static_cast<uint32_t>(state_ % Period);
    }
    const bool picked = position_ == pick_at_;
    position_ = position_ + 1 == Period ? 0 : position_ + 1;
    return picked;
  }

 private:
  uint64_t state_ = 0x9e3779b97f4a7c15;  // Any nonzero seed.
  uint32_t position_ = 0;                // The event's place in its run.
  uint32_t pick_at_ = 0;                 // The place this run picks.
};

}  // namespace base

#endif  // BASE_SAMPLER_H_
