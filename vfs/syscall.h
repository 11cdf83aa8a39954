// Helpers shared by the system-call entry points of posix_*.cc (internal to
// vfs/).
#ifndef VFS_SYSCALL_H_
#define VFS_SYSCALL_H_

#include <cstdint>
#include <string_view>

#include "base/abi.h"
#include "base/result.h"
#include "vfs/open_file.h"
#include "vfs/path_walk.h"
#include "vfs/permission.h"
#include "vfs/task.h"

namespace vfs::syscall {

// The calling thread's task; ENOSYS when it has none.
inline Result<Task*> CurrentTaskOrError() {
  Task* task = CurrentTask();
  if (!task) return Error{ENOSYS};
  return task;
}

// A path argument, checked as Linux's getname does: EFAULT for null,
// ENAMETOOLONG when it does not fit in kPathMax bytes with its NUL, ENOENT when
// empty (unless `allow_empty`).
Result<std::string_view> UserPath(const char* path, bool allow_empty = false);

// A result as the system call returns it.
template <typename T>
int64_t Return(const Result<T>& result) {
  if (!result.ok()) return result.negated_error();
  return static_cast<int64_t>(result.value());
}
inline int64_t Return(const Result<void>& result) {
  return result.ok() ? 0 : result.negated_error();
}
template <typename T>
int AsInt(const Result<T>& result) {
  return static_cast<int>(Return(result));
}

// The open file `fd` names (EBADF). `allow_path`: an O_PATH descriptor will
// do (it only names a location).
Result<RefPtr<OpenFile>> FileOf(Task& task, int fd, bool allow_path = false);

// Where an *at call's relative `path` starts: the task's current directory
// for kAtFdCwd (or an absolute path), else the directory `dirfd` is open on
// (EBADF, ENOTDIR). Checked with `credentials` (the task's when null).
Result<PathWalker> WalkerAt(Task& task, int dirfd, std::string_view path,
                            const Credentials* credentials = nullptr);

// The location an *at call with kAtSymlinkNoFollow / kAtEmptyPath in `flags`
// names: `path` from `dirfd`, following a final symlink unless
// kAtSymlinkNoFollow; an empty path with kAtEmptyPath names `dirfd`'s own
// location (any type of file). EINVAL for other flags than `allowed`.
Result<RefPtr<Location>> ResolveAt(Task& task, int dirfd, const char* path,
                                   int flags, int allowed,
                                   const Credentials* credentials = nullptr);
// The same for a caller that keeps no Location: the node and its mount
// (PathWalker::ResolveNode).
Result<Placed> ResolveNodeAt(Task& task, int dirfd, const char* path, int flags,
                             int allowed,
                             const Credentials* credentials = nullptr);
// The attributes of what ResolveNodeAt names (fstatat), st_dev filled in:
// where the caches answer, with no reference taken (PathWalker::StatNode).
Result<Stat> StatAt(Task& task, int dirfd, const char* path, int flags,
                    int allowed);

// chmod(2) of `node` (chmod_common): the owner or root; the set-group-ID bit
// only for a member of the file's group. EPERM.
Result<void> ChangeMode(const Credentials& credentials, Node& node,
                        uint32_t mode);

// chown(2) of `node` (chown_common, CheckChown's rules); -1 leaves an id as it
// is. A change of owner or group clears the set-user-ID bit (and an
// executable set-group-ID bit) of a non-directory, for root too. EPERM.
Result<void> ChangeOwner(const Credentials& credentials, Node& node,
                         uint32_t uid, uint32_t gid);

// The change utimensat's `times` ask for (null: both now); nothing is valid
// when both are kUtimeOmit. EINVAL for nanoseconds out of range.
Result<AttrChange> TimesChange(const Timespec* times);
// Applies `change` (from TimesChange) to `node` (vfs_utimes and
// setattr_prepare): setting both times to now needs ownership or write
// permission (EACCES); any other change needs ownership (EPERM).
Result<void> ChangeTimes(const Credentials& credentials, Node& node,
                         const AttrChange& change);

// Adds to `change` (a write's or truncate's) the clearing of the set-user-ID
// bit (and the group-executable set-group-ID bit) of a regular file changed by
// someone without CAP_FSETID, as Linux's file_remove_privs does.
Result<void> AddPrivilegeDrop(const Credentials& credentials, Node& node,
                              AttrChange& change);

}  // namespace vfs::syscall

#endif  // VFS_SYSCALL_H_
