#include "boot/mmio_register_io.h"

#include <linux/virtio_mmio.h>

#include "base/format.h"
#include "boot/mmio.h"
#include "boot/paging.h"

namespace boot {
namespace {

constexpr uint32_t kVirtioMmioMagic = 0x74726976;  // "virt", little-endian.

}  // namespace

uint64_t FindVirtioMmioDevice(uint32_t device_id) {
  // The slots lie in the top GiB, which the entry stub maps uncached.
  for (unsigned slot = 0; slot < kMicrovmVirtioMmioSlots; ++slot) {
    const uint64_t base =
        kMicrovmVirtioMmioBase + uint64_t{slot} * kMicrovmVirtioMmioSlotSize;
    if (MmioRead(base + VIRTIO_MMIO_MAGIC_VALUE, 4) == kVirtioMmioMagic &&
        MmioRead(base + VIRTIO_MMIO_DEVICE_ID, 4) == device_id) {
      return base;
    }
  }
  return 0;
}

MmioRegisterIo::MmioRegisterIo(base::Platform& platform, uint64_t base,
                               uint32_t size)
    : platform_(platform), base_(base), size_(size) {
  MapDeviceMemory(base, size);
}

bool MmioRegisterIo::InWindow(base::RegisterSpace space, uint32_t offset,
                              unsigned width) {
  if (space == base::RegisterSpace::kMmio &&
      (width == 1 || width == 2 || width == 4) &&
      uint64_t{offset} + width <= size_) {
    return true;
  }
  base::Logf(
      platform_, base::LogLevel::kWarning,
      "virtio-mmio at 0x%llx: access outside the register block (space %u, "
      "offset 0x%x, width %u)",
      static_cast<unsigned long long>(base_), static_cast<unsigned>(space),
      offset, width);
  return false;
}

uint32_t MmioRegisterIo::Read(base::RegisterSpace space, uint32_t offset,
                              unsigned width) {
  if (!InWindow(space, offset, width))
    return width >= 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
  return MmioRead(base_ + offset, width);
}

void MmioRegisterIo::Write(base::RegisterSpace space, uint32_t offset,
                           unsigned width, uint32_t value) {
  if (InWindow(space, offset, width)) MmioWrite(base_ + offset, width, value);
}

void MmioRegisterIo::SetInterruptHandler(InterruptHandler handler,
                                         void* context) {
  handler_.Set(handler, context);
}

}  // namespace boot
