// base::RegisterIo for one PCI function on bare metal: configuration space
// through mechanism #1, BARs as identity-mapped uncached MMIO (memory BARs) or
// port I/O (I/O BARs).
//
// At construction every BAR is decoded and sized. A memory BAR the firmware
// left unassigned (base 0) gets an address from the image's own windows, and
// memory decoding and bus mastering are switched on. Accesses outside a BAR
// read all ones and write nothing, as a master abort would, and are logged.
//
// Interrupts: the image polls. SetInterruptHandler records the handler and
// never calls it (no IDT vector is wired to the device); drivers on this
// platform poll the used rings.
#ifndef BOOT_PCI_REGISTER_IO_H_
#define BOOT_PCI_REGISTER_IO_H_

#include <cstdint>

#include "base/platform.h"
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

  PciAddress address() const { return address_; }
  const Bar& bar(unsigned n) const { return bars_[n]; }

 private:
  void DecodeBars(BarPolicy policy);
  // Sizes BAR n (and n + 1 for a 64-bit BAR); returns how many BAR slots it
  // used.
  unsigned DecodeBar(unsigned n, BarPolicy policy);
  // The BAR of `space` when [offset, offset + width) lies inside it, else
  // nullptr.
  const Bar* BarFor(base::RegisterSpace space, uint32_t offset, unsigned width);

  base::Platform& platform_;
  PciAddress address_;
  Bar bars_[6];
  InterruptHandler interrupt_handler_ = nullptr;
  void* interrupt_context_ = nullptr;
};

}  // namespace boot

#endif  // BOOT_PCI_REGISTER_IO_H_
