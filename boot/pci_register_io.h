// base::RegisterIo for one PCI function on bare metal: configuration space
// through mechanism #1, BARs as identity-mapped uncached MMIO (memory BARs) or
// port I/O (I/O BARs).
//
// At construction every BAR is decoded and sized. A memory BAR the firmware
// left unassigned (base 0) gets an address from the image's own windows, and
// memory decoding and bus mastering are switched on. Accesses outside a BAR
// read all ones and write nothing, as a master abort would, and are logged.
//
// Interrupts: MSI-X (PCI spec 6.8.2). EnableMsix routes the function's table
// entries to IDT vectors on the local APIC (boot/device_interrupts.h does);
// the driver's transport then assigns entry 0 to configuration changes and
// entry 1 + q to queue q (ConfigMsixVector, QueueMsixVector; the last entry
// is shared when the table is shorter), and every routed vector runs the
// handler installed with SetInterruptHandler. Until the driver installs one
// the function stays masked. Without EnableMsix (completion=poll) no vector
// is written and the handler is never called: the driver polls.
#ifndef BOOT_PCI_REGISTER_IO_H_
#define BOOT_PCI_REGISTER_IO_H_

#include <cstdint>

#include "base/platform.h"
#include "boot/interrupts.h"
#include "boot/pci_config.h"

namespace boot {

class PciRegisterIo final : public base::RegisterIo {
 public:
  enum class BarPolicy {
    kKeepFirmwareAddresses,  // Assign only BARs left at 0.
    kReassignAll,  // Ignore the firmware's addresses (exercises assignment).
  };

  struct Bar {
    enum class Kind : uint8_t { kAbsent, kMemory, kIo } kind = Kind::kAbsent;
    bool is_64bit = false;
    bool assigned_by_image = false;
    uint64_t base = 0;
    uint64_t size = 0;
  };

  PciRegisterIo(base::Platform& platform, PciAddress address,
                BarPolicy policy = BarPolicy::kKeepFirmwareAddresses);

  uint32_t Read(base::RegisterSpace space, uint32_t offset,
                unsigned width) override;
  void Write(base::RegisterSpace space, uint32_t offset, unsigned width,
             uint32_t value) override;
  void SetInterruptHandler(InterruptHandler handler, void* context) override;
  uint16_t ConfigMsixVector() const override;
  uint16_t QueueMsixVector(uint16_t queue) const override;

  PciAddress address() const { return address_; }
  const Bar& bar(unsigned n) const { return bars_[n]; }

  // Entries in the function's MSI-X table; 0 when it has no usable MSI-X
  // capability (none, or its table outside a memory BAR).
  unsigned msix_table_size() const { return msix_table_size_; }
  unsigned msix_table_bar() const { return msix_table_bar_; }
  // Points table entries 0 .. entries - 1 at IDT vectors first_vector + i on
  // local APIC `apic_id` (edge, fixed delivery) and enables MSI-X, which turns
  // INTx off. False when `entries` is 0 or exceeds the table.
  bool EnableMsix(uint8_t first_vector, unsigned entries, uint32_t apic_id);
  // What the routed vectors run: the driver's handler.
  DeviceInterruptHandler& interrupt_handler() { return handler_; }

 private:
  void DecodeBars(BarPolicy policy);
  // Sizes BAR n (and n + 1 for a 64-bit BAR); returns how many BAR slots it
  // used.
  unsigned DecodeBar(unsigned n, BarPolicy policy);
  // The BAR of `space` when [offset, offset + width) lies inside it, else
  // nullptr.
  const Bar* BarFor(base::RegisterSpace space, uint32_t offset, unsigned width);
  // Locates the MSI-X capability and its table.
  void FindMsix();

  // The MSI-X function mask, as the line the handler masks while none is
  // installed.
  class MsixFunctionMask final : public InterruptLine {
   public:
    explicit MsixFunctionMask(PciRegisterIo& io) : io_(io) {}
    void SetMasked(bool masked) override;

   private:
    PciRegisterIo& io_;
  };

  base::Platform& platform_;
  PciAddress address_;
  Bar bars_[6];
  uint32_t msix_capability_ = 0;  // Its offset in configuration space.
  unsigned msix_table_size_ = 0;
  unsigned msix_table_bar_ = 0;
  uint32_t msix_table_offset_ = 0;
  unsigned msix_entries_ = 0;
  MsixFunctionMask msix_mask_{*this};
  DeviceInterruptHandler handler_;
};

}  // namespace boot

#endif  // BOOT_PCI_REGISTER_IO_H_
