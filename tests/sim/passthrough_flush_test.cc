// FLUSH closes a duplicate of a file open for writing, so that the host can
// report a delayed write error, only where a close can report one
// (PassthroughFs::CloseReportsNothing): not on a share root's tmpfs or ext4,
// always on another mount.
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

  // Host calls made by FLUSH of the file at `dir`/`name`, opened with `flags`.
  uint64_t FlushCalls(const std::string& dir, const std::string& name,
                      uint32_t flags) {
    driver::FuseClient& client = machine_->client();
    uint64_t parent = FUSE_ROOT_ID;
    if (!dir.empty()) {
      auto found = client.Lookup(FUSE_ROOT_ID, dir);
      EXPECT_TRUE(found.ok());
      if (!found.ok()) return ~0ull;
      parent = found.value().nodeid;
    }
    auto file = client.Lookup(parent, name);
    EXPECT_TRUE(file.ok());
    if (!file.ok()) return ~0ull;
    auto handle = client.Open(file.value().nodeid, flags);
    EXPECT_TRUE(handle.ok());
    if (!handle.ok()) return ~0ull;
    const uint64_t before = ProcessHostCalls().calls;
    EXPECT_TRUE(client.Flush(file.value().nodeid, handle.value().fh).ok());
    const uint64_t calls = ProcessHostCalls().calls - before;
    EXPECT_TRUE(client.Release(file.value().nodeid, handle.value().fh).ok());
    return calls;
  }

  std::string share_;
  std::unique_ptr<Machine> machine_;
};

TEST_F(FlushTest, IsNoHostCallOnTheShareRootsTmpfs) {
  EXPECT_EQ(FlushCalls("", "file", O_WRONLY), 0u);
  EXPECT_EQ(FlushCalls("", "file", O_RDONLY), 0u);
}

TEST_F(FlushTest, ClosesADuplicateOfAFileOpenForWritingOnAnotherMount) {
  const std::string mounted = share_ + "/mounted";
  testing::TmpfsMount tmpfs(mounted);
  if (!tmpfs.mounted()) GTEST_SKIP() << tmpfs.error();
  std::ofstream(mounted + "/file") << "contents";
  EXPECT_EQ(FlushCalls("mounted", "file", O_WRONLY), 2u);  // dup, close
  EXPECT_EQ(FlushCalls("mounted", "file", O_RDONLY), 0u);
}

}  // namespace
}  // namespace sim
