#include "driver/pci_transport.h"

#include <linux/pci_regs.h>
#include <linux/virtio_pci.h>

#include "base/format.h"

namespace driver {
namespace {

// Standard capabilities live after the 64-byte header, within the 256-byte
// space.
constexpr uint32_t kFirstCapabilityOffset = 0x40;
// Each capability takes at least 4 bytes, so a list longer than this loops.
constexpr int kMaxCapabilities =
    (PCI_CFG_SPACE_SIZE - kFirstCapabilityOffset) / 4;

constexpr uint32_t kCommonCfgMinLength = sizeof(virtio_pci_common_cfg);
constexpr uint32_t kNotifyCapMinLength = sizeof(virtio_pci_notify_cap);

const char* CapabilityName(uint8_t cfg_type) {
  switch (cfg_type) {
    case VIRTIO_PCI_CAP_COMMON_CFG:
      return "common";
    case VIRTIO_PCI_CAP_NOTIFY_CFG:
      return "notify";
    case VIRTIO_PCI_CAP_ISR_CFG:
      return "isr";
    case VIRTIO_PCI_CAP_DEVICE_CFG:
      return "device";
    default:
      return "other";
  }
}

}  // namespace

base::Result<std::unique_ptr<PciTransport>> PciTransport::Probe(
    base::Platform& platform, base::RegisterIo& io) {
  const uint32_t vendor =
      io.Read(base::RegisterSpace::kPciConfig, PCI_VENDOR_ID, 2);
  const uint32_t device =
      io.Read(base::RegisterSpace::kPciConfig, PCI_DEVICE_ID, 2);
  if (vendor != kVirtioPciVendorId) return base::Error{ENODEV};
  if (device < kVirtioPciModernDeviceIdBase ||
      device > kVirtioPciModernDeviceIdLast) {
    base::Logf(
        platform, base::LogLevel::kWarning,
        "virtio-pci: device id 0x%x is not a modern (virtio 1.x only) device",
        device);
    return base::Error{ENODEV};
  }
  Capabilities caps;
  TRY(WalkCapabilities(platform, io, &caps));
  if (caps.common.length == 0 || caps.notify.length == 0 ||
      caps.isr.length == 0) {
    base::Logf(
        platform, base::LogLevel::kError,
        "virtio-pci: missing a required capability (common %u, notify %u, isr "
        "%u)",
        caps.common.length, caps.notify.length, caps.isr.length);
    return base::Error{ENODEV};
  }
  const uint32_t command =
      io.Read(base::RegisterSpace::kPciConfig, PCI_COMMAND, 2);
  io.Write(base::RegisterSpace::kPciConfig, PCI_COMMAND, 2,
           command | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  return std::unique_ptr<PciTransport>(new PciTransport(
      platform, io, device - kVirtioPciModernDeviceIdBase, caps));
}

base::Result<void> PciTransport::WalkCapabilities(base::Platform& platform,
                                                  base::RegisterIo& io,
                                                  Capabilities* caps) {
  const uint32_t status =
      io.Read(base::RegisterSpace::kPciConfig, PCI_STATUS, 2);
  if ((status & PCI_STATUS_CAP_LIST) == 0) {
    base::Logf(platform, base::LogLevel::kError,
               "virtio-pci: device has no capability list");
    return base::Error{ENODEV};
  }
  bool visited[PCI_CFG_SPACE_SIZE / 4] = {};
  uint32_t position =
      io.Read(base::RegisterSpace::kPciConfig, PCI_CAPABILITY_LIST, 1) & 0xfc;
  for (int count = 0; position != 0; ++count) {
    if (count == kMaxCapabilities || position < kFirstCapabilityOffset ||
        position > PCI_CFG_SPACE_SIZE - 4 || visited[position / 4]) {
      base::Logf(platform, base::LogLevel::kError,
                 "virtio-pci: malformed capability list at 0x%x", position);
      return base::Error{EIO};
    }
    visited[position / 4] = true;
    const uint32_t id =
        io.Read(base::RegisterSpace::kPciConfig, position + PCI_CAP_LIST_ID, 1);
    if (id == PCI_CAP_ID_VNDR)
      ParseVendorCapability(platform, io, position, caps);
    position = io.Read(base::RegisterSpace::kPciConfig,
                       position + PCI_CAP_LIST_NEXT, 1) &
               0xfc;
  }
  return {};
}

void PciTransport::ParseVendorCapability(base::Platform& platform,
                                         base::RegisterIo& io,
                                         uint32_t position,
                                         Capabilities* caps) {
  auto read = [&](uint32_t field, unsigned width) {
    return io.Read(base::RegisterSpace::kPciConfig, position + field, width);
  };
  const uint32_t cap_length = read(VIRTIO_PCI_CAP_LEN, 1);
  const uint8_t cfg_type =
      static_cast<uint8_t>(read(VIRTIO_PCI_CAP_CFG_TYPE, 1));
  // The spec says to ignore what cannot be used, and to use the first usable
  // capability of each type: a bad one is skipped, a later good one may still
  // serve.
  if (cap_length < sizeof(virtio_pci_cap) ||
      position + cap_length > PCI_CFG_SPACE_SIZE) {
    base::Logf(platform, base::LogLevel::kWarning,
               "virtio-pci: ignoring %s capability at 0x%x: length %u",
               CapabilityName(cfg_type), position, cap_length);
    return;
  }
  const uint32_t bar = read(VIRTIO_PCI_CAP_BAR, 1);
  const uint32_t offset = read(VIRTIO_PCI_CAP_OFFSET, 4);
  const uint32_t length = read(VIRTIO_PCI_CAP_LENGTH, 4);
  Window* window = nullptr;
  uint32_t min_length = 1;
  switch (cfg_type) {
    case VIRTIO_PCI_CAP_COMMON_CFG:
      window = &caps->common;
      min_length = kCommonCfgMinLength;
      break;
    case VIRTIO_PCI_CAP_NOTIFY_CFG:
      window = &caps->notify;
      min_length = 2;  // One 16-bit doorbell at least.
      break;
    case VIRTIO_PCI_CAP_ISR_CFG:
      window = &caps->isr;
      break;
    case VIRTIO_PCI_CAP_DEVICE_CFG:
      window = &caps->device;
      break;
    default:
      return;  // PCI_CFG access and shared memory windows are not used.
  }
  if (window->length != 0) return;  // Already found a usable one.
  const uint64_t end = uint64_t{offset} + length;
  const bool bad_notify =
      cfg_type == VIRTIO_PCI_CAP_NOTIFY_CFG && cap_length < kNotifyCapMinLength;
  if (bar >= PCI_STD_NUM_BARS || length < min_length || end > UINT32_MAX ||
      bad_notify) {
    base::Logf(platform, base::LogLevel::kWarning,
               "virtio-pci: ignoring %s capability at 0x%x: bar %u offset 0x%x "
               "length %u",
               CapabilityName(cfg_type), position, bar, offset, length);
    return;
  }
  if (cfg_type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
    caps->notify_off_multiplier = read(VIRTIO_PCI_NOTIFY_CAP_MULT, 4);
  }
  window->space = base::PciBar(bar);
  window->offset = offset;
  window->length = length;
}

PciTransport::PciTransport(base::Platform& platform, base::RegisterIo& io,
                           uint32_t device_id, const Capabilities& caps)
    : Transport(platform),
      io_(io),
      device_id_(device_id),
      common_(caps.common),
      notify_(caps.notify),
      isr_(caps.isr),
      device_(caps.device),
      notify_off_multiplier_(caps.notify_off_multiplier) {}

uint32_t PciTransport::ReadCommon(uint32_t offset, unsigned width) {
  return io_.Read(common_.space, common_.offset + offset, width);
}

void PciTransport::WriteCommon(uint32_t offset, unsigned width,
                               uint32_t value) {
  io_.Write(common_.space, common_.offset + offset, width, value);
}

uint8_t PciTransport::ReadStatus() {
  return static_cast<uint8_t>(ReadCommon(VIRTIO_PCI_COMMON_STATUS, 1));
}

void PciTransport::WriteStatus(uint8_t status) {
  WriteCommon(VIRTIO_PCI_COMMON_STATUS, 1, status);
}

uint64_t PciTransport::ReadDeviceFeatures() {
  WriteCommon(VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
  const uint64_t low = ReadCommon(VIRTIO_PCI_COMMON_DF, 4);
  WriteCommon(VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
  const uint64_t high = ReadCommon(VIRTIO_PCI_COMMON_DF, 4);
  return low | (high << 32);
}

void PciTransport::WriteDriverFeatures(uint64_t features) {
  WriteCommon(VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
  WriteCommon(VIRTIO_PCI_COMMON_GF, 4, static_cast<uint32_t>(features));
  WriteCommon(VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
  WriteCommon(VIRTIO_PCI_COMMON_GF, 4, static_cast<uint32_t>(features >> 32));
}

uint16_t PciTransport::NumQueues() {
  return static_cast<uint16_t>(ReadCommon(VIRTIO_PCI_COMMON_NUMQ, 2));
}

uint16_t PciTransport::MaxQueueSize(uint16_t queue) {
  if (queue >= NumQueues()) return 0;
  WriteCommon(VIRTIO_PCI_COMMON_Q_SELECT, 2, queue);
  return static_cast<uint16_t>(ReadCommon(VIRTIO_PCI_COMMON_Q_SIZE, 2));
}

base::Result<void> PciTransport::EnableQueue(uint16_t queue, uint16_t size,
                                             const QueueAddresses& addresses) {
  const uint16_t max_size = MaxQueueSize(queue);  // Also selects the queue.
  if (max_size == 0 || size == 0 || size > max_size) return base::Error{EINVAL};
  if (ReadCommon(VIRTIO_PCI_COMMON_Q_ENABLE, 2) != 0)
    return base::Error{EINVAL};
  const uint64_t doorbell = uint64_t{ReadCommon(VIRTIO_PCI_COMMON_Q_NOFF, 2)} *
                            notify_off_multiplier_;
  if (doorbell + 2 > notify_.length) {
    base::Logf(
        platform_, base::LogLevel::kError,
        "virtio-pci: queue %u doorbell at 0x%llx is outside the notify window "
        "(%u)",
        queue, static_cast<unsigned long long>(doorbell), notify_.length);
    return base::Error{EIO};
  }
  WriteCommon(VIRTIO_PCI_COMMON_Q_SIZE, 2, size);
  auto write64 = [&](uint32_t low_offset, uint64_t value) {
    WriteCommon(low_offset, 4, static_cast<uint32_t>(value));
    WriteCommon(low_offset + 4, 4, static_cast<uint32_t>(value >> 32));
  };
  write64(VIRTIO_PCI_COMMON_Q_DESCLO, addresses.descriptor_table);
  write64(VIRTIO_PCI_COMMON_Q_AVAILLO, addresses.driver_area);
  write64(VIRTIO_PCI_COMMON_Q_USEDLO, addresses.device_area);
  // A reset set both vectors back to NO_VECTOR. The configuration-change
  // vector goes with each queue: queue setup is this transport's one step
  // between the reset and DRIVER_OK.
  TRY(SetMsixVector(VIRTIO_PCI_COMMON_MSIX, io_.ConfigMsixVector()));
  TRY(SetMsixVector(VIRTIO_PCI_COMMON_Q_MSIX, io_.QueueMsixVector(queue)));
  if (doorbells_.size() <= queue) doorbells_.resize(queue + 1, kNoDoorbell);
  doorbells_[queue] = static_cast<uint32_t>(doorbell);
  WriteCommon(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
  return {};
}

base::Result<void> PciTransport::SetMsixVector(uint32_t offset,
                                               uint16_t vector) {
  static_assert(base::RegisterIo::kNoMsixVector == VIRTIO_MSI_NO_VECTOR);
  if (vector == VIRTIO_MSI_NO_VECTOR) return {};  // Nothing routed: polled.
  WriteCommon(offset, 2, vector);
  // A device that cannot use the vector reads back NO_VECTOR (spec
  // 4.1.5.1.2): its interrupt would never come.
  if (ReadCommon(offset, 2) != vector) {
    base::Logf(platform_, base::LogLevel::kError,
               "virtio-pci: device refused MSI-X vector %u", vector);
    return base::Error{EIO};
  }
  return {};
}

void PciTransport::NotifyQueue(uint16_t queue) {
  if (queue >= doorbells_.size() || doorbells_[queue] == kNoDoorbell) return;
  io_.Write(notify_.space, notify_.offset + doorbells_[queue], 2, queue);
}

uint32_t PciTransport::ReadAndAckInterrupt() {
  // Reading the ISR status acknowledges it.
  return io_.Read(isr_.space, isr_.offset, 1) &
         (kInterruptUsedBuffer | kInterruptConfigChange);
}

uint32_t PciTransport::ConfigGeneration() {
  return ReadCommon(VIRTIO_PCI_COMMON_CFGGENERATION, 1);
}

base::Result<uint32_t> PciTransport::ReadConfig(uint32_t offset,
                                                unsigned width) {
  if ((width != 1 && width != 2 && width != 4) || offset % width != 0 ||
      uint64_t{offset} + width > device_.length) {
    return base::Error{EINVAL};
  }
  return io_.Read(device_.space, device_.offset + offset, width);
}

}  // namespace driver
