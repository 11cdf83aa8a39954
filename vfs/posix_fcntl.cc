// fcntl(2) and flock(2): descriptor flags, status flags, duplication, and the
// advisory locks the VFS keeps (vfs/file_locks.h), with Linux's errors
// (fs/fcntl.c, fs/locks.c).
#include <cstdint>

#include "vfs/posix.h"
#include "vfs/syscall.h"

namespace vfs {
namespace {

using syscall::AsInt;
using syscall::CurrentTaskOrError;

// The byte range `lock` describes, from where its whence says
// (flock_to_posix_lock).
Result<FileLocks::Record> RecordOf(OpenFile& file, const Flock& lock,
                                   const Task& task) {
  int64_t base_offset;
  switch (lock.l_whence) {
    case base::kSeekSet:
      base_offset = 0;
      break;
    case base::kSeekCur:
      base_offset = static_cast<int64_t>(TRY(file.Lseek(0, base::kSeekCur)));
      break;
    case base::kSeekEnd:
      base_offset = TRY(file.Fstat()).st_size;
      break;
    default:
      return Error{EINVAL};
  }
  int64_t start;
  if (__builtin_add_overflow(base_offset, lock.l_start, &start)) {
    return Error{EOVERFLOW};
  }
  FileLocks::Record record;
  record.type = lock.l_type;
  record.pid = task.pid();
  record.owner = &task;
  if (lock.l_len > 0) {
    int64_t end;
    if (__builtin_add_overflow(start, lock.l_len - 1, &end)) {
      return Error{EOVERFLOW};
    }
    record.start = static_cast<uint64_t>(start);
    record.end = static_cast<uint64_t>(end);
  } else if (lock.l_len < 0) {
    // The l_len bytes before start.
    record.end = static_cast<uint64_t>(start - 1);
    if (__builtin_add_overflow(start, lock.l_len, &start)) {
      return Error{EINVAL};
    }
    record.start = static_cast<uint64_t>(start);
  } else {
    record.start = static_cast<uint64_t>(start);
  }
  if (start < 0) return Error{EINVAL};
  return record;
}

Result<void> RecordLock(Task& task, int fd, int cmd, Flock* user_lock) {
  RefPtr<OpenFile> file = TRY(syscall::FileOf(task, fd));
  if (!user_lock) return Error{EFAULT};
  Flock lock = *user_lock;
  if (lock.l_type != base::kLockRead && lock.l_type != base::kLockWrite &&
      lock.l_type != base::kLockUnlock) {
    return Error{EINVAL};
  }
  FileLocks::Record want = TRY(RecordOf(*file, lock, task));
  FileLocks* locks = file->node().locks();
  if (!locks) return Error{ENOLCK};
  if (cmd == base::kFcntlGetLk) {
    if (lock.l_type == base::kLockUnlock) return Error{EINVAL};
    const FileLocks::Record held = locks->Test(want);
    lock.l_type = held.type;
    if (held.type != base::kLockUnlock) {
      lock.l_whence = base::kSeekSet;
      lock.l_start = static_cast<int64_t>(held.start);
      lock.l_len = held.end == FileLocks::kToEnd
                       ? 0
                       : static_cast<int64_t>(held.end - held.start + 1);
      lock.l_pid = static_cast<int32_t>(held.pid);
    }
    *user_lock = lock;
    return {};
  }
  if ((lock.l_type == base::kLockRead && !file->readable()) ||
      (lock.l_type == base::kLockWrite && !file->writable())) {
    return Error{EBADF};
  }
  for (;;) {
    Result<void> set = locks->Set(want);
    if (set.ok() || set.error() != EAGAIN || cmd != base::kFcntlSetLkWait) {
      return set;
    }
    task.platform().Relax();
  }
}

Result<int> Fcntl(int fd, int cmd, uintptr_t arg) {
  Task* task = TRY(CurrentTaskOrError());
  FdTable& files = task->files();
  switch (cmd) {
    case base::kFcntlDupFd:
    case base::kFcntlDupFdCloseOnExec: {
      RefPtr<OpenFile> file = TRY(syscall::FileOf(*task, fd, true));
      if (arg >= static_cast<uintptr_t>(FdTable::kMaxFds)) return Error{EINVAL};
      return files.Install(std::move(file), cmd == base::kFcntlDupFdCloseOnExec,
                           static_cast<int>(arg));
    }
    case base::kFcntlGetFd:
      return TRY(files.CloseOnExec(fd)) ? base::kFdCloseOnExec : 0;
    case base::kFcntlSetFd:
      TRY(files.SetCloseOnExec(fd, (arg & base::kFdCloseOnExec) != 0));
      return 0;
    case base::kFcntlGetFl: {
      RefPtr<OpenFile> file = TRY(syscall::FileOf(*task, fd, true));
      return file->flags();
    }
    case base::kFcntlSetFl: {
      RefPtr<OpenFile> file = TRY(syscall::FileOf(*task, fd));
      file->SetStatusFlags(static_cast<int>(arg));
      return 0;
    }
    case base::kFcntlGetLk:
    case base::kFcntlSetLk:
    case base::kFcntlSetLkWait:
      TRY(RecordLock(*task, fd, cmd, reinterpret_cast<Flock*>(arg)));
      return 0;
    default:
      return Error{EINVAL};
  }
}

Result<void> FlockFile(int fd, int operation) {
  Task* task = TRY(CurrentTaskOrError());
  RefPtr<OpenFile> file = TRY(syscall::FileOf(*task, fd));
  int16_t type;
  switch (operation & ~base::kFlockNonBlock) {
    case base::kFlockShared:
      type = base::kLockRead;
      break;
    case base::kFlockExclusive:
      type = base::kLockWrite;
      break;
    case base::kFlockUnlock:
      type = base::kLockUnlock;
      break;
    default:
      return Error{EINVAL};
  }
  FileLocks* locks = file->node().locks();
  if (!locks) return Error{ENOLCK};
  for (;;) {
    Result<void> set = locks->Flock(file.get(), type);
    if (set.ok() || set.error() != EWOULDBLOCK ||
        (operation & base::kFlockNonBlock)) {
      return set;
    }
    task->platform().Relax();
  }
}

}  // namespace

int fcntl(int fd, int cmd, uintptr_t arg) { return AsInt(Fcntl(fd, cmd, arg)); }
int flock(int fd, int operation) { return AsInt(FlockFile(fd, operation)); }

}  // namespace vfs
