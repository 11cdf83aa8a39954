// Finding the virtio-fs device on bare metal: a PCI function 1af4:105a
// (vhost-user-fs-pci on q35), else a virtio-mmio slot with device id 26
// (vhost-user-fs-device on microvm). The result carries the RegisterIo the
// driver's transport uses.
#ifndef BOOT_DEVICE_DISCOVERY_H_
#define BOOT_DEVICE_DISCOVERY_H_

#include <cstdint>
#include <memory>

#include "base/platform.h"
#include "boot/pci_config.h"
#include "boot/pci_register_io.h"

namespace boot {

inline constexpr uint32_t kVirtioFsDeviceType = 26;  // VIRTIO_ID_FS.
inline constexpr uint16_t kVirtioPciVendor = 0x1af4;
inline constexpr uint16_t kVirtioFsPciDeviceId = 0x1040 + kVirtioFsDeviceType;

// A device found on one of the machine's buses.
struct FoundDevice {
  base::TransportKind transport = base::TransportKind::kPci;
  std::unique_ptr<base::RegisterIo> io;
  PciAddress pci;          // On PCI.
  uint64_t mmio_base = 0;  // On virtio-mmio.

  const char* transport_name() const {
    return transport == base::TransportKind::kPci ? "pci" : "mmio";
  }
};

// The first virtio-fs device, PCI first. False when there is none.
bool FindVirtioFsDevice(base::Platform& platform,
                        PciRegisterIo::BarPolicy bar_policy,
                        FoundDevice* device);

}  // namespace boot

#endif  // BOOT_DEVICE_DISCOVERY_H_
