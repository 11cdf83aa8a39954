// The few ACPI facts the image needs to route a virtio-mmio device's
// interrupt: where the I/O APICs are and which GSIs they serve (the MADT), and
// which GSI the firmware gives the device (the DSDT).
//
// QEMU's microvm describes each virtio-mmio transport that has a device
// plugged in as an ACPI device (_HID "LNRO0005") whose _CRS is a resource
// template of two descriptors: Memory32Fixed(base, 512) and an Extended
// Interrupt (level, active high). Rather than interpret AML, the lookup finds
// that template's bytes by the register block's base: a resource template is
// a plain AML buffer, so its descriptors lie in the DSDT as the ACPI spec
// (6.4, section 6.4 "Resource Data Types") lays them out.
//
// Tables are read where the firmware left them (identity-mapped RAM below
// 4 GiB); each one's checksum is verified before use.
#ifndef BOOT_ACPI_H_
#define BOOT_ACPI_H_

#include <cstdint>

#include "boot/apic.h"

namespace boot {

struct IoApicDescription {
  uint8_t id = 0;
  uint32_t address = 0;
  uint32_t gsi_base = 0;
};

// A device's interrupt as the firmware describes it.
struct DeviceIrq {
  uint32_t gsi = 0;
  Trigger trigger = Trigger::kLevel;
  Polarity polarity = Polarity::kActiveHigh;
};

class AcpiTables {
 public:
  static constexpr int kMaxIoApics = 8;

  // Finds the RSDP (at `rsdp_hint` when nonzero, the PVH start info's;
  // otherwise in the BIOS area, 0xe0000..0xfffff), the MADT and the DSDT.
  // False when there is no valid RSDP: the machine has no ACPI.
  bool Find(uint64_t rsdp_hint);

  uint64_t rsdp() const { return rsdp_; }
  int io_apic_count() const { return io_apic_count_; }
  const IoApicDescription& io_apic(int i) const { return io_apics_[i]; }
  // The DSDT's interrupt for the device whose register block starts at
  // `base`; false when the DSDT describes no such device.
  bool FindMmioDeviceIrq(uint64_t base, DeviceIrq* irq) const;

 private:
  void ReadMadt(uint64_t address);
  void ReadFadt(uint64_t address);

  uint64_t rsdp_ = 0;
  IoApicDescription io_apics_[kMaxIoApics];
  int io_apic_count_ = 0;
  uint64_t dsdt_ = 0;
};

}  // namespace boot

#endif  // BOOT_ACPI_H_
