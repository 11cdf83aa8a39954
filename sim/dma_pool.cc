#include "sim/dma_pool.h"

#include <bit>

namespace sim {
namespace {

constexpr uint64_t kPage = 4096;
constexpr int kMinShift = std::countr_zero(DmaPool::kMinBlock);

}  // namespace

DmaPool::~DmaPool() {
  for (SizeClass& size_class : classes_) {
    for (uint64_t bus : size_class.all) allocator_.Free(bus);
  }
  for (uint64_t bus : unpooled_) allocator_.Free(bus);
}

int DmaPool::ClassOf(uint64_t size, uint64_t alignment) {
  if (size == 0 || size > kMaxBlock) return -1;
  const uint64_t block = std::bit_ceil(size < kMinBlock ? kMinBlock : size);
  if (alignment > (block < kPage ? block : kPage)) return -1;
  return std::countr_zero(block) - kMinShift;
}

std::optional<uint64_t> DmaPool::Allocate(uint64_t size, uint64_t alignment) {
  if (alignment == 0) alignment = 1;
  if ((alignment & (alignment - 1)) != 0) return std::nullopt;
  const int index = ClassOf(size, alignment);
  if (index < 0) {
    std::optional<uint64_t> bus = allocator_.Allocate(size, alignment);
    if (!bus) return std::nullopt;
    std::lock_guard<std::mutex> lock(unpooled_mutex_);
    unpooled_.insert(*bus);
    in_use_.fetch_add(1, std::memory_order_relaxed);
    return bus;
  }
  SizeClass& size_class = classes_[index];
  const uint64_t block = kMinBlock << index;
  std::lock_guard<std::mutex> lock(size_class.mutex);
  uint64_t bus;
  if (!size_class.free.empty()) {
    bus = size_class.free.back();
    size_class.free.pop_back();
  } else {
    std::optional<uint64_t> fresh =
        allocator_.Allocate(block, block < kPage ? block : kPage);
    if (!fresh) return std::nullopt;
    bus = *fresh;
    size_class.all.push_back(bus);
  }
  in_use_.fetch_add(1, std::memory_order_relaxed);
  return bus;
}

void DmaPool::Free(uint64_t bus, uint64_t size) {
  in_use_.fetch_sub(1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(unpooled_mutex_);
    if (unpooled_.erase(bus) != 0) {
      allocator_.Free(bus);
      return;
    }
  }
  SizeClass& size_class = classes_[ClassOf(size, 1)];
  std::lock_guard<std::mutex> lock(size_class.mutex);
  size_class.free.push_back(bus);
}

}  // namespace sim
