#include "vfs/fd_table.h"

#include <utility>

namespace vfs {

// Every OpenFile released here is released after the lock is dropped: its last
// release may call into a filesystem (FUSE RELEASE), which may block on a
// device.

FdTable::FdTable(base::Platform& platform, const void* lock_owner)
    : lock_owner_(lock_owner),
      lock_(platform.CreateLock()),
      slots_(new Slot[kMaxFds]) {}

FdTable::~FdTable() { CloseAll(); }

int FdTable::LowestFree(int lowest) const {
  for (int i = lowest; i < kMaxFds; ++i) {
    if (i >= used_end_ || !slots_[i].file) return i;
  }
  return -1;
}

FdTable::Slot* FdTable::Used(int fd) {
  if (fd < 0 || fd >= used_end_ || !slots_[fd].file) return nullptr;
  return &slots_[fd];
}

RefPtr<OpenFile> FdTable::Replace(int fd, RefPtr<OpenFile> file,
                                  bool close_on_exec) {
  Slot& slot = slots_[fd];
  SpinGuard guard(slot.lock);
  RefPtr<OpenFile> old = std::move(slot.file);
  slot.file = std::move(file);
  slot.close_on_exec = close_on_exec;
  if (fd >= used_end_) used_end_ = fd + 1;
  return old;
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
  const int fd = LowestFree(lowest);
  if (fd < 0) return Error{EMFILE};
  Replace(fd, std::move(file), close_on_exec);  // Named nothing.
  return fd;
}

Result<RefPtr<OpenFile>> FdTable::Get(int fd) {
  if (fd < 0 || fd >= kMaxFds) return Error{EBADF};
  Slot& slot = slots_[fd];
  SpinGuard guard(slot.lock);
  if (!slot.file) return Error{EBADF};
  return slot.file;
}

Result<void> FdTable::Close(int fd) {
  RefPtr<OpenFile> closed;
  {
    base::LockGuard guard(*lock_);
    if (!Used(fd)) return Error{EBADF};
    closed = Replace(fd, nullptr, false);
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
  SpinGuard slot_guard(slot->lock);
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
    replaced = Replace(new_fd, old_slot->file, false);
  }
  Closed(replaced);
  return new_fd;
}

void FdTable::CloseAll() {
  std::vector<RefPtr<OpenFile>> closed;
  {
    base::LockGuard guard(*lock_);
    for (int fd = 0; fd < used_end_; ++fd) {
      if (slots_[fd].file) closed.push_back(Replace(fd, nullptr, false));
    }
    used_end_ = 0;
  }
  for (const RefPtr<OpenFile>& file : closed) Closed(file);
}

}  // namespace vfs
