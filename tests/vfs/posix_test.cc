// POSIX behaviour of vfs:: calls on memfs that the host comparison cannot
// cover: the descriptor table, the current directory, path length limits, boot
// and shutdown.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/abi.h"
#include "gtest/gtest.h"
#include "tests/vfs/vfs_fixture.h"
#include "vfs/memfs.h"

namespace vfs_test {
namespace {

// vfs's spellings of the Linux values must equal glibc's, which callers use.
static_assert(base::kTypeDirectory == S_IFDIR &&
              base::kTypeSymlink == S_IFLNK && base::kTypeRegular == S_IFREG &&
              base::kTypeMask == S_IFMT);
static_assert(base::kOpenCreate == O_CREAT && base::kOpenExclusive == O_EXCL &&
              base::kOpenTruncate == O_TRUNC && base::kOpenAppend == O_APPEND &&
              base::kOpenDirectory == O_DIRECTORY &&
              base::kOpenNoFollow == O_NOFOLLOW &&
              base::kOpenCloseOnExec == O_CLOEXEC &&
              base::kOpenWriteOnly == O_WRONLY &&
              base::kOpenReadWrite == O_RDWR);
static_assert(base::kSeekSet == SEEK_SET && base::kSeekCur == SEEK_CUR &&
              base::kSeekEnd == SEEK_END);
static_assert(base::kAccessRead == R_OK && base::kAccessWrite == W_OK &&
              base::kAccessExecute == X_OK);
static_assert(base::DirentTypeOf(S_IFDIR) == 4 &&
              base::DirentTypeOf(S_IFREG) == 8 &&
              base::DirentTypeOf(S_IFLNK) == 10);

using PosixTest = VfsTest;

TEST(PosixWithoutKernel, CallsFailWithEnosysWithoutATask) {
  EXPECT_EQ(vfs::CurrentTask(), nullptr);
  EXPECT_EQ(vfs::open("/", O_RDONLY), -ENOSYS);
  EXPECT_EQ(vfs::close(0), -ENOSYS);
  vfs::Stat st;
  EXPECT_EQ(vfs::stat("/", &st), -ENOSYS);
}

TEST_F(PosixTest, AnotherKernelStartsEmpty) {
  WriteFile("/tmp/old", "x");
  ASSERT_NO_FATAL_FAILURE(BootKernel());
  vfs::Stat st;
  EXPECT_EQ(vfs::stat("/tmp/old", &st), -ENOENT);
  ASSERT_EQ(vfs::stat("/tmp", &st), 0);
  EXPECT_EQ(st.st_mode, S_IFDIR | 01777);
  ASSERT_EQ(vfs::stat("/", &st), 0);
  EXPECT_EQ(st.st_mode, S_IFDIR | 0755);
  EXPECT_EQ(st.st_nlink, 3u);  // ".", the mount, and /tmp's "..".
}

TEST_F(PosixTest, DescriptorsAreLowestFreeAndLimited) {
  WriteFile("/tmp/f", "abc");
  int a = vfs::open("/tmp/f", O_RDONLY);
  int b = vfs::open("/tmp/f", O_RDONLY);
  int c = vfs::open("/tmp/f", O_RDONLY);
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 1);
  EXPECT_EQ(c, 2);
  EXPECT_EQ(vfs::close(b), 0);
  EXPECT_EQ(vfs::close(b), -EBADF);
  EXPECT_EQ(vfs::close(-1), -EBADF);
  EXPECT_EQ(vfs::close(5000), -EBADF);
  EXPECT_EQ(vfs::dup(a), 1);
  EXPECT_EQ(vfs::dup(99), -EBADF);

  std::vector<int> fds;
  int fd;
  while ((fd = vfs::open("/tmp/f", O_RDONLY)) >= 0) fds.push_back(fd);
  EXPECT_EQ(fd, -EMFILE);
  EXPECT_EQ(fds.size() + 3, static_cast<size_t>(vfs::FdTable::kMaxFds));
  EXPECT_EQ(vfs::dup(a), -EMFILE);
  EXPECT_EQ(vfs::close(500), 0);
  EXPECT_EQ(vfs::dup(a), 500);
  EXPECT_EQ(vfs::dup2(a, 1024), -EBADF);
  EXPECT_EQ(vfs::dup2(a, -1), -EBADF);
  EXPECT_EQ(vfs::dup2(a, 1023), 1023);  // Replaces an open descriptor.
}

TEST_F(PosixTest, Dup2ClosesTheTargetAndSharesTheOffset) {
  WriteFile("/tmp/a", "aaaa");
  WriteFile("/tmp/b", "bbbbbbbb");
  int a = vfs::open("/tmp/a", O_RDONLY);
  int b = vfs::open("/tmp/b", O_RDONLY);
  EXPECT_EQ(vfs::dup2(b, b), b);
  EXPECT_EQ(vfs::dup2(a, b), b);
  char buffer[8] = {};
  EXPECT_EQ(vfs::read(b, buffer, 2), 2);
  EXPECT_EQ(std::string(buffer, 2), "aa");
  EXPECT_EQ(vfs::lseek(a, 0, SEEK_CUR), 2);
  vfs::Stat st;
  ASSERT_EQ(vfs::fstat(b, &st), 0);
  EXPECT_EQ(st.st_size, 4);
  EXPECT_EQ(vfs::dup2(77, 3), -EBADF);
}

TEST_F(PosixTest, CurrentDirectoryAndGetcwd) {
  char cwd[256];
  EXPECT_EQ(vfs::getcwd(cwd, sizeof(cwd)), 2);
  EXPECT_STREQ(cwd, "/");
  ASSERT_EQ(vfs::mkdir("/tmp/a", 0755), 0);
  ASSERT_EQ(vfs::mkdir("/tmp/a/b", 0755), 0);
  ASSERT_EQ(vfs::chdir("/tmp/a/b"), 0);
  EXPECT_EQ(vfs::getcwd(cwd, sizeof(cwd)), 9);
  EXPECT_STREQ(cwd, "/tmp/a/b");
  EXPECT_EQ(vfs::getcwd(cwd, 8), -ERANGE);
  WriteFile("here", "relative");
  EXPECT_EQ(ReadFile("/tmp/a/b/here"), "relative");
  EXPECT_EQ(ReadFile("../b/./here"), "relative");
  ASSERT_EQ(vfs::chdir(".."), 0);
  EXPECT_EQ(vfs::getcwd(cwd, sizeof(cwd)), 7);
  EXPECT_STREQ(cwd, "/tmp/a");
  EXPECT_EQ(vfs::chdir("b/here"), -ENOTDIR);
  EXPECT_EQ(vfs::chdir("missing"), -ENOENT);
  // ".." at the root stays there.
  ASSERT_EQ(vfs::chdir("../../../../.."), 0);
  EXPECT_EQ(vfs::getcwd(cwd, sizeof(cwd)), 2);
  EXPECT_STREQ(cwd, "/");
  vfs::Stat root, up;
  ASSERT_EQ(vfs::stat("/", &root), 0);
  ASSERT_EQ(vfs::stat("/../..", &up), 0);
  EXPECT_EQ(root.st_ino, up.st_ino);
  // Through a symlink, the current directory is the physical one.
  ASSERT_EQ(vfs::symlink("/tmp/a/b", "/tmp/link"), 0);
  ASSERT_EQ(vfs::chdir("/tmp/link"), 0);
  EXPECT_EQ(vfs::getcwd(cwd, sizeof(cwd)), 9);
  EXPECT_STREQ(cwd, "/tmp/a/b");
  EXPECT_EQ(ReadFile("../b/here"), "relative");
}

// stat walks without making a Location per component (PathWalker::
// ResolveNode), with room for 8 below where it started: deeper paths, ".."
// out of them and symlinks on the way must name what open names.
TEST_F(PosixTest, StatNamesWhatOpenNamesOnDeepPaths) {
  std::string deep = "/tmp";
  for (int i = 0; i < 12; ++i) {
    deep += "/d" + std::to_string(i);
    ASSERT_EQ(vfs::mkdir(deep.c_str(), 0755), 0);
  }
  WriteFile((deep + "/f").c_str(), "deep");
  WriteFile("/tmp/d0/d1/top", "top");
  // d11/up -> ../../../../../../../../.. (nine levels: d2).
  ASSERT_EQ(vfs::symlink("../../../../../../../../..", (deep + "/up").c_str()),
            0);
  auto ino_by_open = [](const std::string& path) -> int64_t {
    const int fd = vfs::open(path.c_str(), O_RDONLY);
    if (fd < 0) return fd;
    vfs::Stat st;
    const int r = vfs::fstat(fd, &st);
    vfs::close(fd);
    return r == 0 ? static_cast<int64_t>(st.st_ino) : r;
  };
  auto ino_by_stat = [](const std::string& path) -> int64_t {
    vfs::Stat st;
    const int r = vfs::stat(path.c_str(), &st);
    return r == 0 ? static_cast<int64_t>(st.st_ino) : r;
  };
  const std::string ups = "/../../../../../../../../../../..";  // Eleven.
  for (const std::string& path : std::vector<std::string>{
           deep + "/f", deep + ups + "/d1/top", deep + "/up/../top",
           deep + "/./up/./d3/d4/../d4/d5/d6/d7/d8/d9/d10/d11/f",
           "/tmp/d0/d1/d2/d3/d4/d5/d6/d7/d8/d9/d10/../../../../../../../../../"
           "top"}) {
    SCOPED_TRACE(path);
    const int64_t ino = ino_by_open(path);
    ASSERT_GT(ino, 0);
    EXPECT_EQ(ino_by_stat(path), ino);
  }
  EXPECT_EQ(ino_by_stat(deep + "/f/"), -ENOTDIR);
  EXPECT_EQ(ino_by_stat(deep + "/up/missing"), -ENOENT);
  // lstat of the symlink itself, twelve components down.
  vfs::Stat st;
  ASSERT_EQ(vfs::lstat((deep + "/up").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST_F(PosixTest, RemovedCurrentDirectoryTakesNoNewEntries) {
  ASSERT_EQ(vfs::mkdir("/tmp/gone", 0755), 0);
  ASSERT_EQ(vfs::chdir("/tmp/gone"), 0);
  ASSERT_EQ(vfs::rmdir("/tmp/gone"), 0);
  EXPECT_EQ(vfs::open("new", O_CREAT | O_WRONLY, 0644), -ENOENT);
  EXPECT_EQ(vfs::mkdir("sub", 0755), -ENOENT);
  vfs::Stat st;
  ASSERT_EQ(vfs::stat(".", &st), 0);
  EXPECT_EQ(st.st_nlink, 0u);
  EXPECT_EQ(vfs::chdir(".."), 0);
}

TEST_F(PosixTest, PathLengthLimits) {
  // 4095 bytes and the NUL fit in PATH_MAX; 4096 do not.
  std::string fits = "/tmp/" + std::string(4090, 'a');
  ASSERT_EQ(fits.size(), 4095u);
  std::string too_long = fits + "a";
  vfs::Stat st;
  EXPECT_EQ(vfs::stat(fits.c_str(), &st),
            -ENAMETOOLONG);  // Its component is too long.
  EXPECT_EQ(vfs::stat(too_long.c_str(), &st), -ENAMETOOLONG);
  std::string slashes = "/tmp" + std::string(4091, '/');
  ASSERT_EQ(slashes.size(), 4095u);
  EXPECT_EQ(vfs::stat(slashes.c_str(), &st), 0);
  EXPECT_EQ(vfs::stat((slashes + "/").c_str(), &st), -ENAMETOOLONG);
  std::string dots;
  while (dots.size() + 2 < 4095) dots += "./";
  dots += "tmp";
  EXPECT_EQ(vfs::stat(dots.c_str(), &st), -ENAMETOOLONG);
  EXPECT_EQ(vfs::stat(dots.substr(4).c_str(), &st), 0);
  EXPECT_EQ(vfs::stat("", &st), -ENOENT);
  EXPECT_EQ(vfs::stat(nullptr, &st), -EFAULT);
  EXPECT_EQ(vfs::symlink(too_long.c_str(), "/tmp/l"), -ENAMETOOLONG);
  EXPECT_EQ(vfs::symlink(fits.c_str(), "/tmp/l"), 0);
  EXPECT_EQ(vfs::readlink("/tmp/l", nullptr, 0), -EINVAL);
}

TEST_F(PosixTest, UmaskAppliesToCreation) {
  EXPECT_EQ(vfs::umask(077), 022u);
  ASSERT_EQ(vfs::mkdir("/tmp/d", 0777), 0);
  int fd = vfs::open("/tmp/f", O_CREAT | O_WRONLY, 0666);
  ASSERT_GE(fd, 0);
  vfs::Stat st;
  ASSERT_EQ(vfs::stat("/tmp/d", &st), 0);
  EXPECT_EQ(st.st_mode, S_IFDIR | 0700);
  ASSERT_EQ(vfs::fstat(fd, &st), 0);
  EXPECT_EQ(st.st_mode, S_IFREG | 0600);
  EXPECT_EQ(vfs::fchmod(fd, 0640), 0);
  ASSERT_EQ(vfs::stat("/tmp/f", &st), 0);
  EXPECT_EQ(st.st_mode, S_IFREG | 0640);
}

TEST_F(PosixTest, TimesAndInodes) {
  WriteFile("/tmp/f", "x");
  vfs::Stat before, after, other;
  ASSERT_EQ(vfs::stat("/tmp/f", &before), 0);
  WriteFile("/tmp/g", "y");
  ASSERT_EQ(vfs::stat("/tmp/g", &other), 0);
  EXPECT_NE(before.st_ino, other.st_ino);
  EXPECT_EQ(before.st_dev, other.st_dev);
  platform_.Advance(2'000'000'000);
  int fd = vfs::open("/tmp/f", O_WRONLY | O_APPEND);
  ASSERT_EQ(vfs::write(fd, "z", 1), 1);
  vfs::close(fd);
  ASSERT_EQ(vfs::stat("/tmp/f", &after), 0);
  EXPECT_GE(after.st_mtim.tv_sec, before.st_mtim.tv_sec + 2);
  EXPECT_EQ(after.st_ctim, after.st_mtim);
  EXPECT_EQ(after.st_atim, before.st_atim);
  EXPECT_EQ(after.st_size, 2);
  EXPECT_EQ(after.st_blksize, 4096);
  EXPECT_EQ(after.st_blocks, 8);
  platform_.Advance(1'000'000'000);
  ASSERT_EQ(vfs::chmod("/tmp/f", 0600), 0);
  vfs::Stat changed;
  ASSERT_EQ(vfs::stat("/tmp/f", &changed), 0);
  EXPECT_EQ(changed.st_mtim, after.st_mtim);
  EXPECT_GT(changed.st_ctim.tv_sec, after.st_ctim.tv_sec);
}

TEST_F(PosixTest, SparseFilesReadZerosAndUseFewBlocks) {
  int fd = vfs::open("/tmp/sparse", O_CREAT | O_RDWR, 0644);
  ASSERT_GE(fd, 0);
  const int64_t far = int64_t{1} << 40;
  ASSERT_EQ(vfs::pwrite(fd, "end", 3, far), 3);
  vfs::Stat st;
  ASSERT_EQ(vfs::fstat(fd, &st), 0);
  EXPECT_EQ(st.st_size, far + 3);
  EXPECT_EQ(st.st_blocks, 8);
  char buffer[16];
  memset(buffer, 'q', sizeof(buffer));
  ASSERT_EQ(vfs::pread(fd, buffer, sizeof(buffer), far - 13), 16);
  EXPECT_EQ(std::string(buffer, 16), std::string(13, '\0') + "end");
  ASSERT_EQ(vfs::ftruncate(fd, 5), 0);
  ASSERT_EQ(vfs::ftruncate(fd, 10), 0);
  ASSERT_EQ(vfs::pread(fd, buffer, sizeof(buffer), 0), 10);
  EXPECT_EQ(std::string(buffer, 10), std::string(10, '\0'));
  EXPECT_EQ(vfs::lseek(fd, 0, SEEK_END), 10);
  EXPECT_EQ(vfs::lseek(fd, INT64_MAX, SEEK_CUR), -EINVAL);
}

class SmallMemFsTest : public VfsTest {
 protected:
  vfs::BootOptions BootOptions() override {
    vfs::BootOptions options;
    options.root_fs.capacity_bytes = 4 * vfs::MemFs::kPageSize;
    options.root_fs.max_nodes = 8;
    return options;
  }
};

TEST_F(SmallMemFsTest, FullFilesystemIsEnospcAndStatfsCounts) {
  vfs::StatFs fs;
  ASSERT_EQ(vfs::statfs("/tmp", &fs), 0);
  EXPECT_EQ(fs.f_type, vfs::MemFs::kMagic);
  EXPECT_EQ(fs.f_bsize, 4096u);
  EXPECT_EQ(fs.f_blocks, 4u);
  EXPECT_EQ(fs.f_bfree, 4u);
  EXPECT_EQ(fs.f_namelen, 255u);
  EXPECT_EQ(fs.f_files - fs.f_ffree, 2u);  // "/" and "/tmp".
  int fd = vfs::open("/tmp/big", O_CREAT | O_RDWR, 0644);
  ASSERT_GE(fd, 0);
  std::string data(5 * 4096, 'd');
  EXPECT_EQ(vfs::write(fd, data.data(), data.size()),
            4 * 4096);  // A short write.
  EXPECT_EQ(vfs::write(fd, data.data(), data.size()), -ENOSPC);
  ASSERT_EQ(vfs::fstatfs(fd, &fs), 0);
  EXPECT_EQ(fs.f_bfree, 0u);
  ASSERT_EQ(vfs::ftruncate(fd, 4096), 0);
  ASSERT_EQ(vfs::statfs("/", &fs), 0);
  EXPECT_EQ(fs.f_bfree, 3u);
  int made = 0;
  while (vfs::mkdir(("/tmp/d" + std::to_string(made)).c_str(), 0755) == 0)
    ++made;
  EXPECT_EQ(made, 5);  // 8 nodes: "/", "/tmp", "big" and five more.
  EXPECT_EQ(vfs::symlink("x", "/tmp/s"), -ENOSPC);
  ASSERT_EQ(vfs::close(fd), 0);
  ASSERT_EQ(vfs::unlink("/tmp/big"), 0);
  EXPECT_EQ(vfs::symlink("x", "/tmp/s"), 0);
}

TEST_F(PosixTest, OpenFileSurvivesUnlinkAndIsFreedOnClose) {
  WriteFile("/tmp/f", "still here");
  vfs::StatFs before;
  ASSERT_EQ(vfs::statfs("/", &before), 0);
  int fd = vfs::open("/tmp/f", O_RDONLY);
  ASSERT_EQ(vfs::unlink("/tmp/f"), 0);
  char buffer[32];
  EXPECT_EQ(vfs::read(fd, buffer, sizeof(buffer)), 10);
  vfs::StatFs during, after;
  ASSERT_EQ(vfs::statfs("/", &during), 0);
  EXPECT_EQ(during.f_ffree, before.f_ffree);
  ASSERT_EQ(vfs::close(fd), 0);
  ASSERT_EQ(vfs::statfs("/", &after), 0);
  EXPECT_EQ(after.f_ffree, before.f_ffree + 1);
  EXPECT_EQ(after.f_bfree, before.f_bfree + 1);
}

TEST_F(PosixTest, PollReportsRegularFilesReady) {
  WriteFile("/tmp/f", "x");
  int fd = vfs::open("/tmp/f", O_RDONLY);
  EXPECT_EQ(vfs::poll_one(fd, base::kPollIn | base::kPollOut),
            static_cast<int>(base::kPollIn | base::kPollOut));
  EXPECT_EQ(vfs::poll_one(fd, 0), 0);
  EXPECT_EQ(vfs::poll_one(42, base::kPollIn), -EBADF);
}

TEST_F(PosixTest, BadOpenFlagsAndBuffersAreRefused) {
  WriteFile("/tmp/f", "x");
  EXPECT_EQ(vfs::open("/tmp/f", O_RDWR | O_WRONLY), -EINVAL);
  EXPECT_EQ(vfs::read(0, nullptr, 1), -EBADF);
  int fd = vfs::open("/tmp/f", O_RDONLY);
  EXPECT_EQ(vfs::read(fd, nullptr, 1), -EFAULT);
  EXPECT_EQ(vfs::read(fd, nullptr, 0), 0);
}

}  // namespace
}  // namespace vfs_test
