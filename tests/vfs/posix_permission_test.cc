// Credentials and permission checks of the vfs:: calls on memfs, each against
// the errno Linux gives: tasks with other ids, search and write permission,
// the sticky bit, setgid directories, chown/chmod/utimes rules, privilege
// dropping on write and truncate, and the set*id calls.
#include <fcntl.h>
#include <sys/stat.h>

#include <string>

#include "gtest/gtest.h"
#include "tests/vfs/vfs_fixture.h"

namespace vfs_test {
namespace {

constexpr uint32_t kNoChange = 0xffffffff;

class PermissionTest : public VfsTest {
 protected:
  // Runs `body` as a new task with `uid` and `gid` (every id of each kind),
  // and `groups` as supplementary groups.
  template <typename Body>
  void As(uint32_t uid, uint32_t gid, Body body,
          std::initializer_list<uint32_t> groups = {}) {
    vfs::Credentials creds;
    creds.uid = creds.euid = creds.suid = creds.fsuid = uid;
    creds.gid = creds.egid = creds.sgid = creds.fsgid = gid;
    for (uint32_t group : groups) creds.groups[creds.group_count++] = group;
    vfs::Task* task = kernel_->CreateTask(creds);
    ASSERT_NE(task, nullptr);
    vfs::TaskScope scope(*task);
    body();
  }

  vfs::Stat StatOf(const char* path) {
    vfs::Stat st;
    EXPECT_EQ(vfs::lstat(path, &st), 0) << path;
    return st;
  }
};

TEST_F(PermissionTest, NonRootCreatesAsItselfUnderItsUmask) {
  ASSERT_EQ(vfs::mkdir("/tmp/d", 0777), 0);
  ASSERT_EQ(vfs::chmod("/tmp/d", 0777), 0);  // Past root's umask.
  As(1000, 100, [&] {
    EXPECT_EQ(vfs::umask(027), 022u);
    int fd = vfs::open("/tmp/d/f", O_CREAT | O_WRONLY, 0666);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(vfs::close(fd), 0);
    EXPECT_EQ(vfs::mkdir("/tmp/d/sub", 0777), 0);
  });
  vfs::Stat f = StatOf("/tmp/d/f");
  EXPECT_EQ(f.st_uid, 1000u);
  EXPECT_EQ(f.st_gid, 100u);
  EXPECT_EQ(f.st_mode & 07777, 0640u);
  EXPECT_EQ(StatOf("/tmp/d/sub").st_mode & 07777, 0750u);
}

TEST_F(PermissionTest, SearchPermissionIsNeededOnEveryDirectoryWalked) {
  ASSERT_EQ(vfs::mkdir("/tmp/a", 0700), 0);
  WriteFile("/tmp/a/f", "x");
  As(1000, 100, [&] {
    vfs::Stat st;
    EXPECT_EQ(vfs::stat("/tmp/a/f", &st), -EACCES);
    EXPECT_EQ(vfs::open("/tmp/a/f", O_RDONLY), -EACCES);
    EXPECT_EQ(vfs::chdir("/tmp/a"), -EACCES);
    // The directory itself can be stat'ed: its parent is searchable.
    EXPECT_EQ(vfs::stat("/tmp/a", &st), 0);
  });
  // Root bypasses search permission.
  vfs::Stat st;
  EXPECT_EQ(vfs::stat("/tmp/a/f", &st), 0);
}

TEST_F(PermissionTest, OpenChecksTheModeBitsOfOwnerGroupAndOthers) {
  WriteFile("/tmp/f", "data");
  ASSERT_EQ(vfs::chown("/tmp/f", 1000, 100), 0);
  ASSERT_EQ(vfs::chmod("/tmp/f", 0420), 0);
  As(1000, 200, [&] {  // Owner: r-- only, though the group may write.
    EXPECT_EQ(vfs::open("/tmp/f", O_WRONLY), -EACCES);
    int fd = vfs::open("/tmp/f", O_RDONLY);
    EXPECT_GE(fd, 0);
    vfs::close(fd);
  });
  As(2000, 300,
     [&] {  // In the group through a supplementary group.
       int fd = vfs::open("/tmp/f", O_WRONLY);
       EXPECT_GE(fd, 0);
       vfs::close(fd);
       EXPECT_EQ(vfs::open("/tmp/f", O_RDONLY), -EACCES);
     },
     {100});
  As(3000, 300, [&] {  // Others: nothing.
    EXPECT_EQ(vfs::open("/tmp/f", O_RDONLY), -EACCES);
    EXPECT_EQ(vfs::open("/tmp/f", O_WRONLY | O_TRUNC), -EACCES);
  });
  // Root reads and writes anything, but executes only with some x bit.
  int fd = vfs::open("/tmp/f", O_RDWR);
  EXPECT_GE(fd, 0);
  vfs::close(fd);
  EXPECT_EQ(vfs::access("/tmp/f", X_OK), -EACCES);
  ASSERT_EQ(vfs::chmod("/tmp/f", 0001), 0);
  EXPECT_EQ(vfs::access("/tmp/f", X_OK), 0);
}

TEST_F(PermissionTest, CreateAndRemoveNeedWriteAndSearchOnTheParent) {
  ASSERT_EQ(vfs::mkdir("/tmp/d", 0755), 0);
  WriteFile("/tmp/d/f", "x");
  As(1000, 100, [&] {
    EXPECT_EQ(vfs::open("/tmp/d/new", O_CREAT | O_WRONLY, 0644), -EACCES);
    EXPECT_EQ(vfs::mkdir("/tmp/d/new", 0755), -EACCES);
    EXPECT_EQ(vfs::unlink("/tmp/d/f"), -EACCES);
    EXPECT_EQ(vfs::rename("/tmp/d/f", "/tmp/g"), -EACCES);
    EXPECT_EQ(vfs::symlink("x", "/tmp/d/l"), -EACCES);
    EXPECT_EQ(vfs::mkfifo("/tmp/d/p", 0644), -EACCES);
    // An existing file opens with O_CREAT without write permission on the
    // directory.
    int fd = vfs::open("/tmp/d/f", O_CREAT | O_RDONLY, 0644);
    EXPECT_GE(fd, 0);
    vfs::close(fd);
  });
  EXPECT_EQ(StatOf("/tmp/d/f").st_size, 1);
}

TEST_F(PermissionTest, StickyDirectoryKeepsOthersFilesFromBeingRemoved) {
  // /tmp is 1777.
  As(1000, 100, [&] { WriteFile("/tmp/mine", "x"); });
  As(2000, 100, [&] {
    EXPECT_EQ(vfs::unlink("/tmp/mine"), -EPERM);
    EXPECT_EQ(vfs::rename("/tmp/mine", "/tmp/taken"), -EPERM);
    WriteFile("/tmp/theirs", "y");
    EXPECT_EQ(vfs::rename("/tmp/theirs", "/tmp/mine"), -EPERM);
    EXPECT_EQ(vfs::unlink("/tmp/theirs"), 0);
  });
  As(1000, 100, [&] { EXPECT_EQ(vfs::unlink("/tmp/mine"), 0); });
}

TEST_F(PermissionTest, SetgidDirectoryPassesItsGroupOn) {
  ASSERT_EQ(vfs::mkdir("/tmp/shared", 0777), 0);
  ASSERT_EQ(vfs::chown("/tmp/shared", 0, 500), 0);
  ASSERT_EQ(vfs::chmod("/tmp/shared", 0777), 0);
  ASSERT_EQ(vfs::chmod("/tmp/shared", 02777), 0);
  As(1000, 100, [&] {
    WriteFile("/tmp/shared/f", "x");
    EXPECT_EQ(vfs::mkdir("/tmp/shared/sub", 0755), 0);
  });
  EXPECT_EQ(StatOf("/tmp/shared/f").st_gid, 500u);
  vfs::Stat sub = StatOf("/tmp/shared/sub");
  EXPECT_EQ(sub.st_gid, 500u);
  EXPECT_EQ(sub.st_mode & 02000, 02000u);
}

TEST_F(PermissionTest, ChmodIsForTheOwnerAndSetgidForGroupMembers) {
  WriteFile("/tmp/f", "x");
  ASSERT_EQ(vfs::chown("/tmp/f", 1000, 500), 0);
  As(2000, 100, [&] { EXPECT_EQ(vfs::chmod("/tmp/f", 0777), -EPERM); });
  As(1000, 100, [&] {
    EXPECT_EQ(vfs::chmod("/tmp/f", 02755), 0);  // Not in group 500.
  });
  EXPECT_EQ(StatOf("/tmp/f").st_mode & 07777, 0755u);
  As(1000, 100, [&] { EXPECT_EQ(vfs::chmod("/tmp/f", 02755), 0); }, {500});
  EXPECT_EQ(StatOf("/tmp/f").st_mode & 07777, 02755u);
}

TEST_F(PermissionTest, ChownFollowsLinuxRules) {
  WriteFile("/tmp/f", "x");
  ASSERT_EQ(vfs::chown("/tmp/f", 1000, 100), 0);
  ASSERT_EQ(vfs::chmod("/tmp/f", 06755), 0);
  As(1000, 100,
     [&] {
       EXPECT_EQ(vfs::chown("/tmp/f", 2000, kNoChange), -EPERM);
       EXPECT_EQ(vfs::chown("/tmp/f", kNoChange, 300),
                 -EPERM);  // Not a member.
       EXPECT_EQ(vfs::chown("/tmp/f", 1000, 200), 0);
     },
     {200});
  vfs::Stat st = StatOf("/tmp/f");
  EXPECT_EQ(st.st_gid, 200u);
  // The change cleared set-user-ID and (group-executable) set-group-ID.
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  As(2000, 100, [&] {
    EXPECT_EQ(vfs::chown("/tmp/f", kNoChange, kNoChange), 0);
    EXPECT_EQ(vfs::lchown("/tmp/f", 2000, kNoChange), -EPERM);
  });
  EXPECT_EQ(vfs::chown("/tmp/f", 3000, 3000), 0);
  EXPECT_EQ(StatOf("/tmp/f").st_uid, 3000u);
}

TEST_F(PermissionTest, UtimesRules) {
  WriteFile("/tmp/f", "x");
  ASSERT_EQ(vfs::chmod("/tmp/f", 0666), 0);
  const vfs::Timespec now[2] = {{0, base::kUtimeNow}, {0, base::kUtimeNow}};
  const vfs::Timespec set[2] = {{1000, 0}, {2000, 0}};
  const vfs::Timespec omit[2] = {{0, base::kUtimeOmit}, {0, base::kUtimeOmit}};
  As(1000, 100, [&] {
    // Not the owner: "now" needs write permission, explicit times ownership.
    EXPECT_EQ(vfs::utimensat(base::kAtFdCwd, "/tmp/f", now, 0), 0);
    EXPECT_EQ(vfs::utimensat(base::kAtFdCwd, "/tmp/f", nullptr, 0), 0);
    EXPECT_EQ(vfs::utimensat(base::kAtFdCwd, "/tmp/f", set, 0), -EPERM);
    // Both omitted: nothing happens, not even a lookup.
    EXPECT_EQ(vfs::utimensat(base::kAtFdCwd, "/tmp/missing", omit, 0), 0);
  });
  ASSERT_EQ(vfs::chmod("/tmp/f", 0644), 0);
  As(1000, 100, [&] {
    EXPECT_EQ(vfs::utimensat(base::kAtFdCwd, "/tmp/f", now, 0), -EACCES);
  });
  ASSERT_EQ(vfs::chown("/tmp/f", 1000, 100), 0);
  As(1000, 100,
     [&] { EXPECT_EQ(vfs::utimensat(base::kAtFdCwd, "/tmp/f", set, 0), 0); });
  vfs::Stat st = StatOf("/tmp/f");
  EXPECT_EQ(st.st_atim.tv_sec, 1000);
  EXPECT_EQ(st.st_mtim.tv_sec, 2000);
  const vfs::Timespec bad[2] = {{0, 1000000000}, {0, 0}};
  EXPECT_EQ(vfs::utimensat(base::kAtFdCwd, "/tmp/f", bad, 0), -EINVAL);
}

TEST_F(PermissionTest, WritingOrTruncatingDropsSetuidForNonRoot) {
  WriteFile("/tmp/f", "x");
  ASSERT_EQ(vfs::chmod("/tmp/f", 06777), 0);
  As(1000, 100, [&] {
    int fd = vfs::open("/tmp/f", O_WRONLY);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(vfs::write(fd, "y", 1), 1);
    vfs::close(fd);
  });
  EXPECT_EQ(StatOf("/tmp/f").st_mode & 07777, 0777u);
  ASSERT_EQ(vfs::chmod("/tmp/f", 04777), 0);
  As(1000, 100, [&] { EXPECT_EQ(vfs::truncate("/tmp/f", 0), 0); });
  EXPECT_EQ(StatOf("/tmp/f").st_mode & 07777, 0777u);
  // Root keeps them.
  ASSERT_EQ(vfs::chmod("/tmp/f", 04777), 0);
  EXPECT_EQ(vfs::truncate("/tmp/f", 1), 0);
  EXPECT_EQ(StatOf("/tmp/f").st_mode & 07777, 04777u);
}

TEST_F(PermissionTest, AccessUsesTheRealIds) {
  WriteFile("/tmp/f", "x");
  ASSERT_EQ(vfs::chmod("/tmp/f", 0600), 0);
  ASSERT_EQ(vfs::chown("/tmp/f", 1000, 100), 0);
  // Effective id 1000, real 2000: open works, access does not.
  vfs::Credentials creds;
  creds.uid = 2000;
  creds.euid = creds.fsuid = creds.suid = 1000;
  vfs::Task* task = kernel_->CreateTask(creds);
  ASSERT_NE(task, nullptr);
  vfs::TaskScope scope(*task);
  EXPECT_EQ(vfs::access("/tmp/f", R_OK), -EACCES);
  EXPECT_EQ(
      vfs::faccessat(base::kAtFdCwd, "/tmp/f", R_OK, base::kAtEffectiveAccess),
      0);
  int fd = vfs::open("/tmp/f", O_RDONLY);
  EXPECT_GE(fd, 0);
  vfs::close(fd);
}

TEST_F(PermissionTest, IdChangesFollowPosixRules) {
  As(1000, 100, [&] {
    EXPECT_EQ(vfs::setuid(0), -EPERM);
    EXPECT_EQ(vfs::setgid(0), -EPERM);
    uint32_t groups[1] = {5};
    EXPECT_EQ(vfs::setgroups(1, groups), -EPERM);
    EXPECT_EQ(vfs::setuid(1000), 0);
  });
  // Root drops to a user: real, effective and saved all change.
  vfs::Task* task = kernel_->CreateTask();
  ASSERT_NE(task, nullptr);
  vfs::TaskScope scope(*task);
  uint32_t groups[2] = {7, 8};
  ASSERT_EQ(vfs::setgroups(2, groups), 0);
  EXPECT_EQ(vfs::getgroups(0, nullptr), 2);
  uint32_t got[2];
  EXPECT_EQ(vfs::getgroups(1, got), -EINVAL);
  EXPECT_EQ(vfs::getgroups(2, got), 2);
  EXPECT_EQ(got[1], 8u);
  ASSERT_EQ(vfs::setegid(65534), 0);
  ASSERT_EQ(vfs::seteuid(65534), 0);
  EXPECT_EQ(vfs::geteuid(), 65534u);
  EXPECT_EQ(vfs::getuid(), 0u);
  // The saved id (0) lets it come back.
  ASSERT_EQ(vfs::seteuid(0), 0);
  ASSERT_EQ(vfs::setuid(1000), 0);
  EXPECT_EQ(vfs::getuid(), 1000u);
  EXPECT_EQ(vfs::seteuid(0), -EPERM);
  EXPECT_EQ(vfs::setuid(kNoChange), -EINVAL);
}

TEST_F(PermissionTest, DeviceNodesAreForRoot) {
  As(1000, 100, [&] {
    EXPECT_EQ(vfs::mknod("/tmp/c", S_IFCHR | 0644, 0x0103), -EPERM);
    EXPECT_EQ(vfs::mknod("/tmp/p", S_IFIFO | 0644, 0), 0);
  });
  ASSERT_EQ(vfs::mknod("/tmp/c", S_IFCHR | 0644, 0x0103), 0);
  vfs::Stat st = StatOf("/tmp/c");
  EXPECT_EQ(st.st_mode & S_IFMT, static_cast<uint32_t>(S_IFCHR));
  EXPECT_EQ(st.st_rdev, 0x0103u);
  EXPECT_EQ(vfs::open("/tmp/c", O_RDONLY), -ENXIO);  // No drivers here.
}

TEST_F(PermissionTest, HardlinkProtectionAsDistributionsSetIt) {
  WriteFile("/tmp/f", "x");
  ASSERT_EQ(vfs::chmod("/tmp/f", 0644), 0);
  As(1000, 100, [&] {
    // Someone else's file it cannot write: no link.
    EXPECT_EQ(vfs::link("/tmp/f", "/tmp/l"), -EPERM);
  });
  ASSERT_EQ(vfs::chmod("/tmp/f", 0666), 0);
  As(1000, 100, [&] { EXPECT_EQ(vfs::link("/tmp/f", "/tmp/l"), 0); });
}

TEST_F(PermissionTest, NoAtimeIsForTheOwner) {
  WriteFile("/tmp/f", "x");
  ASSERT_EQ(vfs::chmod("/tmp/f", 0644), 0);
  As(1000, 100,
     [&] { EXPECT_EQ(vfs::open("/tmp/f", O_RDONLY | O_NOATIME), -EPERM); });
  int fd = vfs::open("/tmp/f", O_RDONLY | O_NOATIME);
  EXPECT_GE(fd, 0);
  vfs::close(fd);
}

}  // namespace
}  // namespace vfs_test
