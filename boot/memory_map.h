// The machine's RAM, as the PVH start info's memory map describes it.
// Everything in it below 4 GiB is identity mapped by the entry stub, so a RAM
// address is at once the CPU's and the device's (bus) address.
#ifndef BOOT_MEMORY_MAP_H_
#define BOOT_MEMORY_MAP_H_

#include <cstddef>
#include <cstdint>

#include "boot/pvh_start_info.h"

namespace boot {

struct PhysicalRange {
  uint64_t base = 0;
  uint64_t size = 0;
  uint64_t end() const { return base + size; }
};

class MemoryMap {
 public:
  static constexpr int kMaxRanges = 32;
  static constexpr uint64_t kIdentityMappedEnd = uint64_t{4} << 30;

  // Reads the RAM entries of a version 1 start info's memory map. Without one
  // (version 0) the map is empty: the caller falls back to a fixed range.
  void ParseStartInfo(const HvmStartInfo& info);
  // Records RAM, clipped to the identity-mapped first 4 GiB.
  void AddRam(uint64_t base, uint64_t size);

  // True when [address, address + size) lies in one RAM range.
  bool IsRam(uint64_t address, uint64_t size) const;
  // The largest part of RAM within [low, high), for the heap.
  PhysicalRange LargestFreeRange(uint64_t low, uint64_t high) const;

  int count() const { return count_; }
  const PhysicalRange& range(int i) const { return ranges_[i]; }

 private:
  PhysicalRange ranges_[kMaxRanges];
  int count_ = 0;
};

}  // namespace boot

#endif  // BOOT_MEMORY_MAP_H_
