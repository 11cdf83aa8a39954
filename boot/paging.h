// Identity mappings beyond what the entry stub set up. The stub maps the first
// 4 GiB (the top GiB uncached); PCI firmware may place 64-bit BARs far above
// that, and a BAR below 4 GiB may sit in a part mapped cacheable.
#ifndef BOOT_PAGING_H_
#define BOOT_PAGING_H_

#include <cstdint>

namespace boot {

// Identity-maps [base, base + size) as uncached device memory (PCD | PWT).
// False when the range lies beyond the CPU's physical address width.
bool MapDeviceMemory(uint64_t base, uint64_t size);

}  // namespace boot

#endif  // BOOT_PAGING_H_
