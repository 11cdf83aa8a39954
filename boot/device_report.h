// Reading a virtio-fs device's identity two independent ways, so each checks
// the other:
//
// - ReadIdentityDirect: the image's own plain register accesses through the
//   RegisterIo, following the virtio register layouts (<linux/virtio_pci.h>,
//   <linux/virtio_mmio.h>). It proves the bare-metal RegisterIo (config space,
//   BARs, MMIO) on the real device.
// - ReadIdentityThroughDriver: the unmodified driver's transport
//   (driver::PciTransport or driver::MmioTransport) probing the same
//   RegisterIo.
#ifndef BOOT_DEVICE_REPORT_H_
#define BOOT_DEVICE_REPORT_H_

#include <linux/virtio_fs.h>

#include <cstdint>

#include "base/platform.h"
#include "boot/device_discovery.h"

namespace boot {

struct DeviceIdentity {
  uint32_t device_type = 0;
  uint64_t features = 0;
  char tag[sizeof(virtio_fs_config::tag) + 1] = {};  // NUL-terminated.
  uint32_t num_request_queues = 0;
};

// Both print what they read on the serial console; false when the device is not
// a usable virtio-fs device.
bool ReadIdentityDirect(FoundDevice& device, DeviceIdentity* identity);
bool ReadIdentityThroughDriver(base::Platform& platform, FoundDevice& device,
                               DeviceIdentity* identity);

}  // namespace boot

#endif  // BOOT_DEVICE_REPORT_H_
