#include "boot/pci_register_io.h"

#include <linux/pci_regs.h>

#include "base/format.h"
#include "boot/apic.h"
#include "boot/mmio.h"
#include "boot/paging.h"
#include "boot/x86.h"

namespace boot {
namespace {

using base::LogLevel;
using base::RegisterSpace;

// Address windows for BARs the image assigns itself. On QEMU's PC machines
// every address that is neither RAM nor another device reaches the PCI bus;
// these lie above the firmware's usual placements (SeaBIOS starts the 32-bit
// window at 0xc0000000 and the 64-bit one at the end of RAM above 4 GiB) and
// below the IOAPIC and the 36-bit limit of the oldest CPUs with long mode.
struct BarWindow {
  uint64_t next;
  uint64_t end;
};
BarWindow window32{0xe0000000, 0xfe000000};
BarWindow window64{uint64_t{32} << 30, uint64_t{36} << 30};

uint64_t AllocateFromWindow(BarWindow& window, uint64_t size) {
  const uint64_t base =
      (window.next + size - 1) & ~(size - 1);  // BARs align to size.
  if (base < window.next || base + size > window.end) return 0;
  window.next = base + size;
  return base;
}

uint32_t AllOnes(unsigned width) {
  return width >= 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
}

}  // namespace

PciRegisterIo::PciRegisterIo(base::Platform& platform, PciAddress address,
                             BarPolicy policy)
    : platform_(platform), address_(address) {
  DecodeBars(policy);
  FindMsix();
}

void PciRegisterIo::DecodeBars(BarPolicy policy) {
  const uint32_t command = PciConfigRead(address_, PCI_COMMAND, 2);
  // Sizing writes all ones to a BAR: with decoding on, the BAR would briefly
  // claim addresses that belong to others.
  PciConfigWrite(address_, PCI_COMMAND, 2,
                 command & ~(PCI_COMMAND_MEMORY | PCI_COMMAND_IO));
  for (unsigned n = 0; n < 6;) n += DecodeBar(n, policy);
  uint32_t enabled = command | PCI_COMMAND_MASTER;
  for (const Bar& bar : bars_) {
    if (bar.kind == Bar::Kind::kMemory) enabled |= PCI_COMMAND_MEMORY;
    if (bar.kind == Bar::Kind::kIo) enabled |= PCI_COMMAND_IO;
  }
  PciConfigWrite(address_, PCI_COMMAND, 2, enabled);
}

unsigned PciRegisterIo::DecodeBar(unsigned n, BarPolicy policy) {
  const uint32_t offset = PCI_BASE_ADDRESS_0 + 4 * n;
  const uint32_t low = PciConfigRead(address_, offset, 4);
  PciConfigWrite(address_, offset, 4, 0xffffffff);
  const uint32_t low_mask = PciConfigRead(address_, offset, 4);
  PciConfigWrite(address_, offset, 4, low);
  Bar& bar = bars_[n];

  if (low & PCI_BASE_ADDRESS_SPACE_IO) {
    const uint32_t mask = low_mask & PCI_BASE_ADDRESS_IO_MASK & 0xffff;
    if (mask == 0) return 1;
    bar.kind = Bar::Kind::kIo;
    bar.base = low & PCI_BASE_ADDRESS_IO_MASK & 0xffff;
    bar.size = (~mask & 0xffff) + 1;
    return 1;
  }

  bar.is_64bit =
      (low & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64;
  if (bar.is_64bit && n == 5) return 1;  // A 64-bit BAR needs a second slot.
  uint64_t base = low & PCI_BASE_ADDRESS_MEM_MASK;
  uint64_t mask =
      uint64_t{low_mask & PCI_BASE_ADDRESS_MEM_MASK} | ~uint64_t{0xffffffff};
  if (bar.is_64bit) {
    const uint32_t high = PciConfigRead(address_, offset + 4, 4);
    PciConfigWrite(address_, offset + 4, 4, 0xffffffff);
    const uint32_t high_mask = PciConfigRead(address_, offset + 4, 4);
    PciConfigWrite(address_, offset + 4, 4, high);
    base |= uint64_t{high} << 32;
    mask = (uint64_t{high_mask} << 32) | (low_mask & PCI_BASE_ADDRESS_MEM_MASK);
  }
  const unsigned slots = bar.is_64bit ? 2 : 1;
  // A BAR the device does not implement reads back all zeroes (the 64-bit case:
  // both halves).
  const uint64_t writable =
      bar.is_64bit ? mask : (low_mask & PCI_BASE_ADDRESS_MEM_MASK);
  if ((writable & PCI_BASE_ADDRESS_MEM_MASK) == 0) {
    bar = Bar{};
    return slots;
  }
  bar.size = ~mask + 1;

  if (base == 0 || policy == BarPolicy::kReassignAll) {
    base = AllocateFromWindow(bar.is_64bit ? window64 : window32, bar.size);
    if (base == 0) {
      base::Logf(platform_, LogLevel::kError,
                 "pci %02x:%02x.%u: no room for BAR%u (%llu bytes)",
                 address_.bus, address_.device, address_.function, n,
                 static_cast<unsigned long long>(bar.size));
      bar = Bar{};
      return slots;
    }
    PciConfigWrite(
        address_, offset, 4,
        static_cast<uint32_t>(base) | (low & ~PCI_BASE_ADDRESS_MEM_MASK));
    if (bar.is_64bit) PciConfigWrite(address_, offset + 4, 4, base >> 32);
    bar.assigned_by_image = true;
  }
  if (!MapDeviceMemory(base, bar.size)) {
    base::Logf(platform_, LogLevel::kError,
               "pci %02x:%02x.%u: BAR%u at 0x%llx is beyond the physical "
               "address width",
               address_.bus, address_.device, address_.function, n,
               static_cast<unsigned long long>(base));
    bar = Bar{};
    return slots;
  }
  bar.kind = Bar::Kind::kMemory;
  bar.base = base;
  return slots;
}

const PciRegisterIo::Bar* PciRegisterIo::BarFor(RegisterSpace space,
                                                uint32_t offset,
                                                unsigned width) {
  const unsigned n = static_cast<unsigned>(space) -
                     static_cast<unsigned>(RegisterSpace::kPciBar0);
  const bool valid_width = width == 1 || width == 2 || width == 4;
  if (n < 6 && valid_width && bars_[n].kind != Bar::Kind::kAbsent &&
      uint64_t{offset} + width <= bars_[n].size) {
    return &bars_[n];
  }
  base::Logf(platform_, LogLevel::kWarning,
             "pci %02x:%02x.%u: access outside BAR%u (offset 0x%x, width %u)",
             address_.bus, address_.device, address_.function, n, offset,
             width);
  return nullptr;
}

uint32_t PciRegisterIo::Read(RegisterSpace space, uint32_t offset,
                             unsigned width) {
  if (space == RegisterSpace::kPciConfig)
    return PciConfigRead(address_, offset, width);
  const Bar* bar = BarFor(space, offset, width);
  if (bar == nullptr) return AllOnes(width);
  if (bar->kind == Bar::Kind::kIo) {
    const auto port = static_cast<uint16_t>(bar->base + offset);
    return width == 1 ? In8(port) : width == 2 ? In16(port) : In32(port);
  }
  return MmioRead(bar->base + offset, width);
}

void PciRegisterIo::Write(RegisterSpace space, uint32_t offset, unsigned width,
                          uint32_t value) {
  if (space == RegisterSpace::kPciConfig) {
    PciConfigWrite(address_, offset, width, value);
    return;
  }
  const Bar* bar = BarFor(space, offset, width);
  if (bar == nullptr) return;
  if (bar->kind == Bar::Kind::kIo) {
    const auto port = static_cast<uint16_t>(bar->base + offset);
    if (width == 1) {
      Out8(port, static_cast<uint8_t>(value));
    } else if (width == 2) {
      Out16(port, static_cast<uint16_t>(value));
    } else {
      Out32(port, value);
    }
    return;
  }
  MmioWrite(bar->base + offset, width, value);
}

void PciRegisterIo::SetInterruptHandler(InterruptHandler handler,
                                        void* context) {
  handler_.Set(handler, context);
}

void PciRegisterIo::FindMsix() {
  const uint32_t position = PciFindCapability(address_, PCI_CAP_ID_MSIX);
  if (position == 0) return;
  const uint32_t control =
      PciConfigRead(address_, position + PCI_MSIX_FLAGS, 2);
  const uint32_t table = PciConfigRead(address_, position + PCI_MSIX_TABLE, 4);
  const unsigned size = (control & PCI_MSIX_FLAGS_QSIZE) + 1;
  const unsigned bar = table & PCI_MSIX_TABLE_BIR;
  const uint32_t offset = table & PCI_MSIX_TABLE_OFFSET;
  if (bar >= 6 || bars_[bar].kind != Bar::Kind::kMemory ||
      uint64_t{offset} + uint64_t{size} * PCI_MSIX_ENTRY_SIZE >
          bars_[bar].size) {
    base::Logf(platform_, LogLevel::kWarning,
               "pci %02x:%02x.%u: MSI-X table (BAR%u offset 0x%x, %u entries) "
               "is not in a memory BAR",
               address_.bus, address_.device, address_.function, bar, offset,
               size);
    return;
  }
  msix_capability_ = position;
  msix_table_size_ = size;
  msix_table_bar_ = bar;
  msix_table_offset_ = offset;
}

bool PciRegisterIo::EnableMsix(uint8_t first_vector, unsigned entries,
                               uint32_t apic_id) {
  if (entries == 0 || entries > msix_table_size_) return false;
  const uint32_t control_offset = msix_capability_ + PCI_MSIX_FLAGS;
  const uint32_t control = PciConfigRead(address_, control_offset, 2);
  // Enabled with the function masked: no entry fires while it is written,
  // nor before the driver has a handler (msix_mask_).
  PciConfigWrite(address_, control_offset, 2,
                 control | PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
  const base::RegisterSpace table = base::PciBar(msix_table_bar_);
  for (unsigned i = 0; i < entries; ++i) {
    const uint32_t entry = msix_table_offset_ + i * PCI_MSIX_ENTRY_SIZE;
    Write(table, entry + PCI_MSIX_ENTRY_LOWER_ADDR, 4, MsiAddress(apic_id));
    Write(table, entry + PCI_MSIX_ENTRY_UPPER_ADDR, 4, 0);
    Write(table, entry + PCI_MSIX_ENTRY_DATA, 4,
          MsiData(static_cast<uint8_t>(first_vector + i)));
    Write(table, entry + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);  // Unmasked.
  }
  const uint32_t command = PciConfigRead(address_, PCI_COMMAND, 2);
  PciConfigWrite(address_, PCI_COMMAND, 2, command | PCI_COMMAND_INTX_DISABLE);
  msix_entries_ = entries;
  handler_.Connect(&msix_mask_);
  return true;
}

void PciRegisterIo::MsixFunctionMask::SetMasked(bool masked) {
  const uint32_t offset = io_.msix_capability_ + PCI_MSIX_FLAGS;
  const uint32_t control = PciConfigRead(io_.address_, offset, 2);
  PciConfigWrite(io_.address_, offset, 2,
                 masked ? control | PCI_MSIX_FLAGS_MASKALL
                        : control & ~PCI_MSIX_FLAGS_MASKALL);
}

uint16_t PciRegisterIo::ConfigMsixVector() const {
  return msix_entries_ == 0 ? kNoMsixVector : 0;
}

uint16_t PciRegisterIo::QueueMsixVector(uint16_t queue) const {
  if (msix_entries_ == 0) return kNoMsixVector;
  const unsigned entry = 1u + queue;
  return static_cast<uint16_t>(entry < msix_entries_ ? entry
                                                     : msix_entries_ - 1);
}

}  // namespace boot
