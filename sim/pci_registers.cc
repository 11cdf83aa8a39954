#include "sim/pci_registers.h"

#include <linux/pci_regs.h>
#include <linux/virtio_pci.h>

#include <cstddef>
#include <cstring>
#include <string>

namespace sim {
namespace {

using base::RegisterSpace;

constexpr uint8_t kCommonCap = 0x40;
constexpr uint8_t kNotifyCap = 0x50;
constexpr uint8_t kIsrCap = 0x68;
constexpr uint8_t kDeviceCap = 0x78;
constexpr uint32_t kCommonLength = sizeof(virtio_pci_common_cfg);
constexpr uint32_t kDeviceWindow = 0x1000;
constexpr uint32_t kBarFlags =
    PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH;
// As QEMU: the subsystem id of a modern virtio function.
constexpr uint16_t kSubsystemId = 0x1100;

// The natural width of each field of struct virtio_pci_common_cfg, and whether
// the driver may write it. 64-bit fields are two 32-bit halves.
struct CommonField {
  uint32_t offset;
  unsigned width;
  bool writable;
};
constexpr CommonField kCommonFields[] = {
    {VIRTIO_PCI_COMMON_DFSELECT, 4, true},
    {VIRTIO_PCI_COMMON_DF, 4, false},
    {VIRTIO_PCI_COMMON_GFSELECT, 4, true},
    {VIRTIO_PCI_COMMON_GF, 4, true},
    {VIRTIO_PCI_COMMON_MSIX, 2, true},
    {VIRTIO_PCI_COMMON_NUMQ, 2, false},
    {VIRTIO_PCI_COMMON_STATUS, 1, true},
    {VIRTIO_PCI_COMMON_CFGGENERATION, 1, false},
    {VIRTIO_PCI_COMMON_Q_SELECT, 2, true},
    {VIRTIO_PCI_COMMON_Q_SIZE, 2, true},
    {VIRTIO_PCI_COMMON_Q_MSIX, 2, true},
    {VIRTIO_PCI_COMMON_Q_ENABLE, 2, true},
    {VIRTIO_PCI_COMMON_Q_NOFF, 2, false},
    {VIRTIO_PCI_COMMON_Q_DESCLO, 4, true},
    {VIRTIO_PCI_COMMON_Q_DESCHI, 4, true},
    {VIRTIO_PCI_COMMON_Q_AVAILLO, 4, true},
    {VIRTIO_PCI_COMMON_Q_AVAILHI, 4, true},
    {VIRTIO_PCI_COMMON_Q_USEDLO, 4, true},
    {VIRTIO_PCI_COMMON_Q_USEDHI, 4, true},
};

const CommonField* FindCommonField(uint32_t offset) {
  for (const CommonField& field : kCommonFields) {
    if (field.offset == offset) return &field;
  }
  return nullptr;
}

std::optional<QueueField> QueueFieldAt(uint32_t offset) {
  switch (offset) {
    case VIRTIO_PCI_COMMON_Q_SIZE:
      return QueueField::kSize;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
      return QueueField::kEnable;
    case VIRTIO_PCI_COMMON_Q_DESCLO:
      return QueueField::kDescLow;
    case VIRTIO_PCI_COMMON_Q_DESCHI:
      return QueueField::kDescHigh;
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
      return QueueField::kDriverLow;
    case VIRTIO_PCI_COMMON_Q_AVAILHI:
      return QueueField::kDriverHigh;
    case VIRTIO_PCI_COMMON_Q_USEDLO:
      return QueueField::kDeviceLow;
    case VIRTIO_PCI_COMMON_Q_USEDHI:
      return QueueField::kDeviceHigh;
    default:
      return std::nullopt;
  }
}

bool InWindow(uint32_t offset, unsigned width, uint32_t start,
              uint32_t length) {
  return offset >= start && offset - start < length &&
         width <= length - (offset - start);
}

template <typename T>
void Put(std::array<uint8_t, 256>& config, uint32_t offset, const T& value) {
  std::memcpy(config.data() + offset, &value, sizeof(value));
}

}  // namespace

PciRegisters::PciRegisters(VirtioDeviceModel& model)
    : model_(model),
      bar_low_(static_cast<uint32_t>(kBarAddress) | kBarFlags),
      bar_high_(static_cast<uint32_t>(kBarAddress >> 32)) {
  Put<uint16_t>(config_, PCI_VENDOR_ID, kVendorId);
  Put<uint16_t>(config_, PCI_DEVICE_ID,
                static_cast<uint16_t>(kDeviceIdBase + model.device_id()));
  Put<uint16_t>(config_, PCI_STATUS, PCI_STATUS_CAP_LIST);
  config_[PCI_REVISION_ID] = 1;  // Modern (non-transitional) virtio.
  config_[PCI_CLASS_DEVICE + 1] =
      0xFF;  // Class: device does not fit a defined class.
  config_[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
  Put<uint16_t>(config_, PCI_SUBSYSTEM_VENDOR_ID, kVendorId);
  Put<uint16_t>(config_, PCI_SUBSYSTEM_ID, kSubsystemId);
  config_[PCI_CAPABILITY_LIST] = kCommonCap;
  config_[PCI_INTERRUPT_PIN] = 1;  // INTA#.

  const bool has_device_cfg = model.config_size() > 0;
  const auto cap = [](uint8_t next, uint8_t length, uint8_t type,
                      uint32_t offset, uint32_t size) {
    virtio_pci_cap c{};
    c.cap_vndr = PCI_CAP_ID_VNDR;
    c.cap_next = next;
    c.cap_len = length;
    c.cfg_type = type;
    c.bar = kBar;
    c.offset = offset;
    c.length = size;
    return c;
  };
  Put(config_, kCommonCap,
      cap(kNotifyCap, sizeof(virtio_pci_cap), VIRTIO_PCI_CAP_COMMON_CFG,
          kCommonOffset, kCommonLength));
  virtio_pci_notify_cap notify{};
  notify.cap = cap(kIsrCap, sizeof(virtio_pci_notify_cap),
                   VIRTIO_PCI_CAP_NOTIFY_CFG, kNotifyOffset, kNotifyLength);
  notify.notify_off_multiplier = kNotifyOffMultiplier;
  Put(config_, kNotifyCap, notify);
  Put(config_, kIsrCap,
      cap(has_device_cfg ? kDeviceCap : 0, sizeof(virtio_pci_cap),
          VIRTIO_PCI_CAP_ISR_CFG, kIsrOffset, 1));
  if (has_device_cfg) {
    Put(config_, kDeviceCap,
        cap(0, sizeof(virtio_pci_cap), VIRTIO_PCI_CAP_DEVICE_CFG, kDeviceOffset,
            model.config_size()));
  }
}

void PciRegisters::Invalid(const char* what, RegisterSpace space,
                           uint32_t offset, unsigned width) {
  model_.ReportViolation(Violation::kRegisterAccessInvalid,
                         std::string(what) + ": PCI space " +
                             std::to_string(static_cast<unsigned>(space)) +
                             " offset " + std::to_string(offset) + " width " +
                             std::to_string(width));
}

uint32_t PciRegisters::Read(RegisterSpace space, uint32_t offset,
                            unsigned width) {
  if (space == RegisterSpace::kPciConfig) return ReadConfigSpace(offset, width);
  if (space == base::PciBar(kBar)) return ReadBar(offset, width);
  Invalid("read of a space this function does not have", space, offset, width);
  return 0;
}

void PciRegisters::Write(RegisterSpace space, uint32_t offset, unsigned width,
                         uint32_t value) {
  if (space == RegisterSpace::kPciConfig)
    return WriteConfigSpace(offset, width, value);
  if (space == base::PciBar(kBar)) return WriteBar(offset, width, value);
  Invalid("write to a space this function does not have", space, offset, width);
}

void PciRegisters::SetInterruptHandler(InterruptHandler handler,
                                       void* context) {
  model_.SetInterruptHandler(handler, context);
}

uint32_t PciRegisters::ReadConfigSpace(uint32_t offset, unsigned width) {
  if ((width != 1 && width != 2 && width != 4) || offset % width != 0 ||
      !InWindow(offset, width, 0, config_.size())) {
    Invalid("bad configuration space read", RegisterSpace::kPciConfig, offset,
            width);
    return 0;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  std::array<uint8_t, 256> image = config_;
  Put(image, PCI_BASE_ADDRESS_0 + 4 * kBar, bar_low_);
  Put(image, PCI_BASE_ADDRESS_0 + 4 * (kBar + 1), bar_high_);
  uint32_t value = 0;
  std::memcpy(&value, image.data() + offset, width);
  return value;
}

void PciRegisters::WriteConfigSpace(uint32_t offset, unsigned width,
                                    uint32_t value) {
  if ((width != 1 && width != 2 && width != 4) || offset % width != 0 ||
      !InWindow(offset, width, 0, config_.size())) {
    Invalid("bad configuration space write", RegisterSpace::kPciConfig, offset,
            width);
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  const uint32_t bar = PCI_BASE_ADDRESS_0 + 4 * kBar;
  bool bar_written = false;
  // Only the command register, BAR 4/5 and the interrupt line are writable;
  // writes to read-only registers are dropped, as on hardware.
  for (unsigned i = 0; i < width; ++i) {
    const uint32_t at = offset + i;
    const uint8_t byte = static_cast<uint8_t>(value >> (8 * i));
    if (at == PCI_COMMAND || at == PCI_COMMAND + 1 ||
        at == PCI_INTERRUPT_LINE) {
      config_[at] = byte;
    } else if (at >= bar && at < bar + 8) {
      uint32_t& reg = at < bar + 4 ? bar_low_ : bar_high_;
      const unsigned shift = 8 * (at % 4);
      reg = (reg & ~(0xFFu << shift)) | (uint32_t{byte} << shift);
      bar_written = true;
    }
  }
  // Address bits below the BAR size are hardwired: a sizing write of all ones
  // reads back the size mask with the type flags.
  if (bar_written) bar_low_ = (bar_low_ & ~(kBarSize - 1)) | kBarFlags;
}

uint32_t PciRegisters::ReadBar(uint32_t offset, unsigned width) {
  const RegisterSpace space = base::PciBar(kBar);
  if ((width != 1 && width != 2 && width != 4) || offset % width != 0) {
    Invalid("misaligned or bad-width BAR read", space, offset, width);
    return 0;
  }
  if (InWindow(offset, width, kCommonOffset, kCommonLength)) {
    return ReadCommon(offset - kCommonOffset, width);
  }
  if (InWindow(offset, width, kIsrOffset, 1)) return model_.ReadAndClearIsr();
  if (InWindow(offset, width, kDeviceOffset, kDeviceWindow)) {
    return model_.ReadConfig(offset - kDeviceOffset, width);
  }
  Invalid("BAR read outside the readable structures", space, offset, width);
  return 0;
}

void PciRegisters::WriteBar(uint32_t offset, unsigned width, uint32_t value) {
  const RegisterSpace space = base::PciBar(kBar);
  if ((width != 1 && width != 2 && width != 4) || offset % width != 0) {
    Invalid("misaligned or bad-width BAR write", space, offset, width);
    return;
  }
  if (InWindow(offset, width, kCommonOffset, kCommonLength)) {
    return WriteCommon(offset - kCommonOffset, width, value);
  }
  if (InWindow(offset, width, kDeviceOffset, kDeviceWindow)) {
    return model_.WriteConfig(offset - kDeviceOffset, width, value);
  }
  if (InWindow(offset, width, kNotifyOffset, kNotifyLength)) {
    const uint32_t relative = offset - kNotifyOffset;
    if (relative % kNotifyOffMultiplier != 0 || width == 1) {
      Invalid("notify write not at a queue's notify address", space, offset,
              width);
      return;
    }
    // The queue is the one whose queue_notify_off (= its index) addresses this
    // slot.
    return model_.Notify(relative / kNotifyOffMultiplier);
  }
  Invalid("BAR write outside the writable structures", space, offset, width);
}

uint32_t PciRegisters::ReadCommon(uint32_t offset, unsigned width) {
  const CommonField* field = FindCommonField(offset);
  if (field == nullptr || field->width != width) {
    Invalid("common configuration read not of a whole field",
            base::PciBar(kBar), kCommonOffset + offset, width);
    return 0;
  }
  uint32_t device_feature_select;
  uint32_t driver_feature_select;
  uint16_t queue;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    device_feature_select = device_feature_select_;
    driver_feature_select = driver_feature_select_;
    queue = queue_select_;
  }
  if (auto queue_field = QueueFieldAt(offset)) {
    return model_.ReadQueueField(queue, *queue_field);
  }
  switch (offset) {
    case VIRTIO_PCI_COMMON_DFSELECT:
      return device_feature_select;
    case VIRTIO_PCI_COMMON_DF:
      return model_.ReadDeviceFeatures(device_feature_select);
    case VIRTIO_PCI_COMMON_GFSELECT:
      return driver_feature_select;
    case VIRTIO_PCI_COMMON_GF:
      return model_.ReadDriverFeatures(driver_feature_select);
    case VIRTIO_PCI_COMMON_MSIX:
    case VIRTIO_PCI_COMMON_Q_MSIX:
      return VIRTIO_MSI_NO_VECTOR;
    case VIRTIO_PCI_COMMON_NUMQ:
      return model_.num_queues();
    case VIRTIO_PCI_COMMON_STATUS:
      return model_.ReadStatus();
    case VIRTIO_PCI_COMMON_CFGGENERATION:
      return model_.config_generation();
    case VIRTIO_PCI_COMMON_Q_SELECT:
      return queue;
    case VIRTIO_PCI_COMMON_Q_NOFF:
      return model_.QueueExists(queue) ? queue : 0;
  }
  return 0;
}

void PciRegisters::WriteCommon(uint32_t offset, unsigned width,
                               uint32_t value) {
  const CommonField* field = FindCommonField(offset);
  if (field == nullptr || field->width != width || !field->writable) {
    Invalid("common configuration write not to a whole writable field",
            base::PciBar(kBar), kCommonOffset + offset, width);
    return;
  }
  uint32_t driver_feature_select;
  uint16_t queue;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    switch (offset) {
      case VIRTIO_PCI_COMMON_DFSELECT:
        device_feature_select_ = value;
        return;
      case VIRTIO_PCI_COMMON_GFSELECT:
        driver_feature_select_ = value;
        return;
      case VIRTIO_PCI_COMMON_Q_SELECT:
        queue_select_ = static_cast<uint16_t>(value);
        return;
      default:
        break;
    }
    driver_feature_select = driver_feature_select_;
    queue = queue_select_;
  }
  if (auto queue_field = QueueFieldAt(offset)) {
    return model_.WriteQueueField(queue, *queue_field, value);
  }
  switch (offset) {
    case VIRTIO_PCI_COMMON_GF:
      return model_.WriteDriverFeatures(driver_feature_select, value);
    case VIRTIO_PCI_COMMON_STATUS:
      return model_.WriteStatus(static_cast<uint8_t>(value));
    case VIRTIO_PCI_COMMON_MSIX:
    case VIRTIO_PCI_COMMON_Q_MSIX:
      return;  // No MSI-X: the vector reads back VIRTIO_MSI_NO_VECTOR.
  }
}

}  // namespace sim
