#include "boot/paging.h"

#include <cstring>
#include <new>

#include "boot/x86.h"

// The entry stub's top-level table (boot/pvh_entry.S).
extern "C" uint64_t boot_pml4[512];

namespace boot {
namespace {

constexpr uint64_t kPresent = 0x1;
constexpr uint64_t kWrite = 0x2;
constexpr uint64_t kWriteThrough = 0x8;
constexpr uint64_t kCacheDisable = 0x10;
constexpr uint64_t kLarge = 0x80;
constexpr uint64_t kAddressMask = 0x000ffffffffff000;

constexpr uint64_t k2MiB = uint64_t{1} << 21;
constexpr uint64_t k1GiB = uint64_t{1} << 30;
constexpr uint64_t kDeviceFlags =
    kPresent | kWrite | kWriteThrough | kCacheDisable;

uint64_t* TableAt(uint64_t entry) {
  return reinterpret_cast<uint64_t*>(
      static_cast<uintptr_t>(entry & kAddressMask));
}

// The next-level table under `entry`, created (zeroed) when absent. Page tables
// come from the heap, which is identity-mapped RAM.
uint64_t* NextTable(uint64_t& entry) {
  if (!(entry & kPresent)) {
    auto* table =
        static_cast<uint64_t*>(::operator new (4096, std::align_val_t{4096}));
    memset(table, 0, 4096);
    entry = reinterpret_cast<uintptr_t>(table) | kPresent | kWrite;
  }
  return TableAt(entry);
}

bool HasGigabytePages() { return Cpuid(0x80000001).edx & (1u << 26); }

unsigned PhysicalAddressBits() {
  if (Cpuid(0x80000000).eax >= 0x80000008) return Cpuid(0x80000008).eax & 0xff;
  return 36;
}

}  // namespace

bool MapDeviceMemory(uint64_t base, uint64_t size) {
  if (size == 0) return true;
  const uint64_t end = base + size;
  if (end < base || end > (uint64_t{1} << PhysicalAddressBits())) return false;
  const bool gigabyte_pages = HasGigabytePages();
  uint64_t address = base & ~(k2MiB - 1);
  while (address < end) {
    uint64_t* pdpt = NextTable(boot_pml4[(address >> 39) & 511]);
    uint64_t& pdpt_entry = pdpt[(address >> 30) & 511];
    if (gigabyte_pages && !(pdpt_entry & kPresent)) {
      // A fresh GiB: one page maps all of it.
      const uint64_t gigabyte = address & ~(k1GiB - 1);
      pdpt_entry = gigabyte | kDeviceFlags | kLarge;
      address = gigabyte + k1GiB;
      continue;
    }
    if (pdpt_entry & kLarge) {
      // Already a 1 GiB page (only this function makes them): make it uncached.
      pdpt_entry |= kWriteThrough | kCacheDisable;
      address = (address & ~(k1GiB - 1)) + k1GiB;
      continue;
    }
    uint64_t* directory = NextTable(pdpt_entry);
    directory[(address >> 21) & 511] = address | kDeviceFlags | kLarge;
    address += k2MiB;
  }
  // Flush the TLB: an entry may have changed, not just been added.
  WriteCr3(ReadCr3());
  return true;
}

}  // namespace boot
