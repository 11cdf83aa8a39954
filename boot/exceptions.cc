#include "boot/exceptions.h"

#include <cstdint>

#include "boot/qemu_exit.h"
#include "boot/serial_console.h"
#include "boot/x86.h"

// One handler address per vector, from boot/pvh_entry.S.
extern "C" const uint64_t boot_exception_stubs[32];

namespace boot {
namespace {

constexpr uint16_t kKernelCodeSelector = 0x08;
constexpr uint8_t kInterruptGate =
    0x8e;  // Present, ring 0, 64-bit interrupt gate.

struct [[gnu::packed]] IdtEntry {
  uint16_t offset_low;
  uint16_t selector;
  uint8_t ist;
  uint8_t type_attributes;
  uint16_t offset_middle;
  uint32_t offset_high;
  uint32_t reserved;
};
static_assert(sizeof(IdtEntry) == 16);

struct [[gnu::packed]] IdtPointer {
  uint16_t limit;
  uint64_t base;
};

// All 256 vectors: exceptions here, interrupts from boot/interrupts.cc. A
// vector without a gate is not present: taking it raises a reported #NP.
alignas(16) IdtEntry idt[256];

const char* const kVectorNames[32] = {"divide error",
                                      "debug",
                                      "NMI",
                                      "breakpoint",
                                      "overflow",
                                      "bound range",
                                      "invalid opcode",
                                      "device not available",
                                      "double fault",
                                      "coprocessor overrun",
                                      "invalid TSS",
                                      "segment not present",
                                      "stack fault",
                                      "general protection",
                                      "page fault",
                                      "reserved",
                                      "x87 floating point",
                                      "alignment check",
                                      "machine check",
                                      "SIMD floating point",
                                      "virtualization",
                                      "control protection",
                                      "reserved",
                                      "reserved",
                                      "reserved",
                                      "reserved",
                                      "reserved",
                                      "reserved",
                                      "hypervisor injection",
                                      "VMM communication",
                                      "security",
                                      "reserved"};

}  // namespace

// The frame boot_exception_common passes: the stub's two words, then the CPU's.
struct ExceptionFrame {
  uint64_t vector;
  uint64_t error_code;
  uint64_t rip;
  uint64_t cs;
  uint64_t rflags;
  uint64_t rsp;
  uint64_t ss;
};

void SetInterruptGate(uint8_t vector, uint64_t handler) {
  idt[vector] = IdtEntry{
      .offset_low = static_cast<uint16_t>(handler),
      .selector = kKernelCodeSelector,
      .ist = 0,
      .type_attributes = kInterruptGate,
      .offset_middle = static_cast<uint16_t>(handler >> 16),
      .offset_high = static_cast<uint32_t>(handler >> 32),
      .reserved = 0,
  };
}

void InstallExceptionHandlers() {
  for (int vector = 0; vector < 32; ++vector) {
    SetInterruptGate(static_cast<uint8_t>(vector),
                     boot_exception_stubs[vector]);
  }
  const IdtPointer pointer{sizeof(idt) - 1, reinterpret_cast<uint64_t>(idt)};
  asm volatile("lidt %0" : : "m"(pointer));
}

}  // namespace boot

extern "C" [[noreturn]] void boot_exception(const boot::ExceptionFrame* frame) {
  boot::SerialPrintf(
      "\nboot: CPU exception %llu (%s), error code 0x%llx\n"
      "boot:   rip 0x%llx rsp 0x%llx rflags 0x%llx cr2 0x%llx\n",
      static_cast<unsigned long long>(frame->vector),
      boot::kVectorNames[frame->vector & 31],
      static_cast<unsigned long long>(frame->error_code),
      static_cast<unsigned long long>(frame->rip),
      static_cast<unsigned long long>(frame->rsp),
      static_cast<unsigned long long>(frame->rflags),
      static_cast<unsigned long long>(boot::ReadCr2()));
  boot::ExitQemu(boot::Outcome::kFail);
}
