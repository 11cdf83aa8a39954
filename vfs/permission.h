// The permission model of a Linux filesystem mounted with default_permissions,
// as a Linux virtiofs guest checks it (fs/namei.c, fs/attr.c, fs/inode.c):
// the VFS decides on the attributes it has, and the device trusts it.
//
// Each check takes the caller's credentials and the attributes of the objects
// involved, and answers 0 or the errno Linux gives. Root's filesystem id
// bypasses read, write and search checks, but executing a file still needs
// some execute bit.
#ifndef VFS_PERMISSION_H_
#define VFS_PERMISSION_H_

#include <cstdint>

#include "base/result.h"
#include "vfs/credentials.h"
#include "vfs/stat.h"

namespace vfs {

// What a check asks for (MAY_EXEC, MAY_WRITE, MAY_READ).
inline constexpr int kMayExec = 1;
inline constexpr int kMayWrite = 2;
inline constexpr int kMayRead = 4;

// generic_permission: `mask` (kMay* bits) on an object with `st`'s mode and
// owner. EACCES.
base::Result<void> CheckAccess(const Credentials& creds, const Stat& st,
                               int mask);

// Whether the checks against `st` for `mask` can be decided without the
// attributes: root asks for anything but execution of a non-directory.
bool PrivilegedAccess(const Credentials& creds, uint32_t type, int mask);

// Owner or root (inode_owner_or_capable): who may chmod, set times, and use
// O_NOATIME. EPERM otherwise.
base::Result<void> CheckOwner(const Credentials& creds, const Stat& st);

// Removing (or renaming away) `victim` from the directory `dir` (may_delete
// after the directory's write+search check): in a sticky directory only the
// owner of the file, of the directory, or root. EPERM.
base::Result<void> CheckStickyDelete(const Credentials& creds, const Stat& dir,
                                     const Stat& victim);

// chown(2)'s rules: root changes anything; the owner may change the group to
// one of its own groups and leave the user as it is. `uid`/`gid` are the new
// ids, or -1 (0xffffffff) for no change. EPERM.
base::Result<void> CheckChown(const Credentials& creds, const Stat& st,
                              uint32_t uid, uint32_t gid);

// The mode chmod(2) sets for `requested`: the set-group-ID bit is dropped
// when the caller is neither root nor in the file's group.
uint32_t ChmodMode(const Credentials& creds, const Stat& st,
                   uint32_t requested);

// The mode a write, truncate or chown leaves (should_remove_suid): without
// CAP_FSETID the set-user-ID bit goes, and the set-group-ID bit with it when
// the group can execute (without group execute it marks mandatory locking).
// Directories keep theirs. `by_chown`: a chown clears them for root too.
uint32_t ModeAfterModification(const Credentials& creds, const Stat& st,
                               bool by_chown);

}  // namespace vfs

#endif  // VFS_PERMISSION_H_
