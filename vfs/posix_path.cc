// System calls on paths. The checks and their order follow Linux's fs/namei.c
// and fs/open.c, so that a caller sees the errno Linux would give.
#include <cstring>
#include <utility>
#include <vector>

#include "vfs/posix.h"
#include "vfs/syscall.h"

namespace vfs {
namespace {

using Last = ParentPath::Last;
using syscall::CurrentTaskOrError;
using syscall::Return;
using syscall::UserPath;

int AsInt(const Result<void>& result) {
  return static_cast<int>(Return(result));
}

// Whether `found`, looked up in `dir`, is the root of something mounted there.
bool IsMountpoint(const Location& dir, const Location& found) {
  return found.mount() != dir.mount();
}

// The last component of `parent` for a call that creates it (mkdir, link,
// symlink, as Linux's filename_create): EEXIST when it exists or is "." or
// "..", ENOENT when it does not but the path ended in a slash (a directory was
// asked for).
Result<void> CheckCreatable(PathWalker& walker, const ParentPath& parent,
                            bool allow_trailing_slash) {
  if (parent.last != Last::kName) return Error{EEXIST};
  Result<RefPtr<Location>> found = walker.Step(parent.dir, parent.name.view());
  if (found.ok()) return Error{EEXIST};
  if (found.error() != ENOENT) return Error{found.error()};
  if (parent.trailing_slash && !allow_trailing_slash) return Error{ENOENT};
  return {};
}

Result<int> Open(std::string_view path, int flags, uint32_t mode) {
  Task* task = TRY(CurrentTaskOrError());
  if (flags & (base::kOpenPath | base::kOpenTmpFile)) return Error{EOPNOTSUPP};
  if ((flags & base::kOpenAccessMode) == base::kOpenAccessMode)
    return Error{EINVAL};
  if ((flags & base::kOpenCreate) && (flags & base::kOpenDirectory))
    return Error{EINVAL};
  const int fs_flags = flags & ~(base::kOpenCreate | base::kOpenExclusive |
                                 base::kOpenNoFollow | base::kOpenDirectory |
                                 base::kOpenCloseOnExec | base::kOpenNoCtty);
  PathWalker walker = task->Walker();
  RefPtr<Location> location;
  RefPtr<OpenFile> file;
  if (!(flags & base::kOpenCreate)) {
    location = TRY(walker.Resolve(path, !(flags & base::kOpenNoFollow)));
  } else {
    ParentPath parent = TRY(walker.ResolveParent(path));
    const uint32_t permissions = mode & base::kPermissionMask & ~task->umask();
    for (;;) {
      if (parent.last != Last::kName || parent.trailing_slash)
        return Error{EISDIR};
      Node& dir = *parent.dir->node();
      const std::string_view name = parent.name.view();
      // As Linux's atomic_open: where the filesystem expects the name to be
      // absent, create first (one request where a lookup and a create would
      // be two), and look the name up only when that fails.
      int create_error = 0;
      if (dir.is_directory() && dir.PrefersCreateFirst(name)) {
        Result<RefPtr<OpenFile>> created =
            dir.Create(name, permissions, fs_flags);
        if (created.ok()) {
          file = std::move(created).value();
        } else {
          create_error = created.error();
          if (create_error == EEXIST && (flags & base::kOpenExclusive)) {
            return Error{EEXIST};
          }
        }
      }
      if (!file) {
        Result<RefPtr<Location>> found = walker.Step(parent.dir, name);
        if (!found.ok() && found.error() == ENOENT) {
          // Absent, and creating it just failed otherwise than for a name
          // that exists: that failure is the answer.
          if (create_error != 0 && create_error != EEXIST) {
            return Error{create_error};
          }
          Result<RefPtr<OpenFile>> created =
              dir.Create(name, permissions, fs_flags);
          if (!created.ok()) {
            // Someone else created it meanwhile: without O_EXCL, open theirs.
            if (created.error() == EEXIST && !(flags & base::kOpenExclusive)) {
              continue;
            }
            return Error{created.error()};
          }
          file = std::move(created).value();
        } else {
          location = TRY(std::move(found));
        }
      }
      if (file) {
        location = MakeRef<Location>(parent.dir, name, parent.dir->mount(),
                                     RefPtr<Node>(&file->node()));
        break;
      }
      if (flags & base::kOpenExclusive) return Error{EEXIST};
      if (!location->node()->is_symlink()) break;
      if (flags & base::kOpenNoFollow) return Error{ELOOP};
      // O_CREAT through a symlink creates its target if that is missing.
      TRY(walker.CountSymlink());
      KString target = TRY(location->node()->ReadLink());
      if (target.empty()) return Error{ENOENT};
      parent = TRY(walker.ResolveParentFrom(parent.dir, target.view()));
    }
  }
  if (!file) {
    Node& node = *location->node();
    if (node.is_symlink()) return Error{ELOOP};  // Only with O_NOFOLLOW.
    if ((flags & base::kOpenCreate) && node.is_directory())
      return Error{EISDIR};
    if ((flags & base::kOpenDirectory) && !node.is_directory())
      return Error{ENOTDIR};
    if (node.is_directory() &&
        ((flags & base::kOpenAccessMode) != base::kOpenReadOnly ||
         (flags & base::kOpenTruncate))) {
      return Error{EISDIR};
    }
    file = TRY(node.Open(fs_flags));
  }
  file->SetLocation(std::move(location));
  return task->files().Install(std::move(file),
                               (flags & base::kOpenCloseOnExec) != 0);
}

Result<void> StatPath(const char* user_path, Stat* out, bool follow) {
  std::string_view path = TRY(UserPath(user_path));
  Task* task = TRY(CurrentTaskOrError());
  if (!out) return Error{EFAULT};
  PathWalker walker = task->Walker();
  RefPtr<Location> location = TRY(walker.Resolve(path, follow));
  Stat st = TRY(location->node()->GetAttr());
  st.st_dev = location->mount()->device();
  *out = st;
  return {};
}

// Resolves `user_path`, following a final symlink.
Result<RefPtr<Location>> ResolveFollowing(const char* user_path) {
  std::string_view path = TRY(UserPath(user_path));
  Task* task = TRY(CurrentTaskOrError());
  PathWalker walker = task->Walker();
  return walker.Resolve(path, /*follow_final=*/true);
}

Result<void> Mkdir(const char* user_path, uint32_t mode) {
  std::string_view path = TRY(UserPath(user_path));
  Task* task = TRY(CurrentTaskOrError());
  PathWalker walker = task->Walker();
  ParentPath parent = TRY(walker.ResolveParent(path));
  TRY(CheckCreatable(walker, parent, /*allow_trailing_slash=*/true));
  uint32_t permissions = mode & (0777 | 01000) & ~task->umask();
  return parent.dir->node()->Mkdir(parent.name.view(), permissions);
}

Result<void> Rmdir(const char* user_path) {
  std::string_view path = TRY(UserPath(user_path));
  Task* task = TRY(CurrentTaskOrError());
  PathWalker walker = task->Walker();
  ParentPath parent = TRY(walker.ResolveParent(path));
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
  RefPtr<Location> victim = TRY(walker.Step(parent.dir, parent.name.view()));
  if (!victim->node()->is_directory()) return Error{ENOTDIR};
  if (IsMountpoint(*parent.dir, *victim)) return Error{EBUSY};
  return parent.dir->node()->Rmdir(parent.name.view());
}

Result<void> Unlink(const char* user_path) {
  std::string_view path = TRY(UserPath(user_path));
  Task* task = TRY(CurrentTaskOrError());
  PathWalker walker = task->Walker();
  ParentPath parent = TRY(walker.ResolveParent(path));
  if (parent.last != Last::kName) return Error{EISDIR};
  RefPtr<Location> victim = TRY(walker.Step(parent.dir, parent.name.view()));
  if (victim->node()->is_directory()) return Error{EISDIR};
  if (parent.trailing_slash) return Error{ENOTDIR};
  return parent.dir->node()->Unlink(parent.name.view());
}

Result<void> Rename(const char* user_old, const char* user_new) {
  std::string_view old_path = TRY(UserPath(user_old));
  std::string_view new_path = TRY(UserPath(user_new));
  Task* task = TRY(CurrentTaskOrError());
  PathWalker walker = task->Walker();
  ParentPath from = TRY(walker.ResolveParent(old_path));
  ParentPath to = TRY(walker.ResolveParent(new_path));
  if (from.dir->mount() != to.dir->mount()) return Error{EXDEV};
  if (from.last != Last::kName || to.last != Last::kName) return Error{EBUSY};
  RefPtr<Location> source = TRY(walker.Step(from.dir, from.name.view()));
  if (!source->node()->is_directory() &&
      (from.trailing_slash || to.trailing_slash)) {
    return Error{ENOTDIR};
  }
  if (IsMountpoint(*from.dir, *source)) return Error{EBUSY};
  Result<RefPtr<Location>> target = walker.Step(to.dir, to.name.view());
  if (target.ok() && IsMountpoint(*to.dir, *target.value()))
    return Error{EBUSY};
  source.reset();
  return from.dir->node()->Rename(from.name.view(), *to.dir->node(),
                                  to.name.view());
}

Result<void> Link(const char* user_old, const char* user_new) {
  std::string_view old_path = TRY(UserPath(user_old));
  std::string_view new_path = TRY(UserPath(user_new));
  Task* task = TRY(CurrentTaskOrError());
  PathWalker walker = task->Walker();
  RefPtr<Location> source =
      TRY(walker.Resolve(old_path, /*follow_final=*/false));
  ParentPath to = TRY(walker.ResolveParent(new_path));
  TRY(CheckCreatable(walker, to, /*allow_trailing_slash=*/false));
  if (source->mount() != to.dir->mount()) return Error{EXDEV};
  if (source->node()->is_directory()) return Error{EPERM};
  return to.dir->node()->Link(to.name.view(), *source->node());
}

Result<void> Symlink(const char* user_target, const char* user_link) {
  std::string_view target = TRY(UserPath(user_target));
  std::string_view link_path = TRY(UserPath(user_link));
  Task* task = TRY(CurrentTaskOrError());
  PathWalker walker = task->Walker();
  ParentPath at = TRY(walker.ResolveParent(link_path));
  TRY(CheckCreatable(walker, at, /*allow_trailing_slash=*/false));
  return at.dir->node()->Symlink(at.name.view(), target);
}

Result<size_t> Readlink(const char* user_path, char* buffer, size_t size) {
  std::string_view path = TRY(UserPath(user_path));
  Task* task = TRY(CurrentTaskOrError());
  if (size == 0 || size > 0x7fffffff) return Error{EINVAL};
  PathWalker walker = task->Walker();
  RefPtr<Location> location = TRY(walker.Resolve(path, /*follow_final=*/false));
  if (!location->node()->is_symlink()) return Error{EINVAL};
  KString target = TRY(location->node()->ReadLink());
  if (!buffer) return Error{EFAULT};
  size_t n = target.size() < size ? target.size() : size;
  memcpy(buffer, target.c_str(), n);
  return n;
}

Result<void> Truncate(const char* user_path, int64_t length) {
  if (length < 0) return Error{EINVAL};
  RefPtr<Location> location = TRY(ResolveFollowing(user_path));
  Node& node = *location->node();
  if (node.is_directory()) return Error{EISDIR};
  if (!node.is_regular()) return Error{EINVAL};
  AttrChange change;
  change.valid = AttrChange::kSize;
  change.size = static_cast<uint64_t>(length);
  TRY(node.SetAttr(change));
  return {};
}

Result<void> Chdir(const char* user_path) {
  Task* task = TRY(CurrentTaskOrError());
  RefPtr<Location> location = TRY(ResolveFollowing(user_path));
  if (!location->node()->is_directory()) return Error{ENOTDIR};
  task->set_cwd(std::move(location));
  return {};
}

Result<size_t> Getcwd(char* buffer, size_t size) {
  Task* task = TRY(CurrentTaskOrError());
  RefPtr<Location> cwd = task->cwd();
  std::vector<std::string_view> names;  // Leaf first.
  size_t length = 1;                    // The NUL.
  for (const Location* at = cwd.get(); at->parent(); at = at->parent().get()) {
    names.push_back(at->name());
    length += 1 + at->name().size();
  }
  if (names.empty()) length = 2;  // "/"
  if (length > size) return Error{ERANGE};
  if (!buffer) return Error{EFAULT};
  size_t at = 0;
  buffer[at++] = '/';
  for (size_t i = names.size(); i-- > 0;) {
    memcpy(buffer + at, names[i].data(), names[i].size());
    at += names[i].size();
    if (i != 0) buffer[at++] = '/';
  }
  buffer[at] = '\0';
  return length;
}

Result<void> Statfs(const char* user_path, StatFs* out) {
  RefPtr<Location> location = TRY(ResolveFollowing(user_path));
  if (!out) return Error{EFAULT};
  *out = TRY(location->node()->GetFsStat());
  return {};
}

Result<void> Chmod(const char* user_path, uint32_t mode) {
  RefPtr<Location> location = TRY(ResolveFollowing(user_path));
  AttrChange change;
  change.valid = AttrChange::kMode;
  change.mode = mode & base::kPermissionMask;
  TRY(location->node()->SetAttr(change));
  return {};
}

// A single root user: everything is readable and writable; execution needs an
// execute bit somewhere (or a directory), as for root on Linux.
Result<void> Access(const char* user_path, int mode) {
  if (mode & ~(base::kAccessRead | base::kAccessWrite | base::kAccessExecute))
    return Error{EINVAL};
  RefPtr<Location> location = TRY(ResolveFollowing(user_path));
  if ((mode & base::kAccessExecute) && !location->node()->is_directory()) {
    Stat st = TRY(location->node()->GetAttr());
    if (!(st.st_mode & base::kAnyExecute)) return Error{EACCES};
  }
  return {};
}

Result<void> MountAt(const char* user_path, RefPtr<Node> root) {
  std::string_view path = TRY(UserPath(user_path));
  Task* task = TRY(CurrentTaskOrError());
  if (!root) return Error{EINVAL};
  return task->Mount(path, std::move(root));
}

Result<void> Umount(const char* user_path) {
  std::string_view path = TRY(UserPath(user_path));
  Task* task = TRY(CurrentTaskOrError());
  return task->Unmount(path);
}

}  // namespace

int open(const char* path, int flags, uint32_t mode) {
  auto checked = UserPath(path);
  if (!checked.ok()) return checked.negated_error();
  return static_cast<int>(Return(Open(checked.value(), flags, mode)));
}

int stat(const char* path, Stat* out) {
  return AsInt(StatPath(path, out, true));
}
int lstat(const char* path, Stat* out) {
  return AsInt(StatPath(path, out, false));
}
int mkdir(const char* path, uint32_t mode) { return AsInt(Mkdir(path, mode)); }
int rmdir(const char* path) { return AsInt(Rmdir(path)); }
int unlink(const char* path) { return AsInt(Unlink(path)); }
int rename(const char* old_path, const char* new_path) {
  return AsInt(Rename(old_path, new_path));
}
int link(const char* old_path, const char* new_path) {
  return AsInt(Link(old_path, new_path));
}
int symlink(const char* target, const char* link_path) {
  return AsInt(Symlink(target, link_path));
}
int64_t readlink(const char* path, char* buffer, size_t size) {
  return Return(Readlink(path, buffer, size));
}
int truncate(const char* path, int64_t length) {
  return AsInt(Truncate(path, length));
}
int chdir(const char* path) { return AsInt(Chdir(path)); }
int64_t getcwd(char* buffer, size_t size) {
  return Return(Getcwd(buffer, size));
}
int statfs(const char* path, StatFs* out) { return AsInt(Statfs(path, out)); }
int chmod(const char* path, uint32_t mode) { return AsInt(Chmod(path, mode)); }
int access(const char* path, int mode) { return AsInt(Access(path, mode)); }

uint32_t umask(uint32_t mask) {
  Task* task = CurrentTask();
  return task ? task->set_umask(mask) : 0;
}

int mount(const char* target, RefPtr<Node> root) {
  return AsInt(MountAt(target, std::move(root)));
}
int umount(const char* target) { return AsInt(Umount(target)); }

}  // namespace vfs
