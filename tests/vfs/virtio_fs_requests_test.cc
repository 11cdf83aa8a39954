// The requests the virtio-fs share sends for common operations, in the order
// the device sees them:
//  - open(O_CREAT) of a name not known to exist sends CREATE alone (as Linux's
//    atomic_open; with caches, create+unlink is CREATE, FLUSH (unless the
//    device said FOPEN_NOFLUSH), RELEASE, UNLINK, FORGET), and falls back to
//    LOOKUP when the name exists (O_EXCL: EEXIST at once; a directory: EISDIR;
//    a dangling symlink: its target is created);
//  - a name this client removed is known absent for the validity the device
//    gave it (a negative entry), never with zero timeouts, never past its
//    expiry, and any creation or rename into the name replaces it;
//  - rename leaves the old name absent only when it certainly is (not for two
//    hard links of one file, which POSIX leaves both);
//  - open+close is OPEN, RELEASE (the device answers a read-only OPEN with
//    FOPEN_NOFLUSH); listing a small directory is OPENDIR,
//    READDIRPLUS (a listing's start), READDIR (the end), RELEASEDIR, and
//    without caches the READDIRPLUS's lookups go back at once (BATCH_FORGET);
//    listing it again with none of its names used since starts with a plain
//    READDIR, until a name is used.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/vfs/share_fixture.h"
#include "vfs/posix.h"

namespace vfs_test {
namespace {

class ShareRequestsTest : public ShareTest,
                          public ::testing::WithParamInterface<ShareConfig> {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(
        BootMachine(GetParam(), {}, [this](const sim::FuseTraceEvent& e) {
          std::lock_guard<std::mutex> lock(mu_);
          seen_.push_back(sim::FuseOpcodeName(e.opcode));
        }));
  }

  bool cached() const { return GetParam().timeout != 0; }

  // The opcodes the device handled since the last call.
  std::vector<std::string> Sent() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> sent;
    sent.swap(seen_);
    return sent;
  }

  void WriteHostFile(const std::string& relative, const std::string& data) {
    int fd = ::open(share_.Path(relative).c_str(), O_CREAT | O_WRONLY | O_TRUNC,
                    0644);
    ASSERT_GE(fd, 0) << relative;
    ASSERT_EQ(::write(fd, data.data(), data.size()),
              static_cast<ssize_t>(data.size()));
    ::close(fd);
  }

  std::mutex mu_;
  std::vector<std::string> seen_;
};

using Ops = std::vector<std::string>;

TEST_P(ShareRequestsTest, CreateAndUnlinkOfAFreshNameSendNoLookup) {
  for (int round = 0; round < 3; ++round) {
    Sent();
    int fd = vfs::open("/root/fresh", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(vfs::close(fd), 0);
    ASSERT_EQ(vfs::unlink("/root/fresh"), 0);
    // With zero timeouts unlink asks what the name is first (a directory is
    // EISDIR), as Linux's revalidation does. The node's FORGET waits for a
    // batch (FuseFsOptions::forget_batch).
    Ops expected = cached() ? Ops{"CREATE", "RELEASE", "UNLINK"}
                            : Ops{"CREATE", "RELEASE", "LOOKUP", "UNLINK"};
    if (FlushesWrites()) expected.insert(expected.begin() + 1, "FLUSH");
    EXPECT_EQ(Sent(), expected) << "round " << round;
  }
  machine().share_fs()->FlushForgets();
  EXPECT_EQ(Sent(), Ops{"BATCH_FORGET"});  // The three nodes' lookups.
  EXPECT_EQ(DeviceInodes(), 1u);
  struct stat st;
  EXPECT_NE(::stat(share_.Path("fresh").c_str(), &st), 0);
}

TEST_P(ShareRequestsTest, OCreatOfAnExistingNameFallsBackToLookup) {
  ASSERT_NO_FATAL_FAILURE(WriteHostFile("old", "12345"));
  Sent();
  int fd = vfs::open("/root/old", O_RDWR | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(Sent(), (Ops{"CREATE", "LOOKUP", "OPEN"}));
  char buffer[8];
  EXPECT_EQ(vfs::read(fd, buffer, sizeof(buffer)), 5);  // Not truncated.
  ASSERT_EQ(vfs::close(fd), 0);
  Sent();
  // Now known to exist: looked up (or not at all when cached) and opened.
  fd = vfs::open("/root/old", O_RDWR | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(Sent(), cached() ? Ops{"OPEN"} : (Ops{"LOOKUP", "OPEN"}));
  ASSERT_EQ(vfs::close(fd), 0);
  vfs::Stat st;
  ASSERT_EQ(vfs::stat("/root/old", &st), 0);
  EXPECT_EQ(st.st_mode, S_IFREG | 0644u);  // The existing file, untouched.
}

TEST_P(ShareRequestsTest, OCreatExclusiveOfAnExistingNameIsEexistAtOnce) {
  ASSERT_NO_FATAL_FAILURE(WriteHostFile("old", "x"));
  ASSERT_EQ(::mkdir(share_.Path("dir").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("nowhere", share_.Path("dangling").c_str()), 0);
  Sent();
  EXPECT_EQ(vfs::open("/root/old", O_RDWR | O_CREAT | O_EXCL, 0600), -EEXIST);
  EXPECT_EQ(Sent(), Ops{"CREATE"});
  EXPECT_EQ(vfs::open("/root/dir", O_RDONLY | O_CREAT | O_EXCL, 0600), -EEXIST);
  EXPECT_EQ(vfs::open("/root/dangling", O_RDWR | O_CREAT | O_EXCL, 0600),
            -EEXIST);
  struct stat st;
  EXPECT_NE(::stat(share_.Path("nowhere").c_str(), &st), 0);
}

TEST_P(ShareRequestsTest, OCreatOfADirectoryOrASymlinkAfterCreateFails) {
  ASSERT_EQ(::mkdir(share_.Path("dir").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("target", share_.Path("dangling").c_str()), 0);
  ASSERT_EQ(::symlink("dir", share_.Path("to_dir").c_str()), 0);
  EXPECT_EQ(vfs::open("/root/dir", O_RDONLY | O_CREAT, 0644), -EISDIR);
  EXPECT_EQ(vfs::open("/root/to_dir", O_RDONLY | O_CREAT, 0644), -EISDIR);
  EXPECT_EQ(vfs::open("/root/dangling", O_WRONLY | O_CREAT | O_NOFOLLOW, 0644),
            -ELOOP);
  // A dangling symlink: O_CREAT creates its target.
  int fd = vfs::open("/root/dangling", O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(vfs::write(fd, "abc", 3), 3);
  ASSERT_EQ(vfs::close(fd), 0);
  struct stat st;
  ASSERT_EQ(::lstat(share_.Path("target").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_size, 3);
}

TEST_P(ShareRequestsTest, ARemovedNameIsKnownAbsentOnlyWithTimeouts) {
  int fd = vfs::open("/root/gone", O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(vfs::close(fd), 0);
  ASSERT_EQ(vfs::unlink("/root/gone"), 0);
  Sent();
  vfs::Stat st;
  EXPECT_EQ(vfs::stat("/root/gone", &st), -ENOENT);
  // With zero timeouts the device is asked every time.
  EXPECT_EQ(Sent(), cached() ? Ops{} : Ops{"LOOKUP"});
  EXPECT_EQ(vfs::unlink("/root/gone"), -ENOENT);
  EXPECT_EQ(Sent(), cached() ? Ops{} : Ops{"LOOKUP"});
  // Creating the name through the VFS replaces what was known.
  ASSERT_EQ(vfs::mkdir("/root/gone", 0755), 0);
  ASSERT_EQ(vfs::stat("/root/gone", &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  ASSERT_EQ(vfs::rmdir("/root/gone"), 0);
  EXPECT_EQ(vfs::stat("/root/gone", &st), -ENOENT);
  ASSERT_EQ(vfs::symlink("x", "/root/gone"), 0);
  ASSERT_EQ(vfs::lstat("/root/gone", &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  ASSERT_EQ(vfs::unlink("/root/gone"), 0);
  // And so does a rename into it.
  fd = vfs::open("/root/other", O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(vfs::close(fd), 0);
  ASSERT_EQ(vfs::rename("/root/other", "/root/gone"), 0);
  EXPECT_EQ(vfs::stat("/root/gone", &st), 0);
}

TEST_P(ShareRequestsTest, ANegativeEntryIsNotUsedPastItsValidity) {
  machine_.reset();
  ASSERT_NO_FATAL_FAILURE(
      BootMachine({base::TransportKind::kPci, sim::NotifyMode::kInline, 0.05},
                  {}, [this](const sim::FuseTraceEvent& e) {
                    std::lock_guard<std::mutex> lock(mu_);
                    seen_.push_back(sim::FuseOpcodeName(e.opcode));
                  }));
  int fd = vfs::open("/root/gone", O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(vfs::close(fd), 0);
  ASSERT_EQ(vfs::unlink("/root/gone"), 0);
  // Made again behind the VFS's back: shows once the 50 ms are over.
  ASSERT_NO_FATAL_FAILURE(WriteHostFile("gone", "x"));
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  Sent();
  vfs::Stat st;
  EXPECT_EQ(vfs::stat("/root/gone", &st), 0);
  EXPECT_EQ(Sent(), Ops{"LOOKUP"});
}

TEST_P(ShareRequestsTest, RenameLeavesTheOldNameAbsentOnlyWhenItIs) {
  ASSERT_EQ(vfs::mkdir("/root/da", 0755), 0);
  ASSERT_EQ(vfs::rename("/root/da", "/root/db"), 0);
  Sent();
  vfs::Stat st;
  EXPECT_EQ(vfs::stat("/root/da", &st), -ENOENT);
  EXPECT_EQ(Sent(), cached() ? Ops{} : Ops{"LOOKUP"});
  // Two hard links of one file: rename does nothing, both names stay.
  int fd = vfs::open("/root/h1", O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(vfs::close(fd), 0);
  ASSERT_EQ(vfs::link("/root/h1", "/root/h2"), 0);
  ASSERT_EQ(vfs::rename("/root/h1", "/root/h2"), 0);
  EXPECT_EQ(vfs::stat("/root/h1", &st), 0);
  EXPECT_EQ(vfs::stat("/root/h2", &st), 0);
  EXPECT_EQ(st.st_nlink, 2u);
  // Over another file: the old name is gone, the new one is the moved file.
  fd = vfs::open("/root/h3", O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(vfs::write(fd, "abc", 3), 3);
  ASSERT_EQ(vfs::close(fd), 0);
  ASSERT_EQ(vfs::rename("/root/h3", "/root/h1"), 0);
  EXPECT_EQ(vfs::stat("/root/h3", &st), -ENOENT);
  ASSERT_EQ(vfs::stat("/root/h1", &st), 0);
  EXPECT_EQ(st.st_size, 3);
  ASSERT_EQ(vfs::stat("/root/h2", &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
  // Onto itself: nothing changes.
  ASSERT_EQ(vfs::rename("/root/h1", "/root/h1"), 0);
  EXPECT_EQ(vfs::stat("/root/h1", &st), 0);
}

TEST_P(ShareRequestsTest, OpenCloseAndSmallListings) {
  ASSERT_NO_FATAL_FAILURE(WriteHostFile("f", "x"));
  ASSERT_EQ(::mkdir(share_.Path("d").c_str(), 0755), 0);
  for (int i = 0; i < 10; ++i) {
    ASSERT_NO_FATAL_FAILURE(WriteHostFile("d/" + std::to_string(i), "x"));
  }
  vfs::Stat st;
  ASSERT_EQ(vfs::stat("/root/f", &st), 0);
  ASSERT_EQ(vfs::stat("/root/d", &st), 0);
  const Ops lookup = cached() ? Ops{} : Ops{"LOOKUP"};
  auto with_lookup = [&](Ops ops) {
    ops.insert(ops.begin(), lookup.begin(), lookup.end());
    return ops;
  };
  Sent();
  int fd = vfs::open("/root/f", O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(vfs::close(fd), 0);
  EXPECT_EQ(Sent(), with_lookup({"OPEN", "RELEASE"}));
  fd = vfs::open("/root/d", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  std::vector<char> buffer(32 * 1024);
  int64_t n = vfs::getdents64(fd, buffer.data(), buffer.size());
  EXPECT_GT(n, 0);
  EXPECT_EQ(vfs::getdents64(fd, buffer.data(), buffer.size()), 0);
  ASSERT_EQ(vfs::close(fd), 0);
  EXPECT_EQ(Sent(),
            with_lookup(cached() ? Ops{"OPENDIR", "READDIRPLUS", "READDIR",
                                       "RELEASEDIR"}
                                 : Ops{"OPENDIR", "READDIRPLUS", "BATCH_FORGET",
                                       "READDIR", "RELEASEDIR"}));
  auto list = [&] {
    const int dir = vfs::open("/root/d", O_RDONLY | O_DIRECTORY);
    ASSERT_GE(dir, 0);
    EXPECT_GT(vfs::getdents64(dir, buffer.data(), buffer.size()), 0);
    EXPECT_EQ(vfs::getdents64(dir, buffer.data(), buffer.size()), 0);
    ASSERT_EQ(vfs::close(dir), 0);
  };
  // Nothing the READDIRPLUS brought was used: the next listings are plain.
  for (int i = 0; i < 2; ++i) {
    list();
    EXPECT_EQ(Sent(),
              with_lookup({"OPENDIR", "READDIR", "READDIR", "RELEASEDIR"}));
  }
  // A name used (from the cache, or looked up) brings READDIRPLUS back.
  ASSERT_EQ(vfs::stat("/root/d/3", &st), 0);
  // Uncached: the LOOKUP of "3" brings the attributes the stat reports.
  const Ops stat_ops = cached() ? Ops{} : Ops{"LOOKUP", "LOOKUP"};
  EXPECT_EQ(Sent(), stat_ops);
  list();
  EXPECT_EQ(Sent(),
            with_lookup(cached() ? Ops{"OPENDIR", "READDIRPLUS", "READDIR",
                                       "RELEASEDIR"}
                                 : Ops{"OPENDIR", "READDIRPLUS", "BATCH_FORGET",
                                       "READDIR", "RELEASEDIR"}));
}

INSTANTIATE_TEST_SUITE_P(Timeouts, ShareRequestsTest,
                         ::testing::Values(kNoCache, kCached),
                         [](const auto& info) { return info.param.Name(); });

}  // namespace
}  // namespace vfs_test
