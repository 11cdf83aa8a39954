// WaitPacer: a polling wait spins for WaitPacer::kSpinNanos from its first
// pause, then relaxes, reading the clock once per kTurnsPerClockRead turns;
// it spins for the queue it waits on.
#include "driver/wait_pacer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>

#include "tests/driver/fake_dma_platform.h"

namespace driver_test {
namespace {

using driver::WaitPacer;

// A platform whose clock moves only when told, counting the turns it is given
// and the queues they were for.
class CountingPlatform : public FakeDmaPlatform {
 public:
  uint64_t MonotonicNanos() override {
    ++clock_reads;
    return now;
  }
  void Spin(uint16_t queue) override {
    ++spins;
    spun_queues.insert(queue);
  }
  void Relax() override { ++relaxes; }

  uint64_t now = 1'000'000;
  int clock_reads = 0, spins = 0, relaxes = 0;
  std::set<uint16_t> spun_queues;
};

TEST(WaitPacerTest, SpinsForItsSpinTimeThenRelaxes) {
  CountingPlatform platform;
  WaitPacer pacer(platform, 3);
  // However many turns pass, a clock short of the spin time keeps it spinning.
  for (unsigned i = 0; i < 10 * WaitPacer::kTurnsPerClockRead; ++i) {
    pacer.Pause();
  }
  EXPECT_EQ(platform.spins,
            10 * static_cast<int>(WaitPacer::kTurnsPerClockRead));
  EXPECT_EQ(platform.relaxes, 0);
  EXPECT_EQ(platform.clock_reads, 10);
  EXPECT_EQ(platform.spun_queues, std::set<uint16_t>{3});
  platform.now += WaitPacer::kSpinNanos - 1;
  for (unsigned i = 0; i < WaitPacer::kTurnsPerClockRead; ++i) pacer.Pause();
  EXPECT_EQ(platform.relaxes, 0);
  // Once the spin time has passed, the next clock read turns it to Relax, for
  // good: the clock is not read again.
  platform.now += 1;
  pacer.Pause();
  EXPECT_EQ(platform.relaxes, 1);
  const int reads = platform.clock_reads;
  for (unsigned i = 0; i < 3 * WaitPacer::kTurnsPerClockRead; ++i) {
    pacer.Pause();
  }
  EXPECT_EQ(platform.relaxes,
            1 + 3 * static_cast<int>(WaitPacer::kTurnsPerClockRead));
  EXPECT_EQ(platform.clock_reads, reads);
}

TEST(WaitPacerTest, EachWaitSpinsAfresh) {
  CountingPlatform platform;
  {
    WaitPacer first(platform, 1);
    first.Pause();
    platform.now += WaitPacer::kSpinNanos;
    for (unsigned i = 0; i < WaitPacer::kTurnsPerClockRead; ++i) first.Pause();
    EXPECT_EQ(platform.relaxes, 1);
  }
  WaitPacer second(platform, base::Platform::kAnyQueue);
  second.Pause();
  EXPECT_EQ(platform.relaxes, 1);
  EXPECT_EQ(platform.spins,
            static_cast<int>(WaitPacer::kTurnsPerClockRead) + 1);
  EXPECT_EQ(platform.spun_queues,
            (std::set<uint16_t>{1, base::Platform::kAnyQueue}));
}

}  // namespace
}  // namespace driver_test
