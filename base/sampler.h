// base::IsSampledPlace: which chains of a virtqueue are timed, one in each run
// of `Period`, by the chain's place in the order the queue takes them.
//
// The driver times round trips and the device its work, and the difference of
// their means is the hand-off (sim::RequestTimes). Both must time the same
// chains: where requests of different cost alternate (an OPEN, a RELEASE; a
// CREATE waiting behind a batch of FORGETs every 48 requests), two samples of
// different chains differ by far more than the hand-off. A chain's place on
// its queue is what both sides see alike (a split ring's avail index), so each
// decides from it alone. Not every Period-th place: that is phase-locked to any
// pattern whose period shares a factor with Period and would time one kind of
// request only; the place picked in each run is drawn from the run's number.
#ifndef BASE_SAMPLER_H_
#define BASE_SAMPLER_H_

#include <cstdint>

namespace base {

template <uint16_t Period>
constexpr bool IsSampledPlace(uint16_t place) {
  static_assert(Period > 0 && (Period & (Period - 1)) == 0,
                "a power of two: runs stay aligned where the place wraps");
  uint32_t run = place / Period;
  // murmur3's finalizer: neighbouring runs pick unrelated places.
  run ^= run >> 16;
  run *= 0x85ebca6bu;
  run ^= run >> 13;
  run *= 0xc2b2ae35u;
  run ^= run >> 16;
  return place % Period == run % Period;
}

// Neither side times a chain whose device-writable part is no larger than
// this, a FUSE reply that is only its header (fuse_out_header): FORGET has no
// reply, and the driver posts a last close's RELEASE without waiting for its
// bare header (driver::FuseClient::PostRelease), so it cannot time them; the
// device, which cannot tell a posted chain from a waited one, leaves all such
// chains out too, and both sides' means stay of the same chains.
inline constexpr uint64_t kMaxUntimedWritableBytes = 16;

}  // namespace base

#endif  // BASE_SAMPLER_H_
