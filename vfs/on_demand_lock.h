// vfs::OnDemandLock: a platform lock (base::Lock, one that may be held across
// a request to the device) made the first time it is taken. For locks most
// objects never take: an open file's offset lock (open+close, pread and pwrite
// never use the offset) and a file node's append lock (most files are never
// appended to, and a directory walk makes a node for every file it stats).
// Making one costs an allocation and its free.
#ifndef VFS_ON_DEMAND_LOCK_H_
#define VFS_ON_DEMAND_LOCK_H_

#include <atomic>
#include <memory>

#include "base/platform.h"

namespace vfs {

class OnDemandLock {
 public:
  explicit OnDemandLock(base::Platform& platform) : platform_(platform) {}
  ~OnDemandLock() { delete lock_.load(std::memory_order_relaxed); }
  OnDemandLock(const OnDemandLock&) = delete;
  OnDemandLock& operator=(const OnDemandLock&) = delete;

  // The lock, made now on its first use. Thread-safe: of two first uses at
  // once, one lock is kept and the other dropped.
  base::Lock& Get() {
    base::Lock* lock = lock_.load(std::memory_order_acquire);
    if (lock != nullptr) return *lock;
    std::unique_ptr<base::Lock> made = platform_.CreateLock();
    if (lock_.compare_exchange_strong(lock, made.get(),
                                      std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
      return *made.release();
    }
    return *lock;  // Another thread made it first.
  }

 private:
  base::Platform& platform_;
  std::atomic<base::Lock*> lock_{nullptr};
};

}  // namespace vfs

#endif  // VFS_ON_DEMAND_LOCK_H_
