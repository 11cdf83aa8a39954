// vfs::Credentials: who a task acts as, as Linux keeps it: real, effective and
// saved user and group ids, the filesystem ids that file access is checked
// and objects are created with (they follow the effective ids), and the
// supplementary groups.
//
// A task's credentials are immutable once published (Task::credentials());
// changing them publishes a new set, so a check never sees half a change.
#ifndef VFS_CREDENTIALS_H_
#define VFS_CREDENTIALS_H_

#include <cstddef>
#include <cstdint>

namespace vfs {

struct Credentials {
  // Supplementary groups a task may have (Linux allows NGROUPS_MAX, 65536;
  // more than this is EINVAL here).
  static constexpr size_t kMaxGroups = 64;

  uint32_t uid = 0, euid = 0, suid = 0, fsuid = 0;
  uint32_t gid = 0, egid = 0, sgid = 0, fsgid = 0;
  uint32_t groups[kMaxGroups] = {};
  size_t group_count = 0;

  // The file capabilities (CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_CHOWN,
  // CAP_FSETID, CAP_MKNOD): root's filesystem id has them.
  bool fs_privileged() const { return fsuid == 0; }
  // CAP_SETUID / CAP_SETGID: root's effective id has them.
  bool id_privileged() const { return euid == 0; }

  // Whether `group` is the filesystem group or a supplementary group
  // (Linux's in_group_p).
  bool InGroup(uint32_t group) const {
    if (group == fsgid) return true;
    for (size_t i = 0; i < group_count; ++i) {
      if (groups[i] == group) return true;
    }
    return false;
  }

  // The same, with the real ids as filesystem ids: what access(2) checks.
  Credentials AsReal() const {
    Credentials real = *this;
    real.fsuid = uid;
    real.fsgid = gid;
    return real;
  }
};

}  // namespace vfs

#endif  // VFS_CREDENTIALS_H_
