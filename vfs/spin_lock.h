// vfs::SpinLock: a lock for state held a few instructions at a time, kept in
// objects that have no Platform to make a base::Lock with, or that are made
// and dropped too often to allocate one (nodes).
#ifndef VFS_SPIN_LOCK_H_
#define VFS_SPIN_LOCK_H_

#include <atomic>

namespace vfs {

class SpinLock {
 public:
  void Acquire() {
    while (busy_.exchange(true, std::memory_order_acquire)) {
      while (busy_.load(std::memory_order_relaxed)) {
      }
    }
  }
  void Release() { busy_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> busy_{false};
};

class SpinGuard {
 public:
  explicit SpinGuard(SpinLock& lock) : lock_(lock) { lock_.Acquire(); }
  ~SpinGuard() { lock_.Release(); }
  SpinGuard(const SpinGuard&) = delete;
  SpinGuard& operator=(const SpinGuard&) = delete;

 private:
  SpinLock& lock_;
};

}  // namespace vfs

#endif  // VFS_SPIN_LOCK_H_
