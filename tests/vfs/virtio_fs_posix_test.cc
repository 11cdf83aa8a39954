// POSIX behaviour of every call on the virtio-fs share, through vfs:: on
// /root, compared with the host's own system calls on a twin host directory:
// every result, errno, byte read and comparable stat field must be the same.
// The sequences of tests/vfs/posix_sequences.cc (host_compare_test runs them on
// memfs), plus what only
// a mounted share has (EXDEV, EBUSY on the mount point, statfs, fsync of a
// directory). Each runs without caches and with cache timeouts.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "tests/vfs/posix_ops.h"
#include "tests/vfs/posix_sequences.h"
#include "tests/vfs/share_fixture.h"
#include "vfs/fuse_fs.h"
#include "vfs/posix.h"

namespace vfs_test {
namespace {

class SharePosixTest : public ShareTest,
                       public ::testing::WithParamInterface<ShareConfig> {
 protected:
  void SetUp() override { BootMachine(GetParam()); }
};

TEST_P(SharePosixTest, CrossMountCallsAndTheMountPoint) {
  ASSERT_EQ(vfs::mkdir("/root/d", 0755), 0);
  int fd = vfs::open("/root/f", O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(vfs::close(fd), 0);
  EXPECT_EQ(vfs::rename("/root/f", "/tmp/f"), -EXDEV);
  EXPECT_EQ(vfs::link("/root/f", "/tmp/f"), -EXDEV);
  EXPECT_EQ(vfs::rename("/root", "/tmp/x"), -EBUSY);
  EXPECT_EQ(vfs::rmdir("/root"), -EBUSY);
  EXPECT_EQ(vfs::umount("/root/d"), -EINVAL);
  // ".." leaves the share for memfs; the share's root is the mounted node.
  vfs::Stat st;
  ASSERT_EQ(vfs::stat("/root/d/../..", &st), 0);
  vfs::Stat root;
  ASSERT_EQ(vfs::stat("/", &root), 0);
  EXPECT_EQ(st.st_ino, root.st_ino);
  EXPECT_EQ(st.st_dev, root.st_dev);
  vfs::Stat share_root;
  ASSERT_EQ(vfs::stat("/root", &share_root), 0);
  struct stat host;
  ASSERT_EQ(::stat(share_.path().c_str(), &host), 0);
  EXPECT_EQ(share_root.st_ino, host.st_ino);
  EXPECT_NE(share_root.st_dev, root.st_dev);
  // A symlink on the share may point into memfs.
  ASSERT_EQ(vfs::symlink("/tmp", "/root/to_tmp"), 0);
  ASSERT_EQ(vfs::mkdir("/root/to_tmp/made_via_share", 0700), 0);
  ASSERT_EQ(vfs::stat("/tmp/made_via_share", &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  // cd into the share and use relative paths.
  ASSERT_EQ(vfs::chdir("/root/d"), 0);
  fd = vfs::open("rel", O_CREAT | O_WRONLY, 0600);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(vfs::write(fd, "xyz", 3), 3);
  ASSERT_EQ(vfs::close(fd), 0);
  char cwd[64];
  ASSERT_EQ(vfs::getcwd(cwd, sizeof(cwd)), 8);
  EXPECT_STREQ(cwd, "/root/d");
  ASSERT_EQ(::stat(share_.Path("d/rel").c_str(), &host), 0);
  EXPECT_EQ(host.st_size, 3);
  EXPECT_EQ(vfs::umount("/root"), -EBUSY);  // The current directory is in it.
  ASSERT_EQ(vfs::chdir("/"), 0);
}

TEST_P(SharePosixTest, StatfsFsyncAndPoll) {
  vfs::StatFs st;
  ASSERT_EQ(vfs::statfs("/root", &st), 0);
  EXPECT_EQ(st.f_type, vfs::FuseFs::kMagic);
  EXPECT_GT(st.f_bsize, 0u);
  EXPECT_GT(st.f_blocks, 0u);
  EXPECT_EQ(st.f_namelen, 255u);
  EXPECT_EQ(vfs::statfs("/root/missing", &st), -ENOENT);
  int dir = vfs::open("/root", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(dir, 0);
  uint64_t fsyncdir = Requests(FUSE_FSYNCDIR);
  EXPECT_EQ(vfs::fsync(dir), 0);
  EXPECT_EQ(Requests(FUSE_FSYNCDIR), fsyncdir + 1);
  EXPECT_EQ(vfs::fstatfs(dir, &st), 0);
  EXPECT_EQ(st.f_type, vfs::FuseFs::kMagic);
  EXPECT_EQ(vfs::close(dir), 0);
  int fd = vfs::open("/root/f", O_CREAT | O_RDWR, 0644);
  ASSERT_GE(fd, 0);
  uint64_t fsync = Requests(FUSE_FSYNC);
  EXPECT_EQ(vfs::fsync(fd), 0);
  EXPECT_EQ(vfs::fdatasync(fd), 0);
  EXPECT_EQ(Requests(FUSE_FSYNC), fsync + 2);
  EXPECT_EQ(vfs::poll_one(fd, base::kPollIn | base::kPollOut),
            static_cast<int>(base::kPollIn | base::kPollOut));
  EXPECT_EQ(vfs::fchmod(fd, 0600), 0);
  vfs::Stat stat;
  ASSERT_EQ(vfs::fstat(fd, &stat), 0);
  EXPECT_EQ(stat.st_mode, S_IFREG | 0600u);
  EXPECT_EQ(vfs::close(fd), 0);
}

TEST_P(SharePosixTest, OpenAndCloseSendTheRightRequests) {
  const uint64_t opens = Requests(FUSE_OPEN);
  const uint64_t creates = Requests(FUSE_CREATE);
  const uint64_t flushes = Requests(FUSE_FLUSH);
  const uint64_t releases = Requests(FUSE_RELEASE);
  const uint64_t releasedirs = Requests(FUSE_RELEASEDIR);
  int fd = vfs::open("/root/f", O_CREAT | O_EXCL | O_RDWR, 0644);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(Requests(FUSE_CREATE), creates + 1);
  int copy = vfs::dup(fd);
  ASSERT_GE(copy, 0);
  EXPECT_EQ(vfs::close(fd), 0);
  EXPECT_EQ(Requests(FUSE_RELEASE), releases);  // The dup still holds it.
  EXPECT_EQ(vfs::close(copy), 0);
  EXPECT_EQ(Requests(FUSE_FLUSH), flushes + (FlushesWrites() ? 1 : 0));
  EXPECT_EQ(Requests(FUSE_RELEASE), releases + 1);
  fd = vfs::open("/root/f", O_RDONLY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(Requests(FUSE_OPEN), opens + 1);
  EXPECT_EQ(vfs::close(fd), 0);
  EXPECT_EQ(Requests(FUSE_RELEASE), releases + 2);
  // Read-only: the device said FOPEN_NOFLUSH.
  EXPECT_EQ(Requests(FUSE_FLUSH), flushes + (FlushesWrites() ? 1 : 0));
  fd = vfs::open("/root", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(vfs::close(fd), 0);
  // Directories are released with RELEASEDIR (reference defect 6).
  EXPECT_EQ(Requests(FUSE_RELEASEDIR), releasedirs + 1);
  EXPECT_EQ(Requests(FUSE_RELEASE), releases + 2);
}

TEST_P(SharePosixTest, LargeReadsAndWritesGoThroughWhole) {
  std::string data(3 * 1024 * 1024 + 17, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  int fd = vfs::open("/root/big", O_CREAT | O_RDWR, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(vfs::write(fd, data.data(), data.size()),
            static_cast<int64_t>(data.size()));
  std::string back(data.size() + 10, '\0');
  ASSERT_EQ(vfs::pread(fd, back.data(), back.size(), 0),
            static_cast<int64_t>(data.size()));
  back.resize(data.size());
  EXPECT_TRUE(back == data);
  vfs::Stat st;
  ASSERT_EQ(vfs::fstat(fd, &st), 0);
  EXPECT_EQ(st.st_size, static_cast<int64_t>(data.size()));
  EXPECT_EQ(vfs::close(fd), 0);
  struct stat host;
  ASSERT_EQ(::stat(share_.Path("big").c_str(), &host), 0);
  EXPECT_EQ(host.st_size, static_cast<off_t>(data.size()));
}

const ShareConfig kConfigs[] = {
    {base::TransportKind::kPci, sim::NotifyMode::kInline, 0},
    {base::TransportKind::kMmio, sim::NotifyMode::kThread, 30},
};

INSTANTIATE_TEST_SUITE_P(Configs, SharePosixTest, ::testing::ValuesIn(kConfigs),
                         [](const auto& info) { return info.param.Name(); });

// The sequences host_compare_test runs on memfs, here on the share.
class ShareSequenceTest : public ShareTest,
                          public ::testing::WithParamInterface<
                              std::tuple<ShareConfig, PosixSequence>> {
 protected:
  void SetUp() override { BootMachine(std::get<0>(GetParam())); }
};

TEST_P(ShareSequenceTest, SameAsTheHost) {
  Compare(std::get<1>(GetParam()).ops());
}

INSTANTIATE_TEST_SUITE_P(
    Sequences, ShareSequenceTest,
    ::testing::Combine(::testing::ValuesIn(kConfigs),
                       ::testing::ValuesIn(PosixSequences())),
    [](const auto& info) {
      return std::get<0>(info.param).Name() + "_" +
             std::get<1>(info.param).name;
    });

}  // namespace
}  // namespace vfs_test
