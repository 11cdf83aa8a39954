// vfs::FileLocks: the advisory locks on one file, kept by the VFS as Linux
// keeps them for a FUSE server that does not implement locking (fs/locks.c):
//  - POSIX record locks (fcntl F_SETLK): byte ranges owned by a task, merged
//    and split as ranges change, and all released when the task closes any
//    descriptor of the file;
//  - flock(2) locks: the whole file, owned by an open file description, and
//    released when it is closed.
// The two kinds do not conflict with each other (Linux's rule). Nothing here
// blocks: a caller that waits (F_SETLKW, flock without LOCK_NB) retries.
#ifndef VFS_FILE_LOCKS_H_
#define VFS_FILE_LOCKS_H_

#include <cstdint>
#include <vector>

#include "base/abi.h"
#include "base/result.h"
#include "vfs/spin_lock.h"

namespace vfs {

class FileLocks {
 public:
  // The end of a range that runs to the end of the file (and beyond).
  static constexpr uint64_t kToEnd = UINT64_MAX;

  // A record lock: [start, end] (inclusive), of `type` kLockRead or
  // kLockWrite, held by `owner` (a task) whose process id is `pid`.
  struct Record {
    int16_t type = base::kLockUnlock;
    uint64_t start = 0;
    uint64_t end = kToEnd;
    uint32_t pid = 0;
    const void* owner = nullptr;
  };

  FileLocks() = default;
  FileLocks(const FileLocks&) = delete;
  FileLocks& operator=(const FileLocks&) = delete;

  // F_GETLK: the first lock of another owner that conflicts with `want`, or
  // one of type kLockUnlock when none does.
  Record Test(const Record& want);
  // F_SETLK: sets `want` (kLockUnlock removes the owner's locks in its range).
  // EAGAIN when another owner's lock conflicts; ENOMEM.
  base::Result<void> Set(const Record& want);
  // Every record lock of `owner`.
  void ReleaseRecords(const void* owner);

  // flock(2) for the open file `file`: kLockRead (shared), kLockWrite
  // (exclusive) or kLockUnlock. EWOULDBLOCK when another open file holds a
  // conflicting one; ENOMEM.
  base::Result<void> Flock(const void* file, int16_t type);

 private:
  struct WholeFileLock {
    const void* file;
    int16_t type;
  };

  SpinLock lock_;
  std::vector<Record> records_;
  std::vector<WholeFileLock> flocks_;
};

}  // namespace vfs

#endif  // VFS_FILE_LOCKS_H_
