#include "boot/acpi.h"

#include <cstddef>
#include <cstring>

namespace boot {
namespace {

// Tables larger than this are not believed (QEMU's are a few KiB).
constexpr uint32_t kMaxTableLength = 1u << 20;
constexpr uint64_t kBiosAreaStart = 0xe0000;
constexpr uint64_t kBiosAreaEnd = 0x100000;

// Offsets (ACPI 6.4, chapter 5.2). Tables are byte-packed and their fields
// unaligned, so every field is read with memcpy.
constexpr size_t kRsdpRevision = 15;
constexpr size_t kRsdpRsdtAddress = 16;
constexpr size_t kRsdpLength = 20;
constexpr size_t kRsdpXsdtAddress = 24;
constexpr size_t kRsdpV1Size = 20;
constexpr size_t kHeaderLength = 4;
constexpr size_t kHeaderSize = 36;
constexpr size_t kMadtEntries = 44;
constexpr uint8_t kMadtIoApic = 1;
constexpr size_t kFadtDsdt = 40;
constexpr size_t kFadtXDsdt = 140;

// Resource descriptors (ACPI 6.4, section 6.4).
constexpr uint8_t kLargeDescriptor = 0x80;
constexpr uint8_t kMemory32Fixed = 0x86;
constexpr uint16_t kMemory32FixedLength = 9;
constexpr uint8_t kExtendedInterrupt = 0x89;
constexpr uint8_t kEndTag = 0x79;
constexpr uint8_t kInterruptEdge = 1u << 1;
constexpr uint8_t kInterruptActiveLow = 1u << 2;

const uint8_t* At(uint64_t address) {
  return reinterpret_cast<const uint8_t*>(static_cast<uintptr_t>(address));
}

template <typename T>
T Load(const uint8_t* p) {
  T value;
  memcpy(&value, p, sizeof(value));
  return value;
}

bool ChecksumOk(const uint8_t* p, size_t length) {
  uint8_t sum = 0;
  for (size_t i = 0; i < length; ++i) sum = static_cast<uint8_t>(sum + p[i]);
  return sum == 0;
}

bool IsRsdp(const uint8_t* p) {
  if (memcmp(p, "RSD PTR ", 8) != 0 || !ChecksumOk(p, kRsdpV1Size))
    return false;
  if (p[kRsdpRevision] < 2) return true;
  const uint32_t length = Load<uint32_t>(p + kRsdpLength);
  return length >= kRsdpXsdtAddress + 8 && length < 4096 &&
         ChecksumOk(p, length);
}

// The table at `address` when its signature, length and checksum are right;
// nullptr otherwise.
const uint8_t* Table(uint64_t address, const char* signature) {
  if (address == 0 || address >= (uint64_t{4} << 30)) return nullptr;
  const uint8_t* table = At(address);
  if (memcmp(table, signature, 4) != 0) return nullptr;
  const uint32_t length = Load<uint32_t>(table + kHeaderLength);
  if (length < kHeaderSize || length > kMaxTableLength ||
      !ChecksumOk(table, length)) {
    return nullptr;
  }
  return table;
}

uint32_t TableLength(const uint8_t* table) {
  return Load<uint32_t>(table + kHeaderLength);
}

}  // namespace

bool AcpiTables::Find(uint64_t rsdp_hint) {
  if (rsdp_hint != 0 && IsRsdp(At(rsdp_hint))) {
    rsdp_ = rsdp_hint;
  } else {
    // The RSDP sits on a 16-byte boundary in the BIOS read-only area.
    for (uint64_t p = kBiosAreaStart; p < kBiosAreaEnd && rsdp_ == 0; p += 16) {
      if (IsRsdp(At(p))) rsdp_ = p;
    }
  }
  if (rsdp_ == 0) return false;
  const uint8_t* rsdp = At(rsdp_);
  // The XSDT (64-bit entries) when the RSDP has one, else the RSDT.
  const uint8_t* root = nullptr;
  size_t entry_size = 4;
  if (rsdp[kRsdpRevision] >= 2) {
    root = Table(Load<uint64_t>(rsdp + kRsdpXsdtAddress), "XSDT");
    entry_size = 8;
  }
  if (root == nullptr) {
    root = Table(Load<uint32_t>(rsdp + kRsdpRsdtAddress), "RSDT");
    entry_size = 4;
  }
  if (root == nullptr) return true;  // An RSDP without tables: no facts.
  const uint32_t length = TableLength(root);
  for (size_t at = kHeaderSize; at + entry_size <= length; at += entry_size) {
    const uint64_t address =
        entry_size == 8 ? Load<uint64_t>(root + at) : Load<uint32_t>(root + at);
    if (Table(address, "APIC") != nullptr) ReadMadt(address);
    if (Table(address, "FACP") != nullptr) ReadFadt(address);
  }
  return true;
}

void AcpiTables::ReadMadt(uint64_t address) {
  const uint8_t* madt = At(address);
  const uint32_t length = TableLength(madt);
  for (size_t at = kMadtEntries; at + 2 <= length;) {
    const uint8_t type = madt[at];
    const uint8_t entry_length = madt[at + 1];
    if (entry_length < 2 || at + entry_length > length) break;
    if (type == kMadtIoApic && entry_length >= 12 &&
        io_apic_count_ < kMaxIoApics) {
      io_apics_[io_apic_count_++] = IoApicDescription{
          .id = madt[at + 2],
          .address = Load<uint32_t>(madt + at + 4),
          .gsi_base = Load<uint32_t>(madt + at + 8),
      };
    }
    at += entry_length;
  }
}

void AcpiTables::ReadFadt(uint64_t address) {
  const uint8_t* fadt = At(address);
  const uint32_t length = TableLength(fadt);
  uint64_t dsdt = 0;
  if (length >= kFadtXDsdt + 8) dsdt = Load<uint64_t>(fadt + kFadtXDsdt);
  if (dsdt == 0 && length >= kFadtDsdt + 4)
    dsdt = Load<uint32_t>(fadt + kFadtDsdt);
  if (Table(dsdt, "DSDT") != nullptr) dsdt_ = dsdt;
}

bool AcpiTables::FindMmioDeviceIrq(uint64_t base, DeviceIrq* irq) const {
  if (dsdt_ == 0 || base > UINT32_MAX) return false;
  const uint8_t* dsdt = At(dsdt_);
  const size_t end = TableLength(dsdt);
  for (size_t at = kHeaderSize; at + 12 <= end; ++at) {
    if (dsdt[at] != kMemory32Fixed ||
        Load<uint16_t>(dsdt + at + 1) != kMemory32FixedLength ||
        Load<uint32_t>(dsdt + at + 4) != base) {
      continue;
    }
    // The descriptors after it in the same template, up to its end tag.
    size_t next = at + 3 + kMemory32FixedLength;
    while (next < end && dsdt[next] != kEndTag) {
      const uint8_t tag = dsdt[next];
      if ((tag & kLargeDescriptor) == 0) {
        next += 1 + (tag & 7);  // A small descriptor: its length in the tag.
        continue;
      }
      if (next + 3 > end) break;
      const uint16_t length = Load<uint16_t>(dsdt + next + 1);
      if (next + 3 + length > end) break;
      if (tag == kExtendedInterrupt && length >= 6 && dsdt[next + 4] >= 1) {
        const uint8_t flags = dsdt[next + 3];
        irq->gsi = Load<uint32_t>(dsdt + next + 5);
        irq->trigger =
            (flags & kInterruptEdge) ? Trigger::kEdge : Trigger::kLevel;
        irq->polarity = (flags & kInterruptActiveLow) ? Polarity::kActiveLow
                                                      : Polarity::kActiveHigh;
        return true;
      }
      next += 3 + length;
    }
  }
  return false;
}

}  // namespace boot
