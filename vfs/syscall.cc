#include "vfs/syscall.h"

#include <cstring>
#include <utility>

namespace vfs::syscall {

Result<std::string_view> UserPath(const char* path, bool allow_empty) {
  if (!path) return Error{EFAULT};
  // memchr behaves as if it stopped at the first match (C11 7.24.5.1): it
  // reads no more of the caller's memory than a byte loop, a vector at a time.
  const void* end = memchr(path, '\0', base::kPathMax);
  if (!end) return Error{ENAMETOOLONG};
  const size_t length = static_cast<const char*>(end) - path;
  if (length == 0 && !allow_empty) return Error{ENOENT};
  return std::string_view(path, length);
}

Result<RefPtr<OpenFile>> FileOf(Task& task, int fd, bool allow_path) {
  RefPtr<OpenFile> file = TRY(task.files().Get(fd));
  if (file->path_only() && !allow_path) return Error{EBADF};
  return file;
}

Result<PathWalker> WalkerAt(Task& task, int dirfd, std::string_view path,
                            const Credentials* credentials) {
  // An absolute path takes no current directory: not its lock, nor a
  // reference to it, which every walk of every thread would write.
  if (!path.empty() && path[0] == '/') {
    return task.WalkerFrom(nullptr, credentials);
  }
  if (dirfd == base::kAtFdCwd) return task.WalkerFrom(task.cwd(), credentials);
  RefPtr<OpenFile> dir = TRY(FileOf(task, dirfd, /*allow_path=*/true));
  if (!dir->location() || !dir->node().is_directory()) return Error{ENOTDIR};
  return task.WalkerFrom(dir->location(), credentials);
}

namespace {

// What ResolveAt and ResolveNodeAt share: `flags` checked, `path` read. An
// empty path names `dirfd` itself: its location is put in `itself`.
Result<std::string_view> PathAt(Task& task, int dirfd, const char* path,
                                int flags, int allowed,
                                RefPtr<Location>* itself) {
  if (flags & ~allowed) return Error{EINVAL};
  std::string_view name =
      TRY(UserPath(path, (flags & base::kAtEmptyPath) != 0));
  if (name.empty() && dirfd == base::kAtFdCwd) {
    *itself = task.cwd();
  } else if (name.empty()) {
    RefPtr<OpenFile> file = TRY(FileOf(task, dirfd, /*allow_path=*/true));
    *itself = file->location();
  }
  return name;
}

}  // namespace

Result<RefPtr<Location>> ResolveAt(Task& task, int dirfd, const char* path,
                                   int flags, int allowed,
                                   const Credentials* credentials) {
  RefPtr<Location> itself;
  std::string_view name =
      TRY(PathAt(task, dirfd, path, flags, allowed, &itself));
  if (itself) return itself;
  PathWalker walker = TRY(WalkerAt(task, dirfd, name, credentials));
  return walker.Resolve(name, !(flags & base::kAtSymlinkNoFollow));
}

Result<Placed> ResolveNodeAt(Task& task, int dirfd, const char* path, int flags,
                             int allowed, const Credentials* credentials) {
  RefPtr<Location> itself;
  std::string_view name =
      TRY(PathAt(task, dirfd, path, flags, allowed, &itself));
  if (itself) return Placed{itself->mount(), itself->node()};
  PathWalker walker = TRY(WalkerAt(task, dirfd, name, credentials));
  return walker.ResolveNode(name, !(flags & base::kAtSymlinkNoFollow));
}

Result<Stat> StatAt(Task& task, int dirfd, const char* path, int flags,
                    int allowed) {
  RefPtr<Location> itself;
  std::string_view name =
      TRY(PathAt(task, dirfd, path, flags, allowed, &itself));
  if (itself) {
    Stat st = TRY(itself->node()->GetAttr());
    st.st_dev = itself->mount()->device();
    return st;
  }
  PathWalker walker = TRY(WalkerAt(task, dirfd, name));
  return walker.StatNode(name, !(flags & base::kAtSymlinkNoFollow));
}

namespace {

constexpr uint32_t kNoChange = 0xffffffff;

bool ValidNanos(int64_t nanos) {
  return (nanos >= 0 && nanos < 1000000000) || nanos == base::kUtimeNow ||
         nanos == base::kUtimeOmit;
}

}  // namespace

Result<void> ChangeMode(const Credentials& credentials, Node& node,
                        uint32_t mode) {
  const Stat st = TRY(node.GetAttr());
  TRY(CheckOwner(credentials, st));
  AttrChange change;
  change.valid = AttrChange::kMode;
  change.mode = ChmodMode(credentials, st, mode);
  TRY(node.SetAttr(change));
  return {};
}

Result<void> ChangeOwner(const Credentials& credentials, Node& node,
                         uint32_t uid, uint32_t gid) {
  const Stat st = TRY(node.GetAttr());
  TRY(CheckChown(credentials, st, uid, gid));
  AttrChange change;
  if (uid != kNoChange) {
    change.valid |= AttrChange::kUid;
    change.uid = uid;
  }
  if (gid != kNoChange) {
    change.valid |= AttrChange::kGid;
    change.gid = gid;
  }
  if (change.valid == 0) return {};
  const uint32_t mode =
      ModeAfterModification(credentials, st, /*by_chown=*/true);
  if (mode != (st.st_mode & base::kPermissionMask)) {
    change.valid |= AttrChange::kMode;
    change.mode = mode;
  }
  TRY(node.SetAttr(change));
  return {};
}

Result<AttrChange> TimesChange(const Timespec* times) {
  const Timespec now[2] = {{0, base::kUtimeNow}, {0, base::kUtimeNow}};
  if (!times) times = now;
  if (!ValidNanos(times[0].tv_nsec) || !ValidNanos(times[1].tv_nsec)) {
    return Error{EINVAL};
  }
  AttrChange change;
  if (times[0].tv_nsec == base::kUtimeNow) {
    change.valid |= AttrChange::kAtimeNow;
  } else if (times[0].tv_nsec != base::kUtimeOmit) {
    change.valid |= AttrChange::kAtime;
    change.atime = times[0];
  }
  if (times[1].tv_nsec == base::kUtimeNow) {
    change.valid |= AttrChange::kMtimeNow;
  } else if (times[1].tv_nsec != base::kUtimeOmit) {
    change.valid |= AttrChange::kMtime;
    change.mtime = times[1];
  }
  return change;
}

Result<void> ChangeTimes(const Credentials& credentials, Node& node,
                         const AttrChange& change) {
  if (change.valid == 0) return {};
  if (!credentials.fs_privileged()) {
    const Stat st = TRY(node.GetAttr());
    if (!CheckOwner(credentials, st).ok()) {
      const uint32_t touch = AttrChange::kAtimeNow | AttrChange::kMtimeNow;
      if (change.valid != touch) return Error{EPERM};
      TRY(CheckAccess(credentials, st, kMayWrite));
    }
  }
  TRY(node.SetAttr(change));
  return {};
}

Result<void> AddPrivilegeDrop(const Credentials& credentials, Node& node,
                              AttrChange& change) {
  if (credentials.fs_privileged() || !node.is_regular()) return {};
  const Stat st = TRY(node.GetAttr());
  const uint32_t mode = ModeAfterModification(credentials, st, false);
  if (mode == (st.st_mode & base::kPermissionMask)) return {};
  change.valid |= AttrChange::kMode;
  change.mode = mode;
  return {};
}

}  // namespace vfs::syscall
