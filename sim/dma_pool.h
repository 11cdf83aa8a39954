// DmaPool: the simulated guest's DMA memory as the platform hands it out,
// size-class free lists over a DmaAllocator.
//
// A block freed here is kept on its class's list for the next allocation of
// that class and is not cleared again: allocation and free cost a lock and a
// vector push or pop, not a walk of the allocator's map and a memset. Blocks
// are powers of two from kMinBlock to kMaxBlock bytes, aligned to their size
// up to a page; a larger size or stricter alignment goes to the allocator each
// time. Thread-safe.
#ifndef SIM_DMA_POOL_H_
#define SIM_DMA_POOL_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include "sim/dma_allocator.h"

namespace sim {

class DmaPool {
 public:
  static constexpr uint64_t kMinBlock = 64;
  static constexpr uint64_t kMaxBlock = uint64_t{1} << 20;

  explicit DmaPool(DmaAllocator& allocator) : allocator_(allocator) {}
  // Gives every block, kept or handed out, back to the allocator.
  ~DmaPool();
  DmaPool(const DmaPool&) = delete;
  DmaPool& operator=(const DmaPool&) = delete;

  // The bus address of `size` bytes aligned to `alignment` (a power of two),
  // contents undefined; nullopt when guest memory has no room.
  std::optional<uint64_t> Allocate(uint64_t size, uint64_t alignment);
  // Returns a block from Allocate(size, ...).
  void Free(uint64_t bus, uint64_t size);

  // Blocks handed out and not freed.
  size_t in_use() const { return in_use_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kClasses = 15;  // 64 B ... 1 MiB.
  struct SizeClass {
    std::mutex mutex;
    std::vector<uint64_t> free;  // Bus addresses of kept blocks.
    std::vector<uint64_t> all;   // Every block of the class, to give back.
  };

  // The class of a block for `size` bytes aligned to `alignment`, or -1.
  static int ClassOf(uint64_t size, uint64_t alignment);

  DmaAllocator& allocator_;
  std::array<SizeClass, kClasses> classes_;
  // Blocks outside the classes (too large, or aligned more strictly than
  // their class), which go back to the allocator when freed.
  std::mutex unpooled_mutex_;
  std::set<uint64_t> unpooled_;
  std::atomic<size_t> in_use_{0};
};

}  // namespace sim

#endif  // SIM_DMA_POOL_H_
