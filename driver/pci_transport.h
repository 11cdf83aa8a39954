// PciTransport: the virtio 1.x modern PCI transport (virtio spec 4.1).
//
// The device is found through vendor-specific capabilities in its PCI
// configuration space, each naming a BAR window: common configuration,
// notifications (doorbells), ISR status and device-specific configuration.
// Probe() walks the capability list and checks every value the device reports
// before using it: a malformed list or a window the driver cannot use is an
// error, never an access outside the window.
//
// Interrupts: when the platform routed the function's MSI-X table entries
// (RegisterIo::ConfigMsixVector, QueueMsixVector), EnableQueue writes them to
// msix_config and queue_msix_vector; otherwise it writes none and the device
// interrupts, if the platform takes its interrupt at all, by INTx.
#ifndef DRIVER_PCI_TRANSPORT_H_
#define DRIVER_PCI_TRANSPORT_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "base/platform.h"
#include "base/result.h"
#include "driver/transport.h"

namespace driver {

// PCI identity of virtio devices: modern-only device ids are 0x1040 + device
// type.
inline constexpr uint16_t kVirtioPciVendorId = 0x1af4;
inline constexpr uint16_t kVirtioPciModernDeviceIdBase = 0x1040;
inline constexpr uint16_t kVirtioPciModernDeviceIdLast = 0x107f;

class PciTransport final : public Transport {
 public:
  // Identifies the function behind `io` as a modern virtio device and locates
  // its register windows. ENODEV when it is not a modern virtio device or lacks
  // a required capability; EIO when its capability list is malformed. Enables
  // memory decoding and bus mastering in the command register. `platform` and
  // `io` must outlive the result.
  static base::Result<std::unique_ptr<PciTransport>> Probe(
      base::Platform& platform, base::RegisterIo& io);

  const char* name() const override { return "pci"; }
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

  // The register windows found at probe, for diagnostics and tests.
  struct Window {
    base::RegisterSpace space = base::RegisterSpace::kPciBar0;
    uint32_t offset = 0;  // Within the BAR.
    uint32_t length = 0;  // 0 when the capability is absent.
  };
  const Window& common_window() const { return common_; }
  const Window& notify_window() const { return notify_; }
  const Window& isr_window() const { return isr_; }
  const Window& device_window() const { return device_; }
  uint32_t notify_off_multiplier() const { return notify_off_multiplier_; }

 private:
  // Found capabilities, filled in by the capability walk.
  struct Capabilities {
    Window common, notify, isr, device;
    uint32_t notify_off_multiplier = 0;
  };

  PciTransport(base::Platform& platform, base::RegisterIo& io,
               uint32_t device_id, const Capabilities& caps);

  static base::Result<void> WalkCapabilities(base::Platform& platform,
                                             base::RegisterIo& io,
                                             Capabilities* caps);
  static void ParseVendorCapability(base::Platform& platform,
                                    base::RegisterIo& io, uint32_t position,
                                    Capabilities* caps);

  // Writes an MSI-X vector register (msix_config, or queue_msix_vector of the
  // selected queue) unless `vector` is NO_VECTOR, the platform having routed
  // none; EIO when the device does not keep it.
  base::Result<void> SetMsixVector(uint32_t offset, uint16_t vector);
  uint32_t ReadCommon(uint32_t offset, unsigned width);
  void WriteCommon(uint32_t offset, unsigned width, uint32_t value);

  base::RegisterIo& io_;
  uint32_t device_id_;
  Window common_;
  Window notify_;
  Window isr_;
  Window device_;
  uint32_t notify_off_multiplier_;
  // Doorbell offset within the notify window of each enabled queue; kNoDoorbell
  // for queues that were never enabled.
  static constexpr uint32_t kNoDoorbell = UINT32_MAX;
  std::vector<uint32_t> doorbells_;
};

}  // namespace driver

#endif  // DRIVER_PCI_TRANSPORT_H_
