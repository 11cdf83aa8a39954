// From the entry stub to KernelMain: console, exception handlers, memory map,
// heap, static constructors. Also the kernel runtime's Panic for this image.
#include <cstdint>

#include "boot/boot_info.h"
#include "boot/exceptions.h"
#include "boot/interrupts.h"
#include "boot/memory_map.h"
#include "boot/pvh_start_info.h"
#include "boot/qemu_exit.h"
#include "boot/serial_console.h"
#include "kernel/runtime.h"

// From the linker script (boot/image.ld).
extern "C" {
extern void (*__init_array_start[])();
extern void (*__init_array_end[])();
extern char __image_start[];
extern char __image_end[];
}

namespace kernel {

// Replaces the runtime's weak default (a silent halt).
void Panic(const char* message) {
  boot::SerialPrintf("\nPANIC: %s\n", message);
  boot::ExitQemu(boot::Outcome::kFail);
}

}  // namespace kernel

namespace boot {
namespace {

// Used when the start info has no memory map (PVH version 0): the guest is
// started with at least 128 MiB, so 64 MiB after the image is RAM.
constexpr uint64_t kFallbackHeapSize = uint64_t{64} << 20;
constexpr uint64_t kPageSize = 4096;

MemoryMap ram;
char command_line[256];
uint64_t acpi_rsdp = 0;

void CopyCommandLine(const HvmStartInfo& info) {
  if (info.cmdline_paddr == 0) return;
  const auto* source =
      reinterpret_cast<const char*>(static_cast<uintptr_t>(info.cmdline_paddr));
  size_t i = 0;
  for (; i + 1 < sizeof(command_line) && source[i]; ++i)
    command_line[i] = source[i];
  command_line[i] = '\0';
}

}  // namespace

bool CommandLineHas(const char* line, const char* word) {
  for (const char* p = line; *p;) {
    while (*p == ' ') ++p;
    const char* start = p;
    while (*p && *p != ' ') ++p;
    size_t i = 0;
    while (start + i < p && word[i] && start[i] == word[i]) ++i;
    if (start + i == p && word[i] == '\0' && p > start) return true;
  }
  return false;
}

}  // namespace boot

extern "C" [[noreturn]] void boot_main(const boot::HvmStartInfo* start_info) {
  using namespace boot;
  SerialInit();
  InstallExceptionHandlers();
  InstallInterruptVectors();
  SerialWrite("\nboot: PVH entry reached, long mode on\n");

  if (start_info != nullptr && start_info->magic == kHvmStartMagic) {
    ram.ParseStartInfo(*start_info);
    CopyCommandLine(*start_info);
    acpi_rsdp = start_info->rsdp_paddr;
  } else {
    SerialWrite("boot: no PVH start info (bad magic)\n");
  }
  const uint64_t image_end =
      (reinterpret_cast<uintptr_t>(__image_end) + kPageSize - 1) &
      ~(kPageSize - 1);
  if (ram.count() == 0) {
    SerialWrite(
        "boot: no memory map; assuming 64 MiB of RAM after the image\n");
    const auto image_start = reinterpret_cast<uintptr_t>(__image_start);
    ram.AddRam(image_start, image_end - image_start + kFallbackHeapSize);
  }
  BootInfo info;
  info.ram = &ram;
  info.command_line = command_line;
  info.acpi_rsdp = acpi_rsdp;
  info.heap = ram.LargestFreeRange(image_end, MemoryMap::kIdentityMappedEnd);
  if (info.heap.size < (uint64_t{4} << 20))
    kernel::Panic("less than 4 MiB for the heap");
  kernel::HeapInit(
      reinterpret_cast<void*>(static_cast<uintptr_t>(info.heap.base)),
      info.heap.size);

  for (auto* constructor = __init_array_start; constructor != __init_array_end;
       ++constructor) {
    (*constructor)();
  }
  ExitQemu(KernelMain(info));
}
