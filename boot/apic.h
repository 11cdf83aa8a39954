// The interrupt controllers of a PC: this CPU's local APIC, I/O APICs, and the
// legacy 8259 pair that must be kept quiet.
//
// The local APIC is used in xAPIC mode, through its registers at the physical
// address in IA32_APIC_BASE (0xfee00000, in the top GiB the entry stub maps
// uncached). x2APIC (the same registers as MSRs) would save nothing here, and
// QEMU 7.2's TCG, the accelerator the image runs under, does not offer it;
// every x86 CPU with an APIC has xAPIC mode.
//
// Register layouts: Intel SDM volume 3, chapter 11 ("Advanced Programmable
// Interrupt Controller"); the I/O APIC: Intel 82093AA datasheet.
#ifndef BOOT_APIC_H_
#define BOOT_APIC_H_

#include <cstdint>

namespace boot {

// The vector the local APIC delivers for a spurious interrupt. It needs no
// EOI.
inline constexpr uint8_t kSpuriousVector = 0xff;
// Where the legacy PICs' 16 vectors are moved, away from the CPU exceptions
// (the firmware leaves the master PIC at vector 8, the double fault's).
inline constexpr uint8_t kLegacyPicVectorBase = 0x20;

// Enables this CPU's local APIC (globally, in IA32_APIC_BASE, and in software,
// in the spurious-interrupt vector register) with task priority 0, so that it
// accepts every vector. False when the CPU has no APIC.
bool EnableLocalApic();
// This CPU's APIC id: where MSIs and I/O APIC entries send their interrupts.
uint32_t LocalApicId();
// Ends the interrupt in service. For a level-triggered one the local APIC
// passes the EOI on to the I/O APICs, which deliver again if the line is still
// asserted.
void SignalEndOfInterrupt();

// The local APIC timer, one-shot: counts down from `count` at its own rate
// (measure it against another clock: it is the APIC's bus clock, which CPUID
// need not report) and then interrupts on `vector`, once. Stop disarms it.
void StartLocalApicTimer(uint8_t vector, uint32_t count);
void StopLocalApicTimer();
uint32_t LocalApicTimerCount();

// A message-signalled interrupt (MSI, MSI-X) is a write of MsiData to
// MsiAddress, which the local APICs decode (Intel SDM 11.11): the destination
// APIC id in the address, the vector in the data; fixed delivery, physical
// destination, edge-triggered.
inline uint32_t MsiAddress(uint32_t apic_id) {
  return 0xfee00000 | (apic_id & 0xff) << 12;
}
inline uint32_t MsiData(uint8_t vector) { return vector; }

// Remaps the two 8259 PICs to kLegacyPicVectorBase.. and masks all 16 lines.
// The image takes no interrupt through them; remapping first keeps even a
// spurious IRQ 7 away from the exception vectors.
void DisableLegacyPics();

// The trigger and polarity of an I/O APIC input.
enum class Trigger : uint8_t { kEdge, kLevel };
enum class Polarity : uint8_t { kActiveHigh, kActiveLow };

// One I/O APIC: indirect access through IOREGSEL (base + 0) and IOWIN
// (base + 0x10). Its inputs serve GSIs gsi_base .. gsi_base + pins() - 1.
class IoApic {
 public:
  IoApic(uint64_t base, uint32_t gsi_base) : base_(base), gsi_base_(gsi_base) {}

  uint64_t base() const { return base_; }
  uint32_t gsi_base() const { return gsi_base_; }
  // Inputs (redirection entries), from the version register.
  unsigned pins();
  // Programs input `pin` to deliver `vector` to local APIC `apic_id` (fixed
  // delivery, physical destination), masked.
  void Route(unsigned pin, uint8_t vector, Trigger trigger, Polarity polarity,
             uint32_t apic_id);
  void SetMasked(unsigned pin, bool masked);

 private:
  uint32_t Read(uint32_t index);
  void Write(uint32_t index, uint32_t value);

  uint64_t base_;
  uint32_t gsi_base_;
};

}  // namespace boot

#endif  // BOOT_APIC_H_
