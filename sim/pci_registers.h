// A virtio 1.x modern PCI function (spec 4.1) presented through
// base::RegisterIo.
//
// Configuration space (256 bytes): vendor 0x1AF4, device 0x1040 + virtio device
// id, revision 1, status with the capabilities list bit, one 64-bit memory BAR
// (BAR 4, as QEMU does; BAR 5 holds its upper half) and a vendor capability
// list:
//   0x40 VIRTIO_PCI_CAP_COMMON_CFG  -> BAR 4 + kCommonOffset
//   0x50 VIRTIO_PCI_CAP_NOTIFY_CFG  -> BAR 4 + kNotifyOffset
//                                      (notify_off_multiplier 4)
//   0x68 VIRTIO_PCI_CAP_ISR_CFG     -> BAR 4 + kIsrOffset
//   0x78 VIRTIO_PCI_CAP_DEVICE_CFG  -> BAR 4 + kDeviceOffset
//                                      (only if config_size > 0)
// Queue q's notify address is kNotifyOffset + 4 * q (queue_notify_off reads q).
// BARs size like hardware: writing 0xFFFFFFFF reads back the size mask. MSI-X
// is not offered: msix_config and queue_msix_vector read VIRTIO_MSI_NO_VECTOR.
// Accesses of the wrong width, misaligned, outside a structure, or to another
// space are reported as Violation::kRegisterAccessInvalid and read as 0.
#ifndef SIM_PCI_REGISTERS_H_
#define SIM_PCI_REGISTERS_H_

#include <array>
#include <cstdint>
#include <mutex>

#include "base/platform.h"
#include "sim/virtio_device_model.h"

namespace sim {

class PciRegisters : public base::RegisterIo {
 public:
  static constexpr uint16_t kVendorId = 0x1AF4;
  static constexpr uint16_t kDeviceIdBase = 0x1040;
  static constexpr unsigned kBar = 4;
  static constexpr uint32_t kBarSize = 0x4000;
  // The address the simulated firmware assigned to BAR 4 (informational:
  // RegisterIo addresses BARs by offset).
  static constexpr uint64_t kBarAddress = 0xFE00'0000;
  static constexpr uint32_t kCommonOffset = 0x0000;
  static constexpr uint32_t kIsrOffset = 0x1000;
  static constexpr uint32_t kDeviceOffset = 0x2000;
  static constexpr uint32_t kNotifyOffset = 0x3000;
  static constexpr uint32_t kNotifyLength = 0x1000;
  static constexpr uint32_t kNotifyOffMultiplier = 4;

  explicit PciRegisters(VirtioDeviceModel& model);

  uint32_t Read(base::RegisterSpace space, uint32_t offset,
                unsigned width) override;
  void Write(base::RegisterSpace space, uint32_t offset, unsigned width,
             uint32_t value) override;
  void SetInterruptHandler(InterruptHandler handler, void* context) override;

 private:
  uint32_t ReadConfigSpace(uint32_t offset, unsigned width);
  void WriteConfigSpace(uint32_t offset, unsigned width, uint32_t value);
  uint32_t ReadBar(uint32_t offset, unsigned width);
  void WriteBar(uint32_t offset, unsigned width, uint32_t value);
  uint32_t ReadCommon(uint32_t offset, unsigned width);
  void WriteCommon(uint32_t offset, unsigned width, uint32_t value);
  void Invalid(const char* what, base::RegisterSpace space, uint32_t offset,
               unsigned width);

  VirtioDeviceModel& model_;
  std::mutex mutex_;  // Guards the selectors and the configuration space below.
  std::array<uint8_t, 256> config_{};
  uint32_t bar_low_;
  uint32_t bar_high_;
  uint32_t device_feature_select_ = 0;
  uint32_t driver_feature_select_ = 0;
  uint16_t queue_select_ = 0;
};

}  // namespace sim

#endif  // SIM_PCI_REGISTERS_H_
