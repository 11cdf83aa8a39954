#include "vfs/fd_table.h"

#include <utility>

namespace vfs {

// Every OpenFile released here is released after the lock is dropped: its last
// release may call into a filesystem (FUSE RELEASE), which may block on a
// device.

FdTable::FdTable(base::Platform& platform, const void* lock_owner)
    : lock_owner_(lock_owner), lock_(platform.CreateLock()) {}

FdTable::~FdTable() { CloseAll(); }

int FdTable::LowestFree(int lowest) const {
  for (size_t i = lowest; i < slots_.size(); ++i) {
    if (!slots_[i].file) return static_cast<int>(i);
  }
  const size_t next = slots_.size() > static_cast<size_t>(lowest)
                          ? slots_.size()
                          : static_cast<size_t>(lowest);
  return next < kMaxFds ? static_cast<int>(next) : -1;
}

FdTable::Slot* FdTable::Used(int fd) {
  if (fd < 0 || static_cast<size_t>(fd) >= slots_.size() || !slots_[fd].file) {
    return nullptr;
  }
  return &slots_[fd];
}

void FdTable::Closed(const RefPtr<OpenFile>& file) {
  if (!file) return;
  if (FileLocks* locks = file->node().existing_locks()) {
    locks->ReleaseRecords(lock_owner_);
  }
}

Result<int> FdTable::Install(RefPtr<OpenFile> file, bool close_on_exec,
                             int lowest) {
  if (lowest < 0 || lowest >= kMaxFds) return Error{EINVAL};
  base::LockGuard guard(*lock_);
  int fd = LowestFree(lowest);
  if (fd < 0) return Error{EMFILE};
  if (static_cast<size_t>(fd) >= slots_.size()) slots_.resize(fd + 1);
  slots_[fd] = {std::move(file), close_on_exec};
  return fd;
}

Result<RefPtr<OpenFile>> FdTable::Get(int fd) {
  base::LockGuard guard(*lock_);
  Slot* slot = Used(fd);
  if (!slot) return Error{EBADF};
  return slot->file;
}

Result<void> FdTable::Close(int fd) {
  RefPtr<OpenFile> closed;
  {
    base::LockGuard guard(*lock_);
    Slot* slot = Used(fd);
    if (!slot) return Error{EBADF};
    closed = std::move(slot->file);
  }
  Closed(closed);
  return {};
}

Result<bool> FdTable::CloseOnExec(int fd) {
  base::LockGuard guard(*lock_);
  Slot* slot = Used(fd);
  if (!slot) return Error{EBADF};
  return slot->close_on_exec;
}

Result<void> FdTable::SetCloseOnExec(int fd, bool close_on_exec) {
  base::LockGuard guard(*lock_);
  Slot* slot = Used(fd);
  if (!slot) return Error{EBADF};
  slot->close_on_exec = close_on_exec;
  return {};
}

Result<int> FdTable::Dup(int fd) {
  RefPtr<OpenFile> file = TRY(Get(fd));
  return Install(std::move(file), false);
}

Result<int> FdTable::Dup2(int old_fd, int new_fd) {
  RefPtr<OpenFile> replaced;
  {
    base::LockGuard guard(*lock_);
    Slot* old_slot = Used(old_fd);
    if (!old_slot) return Error{EBADF};
    if (new_fd < 0 || new_fd >= kMaxFds) return Error{EBADF};
    if (old_fd == new_fd) return new_fd;
    if (static_cast<size_t>(new_fd) >= slots_.size()) {
      slots_.resize(new_fd + 1);
    }
    replaced = std::move(slots_[new_fd].file);
    slots_[new_fd] = {slots_[old_fd].file, false};
  }
  Closed(replaced);
  return new_fd;
}

void FdTable::CloseAll() {
  std::vector<Slot> closed;
  {
    base::LockGuard guard(*lock_);
    closed.swap(slots_);
  }
  for (const Slot& slot : closed) Closed(slot.file);
}

}  // namespace vfs
