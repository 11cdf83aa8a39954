// vfs::WalkSection and WaitForWalks: a wait returns at once with no section
// open, waits for a section begun before it, and, with sections beginning and
// ending all the time on several CPUs, never lets an object go while a
// section that found it is open, and still returns.
#include "vfs/walk_section.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "tests/vfs/host_platform.h"

namespace vfs_test {
namespace {

using namespace std::chrono_literals;

// Threads count on the slot of the CPU they name: here, one each.
class SpreadPlatform : public HostPlatform {
 public:
  uint32_t CurrentCpu() const override { return cpu; }
  static thread_local uint32_t cpu;
};
thread_local uint32_t SpreadPlatform::cpu = 0;

TEST(WalkSectionTest, AWaitWithNoSectionOpenReturns) {
  SpreadPlatform platform;
  vfs::WaitForWalks(platform);
  { vfs::WalkSection section(platform); }
  vfs::WaitForWalks(platform);  // The ended section is not waited for.
}

TEST(WalkSectionTest, AWaitWaitsForTheSectionsBegunBeforeIt) {
  SpreadPlatform platform;
  std::atomic<bool> open{false}, close{false}, waited{false};
  std::thread walker([&] {
    SpreadPlatform::cpu = 3;
    vfs::WalkSection section(platform);
    open = true;
    while (!close) std::this_thread::sleep_for(1ms);
  });
  while (!open) std::this_thread::sleep_for(1ms);
  std::thread waiter([&] {
    vfs::WaitForWalks(platform);
    waited = true;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(waited) << "returned while the section was open";
  close = true;
  walker.join();
  waiter.join();
  EXPECT_TRUE(waited);
}

// What the walkers find: alive until the writer, after a wait, kills it.
struct Object {
  std::atomic<bool> alive{true};
};

TEST(WalkSectionTest, NothingGoesWhileASectionThatFoundItIsOpen) {
  SpreadPlatform platform;
  std::atomic<Object*> current{new Object};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> found_dead{0}, looks{0};
  std::vector<std::thread> walkers;
  for (uint32_t cpu = 0; cpu < 4; ++cpu) {
    walkers.emplace_back([&, cpu] {
      // Two threads per slot on two of them: a slot's count is shared.
      SpreadPlatform::cpu = cpu % 3;
      while (!stop.load(std::memory_order_relaxed)) {
        vfs::WalkSection section(platform);
        Object* seen = current.load(std::memory_order_acquire);
        for (int i = 0; i < 8; ++i) {
          if (!seen->alive.load(std::memory_order_relaxed)) found_dead++;
        }
        looks++;
      }
    });
  }
  // Replaces the object and lets the old one go, over and over: each wait
  // must end although walkers keep beginning new sections.
  int replaced = 0;
  const auto until = std::chrono::steady_clock::now() + 300ms;
  while (std::chrono::steady_clock::now() < until || replaced < 100) {
    Object* old = current.exchange(new Object, std::memory_order_acq_rel);
    vfs::WaitForWalks(platform);
    old->alive = false;
    delete old;  // AddressSanitizer sees any later use.
    ++replaced;
  }
  stop = true;
  for (std::thread& walker : walkers) walker.join();
  delete current.load();
  EXPECT_EQ(found_dead.load(), 0u);
  EXPECT_GT(looks.load(), 0u);
  EXPECT_GE(replaced, 100);
}

}  // namespace
}  // namespace vfs_test
