// System calls that make, remove and rename names. The checks and their order
// follow Linux's fs/namei.c (filename_create, may_create, may_delete,
// vfs_rename, may_linkat), so that a caller sees the errno Linux would give.
#include <cstring>
#include <utility>

#include "vfs/posix.h"
#include "vfs/syscall.h"

namespace vfs {
namespace {

using Last = ParentPath::Last;
using syscall::AsInt;
using syscall::CurrentTaskOrError;
using syscall::Return;
using syscall::UserPath;
using syscall::WalkerAt;

// Whether `found`, looked up in `dir`, is the root of something mounted there.
bool IsMountpoint(const Location& dir, const Location& found) {
  return found.mount() != dir.mount();
}

// A call that makes a name: the walker from `dirfd` and the resolved parent.
struct NewName {
  PathWalker walker;
  ParentPath parent;
};

// filename_create: the last component of `path` must be a name that does not
// exist yet (EEXIST; ENOENT when the path ended in a slash and a directory was
// not asked for), and may_create: the directory must be writable and
// searchable.
Result<NewName> PrepareNewName(Task& task, int dirfd, const char* user_path,
                               bool allow_trailing_slash) {
  std::string_view path = TRY(UserPath(user_path));
  PathWalker walker = TRY(WalkerAt(task, dirfd, path));
  ParentPath parent = TRY(walker.ResolveParent(path));
  if (parent.last != Last::kName) return Error{EEXIST};
  Result<RefPtr<Location>> found = walker.Step(parent.dir, parent.name.view());
  if (found.ok()) return Error{EEXIST};
  if (found.error() != ENOENT) return Error{found.error()};
  if (parent.trailing_slash && !allow_trailing_slash) return Error{ENOENT};
  TRY(walker.CheckAccess(*parent.dir->node(), kMayWrite | kMayExec));
  return NewName{std::move(walker), std::move(parent)};
}

// may_delete: `victim`, named in `dir`, may be removed (or renamed away, or
// replaced) by the walker's credentials: the directory writable and
// searchable, the sticky bit's owner rule, and the type the call expects.
Result<void> CheckDelete(const PathWalker& walker, Node& dir, Node& victim,
                         bool want_dir) {
  const Credentials& creds = walker.credentials();
  TRY(walker.CheckAccess(dir, kMayWrite | kMayExec));
  if (!creds.fs_privileged()) {
    const Stat dir_st = TRY(walker.AttrOf(dir));
    if (dir_st.st_mode & base::kSticky) {
      const Stat victim_st = TRY(walker.AttrOf(victim));
      TRY(CheckStickyDelete(creds, dir_st, victim_st));
    }
  }
  if (want_dir && !victim.is_directory()) return Error{ENOTDIR};
  if (!want_dir && victim.is_directory()) return Error{EISDIR};
  return {};
}

// Whether `node` is `location`'s node or that of one of its ancestors.
bool IsAncestorOrSelf(const Node& node, const Location* location) {
  for (; location; location = location->parent().get()) {
    if (location->node().get() == &node) return true;
  }
  return false;
}

Result<void> Mkdirat(int dirfd, const char* path, uint32_t mode) {
  Task* task = TRY(CurrentTaskOrError());
  NewName target = TRY(PrepareNewName(*task, dirfd, path, true));
  const uint32_t permissions = mode & (0777 | base::kSticky) & ~task->umask();
  return target.parent.dir->node()->Mkdir(target.parent.name.view(),
                                          permissions);
}

Result<void> Mknodat(int dirfd, const char* path, uint32_t mode,
                     uint64_t device) {
  Task* task = TRY(CurrentTaskOrError());
  uint32_t type = mode & base::kTypeMask;
  switch (type) {
    case 0:
      type = base::kTypeRegular;
      break;
    case base::kTypeRegular:
    case base::kTypeFifo:
    case base::kTypeSocket:
    case base::kTypeCharDevice:
    case base::kTypeBlockDevice:
      break;
    case base::kTypeDirectory:
      return Error{EPERM};
    default:
      return Error{EINVAL};
  }
  NewName target = TRY(PrepareNewName(*task, dirfd, path, false));
  const bool is_device =
      type == base::kTypeCharDevice || type == base::kTypeBlockDevice;
  if (is_device && !target.walker.credentials().fs_privileged()) {
    return Error{EPERM};  // CAP_MKNOD.
  }
  const uint32_t permissions = mode & base::kPermissionMask & ~task->umask();
  return target.parent.dir->node()->Mknod(
      target.parent.name.view(), type | permissions, is_device ? device : 0);
}

Result<void> Symlinkat(const char* user_target, int dirfd,
                       const char* link_path) {
  std::string_view target = TRY(UserPath(user_target));
  Task* task = TRY(CurrentTaskOrError());
  NewName at = TRY(PrepareNewName(*task, dirfd, link_path, false));
  return at.parent.dir->node()->Symlink(at.parent.name.view(), target);
}

// may_linkat with fs.protected_hardlinks = 1, as Linux distributions set it:
// only the owner (or root) may link a file that is not a plain regular file
// it can read and write.
Result<void> CheckHardlinkSource(const Credentials& creds, Node& source) {
  if (creds.fs_privileged()) return {};
  const Stat st = TRY(source.GetAttr());
  if (creds.fsuid == st.st_uid) return {};
  const bool setid = (st.st_mode & base::kSetUid) ||
                     ((st.st_mode & base::kSetGid) && (st.st_mode & 0010));
  if (source.is_regular() && !setid &&
      CheckAccess(creds, st, kMayRead | kMayWrite).ok()) {
    return {};
  }
  return Error{EPERM};
}

Result<void> Linkat(int old_dirfd, const char* old_path, int new_dirfd,
                    const char* new_path, int flags) {
  Task* task = TRY(CurrentTaskOrError());
  if (flags & ~(base::kAtSymlinkFollow | base::kAtEmptyPath)) {
    return Error{EINVAL};
  }
  // Linking a descriptor's file needs CAP_DAC_READ_SEARCH.
  if ((flags & base::kAtEmptyPath) && !task->credentials().fs_privileged()) {
    return Error{ENOENT};
  }
  const int resolve_flags =
      (flags & base::kAtEmptyPath) |
      ((flags & base::kAtSymlinkFollow) ? 0 : base::kAtSymlinkNoFollow);
  const Placed source = TRY(
      syscall::ResolveNodeAt(*task, old_dirfd, old_path, resolve_flags,
                             base::kAtEmptyPath | base::kAtSymlinkNoFollow));
  NewName target = TRY(PrepareNewName(*task, new_dirfd, new_path, false));
  if (source.mount != target.parent.dir->mount()) return Error{EXDEV};
  TRY(CheckHardlinkSource(target.walker.credentials(), *source.node));
  if (source.node->is_directory()) return Error{EPERM};
  return target.parent.dir->node()->Link(target.parent.name.view(),
                                         *source.node);
}

Result<void> Unlinkat(int dirfd, const char* user_path, int flags) {
  if (flags & ~base::kAtRemoveDir) return Error{EINVAL};
  const bool remove_dir = (flags & base::kAtRemoveDir) != 0;
  std::string_view path = TRY(UserPath(user_path));
  Task* task = TRY(CurrentTaskOrError());
  PathWalker walker = TRY(WalkerAt(*task, dirfd, path));
  ParentPath parent = TRY(walker.ResolveParent(path));
  if (remove_dir) {
    switch (parent.last) {
      case Last::kDotDot:
        return Error{ENOTEMPTY};
      case Last::kDot:
        return Error{EINVAL};
      case Last::kRoot:
        return Error{EBUSY};
      case Last::kName:
        break;
    }
  } else if (parent.last != Last::kName) {
    return Error{EISDIR};
  }
  RefPtr<Location> victim = TRY(walker.Step(parent.dir, parent.name.view()));
  if (!remove_dir && parent.trailing_slash) {
    return Error{victim->node()->is_directory() ? EISDIR : ENOTDIR};
  }
  TRY(CheckDelete(walker, *parent.dir->node(), *victim->node(), remove_dir));
  if (IsMountpoint(*parent.dir, *victim)) return Error{EBUSY};
  Node& dir = *parent.dir->node();
  return remove_dir ? dir.Rmdir(parent.name.view())
                    : dir.Unlink(parent.name.view());
}

Result<void> Renameat2(int old_dirfd, const char* user_old, int new_dirfd,
                       const char* user_new, unsigned flags) {
  if ((flags & ~(base::kRenameNoReplace | base::kRenameExchange)) ||
      ((flags & base::kRenameNoReplace) && (flags & base::kRenameExchange))) {
    return Error{EINVAL};
  }
  std::string_view old_path = TRY(UserPath(user_old));
  std::string_view new_path = TRY(UserPath(user_new));
  Task* task = TRY(CurrentTaskOrError());
  PathWalker old_walker = TRY(WalkerAt(*task, old_dirfd, old_path));
  PathWalker new_walker = TRY(WalkerAt(*task, new_dirfd, new_path));
  ParentPath from = TRY(old_walker.ResolveParent(old_path));
  ParentPath to = TRY(new_walker.ResolveParent(new_path));
  if (from.dir->mount() != to.dir->mount()) return Error{EXDEV};
  if (from.last != Last::kName) return Error{EBUSY};
  if (to.last != Last::kName) {
    return Error{(flags & base::kRenameNoReplace) ? EEXIST : EBUSY};
  }
  RefPtr<Location> source = TRY(old_walker.Step(from.dir, from.name.view()));
  Result<RefPtr<Location>> found = new_walker.Step(to.dir, to.name.view());
  if (!found.ok() && found.error() != ENOENT) return Error{found.error()};
  RefPtr<Location> target = found.ok() ? found.value() : nullptr;
  if (target && (flags & base::kRenameNoReplace)) return Error{EEXIST};
  if (!target && (flags & base::kRenameExchange)) return Error{ENOENT};
  Node& moved = *source->node();
  const bool is_dir = moved.is_directory();
  const bool target_is_dir = target && target->node()->is_directory();
  if (!is_dir && (from.trailing_slash ||
                  (to.trailing_slash && !(target && target_is_dir &&
                                          (flags & base::kRenameExchange))))) {
    return Error{ENOTDIR};
  }
  // The traps of lock_rename: neither may end up inside itself.
  if (IsAncestorOrSelf(moved, to.dir.get()) &&
      !(target && target->node().get() == &moved)) {
    return Error{EINVAL};
  }
  if (target && IsAncestorOrSelf(*target->node(), from.dir.get())) {
    return Error{(flags & base::kRenameExchange) ? EINVAL : ENOTEMPTY};
  }
  if (target && target->node().get() == &moved) return {};
  TRY(CheckDelete(old_walker, *from.dir->node(), moved, is_dir));
  if (!target) {
    TRY(new_walker.CheckAccess(*to.dir->node(), kMayWrite | kMayExec));
  } else {
    TRY(CheckDelete(new_walker, *to.dir->node(), *target->node(),
                    (flags & base::kRenameExchange) ? target_is_dir : is_dir));
  }
  // A directory changing parent has its ".." rewritten: it must be writable.
  if (from.dir->node() != to.dir->node()) {
    if (is_dir) TRY(old_walker.CheckAccess(moved, kMayWrite));
    if ((flags & base::kRenameExchange) && target_is_dir) {
      TRY(new_walker.CheckAccess(*target->node(), kMayWrite));
    }
  }
  if (IsMountpoint(*from.dir, *source)) return Error{EBUSY};
  if (target && IsMountpoint(*to.dir, *target)) return Error{EBUSY};
  source.reset();
  target.reset();
  return from.dir->node()->Rename(from.name.view(), *to.dir->node(),
                                  to.name.view(), flags);
}

Result<size_t> Readlinkat(int dirfd, const char* path, char* buffer,
                          size_t size) {
  Task* task = TRY(CurrentTaskOrError());
  if (size == 0 || size > 0x7fffffff) return Error{EINVAL};
  const Placed found = TRY(syscall::ResolveNodeAt(
      *task, dirfd, path, base::kAtSymlinkNoFollow | base::kAtEmptyPath,
      base::kAtSymlinkNoFollow | base::kAtEmptyPath));
  if (!found.node->is_symlink()) return Error{EINVAL};
  KString target = TRY(found.node->ReadLink());
  if (!buffer) return Error{EFAULT};
  const size_t n = target.size() < size ? target.size() : size;
  memcpy(buffer, target.c_str(), n);
  return n;
}

}  // namespace

int mkdir(const char* path, uint32_t mode) {
  return AsInt(Mkdirat(base::kAtFdCwd, path, mode));
}
int mkdirat(int dirfd, const char* path, uint32_t mode) {
  return AsInt(Mkdirat(dirfd, path, mode));
}
int mknod(const char* path, uint32_t mode, uint64_t device) {
  return AsInt(Mknodat(base::kAtFdCwd, path, mode, device));
}
int mknodat(int dirfd, const char* path, uint32_t mode, uint64_t device) {
  return AsInt(Mknodat(dirfd, path, mode, device));
}
int mkfifo(const char* path, uint32_t mode) {
  return AsInt(Mknodat(base::kAtFdCwd, path,
                       base::kTypeFifo | (mode & base::kPermissionMask), 0));
}
int mkfifoat(int dirfd, const char* path, uint32_t mode) {
  return AsInt(Mknodat(dirfd, path,
                       base::kTypeFifo | (mode & base::kPermissionMask), 0));
}
int rmdir(const char* path) {
  return AsInt(Unlinkat(base::kAtFdCwd, path, base::kAtRemoveDir));
}
int unlink(const char* path) {
  return AsInt(Unlinkat(base::kAtFdCwd, path, 0));
}
int unlinkat(int dirfd, const char* path, int flags) {
  return AsInt(Unlinkat(dirfd, path, flags));
}
int rename(const char* old_path, const char* new_path) {
  return AsInt(
      Renameat2(base::kAtFdCwd, old_path, base::kAtFdCwd, new_path, 0));
}
int renameat(int old_dirfd, const char* old_path, int new_dirfd,
             const char* new_path) {
  return AsInt(Renameat2(old_dirfd, old_path, new_dirfd, new_path, 0));
}
int renameat2(int old_dirfd, const char* old_path, int new_dirfd,
              const char* new_path, unsigned flags) {
  return AsInt(Renameat2(old_dirfd, old_path, new_dirfd, new_path, flags));
}
int link(const char* old_path, const char* new_path) {
  return AsInt(Linkat(base::kAtFdCwd, old_path, base::kAtFdCwd, new_path, 0));
}
int linkat(int old_dirfd, const char* old_path, int new_dirfd,
           const char* new_path, int flags) {
  return AsInt(Linkat(old_dirfd, old_path, new_dirfd, new_path, flags));
}
int symlink(const char* target, const char* link_path) {
  return AsInt(Symlinkat(target, base::kAtFdCwd, link_path));
}
int symlinkat(const char* target, int dirfd, const char* link_path) {
  return AsInt(Symlinkat(target, dirfd, link_path));
}
int64_t readlink(const char* path, char* buffer, size_t size) {
  return Return(Readlinkat(base::kAtFdCwd, path, buffer, size));
}
int64_t readlinkat(int dirfd, const char* path, char* buffer, size_t size) {
  return Return(Readlinkat(dirfd, path, buffer, size));
}

}  // namespace vfs
