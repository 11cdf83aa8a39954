#include "boot/device_discovery.h"

#include "boot/mmio_register_io.h"

namespace boot {

bool FindVirtioFsDevice(base::Platform& platform,
                        PciRegisterIo::BarPolicy bar_policy,
                        FoundDevice* device) {
  PciAddress address;
  if (PciFindFunction(kVirtioPciVendor, kVirtioFsPciDeviceId, &address)) {
    device->transport = base::TransportKind::kPci;
    device->pci = address;
    device->io = std::make_unique<PciRegisterIo>(platform, address, bar_policy);
    return true;
  }
  const uint64_t base = FindVirtioMmioDevice(kVirtioFsDeviceType);
  if (base != 0) {
    device->transport = base::TransportKind::kMmio;
    device->mmio_base = base;
    device->io = std::make_unique<MmioRegisterIo>(platform, base,
                                                  kMicrovmVirtioMmioSlotSize);
    return true;
  }
  return false;
}

}  // namespace boot
