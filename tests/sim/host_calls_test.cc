// The device's host calls are counted and timed (sim/host_calls.h): what a
// request cost the host is known exactly, so the report can tell it from the
// simulation's own cost.
#include "sim/host_calls.h"

#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sim/machine.h"
#include "tests/sim/fuse_test_util.h"
#include "vfs/posix.h"
#include "vfs/stat.h"

namespace sim {
namespace {

class HostCallsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    share_.WriteFile("file", std::string(8192, 'x'));
    ASSERT_EQ(mkdir(share_.SharePath("dir").c_str(), 0755), 0);
    for (int i = 0; i < 100; ++i) {
      share_.WriteFile("dir/entry" + std::to_string(i), "");
    }
    auto machine = Machine::Create({.share_dir = share_.share()});
    ASSERT_TRUE(machine.ok()) << machine.status();
    machine_ = std::move(*machine);
  }

  testing::TempShare share_;
  std::unique_ptr<Machine> machine_;
};

TEST_F(HostCallsTest, AReadIsOneTimedHostCall) {
  const int fd = vfs::open("/root/file", O_RDONLY);
  ASSERT_GE(fd, 0);
  char buf[4096];
  const HostCallTotals before = ProcessHostCalls();
  ASSERT_EQ(vfs::pread(fd, buf, sizeof(buf), 0), 4096);
  const HostCallTotals spent = ProcessHostCalls() - before;
  EXPECT_EQ(spent.calls, 1u);  // preadv into the guest's buffer
  EXPECT_GT(spent.nanos(), 0u);
  EXPECT_LT(spent.nanos(), 1'000'000'000u);
  EXPECT_EQ(vfs::close(fd), 0);
}

TEST_F(HostCallsTest, ACachedStatMakesNone) {
  vfs::Stat st;
  ASSERT_EQ(vfs::stat("/root/file", &st), 0);
  const HostCallTotals before = ProcessHostCalls();
  ASSERT_EQ(vfs::stat("/root/file", &st), 0);
  const HostCallTotals spent = ProcessHostCalls() - before;
  EXPECT_EQ(spent.calls, 0u);
  // No time either: not the difference of two conversions of the same ticks
  // (fs_bench once printed 5.9e10 us per pread for the kernel FUSE mount's
  // page-cache hits).
  EXPECT_EQ(spent.nanos(), 0u);
}

TEST_F(HostCallsTest, AListingCountsTheHostsReadsNotItsEntries) {
  driver::FuseClient& client = machine_->client();
  auto dir = client.Lookup(FUSE_ROOT_ID, "dir");
  ASSERT_TRUE(dir.ok());
  auto handle = client.OpenDir(dir.value().nodeid);
  ASSERT_TRUE(handle.ok());
  std::vector<uint8_t> buffer(32768);
  int entries = 0;
  const HostCallTotals before = ProcessHostCalls();
  ASSERT_TRUE(client
                  .ReadDirAll(dir.value().nodeid, handle.value().fh, 0, buffer,
                              [&](const driver::DirEntry&) {
                                ++entries;
                                return true;
                              })
                  .ok());
  const uint64_t calls = (ProcessHostCalls() - before).calls;
  EXPECT_EQ(entries, 102);  // and "." and ".."
  // getdents64 until it returns 0: a few calls, not one per entry.
  EXPECT_GE(calls, 2u);
  EXPECT_LE(calls, 4u);
  EXPECT_TRUE(client.ReleaseDir(dir.value().nodeid, handle.value().fh).ok());
}

TEST(HostCallTotals, ThreadsThatEndedStillCount) {
  const HostCallTotals before = ProcessHostCalls();
  std::thread([] {
    for (int i = 0; i < 10; ++i) host::close(-1);
  }).join();
  std::thread([] { host::close(-1); }).join();
  EXPECT_EQ((ProcessHostCalls() - before).calls, 11u);
}

// Converted at the counter's rate: a host call that sleeps 20 ms is timed as
// the steady clock times it.
TEST(HostCallTotals, AHostCallTakesTheClocksTime) {
  const HostCallTotals before = ProcessHostCalls();
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(host::poll(nullptr, 0, 20), 0);
  const auto clock_nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now() - start)
                               .count();
  const HostCallTotals spent = ProcessHostCalls() - before;
  EXPECT_EQ(spent.calls, 1u);
  EXPECT_GE(spent.nanos(), 19'000'000u);
  // Within a tenth: the rate is measured over a millisecond.
  EXPECT_NEAR(static_cast<double>(spent.nanos()) / clock_nanos, 1.0, 0.1);
}

// A VM's counter may go back against the clock (host_calls.h): the rate is
// measured again over a window the counter only went forward in.
TEST(HostCallTotals, TheTickRateIsMeasuredPastACounterThatWentBack) {
  static std::atomic<int> reads{0};
  static uint64_t back = 0;
  const auto went_back = []() -> uint64_t {
    const uint64_t now = host_calls_internal::Ticks();
    if (reads.fetch_add(1) < 4) return now;
    // From the 5th read on, mid-window, back by half what the counter read
    // then: a fixed amount (an hour's ticks) wrapped around on a machine up
    // for less than that, making the counter jump forward instead.
    if (back == 0) back = now / 2;
    return now - back;
  };
  const double rate = host_calls_internal::MeasureTicksPerNano(went_back);
  const double real =
      host_calls_internal::MeasureTicksPerNano(host_calls_internal::Ticks);
  EXPECT_GT(reads.load(), 4);
  EXPECT_NEAR(rate / real, 1.0, 0.05);
}

}  // namespace
}  // namespace sim
