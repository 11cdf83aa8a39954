#include "driver/mmio_transport.h"

#include <linux/virtio_mmio.h>

#include "base/format.h"

namespace driver {

base::Result<std::unique_ptr<MmioTransport>> MmioTransport::Probe(
    base::Platform& platform, base::RegisterIo& io) {
  const uint32_t magic =
      io.Read(base::RegisterSpace::kMmio, VIRTIO_MMIO_MAGIC_VALUE, 4);
  if (magic != kVirtioMmioMagic) {
    base::Logf(platform, base::LogLevel::kWarning,
               "virtio-mmio: bad magic value 0x%x", magic);
    return base::Error{ENODEV};
  }
  const uint32_t version =
      io.Read(base::RegisterSpace::kMmio, VIRTIO_MMIO_VERSION, 4);
  if (version == 1) {
    base::Logf(
        platform, base::LogLevel::kError,
        "virtio-mmio: legacy device (version 1) is not supported; only virtio "
        "1.x "
        "(version 2) devices are (QEMU: -global "
        "virtio-mmio.force-legacy=false)");
    return base::Error{ENODEV};
  }
  if (version != kVirtioMmioVersion) {
    base::Logf(platform, base::LogLevel::kError,
               "virtio-mmio: unknown version %u", version);
    return base::Error{ENODEV};
  }
  const uint32_t device_id =
      io.Read(base::RegisterSpace::kMmio, VIRTIO_MMIO_DEVICE_ID, 4);
  if (device_id == 0) return base::Error{ENODEV};  // An empty slot.
  return std::unique_ptr<MmioTransport>(
      new MmioTransport(platform, io, device_id));
}

MmioTransport::MmioTransport(base::Platform& platform, base::RegisterIo& io,
                             uint32_t device_id)
    : Transport(platform), io_(io), device_id_(device_id) {}

uint8_t MmioTransport::ReadStatus() {
  return static_cast<uint8_t>(Read(VIRTIO_MMIO_STATUS));
}

void MmioTransport::WriteStatus(uint8_t status) {
  Write(VIRTIO_MMIO_STATUS, status);
}

uint64_t MmioTransport::ReadDeviceFeatures() {
  Write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
  const uint64_t low = Read(VIRTIO_MMIO_DEVICE_FEATURES);
  Write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
  const uint64_t high = Read(VIRTIO_MMIO_DEVICE_FEATURES);
  return low | (high << 32);
}

void MmioTransport::WriteDriverFeatures(uint64_t features) {
  Write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
  Write(VIRTIO_MMIO_DRIVER_FEATURES, static_cast<uint32_t>(features));
  Write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
  Write(VIRTIO_MMIO_DRIVER_FEATURES, static_cast<uint32_t>(features >> 32));
}

uint16_t MmioTransport::NumQueues() {
  uint16_t count = 0;
  while (count < kVirtioMmioMaxQueues && MaxQueueSize(count) != 0) ++count;
  return count;
}

uint16_t MmioTransport::MaxQueueSize(uint16_t queue) {
  Write(VIRTIO_MMIO_QUEUE_SEL, queue);
  const uint32_t max = Read(VIRTIO_MMIO_QUEUE_NUM_MAX);
  // Queue sizes are 16-bit on every transport; a larger value is the device's
  // error.
  return max > UINT16_MAX ? 0 : static_cast<uint16_t>(max);
}

base::Result<void> MmioTransport::EnableQueue(uint16_t queue, uint16_t size,
                                              const QueueAddresses& addresses) {
  const uint16_t max_size = MaxQueueSize(queue);  // Also selects the queue.
  if (max_size == 0 || size == 0 || size > max_size) return base::Error{EINVAL};
  if (Read(VIRTIO_MMIO_QUEUE_READY) != 0) return base::Error{EINVAL};
  Write(VIRTIO_MMIO_QUEUE_NUM, size);
  auto write64 = [&](uint32_t low_offset, uint32_t high_offset,
                     uint64_t value) {
    Write(low_offset, static_cast<uint32_t>(value));
    Write(high_offset, static_cast<uint32_t>(value >> 32));
  };
  write64(VIRTIO_MMIO_QUEUE_DESC_LOW, VIRTIO_MMIO_QUEUE_DESC_HIGH,
          addresses.descriptor_table);
  write64(VIRTIO_MMIO_QUEUE_AVAIL_LOW, VIRTIO_MMIO_QUEUE_AVAIL_HIGH,
          addresses.driver_area);
  write64(VIRTIO_MMIO_QUEUE_USED_LOW, VIRTIO_MMIO_QUEUE_USED_HIGH,
          addresses.device_area);
  if (enabled_.size() <= queue) enabled_.resize(queue + 1, 0);
  enabled_[queue] = 1;
  Write(VIRTIO_MMIO_QUEUE_READY, 1);
  return {};
}

void MmioTransport::NotifyQueue(uint16_t queue) {
  if (queue >= enabled_.size() || !enabled_[queue]) return;
  Write(VIRTIO_MMIO_QUEUE_NOTIFY, queue);
}

uint32_t MmioTransport::ReadAndAckInterrupt() {
  const uint32_t status = Read(VIRTIO_MMIO_INTERRUPT_STATUS);
  if (status != 0) Write(VIRTIO_MMIO_INTERRUPT_ACK, status);
  return status & (kInterruptUsedBuffer | kInterruptConfigChange);
}

uint32_t MmioTransport::ConfigGeneration() {
  return Read(VIRTIO_MMIO_CONFIG_GENERATION);
}

base::Result<uint32_t> MmioTransport::ReadConfig(uint32_t offset,
                                                 unsigned width) {
  if ((width != 1 && width != 2 && width != 4) || offset % width != 0 ||
      uint64_t{offset} + width > kVirtioMmioConfigLimit) {
    return base::Error{EINVAL};
  }
  return io_.Read(base::RegisterSpace::kMmio, VIRTIO_MMIO_CONFIG + offset,
                  width);
}

}  // namespace driver
