// vfs::FdTable: a process's file descriptors, each naming a shared OpenFile.
#ifndef VFS_FD_TABLE_H_
#define VFS_FD_TABLE_H_

#include <memory>
#include <vector>

#include "base/platform.h"
#include "base/result.h"
#include "vfs/open_file.h"
#include "vfs/ref_counted.h"

namespace vfs {

class FdTable {
 public:
  // RLIMIT_NOFILE's usual soft limit: descriptors are 0 .. kMaxFds - 1.
  static constexpr int kMaxFds = 1024;

  explicit FdTable(base::Platform& platform);
  ~FdTable();

  // The lowest free descriptor, now naming `file`. EMFILE when none is free.
  Result<int> Install(RefPtr<OpenFile> file, bool close_on_exec);
  // The file `fd` names (EBADF). The reference keeps it alive even if `fd` is
  // closed by another thread meanwhile.
  Result<RefPtr<OpenFile>> Get(int fd);
  Result<void> Close(int fd);
  // A new lowest descriptor for the same open file, close-on-exec clear.
  Result<int> Dup(int fd);
  // Makes `new_fd` name what `old_fd` names, closing what `new_fd` named first.
  Result<int> Dup2(int old_fd, int new_fd);
  // Closes everything (shutdown).
  void CloseAll();

 private:
  struct Slot {
    RefPtr<OpenFile> file;
    bool close_on_exec = false;
  };

  // With the lock held: the lowest free slot index, or -1.
  int LowestFree() const;

  std::unique_ptr<base::Lock> lock_;
  std::vector<Slot> slots_;
};

}  // namespace vfs

#endif  // VFS_FD_TABLE_H_
