#include "boot/pci_config.h"

#include <linux/pci_regs.h>

#include "boot/x86.h"

namespace boot {
namespace {

constexpr uint16_t kConfigAddressPort = 0xcf8;
constexpr uint16_t kConfigDataPort = 0xcfc;
constexpr uint32_t kEnable = 0x80000000;

void SelectDword(PciAddress address, uint32_t offset) {
  Out32(kConfigAddressPort, kEnable | uint32_t{address.bus} << 16 |
                                uint32_t{address.device & 31u} << 11 |
                                uint32_t{address.function & 7u} << 8 |
                                (offset & 0xfc));
}

bool FitsInOneDword(uint32_t offset, unsigned width) {
  return (width == 1 || width == 2 || width == 4) && (offset & 3) + width <= 4;
}

}  // namespace

uint32_t PciConfigRead(PciAddress address, uint32_t offset, unsigned width) {
  if (width == 0 || width > 4 || offset >= kPciConfigSize ||
      offset + width > kPciConfigSize) {
    return width >= 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
  }
  if (!FitsInOneDword(offset, width)) {
    uint32_t value = 0;
    for (unsigned i = 0; i < width; ++i) {
      value |= PciConfigRead(address, offset + i, 1) << (8 * i);
    }
    return value;
  }
  SelectDword(address, offset);
  const uint16_t port = kConfigDataPort + (offset & 3);
  switch (width) {
    case 1:
      return In8(port);
    case 2:
      return In16(port);
    default:
      return In32(port);
  }
}

void PciConfigWrite(PciAddress address, uint32_t offset, unsigned width,
                    uint32_t value) {
  if (width == 0 || width > 4 || offset >= kPciConfigSize ||
      offset + width > kPciConfigSize) {
    return;
  }
  if (!FitsInOneDword(offset, width)) {
    for (unsigned i = 0; i < width; ++i) {
      PciConfigWrite(address, offset + i, 1, (value >> (8 * i)) & 0xff);
    }
    return;
  }
  SelectDword(address, offset);
  const uint16_t port = kConfigDataPort + (offset & 3);
  switch (width) {
    case 1:
      Out8(port, static_cast<uint8_t>(value));
      break;
    case 2:
      Out16(port, static_cast<uint16_t>(value));
      break;
    default:
      Out32(port, value);
      break;
  }
}

bool PciFindFunction(uint16_t vendor_id, uint16_t device_id,
                     PciAddress* found) {
  for (unsigned bus = 0; bus < 256; ++bus) {
    for (unsigned device = 0; device < 32; ++device) {
      PciAddress address{static_cast<uint8_t>(bus),
                         static_cast<uint8_t>(device), 0};
      if (PciConfigRead(address, PCI_VENDOR_ID, 2) == 0xffff) continue;
      const bool multifunction =
          PciConfigRead(address, PCI_HEADER_TYPE, 1) & 0x80;
      for (unsigned function = 0; function < (multifunction ? 8u : 1u);
           ++function) {
        address.function = static_cast<uint8_t>(function);
        if (PciConfigRead(address, PCI_VENDOR_ID, 2) == vendor_id &&
            PciConfigRead(address, PCI_DEVICE_ID, 2) == device_id) {
          *found = address;
          return true;
        }
      }
    }
  }
  return false;
}

uint32_t PciFindCapability(PciAddress address, uint8_t id) {
  if ((PciConfigRead(address, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST) == 0)
    return 0;
  uint32_t position = PciConfigRead(address, PCI_CAPABILITY_LIST, 1) & 0xfc;
  // Each capability takes 4 bytes at least: a longer list loops.
  constexpr int kMaxCapabilities = (kPciConfigSize - PCI_STD_HEADER_SIZEOF) / 4;
  for (int count = 0; position != 0 && count < kMaxCapabilities; ++count) {
    if (PciConfigRead(address, position + PCI_CAP_LIST_ID, 1) == id)
      return position;
    position = PciConfigRead(address, position + PCI_CAP_LIST_NEXT, 1) & 0xfc;
  }
  return 0;
}

}  // namespace boot
