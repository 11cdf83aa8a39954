// vfs::FdTable: a process's file descriptors, each naming a shared OpenFile.
#ifndef VFS_FD_TABLE_H_
#define VFS_FD_TABLE_H_

#include <memory>
#include <vector>

#include "base/platform.h"
#include "base/result.h"
#include "vfs/open_file.h"
#include "vfs/ref_counted.h"
#include "vfs/spin_lock.h"

namespace vfs {

class FdTable {
 public:
  // RLIMIT_NOFILE's usual soft limit: descriptors are 0 .. kMaxFds - 1.
  static constexpr int kMaxFds = 1024;

  // `lock_owner` owns the record locks taken through these descriptors
  // (the task): closing any descriptor of a file releases them all, as POSIX
  // says.
  FdTable(base::Platform& platform, const void* lock_owner);
  ~FdTable();

  // The lowest free descriptor not below `lowest`, now naming `file`. EMFILE
  // when none is free, EINVAL when `lowest` is out of range.
  Result<int> Install(RefPtr<OpenFile> file, bool close_on_exec,
                      int lowest = 0);
  // The file `fd` names (EBADF). The reference keeps it alive even if `fd` is
  // closed by another thread meanwhile.
  Result<RefPtr<OpenFile>> Get(int fd);
  Result<void> Close(int fd);
  // The descriptor's close-on-exec flag (F_GETFD, F_SETFD). EBADF.
  Result<bool> CloseOnExec(int fd);
  Result<void> SetCloseOnExec(int fd, bool close_on_exec);
  // A new lowest descriptor for the same open file, close-on-exec clear.
  Result<int> Dup(int fd);
  // Makes `new_fd` name what `old_fd` names, closing what `new_fd` named first.
  Result<int> Dup2(int old_fd, int new_fd);
  // Closes everything (shutdown).
  void CloseAll();

 private:
  // Each descriptor on a cache line of its own, with its own lock: Get takes
  // only that, so threads using different descriptors share nothing (as
  // Linux's lock-free fdget). Changes take lock_ and then the slot's lock.
  struct alignas(64) Slot {
    SpinLock lock;
    RefPtr<OpenFile> file;
    bool close_on_exec = false;
  };

  // With lock_ held: the lowest free slot index from `lowest` on, or -1.
  int LowestFree(int lowest) const;
  // With lock_ held: the slot `fd` names, or null.
  Slot* Used(int fd);
  // With lock_ held: makes `fd` name `file`; returns what it named.
  RefPtr<OpenFile> Replace(int fd, RefPtr<OpenFile> file, bool close_on_exec);
  // A descriptor of `file` was closed (after the lock is dropped).
  void Closed(const RefPtr<OpenFile>& file);

  const void* const lock_owner_;
  std::unique_ptr<base::Lock> lock_;
  const std::unique_ptr<Slot[]> slots_;  // kMaxFds of them.
  int used_end_ = 0;  // Slots from here on are free; under lock_.
};

}  // namespace vfs

#endif  // VFS_FD_TABLE_H_
