// FLUSH closes a duplicate of a file open for writing, so that the host can
// report a delayed write error, only where a close can report one
// (PassthroughFs::CloseReportsNothing): not on a share root's tmpfs or ext4,
// always on another mount. Where it would do nothing, OPEN and CREATE tell
// the driver not to send it (FOPEN_NOFLUSH).
#include <fcntl.h>
#include <linux/fuse.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "sim/host_calls.h"
#include "sim/machine.h"
#include "sim/passthrough_fs.h"
#include "tests/sim/fuse_test_util.h"

namespace sim {
namespace {

TEST(CloseReportsNothingTest, OnlyOnFilesystemsWithoutAFlushOperation) {
  EXPECT_TRUE(PassthroughFs::CloseReportsNothing(TMPFS_MAGIC));
  EXPECT_TRUE(PassthroughFs::CloseReportsNothing(EXT4_SUPER_MAGIC));
  EXPECT_FALSE(PassthroughFs::CloseReportsNothing(NFS_SUPER_MAGIC));
  EXPECT_FALSE(PassthroughFs::CloseReportsNothing(FUSE_SUPER_MAGIC));
  EXPECT_FALSE(PassthroughFs::CloseReportsNothing(OVERLAYFS_SUPER_MAGIC));
}

// A share on tmpfs, whatever filesystem the test's temporary directory is.
class FlushTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/dev/shm/flush-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr) << strerror(errno);
    share_ = dir;
    std::ofstream(share_ + "/file") << "contents";
    auto machine = Machine::Create({.share_dir = share_});
    ASSERT_TRUE(machine.ok()) << machine.status();
    machine_ = std::move(*machine);
  }
  void TearDown() override {
    machine_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(share_, ignored);
  }

  struct Flushed {
    bool noflush = false;  // OPEN answered FOPEN_NOFLUSH.
    uint64_t calls = ~0ull;
  };
  // FLUSH of the file at `dir`/`name`, opened with `flags`.
  Flushed Flush(const std::string& dir, const std::string& name,
                uint32_t flags) {
    driver::FuseClient& client = machine_->client();
    uint64_t parent = FUSE_ROOT_ID;
    if (!dir.empty()) {
      auto found = client.Lookup(FUSE_ROOT_ID, dir);
      EXPECT_TRUE(found.ok());
      if (!found.ok()) return {};
      parent = found.value().nodeid;
    }
    auto file = client.Lookup(parent, name);
    EXPECT_TRUE(file.ok());
    if (!file.ok()) return {};
    auto handle = client.Open(file.value().nodeid, flags);
    EXPECT_TRUE(handle.ok());
    if (!handle.ok()) return {};
    Flushed flushed;
    flushed.noflush = (handle.value().open_flags & FOPEN_NOFLUSH) != 0;
    const uint64_t before = ProcessHostCalls().calls;
    EXPECT_TRUE(client.Flush(file.value().nodeid, handle.value().fh).ok());
    flushed.calls = ProcessHostCalls().calls - before;
    EXPECT_TRUE(client.Release(file.value().nodeid, handle.value().fh).ok());
    return flushed;
  }

  std::string share_;
  std::unique_ptr<Machine> machine_;
};

TEST_F(FlushTest, IsNoHostCallOnTheShareRootsTmpfsAndNotAskedFor) {
  for (uint32_t flags : {O_WRONLY, O_RDONLY}) {
    const Flushed flushed = Flush("", "file", flags);
    EXPECT_TRUE(flushed.noflush) << flags;
    EXPECT_EQ(flushed.calls, 0u) << flags;
  }
  auto created =
      machine_->client().Create(FUSE_ROOT_ID, "new", O_WRONLY | O_CREAT, 0644);
  ASSERT_TRUE(created.ok());
  EXPECT_NE(created.value().handle.open_flags & FOPEN_NOFLUSH, 0u);
}

TEST_F(FlushTest, ClosesADuplicateOfAFileOpenForWritingOnAnotherMount) {
  const std::string mounted = share_ + "/mounted";
  testing::TmpfsMount tmpfs(mounted);
  if (!tmpfs.mounted()) GTEST_SKIP() << tmpfs.error();
  std::ofstream(mounted + "/file") << "contents";
  const Flushed writable = Flush("mounted", "file", O_WRONLY);
  EXPECT_FALSE(writable.noflush);
  EXPECT_EQ(writable.calls, 2u);  // dup, close
  const Flushed readable = Flush("mounted", "file", O_RDONLY);
  EXPECT_TRUE(readable.noflush);
  EXPECT_EQ(readable.calls, 0u);
}

}  // namespace
}  // namespace sim
