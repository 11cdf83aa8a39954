// What the start-up code (boot/start.cc) hands to the image's main function,
// and that function. The image ends with its outcome (boot/qemu_exit.h).
#ifndef BOOT_BOOT_INFO_H_
#define BOOT_BOOT_INFO_H_

#include <cstdint>

#include "boot/memory_map.h"
#include "boot/qemu_exit.h"

namespace boot {

struct BootInfo {
  const MemoryMap* ram = nullptr;
  PhysicalRange heap;
  // QEMU's -append string ("" without one).
  const char* command_line = "";
  // The ACPI RSDP's address from the start info; 0 when the loader gave none.
  uint64_t acpi_rsdp = 0;
};

// The image's main function, called once the CPU, console, heap and static
// constructors are up.
Outcome KernelMain(const BootInfo& info);

// True when the space-separated command line contains `word` exactly.
bool CommandLineHas(const char* command_line, const char* word);

}  // namespace boot

#endif  // BOOT_BOOT_INFO_H_
