#include "vfs/fd_table.h"

#include <utility>

namespace vfs {

// Every OpenFile released here is released after the lock is dropped: its last
// release may call into a filesystem (FUSE RELEASE), which may block on a
// device.

FdTable::FdTable(base::Platform& platform) : lock_(platform.CreateLock()) {}

FdTable::~FdTable() { CloseAll(); }

int FdTable::LowestFree() const {
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i].file) return static_cast<int>(i);
  }
  return slots_.size() < kMaxFds ? static_cast<int>(slots_.size()) : -1;
}

Result<int> FdTable::Install(RefPtr<OpenFile> file, bool close_on_exec) {
  base::LockGuard guard(*lock_);
  int fd = LowestFree();
  if (fd < 0) return Error{EMFILE};
  if (static_cast<size_t>(fd) == slots_.size()) slots_.emplace_back();
  slots_[fd] = {std::move(file), close_on_exec};
  return fd;
}

Result<RefPtr<OpenFile>> FdTable::Get(int fd) {
  base::LockGuard guard(*lock_);
  if (fd < 0 || static_cast<size_t>(fd) >= slots_.size() || !slots_[fd].file) {
    return Error{EBADF};
  }
  return slots_[fd].file;
}

Result<void> FdTable::Close(int fd) {
  RefPtr<OpenFile> closed;
  base::LockGuard guard(*lock_);
  if (fd < 0 || static_cast<size_t>(fd) >= slots_.size() || !slots_[fd].file) {
    return Error{EBADF};
  }
  closed = std::move(slots_[fd].file);
  return {};
}

Result<int> FdTable::Dup(int fd) {
  RefPtr<OpenFile> file = TRY(Get(fd));
  return Install(std::move(file), false);
}

Result<int> FdTable::Dup2(int old_fd, int new_fd) {
  RefPtr<OpenFile> replaced;
  base::LockGuard guard(*lock_);
  if (old_fd < 0 || static_cast<size_t>(old_fd) >= slots_.size() ||
      !slots_[old_fd].file) {
    return Error{EBADF};
  }
  if (new_fd < 0 || new_fd >= kMaxFds) return Error{EBADF};
  if (old_fd == new_fd) return new_fd;
  if (static_cast<size_t>(new_fd) >= slots_.size()) slots_.resize(new_fd + 1);
  replaced = std::move(slots_[new_fd].file);
  slots_[new_fd] = {slots_[old_fd].file, false};
  return new_fd;
}

void FdTable::CloseAll() {
  std::vector<Slot> closed;
  base::LockGuard guard(*lock_);
  closed.swap(slots_);
}

}  // namespace vfs
