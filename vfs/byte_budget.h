// vfs::ByteBudget: memory that many holders of one filesystem take from
// together, bounded at kMaxBytes so that no kind of cache can grow without
// limit (FuseFs's read-ahead windows, its cached listings).
#ifndef VFS_BYTE_BUDGET_H_
#define VFS_BYTE_BUDGET_H_

#include <atomic>
#include <cstddef>

namespace vfs {

template <size_t kMax>
class ByteBudget {
 public:
  static constexpr size_t kMaxBytes = kMax;

  // Takes `bytes` when as much stays free as `keep_free` asks.
  bool Take(size_t bytes, size_t keep_free = 0) {
    size_t used = used_.load(std::memory_order_relaxed);
    do {
      if (used + bytes + keep_free > kMaxBytes) return false;
    } while (!used_.compare_exchange_weak(used, used + bytes,
                                          std::memory_order_relaxed));
    return true;
  }
  void Give(size_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }
  size_t used() const { return used_.load(std::memory_order_relaxed); }

 private:
  std::atomic<size_t> used_{0};
};

}  // namespace vfs

#endif  // VFS_BYTE_BUDGET_H_
