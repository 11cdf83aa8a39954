#include "boot/memory_map.h"

namespace boot {

void MemoryMap::ParseStartInfo(const HvmStartInfo& info) {
  if (info.version < 1 || info.memmap_paddr == 0) return;
  const auto* entries = reinterpret_cast<const HvmMemmapEntry*>(
      static_cast<uintptr_t>(info.memmap_paddr));
  for (uint32_t i = 0; i < info.memmap_entries; ++i) {
    if (entries[i].type == kHvmMemmapTypeRam)
      AddRam(entries[i].addr, entries[i].size);
  }
}

void MemoryMap::AddRam(uint64_t base, uint64_t size) {
  if (base >= kIdentityMappedEnd || count_ == kMaxRanges) return;
  if (size > kIdentityMappedEnd - base) size = kIdentityMappedEnd - base;
  if (size == 0) return;
  ranges_[count_++] = PhysicalRange{base, size};
}

bool MemoryMap::IsRam(uint64_t address, uint64_t size) const {
  if (address + size < address) return false;
  for (int i = 0; i < count_; ++i) {
    if (address >= ranges_[i].base && address + size <= ranges_[i].end())
      return true;
  }
  return false;
}

PhysicalRange MemoryMap::LargestFreeRange(uint64_t low, uint64_t high) const {
  PhysicalRange best;
  for (int i = 0; i < count_; ++i) {
    const uint64_t base = ranges_[i].base > low ? ranges_[i].base : low;
    const uint64_t end = ranges_[i].end() < high ? ranges_[i].end() : high;
    if (end > base && end - base > best.size)
      best = PhysicalRange{base, end - base};
  }
  return best;
}

}  // namespace boot
