// sim::RequestTimes: a simulated machine's FUSE requests as its two sides
// timed them, one in every few (driver::VirtioFs::round_trips: from making a
// chain available to seeing it complete; sim::kChainTimeSampling: the device's
// work from pop to used element), and the hand-off between them.
#ifndef SIM_REQUEST_TIMES_H_
#define SIM_REQUEST_TIMES_H_

#include <algorithm>
#include <cstdint>
#include <optional>

namespace sim {

struct RequestTimes {
  // Fewer timed requests on either side than this give no hand-off: a mean of
  // one or two samples is mostly the noise of the moment it was taken.
  static constexpr uint64_t kMinTimed = 8;

  uint64_t round_trips = 0;  // Timed by the driver,
  uint64_t round_trip_nanos = 0;
  uint64_t device_chains = 0;  // and by the device.
  uint64_t device_nanos = 0;

  RequestTimes operator-(const RequestTimes& earlier) const {
    return {round_trips - earlier.round_trips,
            round_trip_nanos - earlier.round_trip_nanos,
            device_chains - earlier.device_chains,
            device_nanos - earlier.device_nanos};
  }

  RequestTimes& operator+=(const RequestTimes& more) {
    round_trips += more.round_trips;
    round_trip_nanos += more.round_trip_nanos;
    device_chains += more.device_chains;
    device_nanos += more.device_nanos;
    return *this;
  }

  // Each side's mean time per timed request, in ns; for at least one timed.
  double RoundTripMeanNanos() const {
    return static_cast<double>(round_trip_nanos) / round_trips;
  }
  double DeviceMeanNanos() const {
    return static_cast<double>(device_nanos) / device_chains;
  }

  // Whether both sides have kMinTimed timed.
  bool Enough() const {
    return round_trips >= kMinTimed && device_chains >= kMinTimed;
  }
  // Whether the two sides timed the same chains, as far as their counts tell.
  // They pick them by the same places (base/sampler.h), but the device also
  // times the chains the driver sends without waiting (READs sent ahead) and
  // the driver those a backend completes later. Beyond one in kSameChainsSlack
  // of the larger side (and a chain or two in flight at either reading), the
  // two means are of different requests.
  static constexpr uint64_t kSameChainsSlack = 8;
  bool SameChains() const {
    const uint64_t more = std::max(round_trips, device_chains);
    return more - std::min(round_trips, device_chains) <=
           2 + more / kSameChainsSlack;
  }

  // What a request costs between the driver and the device beyond the
  // device's work, in ns: the driver's mean round trip less the device's mean
  // time per chain (notifies, interrupts, reaping; in thread mode also the
  // crossings between CPUs). None without Enough() and SameChains().
  std::optional<double> HandOffNanos() const {
    if (!Enough() || !SameChains()) return std::nullopt;
    return RoundTripMeanNanos() - DeviceMeanNanos();
  }
};

}  // namespace sim

#endif  // SIM_REQUEST_TIMES_H_
