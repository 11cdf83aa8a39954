// Ownership and permissions, as a Linux guest with default_permissions has
// them: the guest's VFS checks, the device creates with the requester's ids.
// Each scenario acts as other users by moving the task's effective ids
// (seteuid/setegid, which root's saved ids undo), so it runs unchanged in the
// simulation and in the boot image against virtiofsd.
#include <cerrno>
#include <cstdint>

#include "base/abi.h"
#include "conformance/file_helpers.h"
#include "conformance/scenario.h"
#include "vfs/posix.h"
#include "vfs/stat.h"

namespace conformance {
namespace {

using base::kOpenCreate;
using base::kOpenReadOnly;
using base::kOpenWriteOnly;

constexpr uint32_t kAlice = 1000;
constexpr uint32_t kBob = 2000;
constexpr uint32_t kStaff = 500;

// Acts as `uid`/`gid` (with `group` as its one supplementary group, when not
// 0) until the scope ends, then as root again.
class ActAs {
 public:
  ActAs(uint32_t uid, uint32_t gid, uint32_t group = 0) {
    const uint32_t groups[1] = {group};
    ok_ = vfs::setgroups(group ? 1 : 0, groups) == 0 &&
          vfs::setegid(gid) == 0 && vfs::seteuid(uid) == 0;
  }
  ~ActAs() {
    vfs::seteuid(0);
    vfs::setegid(0);
    vfs::setgroups(0, nullptr);
  }
  ActAs(const ActAs&) = delete;
  ActAs& operator=(const ActAs&) = delete;

  bool ok() const { return ok_; }

 private:
  bool ok_;
};

vfs::Stat StatOf(const char* path) {
  vfs::Stat st;
  if (vfs::lstat(path, &st) != 0) st = {};
  return st;
}

// A directory everyone may write in (past the umask), with `mode`'s extra bits.
int MakeSharedDirectory(const char* path, uint32_t mode) {
  const int made = vfs::mkdir(path, 0777);
  return made < 0 ? made : vfs::chmod(path, mode);
}

SCENARIO(non_root_creates_with_its_own_ids) {
  UmaskScope umask(022);
  const PathText dir = ctx.Path("perm_create");
  const PathText file = ctx.Path("perm_create/file");
  const PathText sub = ctx.Path("perm_create/sub");
  const PathText link = ctx.Path("perm_create/link");
  CHECK_OK(MakeSharedDirectory(dir, 0777));
  {
    ActAs alice(kAlice, kAlice);
    CHECK_TRUE(alice.ok());
    const int fd = vfs::open(file, kOpenCreate | kOpenWriteOnly, 0664);
    CHECK_OK(fd);
    CHECK_EQ(vfs::write(fd, "abc", 3), int64_t{3});
    CHECK_OK(vfs::close(fd));
    CHECK_OK(vfs::mkdir(sub, 0777));
    CHECK_OK(vfs::symlink("file", link));
  }
  const vfs::Stat f = StatOf(file);
  CHECK_EQ(f.st_uid, kAlice);
  CHECK_EQ(f.st_gid, kAlice);
  CHECK_EQ(f.st_mode, base::kTypeRegular | 0644u);  // 0664 less the umask.
  const vfs::Stat d = StatOf(sub);
  CHECK_EQ(d.st_uid, kAlice);
  CHECK_EQ(d.st_mode, base::kTypeDirectory | 0755u);
  CHECK_EQ(StatOf(link).st_uid, kAlice);
  // Not the owner: the group/other bits decide.
  {
    ActAs bob(kBob, kBob);
    CHECK_TRUE(bob.ok());
    CHECK_ERRNO(vfs::open(file, kOpenWriteOnly), EACCES);
    const int fd = vfs::open(file, kOpenReadOnly);
    CHECK_OK(fd);
    CHECK_OK(vfs::close(fd));
    CHECK_ERRNO(vfs::mkdir(ctx.Path("perm_create/sub/x"), 0755), EACCES);
  }
  CHECK_OK(vfs::unlink(link));
  CHECK_OK(vfs::rmdir(sub));
  CHECK_OK(vfs::unlink(file));
  CHECK_OK(vfs::rmdir(dir));
}

SCENARIO(chmod_and_chown_by_non_owner_are_refused) {
  const PathText file = ctx.Path("perm_chmod");
  CHECK_OK(WriteFile(file, "x"));
  CHECK_OK(vfs::chmod(file, 0644));
  {
    ActAs alice(kAlice, kAlice);
    CHECK_TRUE(alice.ok());
    CHECK_ERRNO(vfs::chmod(file, 0666), EPERM);
    CHECK_ERRNO(vfs::chown(file, kAlice, kAlice), EPERM);
    CHECK_ERRNO(vfs::open(file, kOpenWriteOnly), EACCES);
  }
  CHECK_OK(vfs::chown(file, kAlice, kAlice));
  {
    ActAs alice(kAlice, kAlice, kStaff);
    CHECK_TRUE(alice.ok());
    CHECK_OK(vfs::chmod(file, 0600));
    // The owner may give the file to a group it is in, not to another user.
    CHECK_OK(vfs::chown(file, 0xffffffff, kStaff));
    CHECK_ERRNO(vfs::chown(file, kBob, 0xffffffff), EPERM);
  }
  const vfs::Stat st = StatOf(file);
  CHECK_EQ(st.st_mode, base::kTypeRegular | 0600u);
  CHECK_EQ(st.st_uid, kAlice);
  CHECK_EQ(st.st_gid, kStaff);
  CHECK_OK(vfs::unlink(file));
}

SCENARIO(sticky_directory_keeps_others_files) {
  const PathText dir = ctx.Path("perm_sticky");
  const PathText alices = ctx.Path("perm_sticky/alices");
  const PathText bobs = ctx.Path("perm_sticky/bobs");
  CHECK_OK(MakeSharedDirectory(dir, 01777));
  {
    ActAs alice(kAlice, kAlice);
    CHECK_TRUE(alice.ok());
    CHECK_OK(WriteFile(alices, "a"));
  }
  {
    ActAs bob(kBob, kBob);
    CHECK_TRUE(bob.ok());
    CHECK_ERRNO(vfs::unlink(alices), EPERM);
    CHECK_OK(WriteFile(bobs, "b"));
    CHECK_ERRNO(vfs::rename(bobs, alices), EPERM);
    CHECK_OK(vfs::unlink(bobs));
  }
  {
    ActAs alice(kAlice, kAlice);
    CHECK_TRUE(alice.ok());
    CHECK_OK(vfs::unlink(alices));
  }
  CHECK_OK(vfs::rmdir(dir));
}

SCENARIO(setgid_directory_passes_its_group_on) {
  const PathText dir = ctx.Path("perm_setgid");
  const PathText file = ctx.Path("perm_setgid/file");
  const PathText sub = ctx.Path("perm_setgid/sub");
  CHECK_OK(MakeSharedDirectory(dir, 0777));
  CHECK_OK(vfs::chown(dir, 0, kStaff));
  CHECK_OK(vfs::chmod(dir, 02777));
  {
    ActAs alice(kAlice, kAlice);
    CHECK_TRUE(alice.ok());
    CHECK_OK(WriteFile(file, "x"));
    CHECK_OK(vfs::mkdir(sub, 0755));
  }
  CHECK_EQ(StatOf(file).st_gid, kStaff);
  const vfs::Stat d = StatOf(sub);
  CHECK_EQ(d.st_gid, kStaff);
  CHECK_EQ(d.st_mode & base::kSetGid, base::kSetGid);
  CHECK_OK(vfs::rmdir(sub));
  CHECK_OK(vfs::unlink(file));
  CHECK_OK(vfs::rmdir(dir));
}

SCENARIO(utimes_rules) {
  const PathText file = ctx.Path("perm_utimes");
  const vfs::Timespec now[2] = {{0, base::kUtimeNow}, {0, base::kUtimeNow}};
  const vfs::Timespec set[2] = {{1000000, 0}, {2000000, 500}};
  CHECK_OK(WriteFile(file, "x"));
  CHECK_OK(vfs::chmod(file, 0666));
  {
    ActAs alice(kAlice, kAlice);
    CHECK_TRUE(alice.ok());
    // Not the owner: "now" with write permission, explicit times never.
    CHECK_OK(vfs::utimensat(base::kAtFdCwd, file, now, 0));
    CHECK_ERRNO(vfs::utimensat(base::kAtFdCwd, file, set, 0), EPERM);
  }
  CHECK_OK(vfs::chmod(file, 0644));
  {
    ActAs alice(kAlice, kAlice);
    CHECK_TRUE(alice.ok());
    CHECK_ERRNO(vfs::utimensat(base::kAtFdCwd, file, now, 0), EACCES);
  }
  CHECK_OK(vfs::chown(file, kAlice, kAlice));
  {
    ActAs alice(kAlice, kAlice);
    CHECK_TRUE(alice.ok());
    CHECK_OK(vfs::utimensat(base::kAtFdCwd, file, set, 0));
  }
  const vfs::Stat st = StatOf(file);
  CHECK_EQ(st.st_atim.tv_sec, int64_t{1000000});
  CHECK_EQ(st.st_mtim.tv_sec, int64_t{2000000});
  CHECK_EQ(st.st_mtim.tv_nsec, int64_t{500});
  CHECK_OK(vfs::unlink(file));
}

}  // namespace
}  // namespace conformance
