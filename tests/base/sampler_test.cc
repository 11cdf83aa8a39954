#include "base/sampler.h"

#include <array>
#include <cstdint>

#include "gtest/gtest.h"

namespace base {
namespace {

constexpr uint16_t kPeriod = 16;

TEST(SampledPlaceTest, OneInEveryRunIncludingWhereThePlaceWraps) {
  for (uint32_t run = 0; run < 65536 / kPeriod; ++run) {
    int picks = 0;
    for (uint32_t i = 0; i < kPeriod; ++i) {
      picks += IsSampledPlace<kPeriod>(static_cast<uint16_t>(run * kPeriod + i))
                   ? 1
                   : 0;
    }
    ASSERT_EQ(picks, 1) << "run " << run;
  }
}

TEST(SampledPlaceTest, EveryPositionOfARunIsPicked) {
  // Where requests come in a pattern whose period divides the sampler's (an
  // OPEN then a RELEASE), each kind is picked about as often as it comes:
  // every 16th place would pick only one of them.
  std::array<int, kPeriod> picked_at{};
  constexpr int kRuns = 65536 / kPeriod;
  for (uint32_t place = 0; place < 65536; ++place) {
    if (IsSampledPlace<kPeriod>(static_cast<uint16_t>(place))) {
      picked_at[place % kPeriod]++;
    }
  }
  for (uint16_t i = 0; i < kPeriod; ++i) {
    // 256 expected of a fair draw; the function is fixed, so this is exact.
    EXPECT_GT(picked_at[i], kRuns / kPeriod * 7 / 10) << "position " << i;
    EXPECT_LT(picked_at[i], kRuns / kPeriod * 13 / 10) << "position " << i;
  }
  int even = 0;
  for (uint16_t i = 0; i < kPeriod; i += 2) even += picked_at[i];
  EXPECT_GT(even, kRuns * 45 / 100);
  EXPECT_LT(even, kRuns * 55 / 100);
}

}  // namespace
}  // namespace base
