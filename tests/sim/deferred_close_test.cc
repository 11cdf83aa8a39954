// Released read-only descriptors are closed together (sim/host_closes.h): up
// to DeferredCloses::kDeferredCloses wait, then one close_range closes a run
// of consecutive numbers; STATFS, a device thread going idle and the
// session's end close what waits. A handle open for writing, and a fifo, are
// closed at once.
#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sim/host_calls.h"
#include "sim/host_closes.h"
#include "sim/machine.h"
#include "tests/sim/fuse_test_util.h"

namespace sim {
namespace {

bool IsOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }

// `count` descriptors of /dev/null at `base`, `base` + 1, ...
std::vector<int> OpenRun(int base, int count) {
  std::vector<int> fds;
  for (int i = 0; i < count; ++i) {
    const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    const int placed = fcntl(fd, F_DUPFD_CLOEXEC, base + i);
    EXPECT_EQ(placed, base + i);
    close(fd);
    fds.push_back(placed);
  }
  return fds;
}

TEST(DeferredClosesTest, WaitForABatchThenCloseItsRunInOneCall) {
  const std::vector<int> fds = OpenRun(1200, DeferredCloses::kDeferredCloses);
  DeferredCloses closes;
  const HostCallTotals before = ProcessHostCalls();
  for (size_t i = 0; i + 1 < fds.size(); ++i) closes.Close(fds[i]);
  EXPECT_EQ((ProcessHostCalls() - before).calls, 0u);
  EXPECT_EQ(closes.waiting(), fds.size() - 1);
  for (int fd : fds) EXPECT_TRUE(IsOpen(fd)) << fd;
  closes.Close(fds.back());
  EXPECT_EQ((ProcessHostCalls() - before).calls, 1u);  // close_range
  EXPECT_EQ(closes.waiting(), 0u);
  for (int fd : fds) EXPECT_FALSE(IsOpen(fd)) << fd;
}

TEST(DeferredClosesTest, FlushAndTheDestructorCloseWhatWaits) {
  std::vector<int> fds = OpenRun(1300, 3);
  const std::vector<int> lone = OpenRun(1310, 1);
  {
    DeferredCloses closes;
    for (int fd : fds) closes.Close(fd);
    closes.Close(lone[0]);
    const HostCallTotals before = ProcessHostCalls();
    closes.Flush();
    // close_range(1300, 1302) and close(1310).
    EXPECT_EQ((ProcessHostCalls() - before).calls, 2u);
    for (int fd : fds) EXPECT_FALSE(IsOpen(fd)) << fd;
    EXPECT_FALSE(IsOpen(lone[0]));
    closes.Flush();  // Nothing waits: no call.
    EXPECT_EQ((ProcessHostCalls() - before).calls, 2u);
    fds = OpenRun(1320, 2);
    for (int fd : fds) closes.Close(fd);
  }
  for (int fd : fds) EXPECT_FALSE(IsOpen(fd)) << fd;
}

TEST(DeferredClosesTest, ThreadsClosingAtOnceLoseNone) {
  constexpr int kThreads = 4;
  constexpr int kEach = 61;  // Not a multiple of the batch: some wait.
  std::vector<std::vector<int>> fds;
  for (int t = 0; t < kThreads; ++t)
    fds.push_back(OpenRun(1400 + 100 * t, kEach));
  DeferredCloses closes;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int fd : fds[t]) closes.Close(fd);
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(closes.waiting(),
            kThreads * kEach % DeferredCloses::kDeferredCloses);
  closes.Flush();
  for (const std::vector<int>& run : fds) {
    for (int fd : run) EXPECT_FALSE(IsOpen(fd)) << fd;
  }
}

// A share with a file and a directory, on a machine whose device runs inline
// or on a thread of its own.
class ReleasedDescriptorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    share_ = std::filesystem::path(::testing::TempDir()) / "deferred-close";
    std::filesystem::remove_all(share_);
    std::filesystem::create_directories(share_ + "/dir");
    std::ofstream(share_ + "/file") << "contents";
    ASSERT_EQ(mkfifo((share_ + "/fifo").c_str(), 0644), 0);
  }
  void TearDown() override {
    machine_.reset();
    std::filesystem::remove_all(share_);
  }
  void Start(NotifyMode mode) {
    auto machine = Machine::Create({.share_dir = share_, .notify_mode = mode});
    ASSERT_TRUE(machine.ok()) << machine.status();
    machine_ = std::move(*machine);
  }

  // The process's descriptors open on the share's `name`.
  int HostDescriptorsOf(const std::string& name) const {
    const std::filesystem::path target =
        std::filesystem::canonical(share_ + "/" + name);
    int count = 0;
    for (const auto& entry :
         std::filesystem::directory_iterator("/proc/self/fd")) {
      std::error_code error;
      const auto link = std::filesystem::read_symlink(entry.path(), error);
      if (!error && link == target) ++count;
    }
    return count;
  }
  uint64_t NodeOf(const std::string& name) {
    auto entry = machine_->client().Lookup(FUSE_ROOT_ID, name);
    EXPECT_TRUE(entry.ok());
    return entry.ok() ? entry.value().nodeid : 0;
  }
  // Opens and releases `name` with `flags`; its descriptors open after.
  int OpenAndRelease(const std::string& name, uint32_t flags) {
    driver::FuseClient& client = machine_->client();
    const uint64_t node = NodeOf(name);
    const int before = HostDescriptorsOf(name);
    auto handle = client.Open(node, flags);
    EXPECT_TRUE(handle.ok());
    if (!handle.ok()) return -1;
    EXPECT_EQ(HostDescriptorsOf(name), before + 1);
    EXPECT_TRUE(client.Release(node, handle.value().fh).ok());
    return HostDescriptorsOf(name) - before;
  }

  std::string share_;
  std::unique_ptr<Machine> machine_;
};

TEST_F(ReleasedDescriptorsTest, ReadOnlyWaitUntilStatfsOrTheSessionsEnd) {
  Start(NotifyMode::kInline);
  EXPECT_EQ(OpenAndRelease("file", O_RDONLY), 1);
  driver::FuseClient& client = machine_->client();
  const uint64_t dir = NodeOf("dir");
  auto listing = client.OpenDir(dir);
  ASSERT_TRUE(listing.ok());
  ASSERT_TRUE(client.ReleaseDir(dir, listing.value().fh).ok());
  EXPECT_EQ(HostDescriptorsOf("dir"), 2);  // Its inode's, its listing's.
  ASSERT_TRUE(client.StatFs(FUSE_ROOT_ID).ok());
  EXPECT_EQ(HostDescriptorsOf("file"), 1);  // Its inode's.
  EXPECT_EQ(HostDescriptorsOf("dir"), 1);
  EXPECT_EQ(OpenAndRelease("file", O_RDONLY), 1);
  machine_.reset();
  EXPECT_EQ(HostDescriptorsOf("file"), 0);
}

TEST_F(ReleasedDescriptorsTest, WritableAndFifosAreClosedAtOnce) {
  Start(NotifyMode::kInline);
  EXPECT_EQ(OpenAndRelease("file", O_WRONLY), 0);
  EXPECT_EQ(OpenAndRelease("file", O_RDWR), 0);
  // A fifo's reader is seen by its writers (O_NONBLOCK: no writer waits).
  EXPECT_EQ(OpenAndRelease("fifo", O_RDONLY | O_NONBLOCK), 0);
}

TEST_F(ReleasedDescriptorsTest, ABatchIsClosedTogether) {
  Start(NotifyMode::kInline);
  for (size_t i = 1; i < DeferredCloses::kDeferredCloses; ++i) {
    EXPECT_EQ(OpenAndRelease("file", O_RDONLY), 1) << i;
  }
  EXPECT_EQ(OpenAndRelease("file", O_RDONLY),
            1 - static_cast<int>(DeferredCloses::kDeferredCloses));
}

TEST_F(ReleasedDescriptorsTest, ADeviceThreadGoingIdleClosesThem) {
  Start(NotifyMode::kThread);
  EXPECT_LE(OpenAndRelease("file", O_RDONLY), 1);
  // The device thread polls for a while, then sleeps: closed by then.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (HostDescriptorsOf("file") > 1 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(HostDescriptorsOf("file"), 1);  // Its inode's.
}

}  // namespace
}  // namespace sim
