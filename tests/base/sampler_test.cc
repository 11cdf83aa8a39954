#include "base/sampler.h"

#include <array>
#include <cstdint>

#include "gtest/gtest.h"

namespace base {
namespace {

constexpr uint32_t kPeriod = 16;

TEST(SamplerTest, PicksExactlyOneInEveryRun) {
  Sampler<kPeriod> sampler;
  for (int run = 0; run < 1000; ++run) {
    int picks = 0;
    for (uint32_t i = 0; i < kPeriod; ++i) picks += sampler.Pick() ? 1 : 0;
    ASSERT_EQ(picks, 1) << "run " << run;
  }
}

TEST(SamplerTest, PicksEveryPositionOfARun) {
  // Where events come in a pattern whose period divides the sampler's (an
  // OPEN then a RELEASE; one kind of 16), each kind is picked about as often
  // as it comes: a counter's every 16th would pick only one of them.
  Sampler<kPeriod> sampler;
  constexpr int kRuns = 16'000;
  std::array<int, kPeriod> picked_at{};
  for (int run = 0; run < kRuns; ++run) {
    for (uint32_t i = 0; i < kPeriod; ++i) {
      if (sampler.Pick()) picked_at[i]++;
    }
  }
  for (uint32_t i = 0; i < kPeriod; ++i) {
    // 1 000 expected; a fair draw stays well inside +-20% (the sequence is
    // fixed: this is deterministic).
    EXPECT_GT(picked_at[i], kRuns / kPeriod * 8 / 10) << "position " << i;
    EXPECT_LT(picked_at[i], kRuns / kPeriod * 12 / 10) << "position " << i;
  }
  // Alternating kinds: each has half the picks, within a few percent.
  int even = 0;
  for (uint32_t i = 0; i < kPeriod; i += 2) even += picked_at[i];
  EXPECT_GT(even, kRuns * 45 / 100);
  EXPECT_LT(even, kRuns * 55 / 100);
}

}  // namespace
}  // namespace base
