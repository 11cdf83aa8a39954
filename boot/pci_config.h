// PCI configuration space through configuration mechanism #1 (I/O ports
// 0xcf8/0xcfc), which every x86 PCI host bridge QEMU models (i440fx, q35)
// implements. It reaches the first 256 bytes of each function: all the virtio
// capabilities live there.
#ifndef BOOT_PCI_CONFIG_H_
#define BOOT_PCI_CONFIG_H_

#include <cstdint>

namespace boot {

struct PciAddress {
  uint8_t bus = 0;
  uint8_t device = 0;    // 0..31
  uint8_t function = 0;  // 0..7
};

inline constexpr uint32_t kPciConfigSize = 256;

// One access of `width` 1, 2 or 4 bytes at any offset. An access that crosses a
// dword is split into byte accesses; past the 256 bytes it reads all ones and
// writes nothing.
uint32_t PciConfigRead(PciAddress address, uint32_t offset, unsigned width);
void PciConfigWrite(PciAddress address, uint32_t offset, unsigned width,
                    uint32_t value);

// Finds the first function (in bus, device, function order over all 256 buses)
// with this vendor and device id.
bool PciFindFunction(uint16_t vendor_id, uint16_t device_id, PciAddress* found);

// The offset of the function's first capability with this id (PCI_CAP_ID_*)
// in configuration space; 0 when it has none.
uint32_t PciFindCapability(PciAddress address, uint8_t id);

}  // namespace boot

#endif  // BOOT_PCI_CONFIG_H_
