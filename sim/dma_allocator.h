// A first-fit allocator of DMA buffers over a range of guest memory, behind
// SimPlatform::AllocateDma. Thread-safe. Memory handed out is zero-filled.
#ifndef SIM_DMA_ALLOCATOR_H_
#define SIM_DMA_ALLOCATOR_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>

#include "sim/guest_memory.h"

namespace sim {

class DmaAllocator {
 public:
  // Manages bus range [begin, begin + size), which must lie inside `memory`.
  DmaAllocator(const GuestMemory& memory, uint64_t begin, uint64_t size);
  // Manages all of `memory`.
  explicit DmaAllocator(const GuestMemory& memory);

  // The bus address of `size` zeroed bytes aligned to `alignment` (a power of
  // two; 0 means 1), or nullopt when size is 0, alignment is not a power of
  // two, or no block fits.
  std::optional<uint64_t> Allocate(uint64_t size, uint64_t alignment);
  // Returns a block from Allocate. False (and nothing changes) for an address
  // that is not the start of a live allocation.
  bool Free(uint64_t bus);

  uint64_t bytes_free() const;
  size_t live_allocations() const;

 private:
  const GuestMemory& memory_;
  mutable std::mutex mutex_;
  std::map<uint64_t, uint64_t>
      free_;  // bus address -> length, disjoint, coalesced.
  std::map<uint64_t, uint64_t> live_;  // bus address -> length.
};

}  // namespace sim

#endif  // SIM_DMA_ALLOCATOR_H_
