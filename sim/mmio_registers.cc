#include "sim/mmio_registers.h"

#include <linux/virtio_mmio.h>

#include <optional>
#include <string>

namespace sim {
namespace {

using base::RegisterSpace;

std::optional<QueueField> QueueFieldAt(uint32_t offset) {
  switch (offset) {
    case VIRTIO_MMIO_QUEUE_NUM:
      return QueueField::kSize;
    case VIRTIO_MMIO_QUEUE_READY:
      return QueueField::kEnable;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
      return QueueField::kDescLow;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
      return QueueField::kDescHigh;
    case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
      return QueueField::kDriverLow;
    case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
      return QueueField::kDriverHigh;
    case VIRTIO_MMIO_QUEUE_USED_LOW:
      return QueueField::kDeviceLow;
    case VIRTIO_MMIO_QUEUE_USED_HIGH:
      return QueueField::kDeviceHigh;
    default:
      return std::nullopt;
  }
}

}  // namespace

MmioRegisters::MmioRegisters(VirtioDeviceModel& model) : model_(model) {}

void MmioRegisters::Invalid(const char* what, RegisterSpace space,
                            uint32_t offset, unsigned width) {
  model_.ReportViolation(Violation::kRegisterAccessInvalid,
                         std::string(what) + ": space " +
                             std::to_string(static_cast<unsigned>(space)) +
                             " offset " + std::to_string(offset) + " width " +
                             std::to_string(width));
}

void MmioRegisters::SetInterruptHandler(InterruptHandler handler,
                                        void* context) {
  model_.SetInterruptHandler(handler, context);
}

uint32_t MmioRegisters::Read(RegisterSpace space, uint32_t offset,
                             unsigned width) {
  if (space != RegisterSpace::kMmio) {
    Invalid("read of a space a virtio-mmio device does not have", space, offset,
            width);
    return 0;
  }
  if (offset >= VIRTIO_MMIO_CONFIG)
    return model_.ReadConfig(offset - VIRTIO_MMIO_CONFIG, width);
  if (width != 4 || offset % 4 != 0) {
    Invalid("virtio-mmio registers take aligned 32-bit reads", space, offset,
            width);
    return 0;
  }
  uint32_t device_features_select;
  uint32_t queue;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    device_features_select = device_features_select_;
    queue = queue_select_;
  }
  switch (offset) {
    case VIRTIO_MMIO_MAGIC_VALUE:
      return kMagic;
    case VIRTIO_MMIO_VERSION:
      return kVersion;
    case VIRTIO_MMIO_DEVICE_ID:
      return model_.device_id();
    case VIRTIO_MMIO_VENDOR_ID:
      return kVendorId;
    case VIRTIO_MMIO_DEVICE_FEATURES:
      return model_.ReadDeviceFeatures(device_features_select);
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
      return model_.QueueExists(queue) ? model_.max_queue_size() : 0;
    case VIRTIO_MMIO_QUEUE_READY:
      return model_.ReadQueueField(queue, QueueField::kEnable);
    case VIRTIO_MMIO_INTERRUPT_STATUS:
      return model_.ReadIsr();
    case VIRTIO_MMIO_STATUS:
      return model_.ReadStatus();
    case VIRTIO_MMIO_CONFIG_GENERATION:
      return model_.config_generation();
    case VIRTIO_MMIO_SHM_LEN_LOW:
    case VIRTIO_MMIO_SHM_LEN_HIGH:
    case VIRTIO_MMIO_SHM_BASE_LOW:
    case VIRTIO_MMIO_SHM_BASE_HIGH:
      return 0xFFFFFFFF;  // No shared memory region: length (and base) -1
                          // (spec 4.2.2).
  }
  Invalid("read of a write-only, legacy or unknown virtio-mmio register", space,
          offset, width);
  return 0;
}

void MmioRegisters::Write(RegisterSpace space, uint32_t offset, unsigned width,
                          uint32_t value) {
  if (space != RegisterSpace::kMmio) {
    Invalid("write to a space a virtio-mmio device does not have", space,
            offset, width);
    return;
  }
  if (offset >= VIRTIO_MMIO_CONFIG) {
    return model_.WriteConfig(offset - VIRTIO_MMIO_CONFIG, width, value);
  }
  if (width != 4 || offset % 4 != 0) {
    Invalid("virtio-mmio registers take aligned 32-bit writes", space, offset,
            width);
    return;
  }
  uint32_t driver_features_select;
  uint32_t queue;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    switch (offset) {
      case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        device_features_select_ = value;
        return;
      case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        driver_features_select_ = value;
        return;
      case VIRTIO_MMIO_QUEUE_SEL:
        queue_select_ = value;
        return;
      case VIRTIO_MMIO_SHM_SEL:
        return;  // Every region reads as absent.
      default:
        break;
    }
    driver_features_select = driver_features_select_;
    queue = queue_select_;
  }
  if (auto field = QueueFieldAt(offset))
    return model_.WriteQueueField(queue, *field, value);
  switch (offset) {
    case VIRTIO_MMIO_DRIVER_FEATURES:
      return model_.WriteDriverFeatures(driver_features_select, value);
    case VIRTIO_MMIO_QUEUE_NOTIFY:
      return model_.Notify(value);
    case VIRTIO_MMIO_INTERRUPT_ACK:
      return model_.AcknowledgeIsr(static_cast<uint8_t>(value));
    case VIRTIO_MMIO_STATUS:
      return model_.WriteStatus(static_cast<uint8_t>(value));
  }
  Invalid("write to a read-only, legacy or unknown virtio-mmio register", space,
          offset, width);
}

}  // namespace sim
