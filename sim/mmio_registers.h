// A virtio-mmio version 2 register block (spec 4.2.2) presented through
// base::RegisterIo space kMmio, with the offsets of <linux/virtio_mmio.h>.
// Registers are 32 bits wide; device configuration starts at VIRTIO_MMIO_CONFIG
// (0x100) and takes 8-, 16- and 32-bit aligned accesses. No shared memory
// regions (their length reads ~0). Accesses of the wrong width, misaligned, to
// an unknown or legacy register, against a register's direction, or to another
// space are reported as Violation::kRegisterAccessInvalid and read as 0.
#ifndef SIM_MMIO_REGISTERS_H_
#define SIM_MMIO_REGISTERS_H_

#include <cstdint>
#include <mutex>

#include "base/platform.h"
#include "sim/virtio_device_model.h"

namespace sim {

class MmioRegisters : public base::RegisterIo {
 public:
  static constexpr uint32_t kMagic = 0x74726976;  // "virt"
  static constexpr uint32_t kVersion = 2;
  static constexpr uint32_t kVendorId = 0x1AF4;

  explicit MmioRegisters(VirtioDeviceModel& model);

  uint32_t Read(base::RegisterSpace space, uint32_t offset,
                unsigned width) override;
  void Write(base::RegisterSpace space, uint32_t offset, unsigned width,
             uint32_t value) override;
  void SetInterruptHandler(InterruptHandler handler, void* context) override;

 private:
  void Invalid(const char* what, base::RegisterSpace space, uint32_t offset,
               unsigned width);

  VirtioDeviceModel& model_;
  std::mutex mutex_;  // Guards the selectors.
  uint32_t device_features_select_ = 0;
  uint32_t driver_features_select_ = 0;
  uint32_t queue_select_ = 0;
};

}  // namespace sim

#endif  // SIM_MMIO_REGISTERS_H_
