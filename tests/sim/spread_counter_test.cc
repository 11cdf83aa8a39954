#include "sim/spread_counter.h"

#include <atomic>
#include <barrier>
#include <cstdint>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sim/thread_slot.h"

namespace sim {
namespace {

TEST(ThreadSlotTest, LiveThreadsHoldSlotsOfTheirOwnAndTheRestShareOne) {
  // More threads alive at once than slots.
  constexpr size_t kThreads = kThreadSlots + 3;
  std::vector<ThreadSlotRef> slots(kThreads);
  std::barrier all_taken(kThreads);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      slots[t] = ThreadSlot();
      EXPECT_EQ(ThreadSlot().index, slots[t].index);  // Kept while it lives.
      all_taken.arrive_and_wait();
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::set<size_t> exclusive;
  size_t shared = 0;
  for (const ThreadSlotRef& slot : slots) {
    ASSERT_LT(slot.index, kThreadSlots);
    if (slot.exclusive) {
      EXPECT_TRUE(exclusive.insert(slot.index).second)
          << "slot " << slot.index << " held by two live threads";
    } else {
      EXPECT_EQ(slot.index, kThreadSlots - 1);
      shared++;
    }
  }
  EXPECT_GE(shared, 4u);
  EXPECT_EQ(exclusive.count(kThreadSlots - 1), 0u);
}

TEST(ThreadSlotTest, AThreadThatExitedGivesItsSlotBack) {
  // Many more threads than slots, one after another: each finds one free.
  for (size_t t = 0; t < 3 * kThreadSlots; ++t) {
    bool exclusive = false;
    std::thread([&exclusive] { exclusive = ThreadSlot().exclusive; }).join();
    EXPECT_TRUE(exclusive) << "thread " << t;
  }
}

SpreadCounter* exit_counter = nullptr;
std::atomic<int> exit_adds_exclusive{0};

// A thread-local object made before the thread's first ThreadSlot() call is
// destroyed after the thread gave its slot back.
struct AddsAtExit {
  ~AddsAtExit() {
    if (ThreadSlot().exclusive) exit_adds_exclusive++;
    *exit_counter += 1;
  }
};

TEST(SpreadCounterTest, AddsAfterTheSlotWasGivenBackGoToTheSharedSlot) {
  SpreadCounter counter;
  exit_counter = &counter;
  constexpr int kThreads = 8;
  constexpr uint64_t kAdds = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&counter] {
      static thread_local AddsAtExit adds_at_exit;
      (void)adds_at_exit;
      for (uint64_t i = 0; i < kAdds; ++i) counter += 1;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(exit_adds_exclusive.load(), 0);
  EXPECT_EQ(static_cast<uint64_t>(counter), kThreads * (kAdds + 1));
}

TEST(SpreadCounterTest, SumsWhatEveryThreadAdded) {
  SpreadCounter counter;
  EXPECT_EQ(static_cast<uint64_t>(counter), 0u);
  // More threads alive at once than slots, so some share one, and then as
  // many again in the slots they gave back.
  constexpr int kThreads = kThreadSlots + 5;
  constexpr uint64_t kAdds = 1000;
  for (int round = 0; round < 2; ++round) {
    std::barrier all_started(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&counter, &all_started, t] {
        counter += t + 1;
        all_started.arrive_and_wait();
        for (uint64_t i = 1; i < kAdds; ++i) counter += t + 1;
      });
    }
    for (std::thread& thread : threads) thread.join();
  }
  counter += 7;
  const uint64_t expected = 2 * kAdds * kThreads * (kThreads + 1) / 2 + 7;
  EXPECT_EQ(static_cast<uint64_t>(counter), expected);
}

}  // namespace
}  // namespace sim
