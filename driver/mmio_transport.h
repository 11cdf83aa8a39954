// MmioTransport: the virtio-mmio transport, version 2 (virtio spec 4.2).
//
// One register block at a fixed place, no discovery beyond its magic and
// version. Only version 2 (virtio 1.x) is supported; a legacy (version 1)
// device is refused at probe.
#ifndef DRIVER_MMIO_TRANSPORT_H_
#define DRIVER_MMIO_TRANSPORT_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "base/platform.h"
#include "base/result.h"
#include "driver/transport.h"

namespace driver {

inline constexpr uint32_t kVirtioMmioMagic =
    0x74726976;  // "virt", little-endian.
inline constexpr uint32_t kVirtioMmioVersion = 2;
// The device config space starts at 0x100; the register block is at most a
// page.
inline constexpr uint32_t kVirtioMmioConfigLimit = 0x1000 - 0x100;
// virtio-mmio has no queue count register: NumQueues() looks no further than
// this.
inline constexpr uint16_t kVirtioMmioMaxQueues = 1024;

class MmioTransport final : public Transport {
 public:
  // Checks the magic value, version 2 and a non-zero device id (0 is an empty
  // slot). ENODEV otherwise. `platform` and `io` must outlive the result.
  static base::Result<std::unique_ptr<MmioTransport>> Probe(
      base::Platform& platform, base::RegisterIo& io);

  const char* name() const override { return "mmio"; }
  uint32_t device_id() const override { return device_id_; }
  base::RegisterIo& io() override { return io_; }
  uint8_t ReadStatus() override;
  void WriteStatus(uint8_t status) override;
  uint64_t ReadDeviceFeatures() override;
  void WriteDriverFeatures(uint64_t features) override;
  uint16_t NumQueues() override;
  uint16_t MaxQueueSize(uint16_t queue) override;
  base::Result<void> EnableQueue(uint16_t queue, uint16_t size,
                                 const QueueAddresses& addresses) override;
  void NotifyQueue(uint16_t queue) override;
  uint32_t ReadAndAckInterrupt() override;
  uint32_t ConfigGeneration() override;
  base::Result<uint32_t> ReadConfig(uint32_t offset, unsigned width) override;

 private:
  MmioTransport(base::Platform& platform, base::RegisterIo& io,
                uint32_t device_id);

  uint32_t Read(uint32_t offset) {
    return io_.Read(base::RegisterSpace::kMmio, offset, 4);
  }
  void Write(uint32_t offset, uint32_t value) {
    io_.Write(base::RegisterSpace::kMmio, offset, 4, value);
  }

  base::RegisterIo& io_;
  uint32_t device_id_;
  // Queues enabled since probe: only those get doorbells.
  std::vector<uint8_t> enabled_;
};

}  // namespace driver

#endif  // DRIVER_MMIO_TRANSPORT_H_
