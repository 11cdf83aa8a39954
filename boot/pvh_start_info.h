// The PVH boot ABI's start-of-day structures (Xen's public
// arch-x86/hvm/start_info.h, which Debian ships only with the Xen development
// headers): the PVH entry receives a pointer to hvm_start_info in %ebx. Version
// 1 adds the memory map QEMU's pvh.bin fills in from its e820 table.
#ifndef BOOT_PVH_START_INFO_H_
#define BOOT_PVH_START_INFO_H_

#include <cstdint>

namespace boot {

inline constexpr uint32_t kHvmStartMagic = 0x336ec578;

struct HvmStartInfo {
  uint32_t magic;
  uint32_t version;
  uint32_t flags;
  uint32_t nr_modules;
  uint64_t modlist_paddr;
  uint64_t cmdline_paddr;
  uint64_t rsdp_paddr;
  // Version 1 and later.
  uint64_t memmap_paddr;
  uint32_t memmap_entries;
  uint32_t reserved;
};
static_assert(sizeof(HvmStartInfo) == 56);

// Entry types are the e820 ones.
inline constexpr uint32_t kHvmMemmapTypeRam = 1;

struct HvmMemmapEntry {
  uint64_t addr;
  uint64_t size;
  uint32_t type;
  uint32_t reserved;
};
static_assert(sizeof(HvmMemmapEntry) == 24);

}  // namespace boot

#endif  // BOOT_PVH_START_INFO_H_
