#include "sim/dma_allocator.h"

#include <cstring>
#include <iterator>

namespace sim {

DmaAllocator::DmaAllocator(const GuestMemory& memory, uint64_t begin,
                           uint64_t size)
    : memory_(memory) {
  if (size != 0 && memory.Contains(begin, size)) free_[begin] = size;
}

DmaAllocator::DmaAllocator(const GuestMemory& memory)
    : DmaAllocator(memory, memory.base(), memory.size()) {}

std::optional<uint64_t> DmaAllocator::Allocate(uint64_t size,
                                               uint64_t alignment) {
  if (alignment == 0) alignment = 1;
  if (size == 0 || (alignment & (alignment - 1)) != 0) return std::nullopt;
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    uint64_t block = it->first;
    uint64_t length = it->second;
    uint64_t padding = (alignment - block % alignment) % alignment;
    if (padding > length || size > length - padding) continue;
    uint64_t start = block + padding;
    uint64_t tail = length - padding - size;
    free_.erase(it);
    if (padding != 0) free_[block] = padding;
    if (tail != 0) free_[start + size] = tail;
    live_[start] = size;
    std::memset(memory_.HostPointer(start, size), 0, size);
    return start;
  }
  return std::nullopt;
}

bool DmaAllocator::Free(uint64_t bus) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto live = live_.find(bus);
  if (live == live_.end()) return false;
  uint64_t start = bus;
  uint64_t length = live->second;
  live_.erase(live);
  // Coalesce with the free neighbours on both sides.
  auto next = free_.lower_bound(start);
  if (next != free_.end() && next->first == start + length) {
    length += next->second;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {
    auto previous = std::prev(next);
    if (previous->first + previous->second == start) {
      previous->second += length;
      return true;
    }
  }
  free_[start] = length;
  return true;
}

uint64_t DmaAllocator::bytes_free() const {
  std::lock_guard<std::mutex> lock(mutex_);
  uint64_t total = 0;
  for (const auto& [start, length] : free_) total += length;
  return total;
}

size_t DmaAllocator::live_allocations() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return live_.size();
}

}  // namespace sim
