// System calls that read and change attributes. Who may change what follows
// Linux's fs/attr.c (setattr_prepare), fs/open.c (chmod_common, chown_common,
// do_faccessat) and fs/utimes.c.
#include <utility>

#include "vfs/posix.h"
#include "vfs/syscall.h"

namespace vfs {
namespace {

using syscall::AsInt;
using syscall::CurrentTaskOrError;
using syscall::ResolveNodeAt;
using syscall::StatAt;

constexpr int kStatFlags = base::kAtSymlinkNoFollow | base::kAtEmptyPath;

Result<void> Fstatat(int dirfd, const char* path, Stat* out, int flags) {
  Task* task = TRY(CurrentTaskOrError());
  const Stat st = TRY(StatAt(*task, dirfd, path, flags, kStatFlags));
  if (!out) return Error{EFAULT};
  *out = st;
  return {};
}

Result<void> Faccessat(int dirfd, const char* path, int mode, int flags) {
  if (mode & ~(base::kAccessRead | base::kAccessWrite | base::kAccessExecute)) {
    return Error{EINVAL};
  }
  Task* task = TRY(CurrentTaskOrError());
  // access(2) asks what the real ids may do (a set-user-ID program checking
  // for its caller), unless AT_EACCESS; the walk is checked with them too.
  const Credentials real = task->credentials().AsReal();
  const Credentials* creds =
      (flags & base::kAtEffectiveAccess) ? nullptr : &real;
  const Placed found =
      TRY(ResolveNodeAt(*task, dirfd, path, flags & ~base::kAtEffectiveAccess,
                        kStatFlags, creds));
  if (mode == base::kAccessExists) return {};
  // The access(2) bits are the kMay* bits.
  return CheckNodeAccess(creds ? *creds : task->credentials(), *found.node,
                         mode, found.arrivals_before);
}

Result<void> Fchmodat(int dirfd, const char* path, uint32_t mode, int flags) {
  Task* task = TRY(CurrentTaskOrError());
  const Placed found =
      TRY(ResolveNodeAt(*task, dirfd, path, flags, base::kAtSymlinkNoFollow));
  // A symlink's own mode cannot be changed on Linux (glibc's answer).
  if (found.node->is_symlink()) return Error{EOPNOTSUPP};
  return syscall::ChangeMode(task->credentials(), *found.node, mode);
}

Result<void> Fchownat(int dirfd, const char* path, uint32_t uid, uint32_t gid,
                      int flags) {
  Task* task = TRY(CurrentTaskOrError());
  const Placed found =
      TRY(ResolveNodeAt(*task, dirfd, path, flags, kStatFlags));
  return syscall::ChangeOwner(task->credentials(), *found.node, uid, gid);
}

Result<void> Utimensat(int dirfd, const char* path, const Timespec times[2],
                       int flags) {
  const AttrChange change = TRY(syscall::TimesChange(times));
  if (flags & ~(base::kAtSymlinkNoFollow | base::kAtEmptyPath)) {
    return Error{EINVAL};
  }
  // Both omitted: nothing to do, not even a lookup (as Linux).
  if (change.valid == 0) return {};
  Task* task = TRY(CurrentTaskOrError());
  RefPtr<Node> node;
  if (!path && dirfd != base::kAtFdCwd) {
    // Linux's extension: a null path names `dirfd` itself.
    RefPtr<OpenFile> file = TRY(syscall::FileOf(*task, dirfd));
    node = RefPtr<Node>(&file->node());
  } else {
    node = TRY(ResolveNodeAt(*task, dirfd, path, flags, kStatFlags)).node;
  }
  return syscall::ChangeTimes(task->credentials(), *node, change);
}

Result<void> Truncate(const char* path, int64_t length) {
  Task* task = TRY(CurrentTaskOrError());
  const Placed found = TRY(ResolveNodeAt(*task, base::kAtFdCwd, path, 0, 0));
  if (length < 0) return Error{EINVAL};
  Node& node = *found.node;
  if (node.is_directory()) return Error{EISDIR};
  if (!node.is_regular()) return Error{EINVAL};
  const Credentials& creds = task->credentials();
  TRY(CheckNodeAccess(creds, node, kMayWrite));
  AttrChange change;
  change.valid = AttrChange::kSize;
  change.size = static_cast<uint64_t>(length);
  TRY(syscall::AddPrivilegeDrop(creds, node, change));
  TRY(node.SetAttr(change));
  return {};
}

Result<void> Statfs(const char* path, StatFs* out) {
  Task* task = TRY(CurrentTaskOrError());
  const Placed found = TRY(ResolveNodeAt(*task, base::kAtFdCwd, path, 0, 0));
  if (!out) return Error{EFAULT};
  *out = TRY(found.node->GetFsStat());
  return {};
}

}  // namespace

int stat(const char* path, Stat* out) {
  return AsInt(Fstatat(base::kAtFdCwd, path, out, 0));
}
int lstat(const char* path, Stat* out) {
  return AsInt(Fstatat(base::kAtFdCwd, path, out, base::kAtSymlinkNoFollow));
}
int fstatat(int dirfd, const char* path, Stat* out, int flags) {
  return AsInt(Fstatat(dirfd, path, out, flags));
}
int access(const char* path, int mode) {
  return AsInt(Faccessat(base::kAtFdCwd, path, mode, 0));
}
int faccessat(int dirfd, const char* path, int mode, int flags) {
  return AsInt(Faccessat(dirfd, path, mode, flags));
}
int chmod(const char* path, uint32_t mode) {
  return AsInt(Fchmodat(base::kAtFdCwd, path, mode, 0));
}
int fchmodat(int dirfd, const char* path, uint32_t mode, int flags) {
  return AsInt(Fchmodat(dirfd, path, mode, flags));
}
int chown(const char* path, uint32_t uid, uint32_t gid) {
  return AsInt(Fchownat(base::kAtFdCwd, path, uid, gid, 0));
}
int lchown(const char* path, uint32_t uid, uint32_t gid) {
  return AsInt(
      Fchownat(base::kAtFdCwd, path, uid, gid, base::kAtSymlinkNoFollow));
}
int fchownat(int dirfd, const char* path, uint32_t uid, uint32_t gid,
             int flags) {
  return AsInt(Fchownat(dirfd, path, uid, gid, flags));
}
int utimensat(int dirfd, const char* path, const Timespec times[2], int flags) {
  return AsInt(Utimensat(dirfd, path, times, flags));
}
int truncate(const char* path, int64_t length) {
  return AsInt(Truncate(path, length));
}
int statfs(const char* path, StatFs* out) { return AsInt(Statfs(path, out)); }

}  // namespace vfs
