#include "boot/device_report.h"

#include <linux/pci_regs.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_pci.h>

#include <cstddef>
#include <memory>

#include "boot/serial_console.h"
#include "driver/transport.h"
#include "share/virtio_fs_share.h"

namespace boot {
namespace {

using base::RegisterIo;
using base::RegisterSpace;

constexpr uint32_t kVirtioMmioMagic = 0x74726976;

const char* CapabilityTypeName(uint32_t type) {
  switch (type) {
    case VIRTIO_PCI_CAP_COMMON_CFG:
      return "common";
    case VIRTIO_PCI_CAP_NOTIFY_CFG:
      return "notify";
    case VIRTIO_PCI_CAP_ISR_CFG:
      return "isr";
    case VIRTIO_PCI_CAP_DEVICE_CFG:
      return "device";
    case VIRTIO_PCI_CAP_PCI_CFG:
      return "pci-cfg";
    default:
      return "other";
  }
}

struct Window {
  RegisterSpace space = RegisterSpace::kPciBar0;
  uint32_t offset = 0;
  uint32_t length = 0;
};

// Reads the virtio-fs config space (tag, queue count) with `read(offset,
// width)`.
template <typename ReadFn>
void ReadFsConfig(ReadFn read, DeviceIdentity* identity) {
  for (uint32_t i = 0; i < sizeof(virtio_fs_config::tag); ++i) {
    identity->tag[i] =
        static_cast<char>(read(offsetof(virtio_fs_config, tag) + i, 1));
  }
  identity->tag[sizeof(virtio_fs_config::tag)] = '\0';
  identity->num_request_queues =
      read(offsetof(virtio_fs_config, num_request_queues), 4);
}

bool ReadPciDirect(FoundDevice& device, DeviceIdentity* identity) {
  RegisterIo& io = *device.io;
  const auto* pci_io = static_cast<const PciRegisterIo*>(device.io.get());
  const uint32_t device_id =
      io.Read(RegisterSpace::kPciConfig, PCI_DEVICE_ID, 2);
  SerialPrintf("direct: pci %02x:%02x.%u vendor %04x device %04x revision %u\n",
               device.pci.bus, device.pci.device, device.pci.function,
               io.Read(RegisterSpace::kPciConfig, PCI_VENDOR_ID, 2), device_id,
               io.Read(RegisterSpace::kPciConfig, PCI_REVISION_ID, 1));
  for (unsigned n = 0; n < 6; ++n) {
    const PciRegisterIo::Bar& bar = pci_io->bar(n);
    if (bar.kind == PciRegisterIo::Bar::Kind::kAbsent) continue;
    SerialPrintf("direct:   BAR%u %s%s at 0x%llx, %llu bytes%s\n", n,
                 bar.kind == PciRegisterIo::Bar::Kind::kIo ? "io" : "memory",
                 bar.is_64bit ? " 64-bit" : "",
                 static_cast<unsigned long long>(bar.base),
                 static_cast<unsigned long long>(bar.size),
                 bar.assigned_by_image ? " (assigned by the image)" : "");
  }
  Window common, device_config;
  if (io.Read(RegisterSpace::kPciConfig, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST) {
    uint32_t position =
        io.Read(RegisterSpace::kPciConfig, PCI_CAPABILITY_LIST, 1) & 0xfc;
    for (int count = 0; position != 0 && count < 48; ++count) {
      auto read = [&](size_t field, unsigned width) {
        return io.Read(RegisterSpace::kPciConfig, position + field, width);
      };
      if (read(offsetof(virtio_pci_cap, cap_vndr), 1) == PCI_CAP_ID_VNDR) {
        const uint32_t type = read(offsetof(virtio_pci_cap, cfg_type), 1);
        Window window{base::PciBar(read(offsetof(virtio_pci_cap, bar), 1) % 6),
                      read(offsetof(virtio_pci_cap, offset), 4),
                      read(offsetof(virtio_pci_cap, length), 4)};
        SerialPrintf(
            "direct:   capability at 0x%02x: %s, BAR%u offset 0x%x length %u\n",
            position, CapabilityTypeName(type),
            read(offsetof(virtio_pci_cap, bar), 1), window.offset,
            window.length);
        if (type == VIRTIO_PCI_CAP_COMMON_CFG && common.length == 0)
          common = window;
        if (type == VIRTIO_PCI_CAP_DEVICE_CFG && device_config.length == 0) {
          device_config = window;
        }
      }
      position = read(offsetof(virtio_pci_cap, cap_next), 1) & 0xfc;
    }
  }
  if (common.length == 0 || device_config.length == 0) {
    SerialWrite(
        "direct: missing the common or device configuration capability\n");
    return false;
  }
  identity->device_type = device_id - 0x1040;
  for (uint32_t half = 0; half < 2; ++half) {
    io.Write(
        common.space,
        common.offset + offsetof(virtio_pci_common_cfg, device_feature_select),
        4, half);
    const uint64_t bits = io.Read(
        common.space,
        common.offset + offsetof(virtio_pci_common_cfg, device_feature), 4);
    identity->features |= bits << (32 * half);
  }
  ReadFsConfig(
      [&](uint32_t offset, unsigned width) {
        return io.Read(device_config.space, device_config.offset + offset,
                       width);
      },
      identity);
  return true;
}

bool ReadMmioDirect(FoundDevice& device, DeviceIdentity* identity) {
  RegisterIo& io = *device.io;
  auto read = [&](uint32_t offset) {
    return io.Read(RegisterSpace::kMmio, offset, 4);
  };
  const uint32_t magic = read(VIRTIO_MMIO_MAGIC_VALUE);
  const uint32_t version = read(VIRTIO_MMIO_VERSION);
  SerialPrintf(
      "direct: virtio-mmio at 0x%llx magic 0x%x version %u device %u vendor "
      "0x%x\n",
      static_cast<unsigned long long>(device.mmio_base), magic, version,
      read(VIRTIO_MMIO_DEVICE_ID), read(VIRTIO_MMIO_VENDOR_ID));
  if (magic != kVirtioMmioMagic || version != 2) {
    SerialWrite("direct: not a virtio-mmio version 2 (virtio 1.x) device\n");
    return false;
  }
  identity->device_type = read(VIRTIO_MMIO_DEVICE_ID);
  for (uint32_t half = 0; half < 2; ++half) {
    io.Write(RegisterSpace::kMmio, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 4, half);
    identity->features |= uint64_t{read(VIRTIO_MMIO_DEVICE_FEATURES)}
                          << (32 * half);
  }
  ReadFsConfig(
      [&](uint32_t offset, unsigned width) {
        return io.Read(RegisterSpace::kMmio, VIRTIO_MMIO_CONFIG + offset,
                       width);
      },
      identity);
  return true;
}

void PrintIdentity(const char* how, const DeviceIdentity& identity) {
  SerialPrintf(
      "%s: device type %u, features 0x%llx, tag \"%s\", %u request queue(s)\n",
      how, identity.device_type,
      static_cast<unsigned long long>(identity.features), identity.tag,
      identity.num_request_queues);
}

}  // namespace

bool ReadIdentityDirect(FoundDevice& device, DeviceIdentity* identity) {
  *identity = DeviceIdentity{};
  const bool ok = device.transport == base::TransportKind::kPci
                      ? ReadPciDirect(device, identity)
                      : ReadMmioDirect(device, identity);
  if (ok) PrintIdentity("direct", *identity);
  return ok;
}

bool ReadIdentityThroughDriver(base::Platform& platform, FoundDevice& device,
                               DeviceIdentity* identity) {
  *identity = DeviceIdentity{};
  auto probed = share::ProbeTransport(platform, *device.io, device.transport);
  if (!probed.ok()) {
    SerialPrintf("driver: %s transport probe failed: error %d\n",
                 device.transport_name(), probed.error());
    return false;
  }
  std::unique_ptr<driver::Transport> transport = std::move(probed).value();
  identity->device_type = transport->device_id();
  identity->features = transport->ReadDeviceFeatures();
  const base::Result<void> config =
      transport->ReadConfigConsistent([&]() -> base::Result<void> {
        TRY(transport->ReadConfigBytes(offsetof(virtio_fs_config, tag),
                                       identity->tag,
                                       sizeof(virtio_fs_config::tag)));
        identity->num_request_queues = TRY(transport->ReadConfig32(
            offsetof(virtio_fs_config, num_request_queues)));
        return {};
      });
  if (!config.ok()) {
    SerialPrintf("driver: reading the device configuration failed: error %d\n",
                 config.error());
    return false;
  }
  identity->tag[sizeof(virtio_fs_config::tag)] = '\0';
  SerialPrintf("driver: %s transport probed\n", transport->name());
  PrintIdentity("driver", *identity);
  return true;
}

}  // namespace boot
