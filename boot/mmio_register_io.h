// base::RegisterIo for a virtio-mmio register block on bare metal, and the
// search for one: QEMU's microvm machine places its virtio-mmio transports at
// fixed slots, 0xfeb00000 + n * 0x200; an empty slot reads device id 0.
//
// Interrupts: the transport's one interrupt line, which
// boot/device_interrupts.h routes through an I/O APIC to an IDT vector that
// runs the handler installed with SetInterruptHandler (interrupt_handler()).
// Unrouted (completion=poll), the handler is never called: the driver polls.
#ifndef BOOT_MMIO_REGISTER_IO_H_
#define BOOT_MMIO_REGISTER_IO_H_

#include <cstdint>

#include "base/platform.h"
#include "boot/interrupts.h"

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
  // The slot of QEMU's microvm the register block is in.
  unsigned microvm_slot() const {
    return static_cast<unsigned>((base_ - kMicrovmVirtioMmioBase) /
                                 kMicrovmVirtioMmioSlotSize);
  }
  // What the routed vector runs: the driver's handler.
  DeviceInterruptHandler& interrupt_handler() { return handler_; }

 private:
  bool InWindow(base::RegisterSpace space, uint32_t offset, unsigned width);

  base::Platform& platform_;
  uint64_t base_;
  uint32_t size_;
  DeviceInterruptHandler handler_;
};

}  // namespace boot

#endif  // BOOT_MMIO_REGISTER_IO_H_
