#include "sim/adaptive_mutex.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace sim {
namespace {

using std::chrono::milliseconds;

TEST(AdaptiveMutexTest, TryLockFailsWhileHeldAndSucceedsWhenFree) {
  AdaptiveMutex mutex;
  ASSERT_TRUE(mutex.try_lock());
  EXPECT_FALSE(mutex.try_lock());
  mutex.unlock();
  EXPECT_TRUE(mutex.try_lock());
  mutex.unlock();
}

// Short critical sections from several threads: waiters that spin and
// waiters that sleep all get the lock, and no increment is lost.
TEST(AdaptiveMutexTest, ExcludesUnderContention) {
  AdaptiveMutex mutex;
  constexpr int kThreads = 4;
  constexpr int kRounds = 200000;
  uint64_t counter = 0;  // Guarded by mutex; a plain read-modify-write.
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        std::lock_guard<AdaptiveMutex> guard(mutex);
        counter = counter + 1;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(counter, uint64_t{kThreads} * kRounds);
}

// A holder that keeps the lock far longer than the spin: the waiters sleep
// in the kernel, and each unlock must wake one of them; none gets the lock
// while it is held.
TEST(AdaptiveMutexTest, SleepingWaitersAreWokenOneAfterAnother) {
  AdaptiveMutex mutex;
  std::atomic<bool> held{false};
  std::atomic<int> overlaps{0};
  std::atomic<int> acquired{0};
  mutex.lock();
  std::vector<std::thread> waiters;
  for (int t = 0; t < 3; ++t) {
    waiters.emplace_back([&] {
      std::lock_guard<AdaptiveMutex> guard(mutex);
      if (held.exchange(true)) overlaps++;
      std::this_thread::sleep_for(milliseconds(5));
      held = false;
      acquired++;
    });
  }
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(acquired.load(), 0);
  mutex.unlock();
  for (std::thread& waiter : waiters) waiter.join();
  EXPECT_EQ(acquired.load(), 3);
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_TRUE(mutex.try_lock());  // Left free, sleepers or not.
  mutex.unlock();
}

TEST(AdaptiveMutexTest, WorksWithConditionVariableAny) {
  AdaptiveMutex mutex;
  std::condition_variable_any changed;
  bool ready = false;
  std::thread setter([&] {
    std::this_thread::sleep_for(milliseconds(10));
    std::lock_guard<AdaptiveMutex> guard(mutex);
    ready = true;
    changed.notify_one();
  });
  {
    std::unique_lock<AdaptiveMutex> lock(mutex);
    EXPECT_TRUE(changed.wait_for(lock, std::chrono::seconds(10),
                                 [&] { return ready; }));
  }
  setter.join();
}

}  // namespace
}  // namespace sim
