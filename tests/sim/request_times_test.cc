// sim::RequestTimes: the hand-off is the driver's mean round trip less the
// device's mean time per chain, only with enough timed on each side and about
// as many on both; readings subtract and add counter by counter.
#include "sim/request_times.h"

#include <optional>

#include "gtest/gtest.h"

namespace sim {
namespace {

constexpr uint64_t kEnough = RequestTimes::kMinTimed;

TEST(RequestTimesTest, HandOffIsTheDifferenceOfTheTwoMeans) {
  // Round trips of 5 us on average against 3 us of device work per chain,
  // over different numbers of samples on each side.
  const RequestTimes times{.round_trips = kEnough,
                           .round_trip_nanos = kEnough * 5000,
                           .device_chains = kEnough + 2,
                           .device_nanos = (kEnough + 2) * 3000};
  EXPECT_DOUBLE_EQ(times.RoundTripMeanNanos(), 5000.0);
  EXPECT_DOUBLE_EQ(times.DeviceMeanNanos(), 3000.0);
  ASSERT_TRUE(times.HandOffNanos().has_value());
  EXPECT_DOUBLE_EQ(*times.HandOffNanos(), 2000.0);
}

TEST(RequestTimesTest, NoHandOffWithTooFewTimedOnEitherSide) {
  RequestTimes times{kEnough, kEnough * 5000, kEnough, kEnough * 3000};
  RequestTimes few_round_trips = times;
  few_round_trips.round_trips = kEnough - 1;
  EXPECT_FALSE(few_round_trips.HandOffNanos().has_value());
  RequestTimes few_chains = times;
  few_chains.device_chains = kEnough - 1;
  EXPECT_FALSE(few_chains.HandOffNanos().has_value());
  EXPECT_FALSE(RequestTimes{}.HandOffNanos().has_value());
}

TEST(RequestTimesTest, NoHandOffWhenTheSidesTimedDifferentChains) {
  // 100 round trips against 116 chains: 16 apart, 2 + 116 / 8 allowed.
  RequestTimes times{100, 100 * 5000, 116, 116 * 3000};
  EXPECT_TRUE(times.SameChains());
  EXPECT_TRUE(times.HandOffNanos().has_value());
  times.device_chains = 117;  // Chains the driver sent ahead, say.
  EXPECT_FALSE(times.SameChains());
  EXPECT_FALSE(times.HandOffNanos().has_value());
  times.device_chains = 100;
  times.round_trips = 117;  // Chains a backend completed later.
  EXPECT_FALSE(times.HandOffNanos().has_value());
}

TEST(RequestTimesTest, SubtractionGivesTheTimesBetweenTwoReadings) {
  const RequestTimes earlier{3, 3000, 4, 2000};
  const RequestTimes later{3 + kEnough, 3000 + kEnough * 4000, 4 + kEnough,
                           2000 + kEnough * 1000};
  const RequestTimes between = later - earlier;
  EXPECT_EQ(between.round_trips, kEnough);
  EXPECT_EQ(between.round_trip_nanos, kEnough * 4000);
  EXPECT_EQ(between.device_chains, kEnough);
  EXPECT_EQ(between.device_nanos, kEnough * 1000);
  EXPECT_DOUBLE_EQ(*between.HandOffNanos(), 3000.0);
  // The earlier reading alone has too few for a figure.
  EXPECT_FALSE(earlier.HandOffNanos().has_value());
}

TEST(RequestTimesTest, AdditionSumsEachCounter) {
  RequestTimes sum{1, 10, 2, 20};
  sum += RequestTimes{3, 30, 4, 40};
  EXPECT_EQ(sum.round_trips, 4u);
  EXPECT_EQ(sum.round_trip_nanos, 40u);
  EXPECT_EQ(sum.device_chains, 6u);
  EXPECT_EQ(sum.device_nanos, 60u);
}

}  // namespace
}  // namespace sim
