// The *at calls, O_PATH, O_TMPFILE, fcntl, record and flock locks, FIFOs,
// SEEK_DATA/SEEK_HOLE, fallocate, copy_file_range and the xattr calls on memfs,
// with the errors Linux gives.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <cstring>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "tests/vfs/vfs_fixture.h"

namespace vfs_test {
namespace {

// The structs and constants callers pass as glibc spells them.
static_assert(sizeof(vfs::Flock) == sizeof(struct flock) &&
              offsetof(vfs::Flock, l_start) ==
                  offsetof(struct flock, l_start) &&
              offsetof(vfs::Flock, l_len) == offsetof(struct flock, l_len) &&
              offsetof(vfs::Flock, l_pid) == offsetof(struct flock, l_pid));
static_assert(base::kUtimeNow == UTIME_NOW && base::kUtimeOmit == UTIME_OMIT);

using CallsTest = VfsTest;

TEST_F(CallsTest, AtCallsStartFromTheDirectoryDescriptor) {
  ASSERT_EQ(vfs::mkdir("/tmp/d", 0755), 0);
  int dir = vfs::open("/tmp/d", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(dir, 0);
  EXPECT_EQ(vfs::mkdirat(dir, "sub", 0700), 0);
  int fd = vfs::openat(dir, "sub/f", O_CREAT | O_WRONLY, 0600);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(vfs::write(fd, "abc", 3), 3);
  vfs::Stat st;
  EXPECT_EQ(vfs::fstatat(dir, "sub/f", &st, 0), 0);
  EXPECT_EQ(st.st_size, 3);
  EXPECT_EQ(vfs::symlinkat("sub/f", dir, "l"), 0);
  char target[16] = {};
  EXPECT_EQ(vfs::readlinkat(dir, "l", target, sizeof(target)), 5);
  EXPECT_STREQ(target, "sub/f");
  EXPECT_EQ(vfs::fstatat(dir, "l", &st, base::kAtSymlinkNoFollow), 0);
  EXPECT_EQ(st.st_mode & S_IFMT, static_cast<uint32_t>(S_IFLNK));
  EXPECT_EQ(vfs::linkat(dir, "l", dir, "hard", base::kAtSymlinkFollow), 0);
  EXPECT_EQ(vfs::fstatat(dir, "hard", &st, base::kAtSymlinkNoFollow), 0);
  EXPECT_EQ(st.st_mode & S_IFMT, static_cast<uint32_t>(S_IFREG));
  EXPECT_EQ(vfs::renameat2(dir, "hard", dir, "l", base::kRenameNoReplace),
            -EEXIST);
  EXPECT_EQ(vfs::renameat2(dir, "hard", dir, "l", base::kRenameExchange), 0);
  EXPECT_EQ(vfs::fstatat(dir, "hard", &st, base::kAtSymlinkNoFollow), 0);
  EXPECT_EQ(st.st_mode & S_IFMT, static_cast<uint32_t>(S_IFLNK));
  EXPECT_EQ(vfs::unlinkat(dir, "sub", 0), -EISDIR);
  EXPECT_EQ(vfs::unlinkat(dir, "sub", base::kAtRemoveDir), -ENOTEMPTY);
  EXPECT_EQ(vfs::fchmodat(dir, "hard", 0600, base::kAtSymlinkNoFollow),
            -EOPNOTSUPP);
  EXPECT_EQ(vfs::fchownat(dir, "", 7, 7, base::kAtEmptyPath), 0);
  EXPECT_EQ(vfs::stat("/tmp/d", &st), 0);
  EXPECT_EQ(st.st_uid, 7u);
  // A descriptor that is no directory, or no descriptor.
  EXPECT_EQ(vfs::mkdirat(fd, "x", 0700), -ENOTDIR);
  EXPECT_EQ(vfs::mkdirat(99, "x", 0700), -EBADF);
  EXPECT_EQ(vfs::unlinkat(dir, "l", 0x4), -EINVAL);
  // Absolute paths ignore the descriptor.
  EXPECT_EQ(vfs::fstatat(99, "/tmp", &st, 0), 0);
  vfs::close(fd);
  vfs::close(dir);
}

TEST_F(CallsTest, PathDescriptorsNameALocationOnly) {
  WriteFile("/tmp/f", "data");
  ASSERT_EQ(vfs::symlink("f", "/tmp/l"), 0);
  int fd = vfs::open("/tmp/l", O_PATH | O_NOFOLLOW);
  ASSERT_GE(fd, 0);
  vfs::Stat st;
  EXPECT_EQ(vfs::fstat(fd, &st), 0);
  EXPECT_EQ(st.st_mode & S_IFMT, static_cast<uint32_t>(S_IFLNK));
  char c;
  EXPECT_EQ(vfs::read(fd, &c, 1), -EBADF);
  EXPECT_EQ(vfs::fchmod(fd, 0600), -EBADF);
  EXPECT_EQ(vfs::fcntl(fd, F_GETFL), O_PATH);
  int dir = vfs::open("/tmp", O_PATH | O_DIRECTORY);
  ASSERT_GE(dir, 0);
  EXPECT_EQ(vfs::fstatat(dir, "f", &st, 0), 0);
  EXPECT_EQ(st.st_size, 4);
  EXPECT_EQ(vfs::fchdir(dir), 0);
  EXPECT_EQ(vfs::stat("f", &st), 0);
  EXPECT_EQ(vfs::open("/tmp/f", O_PATH | O_DIRECTORY), -ENOTDIR);
  vfs::close(fd);
  vfs::close(dir);
}

TEST_F(CallsTest, TmpFileHasNoNameUntilLinked) {
  int fd = vfs::open("/tmp", O_TMPFILE | O_RDWR, 0600);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(vfs::write(fd, "tmp", 3), 3);
  vfs::Stat st;
  EXPECT_EQ(vfs::fstat(fd, &st), 0);
  EXPECT_EQ(st.st_nlink, 0u);
  EXPECT_EQ(
      vfs::linkat(fd, "", base::kAtFdCwd, "/tmp/named", base::kAtEmptyPath), 0);
  EXPECT_EQ(ReadFile("/tmp/named"), "tmp");
  vfs::close(fd);
  EXPECT_EQ(vfs::open("/tmp", O_TMPFILE | O_RDONLY, 0600), -EINVAL);
  EXPECT_EQ(vfs::open("/tmp/named", O_TMPFILE | O_RDWR, 0600), -ENOTDIR);
}

TEST_F(CallsTest, FcntlFlagsAndDuplication) {
  WriteFile("/tmp/f", "x");
  int fd = vfs::open("/tmp/f", O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(vfs::fcntl(fd, F_GETFD), FD_CLOEXEC);
  EXPECT_EQ(vfs::fcntl(fd, F_SETFD, 0), 0);
  EXPECT_EQ(vfs::fcntl(fd, F_GETFD), 0);
  EXPECT_EQ(vfs::fcntl(fd, F_GETFL), O_RDWR);
  EXPECT_EQ(vfs::fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK | O_RDONLY), 0);
  EXPECT_EQ(vfs::fcntl(fd, F_GETFL), O_RDWR | O_APPEND | O_NONBLOCK);
  EXPECT_EQ(vfs::write(fd, "y", 1), 1);
  EXPECT_EQ(ReadFile("/tmp/f"), "xy");
  int dup = vfs::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  EXPECT_EQ(dup, 10);
  EXPECT_EQ(vfs::fcntl(dup, F_GETFD), FD_CLOEXEC);
  EXPECT_EQ(vfs::fcntl(fd, F_DUPFD, 10), 11);
  EXPECT_EQ(vfs::fcntl(fd, F_DUPFD, 5000), -EINVAL);
  EXPECT_EQ(vfs::fcntl(fd, 9999), -EINVAL);
  EXPECT_EQ(vfs::fcntl(77, F_GETFD), -EBADF);
  vfs::close(fd);
}

TEST_F(CallsTest, RecordLocksConflictBetweenTasksAndGoOnClose) {
  WriteFile("/tmp/f", std::string(100, 'x'));
  int fd = vfs::open("/tmp/f", O_RDWR);
  ASSERT_GE(fd, 0);
  vfs::Flock lock{F_WRLCK, SEEK_SET, 10, 20, 0};
  ASSERT_EQ(vfs::fcntl(fd, F_SETLK, reinterpret_cast<uintptr_t>(&lock)), 0);
  vfs::Task* other = kernel_->CreateTask();
  ASSERT_NE(other, nullptr);
  {
    vfs::TaskScope scope(*other);
    int fd2 = vfs::open("/tmp/f", O_RDWR);
    ASSERT_GE(fd2, 0);
    vfs::Flock want{F_RDLCK, SEEK_SET, 25, 10, 0};
    EXPECT_EQ(vfs::fcntl(fd2, F_SETLK, reinterpret_cast<uintptr_t>(&want)),
              -EAGAIN);
    ASSERT_EQ(vfs::fcntl(fd2, F_GETLK, reinterpret_cast<uintptr_t>(&want)), 0);
    EXPECT_EQ(want.l_type, F_WRLCK);
    EXPECT_EQ(want.l_start, 10);
    EXPECT_EQ(want.l_len, 20);
    EXPECT_EQ(want.l_pid, static_cast<int32_t>(kernel_->init_task().pid()));
    vfs::Flock free_range{F_RDLCK, SEEK_SET, 30, 0, 0};
    EXPECT_EQ(
        vfs::fcntl(fd2, F_SETLK, reinterpret_cast<uintptr_t>(&free_range)), 0);
    vfs::close(fd2);
  }
  // Unlocking the middle splits the lock; closing any descriptor of the file
  // drops what is left.
  vfs::Flock middle{F_UNLCK, SEEK_SET, 15, 5, 0};
  ASSERT_EQ(vfs::fcntl(fd, F_SETLK, reinterpret_cast<uintptr_t>(&middle)), 0);
  {
    vfs::TaskScope scope(*other);
    int fd2 = vfs::open("/tmp/f", O_RDWR);
    vfs::Flock want{F_WRLCK, SEEK_SET, 15, 5, 0};
    EXPECT_EQ(vfs::fcntl(fd2, F_SETLK, reinterpret_cast<uintptr_t>(&want)), 0);
    vfs::close(fd2);
  }
  int fd3 = vfs::dup(fd);
  vfs::close(fd3);
  {
    vfs::TaskScope scope(*other);
    int fd2 = vfs::open("/tmp/f", O_RDWR);
    vfs::Flock want{F_WRLCK, SEEK_SET, 0, 0, 0};
    EXPECT_EQ(vfs::fcntl(fd2, F_SETLK, reinterpret_cast<uintptr_t>(&want)), 0);
    vfs::close(fd2);
  }
  vfs::Flock bad{F_WRLCK, 9, 0, 0, 0};
  EXPECT_EQ(vfs::fcntl(fd, F_SETLK, reinterpret_cast<uintptr_t>(&bad)),
            -EINVAL);
  EXPECT_EQ(vfs::fcntl(fd, F_SETLK, 0), -EFAULT);
  vfs::close(fd);
  int reader = vfs::open("/tmp/f", O_RDONLY);
  vfs::Flock write_lock{F_WRLCK, SEEK_SET, 0, 1, 0};
  EXPECT_EQ(
      vfs::fcntl(reader, F_SETLK, reinterpret_cast<uintptr_t>(&write_lock)),
      -EBADF);
  vfs::close(reader);
}

TEST_F(CallsTest, WaitingRecordLockIsGrantedWhenReleased) {
  WriteFile("/tmp/f", "x");
  int fd = vfs::open("/tmp/f", O_RDWR);
  vfs::Flock lock{F_WRLCK, SEEK_SET, 0, 0, 0};
  ASSERT_EQ(vfs::fcntl(fd, F_SETLK, reinterpret_cast<uintptr_t>(&lock)), 0);
  vfs::Task* other = kernel_->CreateTask();
  ASSERT_NE(other, nullptr);
  std::atomic<bool> granted{false};
  std::thread waiter([&] {
    vfs::TaskScope scope(*other);
    int fd2 = vfs::open("/tmp/f", O_RDWR);
    vfs::Flock want{F_WRLCK, SEEK_SET, 0, 0, 0};
    EXPECT_EQ(vfs::fcntl(fd2, F_SETLKW, reinterpret_cast<uintptr_t>(&want)), 0);
    granted = true;
    vfs::close(fd2);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(granted);
  vfs::close(fd);
  waiter.join();
  EXPECT_TRUE(granted);
}

TEST_F(CallsTest, FlockBelongsToTheOpenFile) {
  WriteFile("/tmp/f", "x");
  int a = vfs::open("/tmp/f", O_RDONLY);
  int b = vfs::open("/tmp/f", O_RDONLY);
  ASSERT_EQ(vfs::flock(a, LOCK_EX), 0);
  EXPECT_EQ(vfs::flock(b, LOCK_SH | LOCK_NB), -EWOULDBLOCK);
  int a2 = vfs::dup(a);
  EXPECT_EQ(vfs::flock(a2, LOCK_SH), 0);  // The same open file: a conversion.
  EXPECT_EQ(vfs::flock(b, LOCK_SH | LOCK_NB), 0);
  vfs::close(a);
  vfs::close(a2);
  EXPECT_EQ(vfs::flock(b, LOCK_EX | LOCK_NB), 0);
  EXPECT_EQ(vfs::flock(b, LOCK_SH | LOCK_EX), -EINVAL);
  vfs::close(b);
}

TEST_F(CallsTest, FifoCarriesDataBetweenItsEnds) {
  ASSERT_EQ(vfs::mkfifo("/tmp/p", 0644), 0);
  EXPECT_EQ(vfs::open("/tmp/p", O_WRONLY | O_NONBLOCK), -ENXIO);
  int reader = vfs::open("/tmp/p", O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  char buffer[8];
  EXPECT_EQ(vfs::read(reader, buffer, sizeof(buffer)), 0);  // No writer: EOF.
  int writer = vfs::open("/tmp/p", O_WRONLY | O_NONBLOCK);
  ASSERT_GE(writer, 0);
  EXPECT_EQ(vfs::read(reader, buffer, sizeof(buffer)), -EAGAIN);
  EXPECT_EQ(vfs::write(writer, "hello", 5), 5);
  EXPECT_EQ(vfs::poll_one(reader, base::kPollIn), base::kPollIn);
  EXPECT_EQ(vfs::read(reader, buffer, sizeof(buffer)), 5);
  EXPECT_EQ(std::string(buffer, 5), "hello");
  EXPECT_EQ(vfs::lseek(reader, 0, SEEK_DATA), -ESPIPE);
  vfs::close(reader);
  EXPECT_EQ(vfs::write(writer, "x", 1), -EPIPE);
  vfs::close(writer);
  // A blocking reader waits for a writer.
  std::thread opener([] {
    int fd = vfs::open("/tmp/p", O_RDONLY);
    char c = 0;
    EXPECT_EQ(vfs::read(fd, &c, 1), 1);
    EXPECT_EQ(c, 'z');
    vfs::close(fd);
  });
  int blocking_writer = vfs::open("/tmp/p", O_WRONLY);
  ASSERT_GE(blocking_writer, 0);
  EXPECT_EQ(vfs::write(blocking_writer, "z", 1), 1);
  opener.join();
  vfs::close(blocking_writer);
}

TEST_F(CallsTest, SeekDataAndHoleWithoutHolesSeeOneExtent) {
  WriteFile("/tmp/f", std::string(5000, 'x'));
  int fd = vfs::open("/tmp/f", O_RDONLY);
  EXPECT_EQ(vfs::lseek(fd, 100, SEEK_DATA), 100);
  EXPECT_EQ(vfs::lseek(fd, 100, SEEK_HOLE), 5000);
  EXPECT_EQ(vfs::lseek(fd, 5000, SEEK_DATA), -ENXIO);
  EXPECT_EQ(vfs::lseek(fd, -1, SEEK_HOLE), -ENXIO);
  vfs::close(fd);
}

TEST_F(CallsTest, FallocateAndCopyFileRangeOnMemfs) {
  WriteFile("/tmp/a", "0123456789");
  int in = vfs::open("/tmp/a", O_RDONLY);
  int out = vfs::open("/tmp/b", O_CREAT | O_RDWR, 0644);
  ASSERT_GE(in, 0);
  ASSERT_GE(out, 0);
  // memfs has no fallocate.
  EXPECT_EQ(vfs::fallocate(out, 0, 0, 100), -EOPNOTSUPP);
  EXPECT_EQ(vfs::fallocate(out, base::kFallocPunchHole, 0, 1), -EOPNOTSUPP);
  EXPECT_EQ(vfs::fallocate(in, 0, 0, 1), -EBADF);
  int64_t in_offset = 2;
  EXPECT_EQ(vfs::copy_file_range(in, &in_offset, out, nullptr, 5, 0), 5);
  EXPECT_EQ(in_offset, 7);
  EXPECT_EQ(vfs::lseek(in, 0, SEEK_CUR), 0);  // Its own offset not moved.
  EXPECT_EQ(vfs::lseek(out, 0, SEEK_CUR), 5);
  EXPECT_EQ(ReadFile("/tmp/b"), "23456");
  EXPECT_EQ(vfs::copy_file_range(in, nullptr, out, nullptr, 5, 1), -EINVAL);
  EXPECT_EQ(vfs::copy_file_range(out, nullptr, in, nullptr, 5, 0), -EBADF);
  vfs::close(in);
  vfs::close(out);
}

TEST_F(CallsTest, XattrCallsCheckNamesBeforeTheFilesystem) {
  WriteFile("/tmp/f", "x");
  char value[8];
  EXPECT_EQ(vfs::getxattr("/tmp/f", "user.a", value, sizeof(value)),
            -EOPNOTSUPP);  // memfs keeps none.
  EXPECT_EQ(vfs::setxattr("/tmp/f", "", "v", 1, 0), -ERANGE);
  EXPECT_EQ(vfs::setxattr("/tmp/f", "user.a", "v", 1, 4), -EINVAL);
  EXPECT_EQ(vfs::setxattr("/tmp/f", "bogus.a", "v", 1, 0), -EOPNOTSUPP);
  EXPECT_EQ(vfs::setxattr("/tmp/f", "user.a", nullptr, 1, 0), -EFAULT);
  std::string long_name = "user." + std::string(300, 'n');
  EXPECT_EQ(vfs::setxattr("/tmp/f", long_name.c_str(), "v", 1, 0), -ERANGE);
  EXPECT_EQ(vfs::setxattr("/tmp/f", "user.a", "v", 70000, 0), -E2BIG);
  EXPECT_EQ(vfs::getxattr("/tmp/missing", "user.a", value, 8), -ENOENT);
}

}  // namespace
}  // namespace vfs_test
