// Completion by interrupt in the image: the virtio-fs device's interrupt
// routed to IDT vectors (boot/interrupts.h) that run the handler its driver
// installs on the RegisterIo.
//
//  - PCI (q35): MSI-X. As many table entries as the table has (at most
//    kDeviceVectors), entry i on vector kFirstDeviceVector + i: entry 0 for
//    configuration changes, entry 1 + q for queue q (the last entry shared by
//    any queues beyond). MSIs go to the local APIC directly.
//  - virtio-mmio (microvm): the transport's one interrupt line, a GSI. The
//    firmware's DSDT names it (boot/acpi.h); a microvm without ACPI follows
//    QEMU's own rule (hw/i386/microvm.c: GSI 5 + slot, on the one I/O APIC).
//    QEMU holds the line high (level-triggered, active high) until the
//    driver writes InterruptACK (driver::MmioTransport::ReadAndAckInterrupt,
//    from the handler): the I/O APIC input is programmed so, and the EOI the
//    dispatcher sends after the handler lets the input deliver again.
//
// Either way the local APIC is enabled first, and the legacy PICs, which the
// firmware leaves in virtual-wire mode with the master at vector 8 (the
// double fault's), are remapped and masked.
#ifndef BOOT_DEVICE_INTERRUPTS_H_
#define BOOT_DEVICE_INTERRUPTS_H_

#include <cstdint>

#include "boot/apic.h"
#include "boot/device_discovery.h"
#include "boot/interrupts.h"
#include "boot/mmio_register_io.h"
#include "boot/pci_register_io.h"

namespace boot {

class DeviceInterrupts {
 public:
  // Routes `device`'s interrupt; `acpi_rsdp` is the start info's RSDP
  // address (0: search for it). False, after a serial line saying why, when
  // the interrupt cannot be routed.
  bool Route(FoundDevice& device, uint64_t acpi_rsdp);
  // Serial lines: each routed vector and the interrupts it took, then the
  // unexpected and spurious ones.
  void Report() const;

 private:
  // An I/O APIC input, as the line the driver's handler masks.
  class IoApicInput final : public InterruptLine {
   public:
    void Set(const IoApic& io_apic, unsigned pin) {
      io_apic_ = io_apic;
      pin_ = pin;
    }
    void SetMasked(bool masked) override { io_apic_.SetMasked(pin_, masked); }

   private:
    IoApic io_apic_{0, 0};
    unsigned pin_ = 0;
  };

  bool RoutePci(PciRegisterIo& io, uint32_t apic_id);
  bool RouteMmio(MmioRegisterIo& io, uint32_t apic_id, uint64_t acpi_rsdp);
  void AddRoute(uint8_t vector, DeviceInterruptHandler& handler,
                const char* what);

  struct RoutedVector {
    uint8_t vector = 0;
    char what[40] = {};
  };
  RoutedVector routed_[kDeviceVectors];
  unsigned routed_count_ = 0;
  IoApicInput io_apic_input_;
};

}  // namespace boot

#endif  // BOOT_DEVICE_INTERRUPTS_H_
