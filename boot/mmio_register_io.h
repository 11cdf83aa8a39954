// base::RegisterIo for a virtio-mmio register block on bare metal, and the
// search for one: QEMU's microvm machine places its virtio-mmio transports at
// fixed slots, 0xfeb00000 + n * 0x200; an empty slot reads device id 0.
//
// Interrupts: as for PCI, the image polls. SetInterruptHandler records the
// handler and never calls it.
#ifndef BOOT_MMIO_REGISTER_IO_H_
#define BOOT_MMIO_REGISTER_IO_H_

#include <cstdint>

#include "base/platform.h"

namespace boot {

inline constexpr uint64_t kMicrovmVirtioMmioBase = 0xfeb00000;
inline constexpr uint32_t kMicrovmVirtioMmioSlotSize = 0x200;
inline constexpr unsigned kMicrovmVirtioMmioSlots = 24;

// The base of the first slot whose register block has the virtio magic and
// `device_id`, or 0 when none has.
uint64_t FindVirtioMmioDevice(uint32_t device_id);

class MmioRegisterIo final : public base::RegisterIo {
 public:
  MmioRegisterIo(base::Platform& platform, uint64_t base, uint32_t size);

  uint32_t Read(base::RegisterSpace space, uint32_t offset,
                unsigned width) override;
  void Write(base::RegisterSpace space, uint32_t offset, unsigned width,
             uint32_t value) override;
  void SetInterruptHandler(InterruptHandler handler, void* context) override;

  uint64_t base() const { return base_; }

 private:
  bool InWindow(base::RegisterSpace space, uint32_t offset, unsigned width);

  base::Platform& platform_;
  uint64_t base_;
  uint32_t size_;
  InterruptHandler interrupt_handler_ = nullptr;
  void* interrupt_context_ = nullptr;
};

}  // namespace boot

#endif  // BOOT_MMIO_REGISTER_IO_H_
