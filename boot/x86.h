// The x86 instructions the image needs that C++ has no words for: port I/O, the
// time stamp counter, CPUID, control registers, MSRs, the interrupt flag.
#ifndef BOOT_X86_H_
#define BOOT_X86_H_

#include <cstdint>

namespace boot {

inline void Out8(uint16_t port, uint8_t value) {
  asm volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}
inline void Out16(uint16_t port, uint16_t value) {
  asm volatile("outw %0, %1" : : "a"(value), "Nd"(port));
}
inline void Out32(uint16_t port, uint32_t value) {
  asm volatile("outl %0, %1" : : "a"(value), "Nd"(port));
}
inline uint8_t In8(uint16_t port) {
  uint8_t value;
  asm volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
  return value;
}
inline uint16_t In16(uint16_t port) {
  uint16_t value;
  asm volatile("inw %1, %0" : "=a"(value) : "Nd"(port));
  return value;
}
inline uint32_t In32(uint16_t port) {
  uint32_t value;
  asm volatile("inl %1, %0" : "=a"(value) : "Nd"(port));
  return value;
}

// rdtsc is not ordered against earlier loads; lfence makes it so (Intel and AMD
// with LFENCE serialising, which QEMU's TCG is).
inline uint64_t ReadTsc() {
  uint32_t low, high;
  asm volatile("lfence; rdtsc" : "=a"(low), "=d"(high) : : "memory");
  return (uint64_t{high} << 32) | low;
}

inline void Pause() { __builtin_ia32_pause(); }

struct CpuidResult {
  uint32_t eax, ebx, ecx, edx;
};
inline CpuidResult Cpuid(uint32_t leaf, uint32_t subleaf = 0) {
  CpuidResult r;
  asm volatile("cpuid"
               : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
               : "a"(leaf), "c"(subleaf));
  return r;
}

inline uint64_t ReadCr2() {
  uint64_t value;
  asm volatile("mov %%cr2, %0" : "=r"(value));
  return value;
}
inline uint64_t ReadCr3() {
  uint64_t value;
  asm volatile("mov %%cr3, %0" : "=r"(value));
  return value;
}
inline void WriteCr3(uint64_t value) {
  asm volatile("mov %0, %%cr3" : : "r"(value) : "memory");
}

inline uint64_t ReadMsr(uint32_t msr) {
  uint32_t low, high;
  asm volatile("rdmsr" : "=a"(low), "=d"(high) : "c"(msr));
  return (uint64_t{high} << 32) | low;
}
inline void WriteMsr(uint32_t msr, uint64_t value) {
  asm volatile("wrmsr"
               :
               : "c"(msr), "a"(static_cast<uint32_t>(value)),
                 "d"(static_cast<uint32_t>(value >> 32))
               : "memory");
}

// Sleeps until an interrupt, which runs before this returns. STI takes effect
// only after the next instruction, so an interrupt that became pending while
// interrupts were off (IF clear) is taken in the HLT and ends it: a check made
// with interrupts off, followed by this, cannot miss the interrupt it waits
// for. Interrupts are off again on return.
inline void EnableInterruptsAndHalt() {
  asm volatile("sti; hlt; cli" ::: "memory");
}

[[noreturn]] inline void HaltForever() {
  for (;;) asm volatile("cli; hlt");
}

}  // namespace boot

#endif  // BOOT_X86_H_
