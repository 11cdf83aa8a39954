// System calls that open files and act on descriptors. open's checks and their
// order follow Linux's fs/namei.c (path_openat, lookup_open, may_open,
// do_open) and fs/open.c (build_open_flags).
#include <cstddef>
#include <span>
#include <utility>

#include "vfs/fifo.h"
#include "vfs/posix.h"
#include "vfs/syscall.h"

namespace vfs {
namespace {

using Last = ParentPath::Last;
using syscall::AsInt;
using syscall::CurrentTaskOrError;
using syscall::Return;
using syscall::UserPath;

// What open(2) consumes itself; the rest reaches Node::Open.
constexpr int kVfsOpenFlags = base::kOpenCreate | base::kOpenExclusive |
                              base::kOpenNoFollow | base::kOpenDirectory |
                              base::kOpenCloseOnExec | base::kOpenNoCtty;

// The kMay* bits opening with `flags` asks for.
int AccessFor(int flags) {
  int mask = 0;
  const int mode = flags & base::kOpenAccessMode;
  if (mode != base::kOpenWriteOnly) mask |= kMayRead;
  if (mode != base::kOpenReadOnly || (flags & base::kOpenTruncate)) {
    mask |= kMayWrite;
  }
  return mask;
}

// build_open_flags: the flag combinations open(2) refuses.
Result<int> CheckOpenFlags(int flags) {
  if (flags & base::kOpenPath) {
    // O_PATH keeps only what says where.
    return flags & (base::kOpenPath | base::kOpenDirectory |
                    base::kOpenNoFollow | base::kOpenCloseOnExec);
  }
  if ((flags & base::kOpenAccessMode) == base::kOpenAccessMode) {
    return Error{EINVAL};
  }
  if (flags & base::kOpenTmpFile) {
    // O_TMPFILE is __O_TMPFILE | O_DIRECTORY, without O_CREAT, for writing.
    if ((flags &
         (base::kOpenTmpFile | base::kOpenDirectory | base::kOpenCreate)) !=
            (base::kOpenTmpFile | base::kOpenDirectory) ||
        (flags & base::kOpenAccessMode) == base::kOpenReadOnly) {
      return Error{EINVAL};
    }
  } else if ((flags & base::kOpenCreate) && (flags & base::kOpenDirectory)) {
    return Error{EINVAL};
  }
  return flags;
}

// may_open: whether the task may open the existing `node` with `flags`, and
// what is opened (O_TRUNC clears privileges as a truncate does).
Result<void> MayOpen(const PathWalker& walker, Node& node, int flags) {
  if (node.is_symlink()) return Error{ELOOP};  // Only with O_NOFOLLOW.
  if (node.is_directory()) {
    if (flags & base::kOpenCreate) return Error{EISDIR};
    if ((flags & base::kOpenAccessMode) != base::kOpenReadOnly ||
        (flags & base::kOpenTruncate)) {
      return Error{EISDIR};
    }
  } else if (flags & base::kOpenDirectory) {
    return Error{ENOTDIR};
  }
  const uint32_t type = node.type();
  if (type == base::kTypeSocket) return Error{ENXIO};
  TRY(walker.CheckAccess(node, AccessFor(flags)));
  if (flags & base::kOpenNoAtime) {
    const Stat st = TRY(walker.AttrOf(node));
    TRY(CheckOwner(walker.credentials(), st));
  }
  return {};
}

// Opens the existing `node` (checked by MayOpen).
Result<RefPtr<OpenFile>> OpenExisting(Task& task, Node& node, int flags) {
  const int fs_flags = flags & ~kVfsOpenFlags;
  switch (node.type()) {
    case base::kTypeFifo:
      return OpenFifo(task.platform(), RefPtr<Node>(&node),
                      fs_flags & ~base::kOpenTruncate);
    case base::kTypeCharDevice:
    case base::kTypeBlockDevice:
      return Error{ENXIO};  // This kernel has no device drivers.
    default:
      break;
  }
  if ((flags & base::kOpenTruncate) && node.is_regular()) {
    // O_TRUNC of someone else's set-user-ID file clears the bit, as a
    // truncate does; the filesystem truncates with the open.
    AttrChange change;
    TRY(syscall::AddPrivilegeDrop(task.credentials(), node, change));
    if (change.valid) TRY(node.SetAttr(change));
  }
  return node.Open(fs_flags);
}

// O_CREAT: the file `path` names, made when absent (lookup_open). Returns the
// open file and where it is, or just where an existing file is.
struct Opened {
  RefPtr<Location> location;
  RefPtr<OpenFile> file;  // Null when the file existed.
};

Result<Opened> OpenCreating(Task& task, PathWalker& walker,
                            std::string_view path, int flags, uint32_t mode) {
  const int fs_flags = flags & ~kVfsOpenFlags;
  const uint32_t permissions = mode & base::kPermissionMask & ~task.umask();
  ParentPath parent = TRY(walker.ResolveParent(path));
  for (;;) {
    if (parent.last != Last::kName || parent.trailing_slash) {
      return Error{EISDIR};
    }
    Node& dir = *parent.dir->node();
    const std::string_view name = parent.name.view();
    // may_o_create, asked only when the name turns out to be absent.
    const Result<void> may_create =
        walker.CheckAccess(dir, kMayWrite | kMayExec);
    RefPtr<OpenFile> file;
    RefPtr<Location> location;
    // As Linux's atomic_open: where the filesystem expects the name to be
    // absent, create first (one request where a lookup and a create would be
    // two), and look the name up only when that fails.
    int create_error = 0;
    if (may_create.ok() && dir.PrefersCreateFirst(name)) {
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
        TRY(may_create);
        // Absent, and creating it just failed otherwise than for a name that
        // exists: that failure is the answer.
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
      return Opened{std::move(location), std::move(file)};
    }
    if (flags & base::kOpenExclusive) return Error{EEXIST};
    if (!location->node()->is_symlink()) return Opened{std::move(location)};
    if (flags & base::kOpenNoFollow) return Error{ELOOP};
    // O_CREAT through a symlink creates its target if that is missing.
    TRY(walker.CountSymlink());
    KString target = TRY(location->node()->ReadLink());
    if (target.empty()) return Error{ENOENT};
    parent = TRY(walker.ResolveParentFrom(parent.dir, target.view()));
  }
}

// O_TMPFILE: an unnamed file in the directory `path` names.
Result<Opened> OpenUnnamed(Task& task, PathWalker& walker,
                           std::string_view path, int flags, uint32_t mode) {
  RefPtr<Location> dir = TRY(walker.Resolve(path, /*follow_final=*/true));
  if (!dir->node()->is_directory()) return Error{ENOTDIR};
  TRY(walker.CheckAccess(*dir->node(), kMayWrite | kMayExec));
  const uint32_t permissions = mode & base::kPermissionMask & ~task.umask();
  const int fs_flags =
      (flags & ~(kVfsOpenFlags | base::kOpenTmpFile | base::kOpenTruncate)) |
      (flags & base::kOpenExclusive);
  RefPtr<OpenFile> file =
      TRY(dir->node()->CreateUnnamed(permissions, fs_flags));
  RefPtr<Location> location =
      MakeRef<Location>(dir, "", dir->mount(), RefPtr<Node>(&file->node()));
  return Opened{std::move(location), std::move(file)};
}

Result<int> Openat(int dirfd, const char* user_path, int flags, uint32_t mode) {
  std::string_view path = TRY(UserPath(user_path));
  Task* task = TRY(CurrentTaskOrError());
  flags = TRY(CheckOpenFlags(flags));
  PathWalker walker = TRY(syscall::WalkerAt(*task, dirfd, path));
  Opened opened;
  if (flags & base::kOpenPath) {
    opened.location = TRY(walker.Resolve(path, !(flags & base::kOpenNoFollow)));
    Node& node = *opened.location->node();
    if ((flags & base::kOpenDirectory) && !node.is_directory()) {
      return Error{ENOTDIR};
    }
    opened.file = MakeRef<OpenFile>(task->platform(), RefPtr<Node>(&node),
                                    flags & base::kOpenPath);
  } else if (flags & base::kOpenTmpFile) {
    opened = TRY(OpenUnnamed(*task, walker, path, flags, mode));
  } else if (flags & base::kOpenCreate) {
    opened = TRY(OpenCreating(*task, walker, path, flags, mode));
  } else {
    opened.location = TRY(walker.Resolve(path, !(flags & base::kOpenNoFollow)));
  }
  if (!opened.file) {
    Node& node = *opened.location->node();
    TRY(MayOpen(walker, node, flags));
    opened.file = TRY(OpenExisting(*task, node, flags));
  }
  opened.file->SetLocation(std::move(opened.location));
  return task->files().Install(std::move(opened.file),
                               (flags & base::kOpenCloseOnExec) != 0);
}

Result<RefPtr<OpenFile>> FileOf(int fd) {
  Task* task = TRY(CurrentTaskOrError());
  return syscall::FileOf(*task, fd);
}

template <typename Byte>
Result<std::span<Byte>> UserBuffer(Byte* buffer, size_t count) {
  if (!buffer && count != 0) return Error{EFAULT};
  return std::span<Byte>(buffer, count);
}

// A write by someone without CAP_FSETID clears the file's set-user-ID bit
// first (file_remove_privs).
Result<void> DropPrivilegesForWrite(const Credentials& creds, OpenFile& file) {
  if (creds.fs_privileged()) return {};
  AttrChange change;
  TRY(syscall::AddPrivilegeDrop(creds, file.node(), change));
  if (change.valid) TRY(file.node().SetAttr(change));
  return {};
}

Result<size_t> Read(int fd, void* buffer, size_t count) {
  RefPtr<OpenFile> file = TRY(FileOf(fd));
  auto bytes = TRY(UserBuffer(static_cast<std::byte*>(buffer), count));
  return file->Read(bytes);
}

Result<size_t> Write(int fd, const void* buffer, size_t count) {
  Task* task = TRY(CurrentTaskOrError());
  RefPtr<OpenFile> file = TRY(syscall::FileOf(*task, fd));
  auto bytes = TRY(UserBuffer(static_cast<const std::byte*>(buffer), count));
  if (file->writable() && count > 0) {
    TRY(DropPrivilegesForWrite(task->credentials(), *file));
  }
  return file->Write(bytes);
}

Result<size_t> Pread(int fd, void* buffer, size_t count, int64_t offset) {
  RefPtr<OpenFile> file = TRY(FileOf(fd));
  auto bytes = TRY(UserBuffer(static_cast<std::byte*>(buffer), count));
  return file->Pread(bytes, offset);
}

Result<size_t> Pwrite(int fd, const void* buffer, size_t count,
                      int64_t offset) {
  Task* task = TRY(CurrentTaskOrError());
  RefPtr<OpenFile> file = TRY(syscall::FileOf(*task, fd));
  auto bytes = TRY(UserBuffer(static_cast<const std::byte*>(buffer), count));
  if (file->writable() && count > 0 && offset >= 0) {
    TRY(DropPrivilegesForWrite(task->credentials(), *file));
  }
  return file->Pwrite(bytes, offset);
}

Result<size_t> Getdents64(int fd, void* buffer, size_t count) {
  RefPtr<OpenFile> file = TRY(FileOf(fd));
  auto bytes = TRY(UserBuffer(static_cast<std::byte*>(buffer), count));
  return file->Getdents64(bytes);
}

Result<void> Fstat(int fd, Stat* out) {
  Task* task = TRY(CurrentTaskOrError());
  RefPtr<OpenFile> file = TRY(syscall::FileOf(*task, fd, /*allow_path=*/true));
  if (!out) return Error{EFAULT};
  *out = TRY(file->Fstat());
  return {};
}

Result<void> Fstatfs(int fd, StatFs* out) {
  Task* task = TRY(CurrentTaskOrError());
  RefPtr<OpenFile> file = TRY(syscall::FileOf(*task, fd, /*allow_path=*/true));
  if (!out) return Error{EFAULT};
  *out = TRY(file->node().GetFsStat());
  return {};
}

Result<void> Ftruncate(int fd, int64_t length) {
  if (length < 0) return Error{EINVAL};
  Task* task = TRY(CurrentTaskOrError());
  RefPtr<OpenFile> file = TRY(syscall::FileOf(*task, fd));
  AttrChange change;
  change.valid = AttrChange::kSize;
  change.size = static_cast<uint64_t>(length);
  if (file->writable()) {
    TRY(syscall::AddPrivilegeDrop(task->credentials(), file->node(), change));
  }
  return file->Ftruncate(change);
}

Result<void> Fchmod(int fd, uint32_t mode) {
  Task* task = TRY(CurrentTaskOrError());
  RefPtr<OpenFile> file = TRY(syscall::FileOf(*task, fd));
  return syscall::ChangeMode(task->credentials(), file->node(), mode);
}

Result<void> Fchown(int fd, uint32_t uid, uint32_t gid) {
  Task* task = TRY(CurrentTaskOrError());
  RefPtr<OpenFile> file = TRY(syscall::FileOf(*task, fd));
  return syscall::ChangeOwner(task->credentials(), file->node(), uid, gid);
}

Result<void> Futimens(int fd, const Timespec times[2]) {
  const AttrChange change = TRY(syscall::TimesChange(times));
  Task* task = TRY(CurrentTaskOrError());
  RefPtr<OpenFile> file = TRY(syscall::FileOf(*task, fd));
  return syscall::ChangeTimes(task->credentials(), file->node(), change);
}

Result<void> Fallocate(int fd, int mode, int64_t offset, int64_t length) {
  constexpr int kKnown = base::kFallocKeepSize | base::kFallocPunchHole;
  if (mode & ~kKnown) return Error{EOPNOTSUPP};
  // Punching a hole must keep the size (Linux: EOPNOTSUPP otherwise).
  if ((mode & base::kFallocPunchHole) && !(mode & base::kFallocKeepSize)) {
    return Error{EOPNOTSUPP};
  }
  Task* task = TRY(CurrentTaskOrError());
  RefPtr<OpenFile> file = TRY(syscall::FileOf(*task, fd));
  if (file->writable()) {
    TRY(DropPrivilegesForWrite(task->credentials(), *file));
  }
  return file->Fallocate(mode, offset, length);
}

Result<size_t> CopyFileRange(int fd_in, int64_t* offset_in, int fd_out,
                             int64_t* offset_out, size_t length,
                             unsigned flags) {
  if (flags != 0) return Error{EINVAL};
  Task* task = TRY(CurrentTaskOrError());
  RefPtr<OpenFile> in = TRY(syscall::FileOf(*task, fd_in));
  RefPtr<OpenFile> out = TRY(syscall::FileOf(*task, fd_out));
  if (out->writable() && length > 0) {
    TRY(DropPrivilegesForWrite(task->credentials(), *out));
  }
  return in->CopyFileRange(offset_in, *out, offset_out, length);
}

}  // namespace

int open(const char* path, int flags, uint32_t mode) {
  return AsInt(Openat(base::kAtFdCwd, path, flags, mode));
}
int openat(int dirfd, const char* path, int flags, uint32_t mode) {
  return AsInt(Openat(dirfd, path, flags, mode));
}

int close(int fd) {
  auto close = [](int fd) -> Result<void> {
    Task* task = TRY(CurrentTaskOrError());
    return task->files().Close(fd);
  };
  return AsInt(close(fd));
}

int64_t read(int fd, void* buffer, size_t count) {
  return Return(Read(fd, buffer, count));
}
int64_t write(int fd, const void* buffer, size_t count) {
  return Return(Write(fd, buffer, count));
}
int64_t pread(int fd, void* buffer, size_t count, int64_t offset) {
  return Return(Pread(fd, buffer, count, offset));
}
int64_t pwrite(int fd, const void* buffer, size_t count, int64_t offset) {
  return Return(Pwrite(fd, buffer, count, offset));
}

int64_t lseek(int fd, int64_t offset, int whence) {
  auto seek = [&]() -> Result<uint64_t> {
    RefPtr<OpenFile> file = TRY(FileOf(fd));
    return file->Lseek(offset, whence);
  };
  return Return(seek());
}

int fstat(int fd, Stat* out) { return AsInt(Fstat(fd, out)); }
int fstatfs(int fd, StatFs* out) { return AsInt(Fstatfs(fd, out)); }
int ftruncate(int fd, int64_t length) { return AsInt(Ftruncate(fd, length)); }

int fsync(int fd) {
  auto sync = [&]() -> Result<void> {
    RefPtr<OpenFile> file = TRY(FileOf(fd));
    return file->Fsync(/*data_only=*/false);
  };
  return AsInt(sync());
}

int fdatasync(int fd) {
  auto sync = [&]() -> Result<void> {
    RefPtr<OpenFile> file = TRY(FileOf(fd));
    return file->Fsync(/*data_only=*/true);
  };
  return AsInt(sync());
}

int fchmod(int fd, uint32_t mode) { return AsInt(Fchmod(fd, mode)); }
int fchown(int fd, uint32_t uid, uint32_t gid) {
  return AsInt(Fchown(fd, uid, gid));
}
int futimens(int fd, const Timespec times[2]) {
  return AsInt(Futimens(fd, times));
}
int fallocate(int fd, int mode, int64_t offset, int64_t length) {
  return AsInt(Fallocate(fd, mode, offset, length));
}
int64_t copy_file_range(int fd_in, int64_t* offset_in, int fd_out,
                        int64_t* offset_out, size_t length, unsigned flags) {
  return Return(
      CopyFileRange(fd_in, offset_in, fd_out, offset_out, length, flags));
}

int64_t getdents64(int fd, void* buffer, size_t count) {
  return Return(Getdents64(fd, buffer, count));
}

int dup(int fd) {
  auto dup = [&]() -> Result<int> {
    Task* task = TRY(CurrentTaskOrError());
    return task->files().Dup(fd);
  };
  return AsInt(dup());
}

int dup2(int old_fd, int new_fd) {
  auto dup2 = [&]() -> Result<int> {
    Task* task = TRY(CurrentTaskOrError());
    return task->files().Dup2(old_fd, new_fd);
  };
  return AsInt(dup2());
}

int poll_one(int fd, uint32_t events) {
  auto poll = [&]() -> Result<uint32_t> {
    RefPtr<OpenFile> file = TRY(FileOf(fd));
    return file->Poll(events);
  };
  return AsInt(poll());
}

}  // namespace vfs
