#include "sim/data_path_counters.h"

#include <cstdint>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace sim {
namespace {

TEST(SpreadCounterTest, SumsWhatEveryThreadAdded) {
  SpreadCounter counter;
  EXPECT_EQ(static_cast<uint64_t>(counter), 0u);
  // More threads than slots, so some share one.
  constexpr int kThreads = kThreadSlots + 5;
  constexpr uint64_t kAdds = 1000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&counter, t] {
      for (uint64_t i = 0; i < kAdds; ++i) counter += t + 1;
    });
  }
  for (std::thread& thread : threads) thread.join();
  counter += 7;
  const uint64_t expected = kAdds * kThreads * (kThreads + 1) / 2 + 7;
  EXPECT_EQ(static_cast<uint64_t>(counter), expected);
}

}  // namespace
}  // namespace sim
