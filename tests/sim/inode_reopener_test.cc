// The device reopens inodes for OPEN by file handle when the host allows it,
// through /proc otherwise (sim/inode_reopener.h): the same file either way,
// the errors /proc's, and a handle never used outside the share root's mount.
// A created file's O_PATH descriptor comes from open_tree(2), by name where
// the host lacks it.
#include "sim/inode_reopener.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sim/host_calls.h"
#include "sim/inode_table.h"
#include "tests/sim/fuse_test_util.h"

namespace sim {
namespace {

std::shared_ptr<Inode> InodeAt(const std::string& path) {
  const int fd = open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  EXPECT_GE(fd, 0) << path;
  struct stat st;
  EXPECT_EQ(fstat(fd, &st), 0);
  return std::make_shared<Inode>(fd, st);
}

std::string ReadAll(int fd) {
  char buf[64];
  const ssize_t n = pread(fd, buf, sizeof(buf), 0);
  return n < 0 ? "<error>" : std::string(buf, n);
}

bool SameFile(int fd, const Inode& inode) {
  struct stat st;
  return fstat(fd, &st) == 0 && st.st_dev == inode.dev &&
         st.st_ino == inode.ino;
}

// Whether open_tree(2) works in this process (Linux 5.2, not filtered).
bool HostHasOpenTree() {
  const int fd = open_tree(AT_FDCWD, "/", OPEN_TREE_CLOEXEC);
  if (fd >= 0) close(fd);
  return fd >= 0;
}

// Makes open_tree(2) fail with ENOSYS in this process from now on, as it does
// before Linux 5.2 or under a seccomp filter that does not know it.
bool FilterOpenTree() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_open_tree, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program = {sizeof(filter) / sizeof(filter[0]), filter};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

// Whether this process can open files by handle on the share's filesystem.
bool HostGivesHandles(const std::string& dir) {
  struct {
    file_handle header;
    unsigned char bytes[MAX_HANDLE_SZ];
  } handle;
  handle.header.handle_bytes = MAX_HANDLE_SZ;
  int mount_id;
  return geteuid() == 0 && name_to_handle_at(AT_FDCWD, dir.c_str(),
                                             &handle.header, &mount_id, 0) == 0;
}

class InodeReopenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    share_.WriteFile("file", "contents");
    root_ = InodeAt(share_.share());
    auto reopener = InodeReopener::Create(root_->fd);
    ASSERT_TRUE(reopener.ok()) << reopener.status();
    reopener_ = std::move(*reopener);
  }

  // Host calls made by `open`, which returns a descriptor it closes.
  template <typename F>
  uint64_t HostCallsOf(F open) {
    const uint64_t before = ProcessHostCalls().calls;
    const int fd = open();
    const uint64_t made = ProcessHostCalls().calls - before;
    if (fd >= 0) close(fd);
    return made;
  }

  // Opens the O_PATH descriptor of a created file twice, while its name is
  // still the file and after another file was renamed over the name; returns
  // what was wrong ("" when nothing was) and the host calls each open made.
  // Plain checks, so that a death test's child can make them too.
  std::string CheckPathDescriptors(std::vector<uint64_t>* calls) {
    const int created = open(share_.SharePath("created").c_str(),
                             O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    struct stat st;
    if (created < 0 || fstat(created, &st) != 0) return strerror(errno);
    std::string problems;
    const auto open_path = [&](const std::string& when) {
      bool same = false, o_path = false;
      calls->push_back(HostCallsOf([&] {
        const int path = reopener_->OpenPath(*root_, "created", created, st);
        struct stat got;
        same = path >= 0 && fstat(path, &got) == 0 && got.st_dev == st.st_dev &&
               got.st_ino == st.st_ino;
        o_path = path >= 0 && (fcntl(path, F_GETFL) & O_PATH) == O_PATH;
        return path;
      }));
      if (!same) problems += when + ": not the created file; ";
      if (!o_path) problems += when + ": not O_PATH; ";
    };
    open_path("by name");
    if (rename(share_.SharePath("file").c_str(),
               share_.SharePath("created").c_str()) == 0) {
      open_path("renamed over");
    } else {
      problems += "rename failed; ";
    }
    close(created);
    return problems;
  }

  testing::TempShare share_;
  std::shared_ptr<Inode> root_;
  std::unique_ptr<InodeReopener> reopener_;
};

TEST_F(InodeReopenerTest, OpensTheSameFileWithTheFlagsAsked) {
  auto inode = InodeAt(share_.SharePath("file"));
  const int writer = reopener_->Open(*inode, O_WRONLY | O_TRUNC | O_CLOEXEC);
  ASSERT_GE(writer, 0) << strerror(errno);
  EXPECT_TRUE(SameFile(writer, *inode));
  EXPECT_EQ(write(writer, "new", 3), 3);
  EXPECT_EQ(ReadAll(writer), "<error>");  // Write-only, as asked.
  close(writer);
  const int reader = reopener_->Open(*inode, O_RDONLY | O_CLOEXEC);
  ASSERT_GE(reader, 0) << strerror(errno);
  EXPECT_EQ(ReadAll(reader), "new");
  close(reader);
}

TEST_F(InodeReopenerTest, UsesFileHandlesWhenTheHostGivesThem) {
  const bool handles = HostGivesHandles(share_.share());
  EXPECT_EQ(reopener_->uses_file_handles(), handles);
  auto inode = InodeAt(share_.SharePath("file"));
  auto open = [&] { return reopener_->Open(*inode, O_RDONLY | O_CLOEXEC); };
  // By handle: the first open asks the host for it (name_to_handle_at), later
  // ones open by it. Through /proc: one openat each time.
  EXPECT_EQ(HostCallsOf(open), handles ? 2u : 1u);
  EXPECT_EQ(HostCallsOf(open), 1u);
  ASSERT_NE(inode->file_handle.load(), nullptr);
  EXPECT_EQ(inode->file_handle.load()->usable, handles);
}

TEST_F(InodeReopenerTest, ReopensAFileUnlinkedWhileItIsHeld) {
  auto inode = InodeAt(share_.SharePath("file"));
  ASSERT_EQ(unlink(share_.SharePath("file").c_str()), 0);
  const int fd = reopener_->Open(*inode, O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << strerror(errno);
  EXPECT_EQ(ReadAll(fd), "contents");
  close(fd);
}

TEST_F(InodeReopenerTest, ErrorsAreThoseOfProcWhenTheHandleIsRefused) {
  if (!reopener_->uses_file_handles()) {
    GTEST_SKIP() << "needs a host that opens files by handle (root, and a "
                    "filesystem with handles) to have one refused";
  }
  share_.WriteFile("private", "secret");
  ASSERT_EQ(chmod(share_.SharePath("private").c_str(), 0600), 0);
  auto open_file = InodeAt(share_.SharePath("file"));
  auto private_file = InodeAt(share_.SharePath("private"));
  int open_result = -1, private_result = -1, private_errno = 0;
  uint64_t calls = 0;
  // A thread whose filesystem uid is not root has lost CAP_DAC_READ_SEARCH:
  // the host refuses open_by_handle_at (EPERM), /proc answers.
  std::thread([&] {
    setfsuid(65534);
    const uint64_t before = ProcessHostCalls().calls;
    open_result = reopener_->Open(*open_file, O_RDONLY | O_CLOEXEC);
    calls = ProcessHostCalls().calls - before;
    private_result = reopener_->Open(*private_file, O_RDONLY | O_CLOEXEC);
    private_errno = errno;
    setfsuid(0);
  }).join();
  ASSERT_GE(open_result, 0);
  EXPECT_TRUE(SameFile(open_result, *open_file));
  EXPECT_EQ(calls, 3u);  // Ask the handle, refused by handle, then /proc.
  close(open_result);
  EXPECT_EQ(private_result, -1);
  EXPECT_EQ(private_errno, EACCES);  // /proc's; by handle it would be EPERM.
}

TEST_F(InodeReopenerTest, AFileOnAnotherMountIsNeverOpenedByHandle) {
  if (!reopener_->uses_file_handles()) {
    GTEST_SKIP() << "needs a host that opens files by handle (root, and a "
                    "filesystem with handles)";
  }
  const std::string mounted = share_.SharePath("mounted");
  testing::TmpfsMount tmpfs(mounted);
  if (!tmpfs.mounted()) GTEST_SKIP() << tmpfs.error();
  share_.WriteFile("mounted/file", "on tmpfs");
  auto inode = InodeAt(mounted + "/file");
  auto open = [&] { return reopener_->Open(*inode, O_RDONLY | O_CLOEXEC); };
  EXPECT_EQ(HostCallsOf(open), 2u);  // Ask the handle (another mount), /proc.
  EXPECT_EQ(HostCallsOf(open), 1u);  // /proc only from then on.
  EXPECT_FALSE(inode->file_handle.load()->usable);
  const int fd = open();
  EXPECT_TRUE(SameFile(fd, *inode));
  EXPECT_EQ(ReadAll(fd), "on tmpfs");
  close(fd);
}

TEST_F(InodeReopenerTest, ThreadsOpeningAnInodeFirstShareOneHandle) {
  auto inode = InodeAt(share_.SharePath("file"));
  std::vector<std::thread> threads;
  std::vector<int> results(4, -1);
  for (int& result : results) {
    threads.emplace_back([&] {
      const int fd = reopener_->Open(*inode, O_RDONLY | O_CLOEXEC);
      result = fd >= 0 && SameFile(fd, *inode) ? 1 : 0;
      if (fd >= 0) close(fd);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(results, std::vector<int>(4, 1));
  EXPECT_NE(inode->file_handle.load(), nullptr);
}

TEST_F(InodeReopenerTest, APathDescriptorIsOfTheCreatedFileEvenIfRenamedOver) {
  std::vector<uint64_t> calls;
  EXPECT_EQ(CheckPathDescriptors(&calls), "");
  // open_tree(2) on the created file's descriptor, one call each time, where
  // the host has it; otherwise as in the test below.
  const std::vector<uint64_t> expected = HostHasOpenTree()
                                             ? std::vector<uint64_t>{1, 1}
                                             : std::vector<uint64_t>{3, 4};
  EXPECT_EQ(calls, expected);
}

TEST_F(InodeReopenerTest, WithoutOpenTreeThePathDescriptorIsOpenedByName) {
  EXPECT_EXIT(
      {
        if (!FilterOpenTree()) {
          fprintf(stderr, "seccomp filter: %s\n", strerror(errno));
          _exit(2);
        }
        // Its own: the fixture's /proc/self/fd is the parent's.
        reopener_ = *InodeReopener::Create(root_->fd);
        std::vector<uint64_t> calls;
        const std::string problems = CheckPathDescriptors(&calls);
        // open_tree fails once (ENOSYS) and is not tried again: by name
        // (openat, fstat), then, renamed over, through /proc (openat, fstat,
        // close, openat).
        if (!problems.empty() || calls != std::vector<uint64_t>{3, 4}) {
          std::string made;
          for (uint64_t n : calls) made += " " + std::to_string(n);
          fprintf(stderr, "%s; host calls:%s\n", problems.c_str(),
                  made.c_str());
          _exit(1);
        }
        _exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace sim
