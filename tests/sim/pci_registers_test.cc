#include "sim/pci_registers.h"

#include <gtest/gtest.h>
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>

#include <map>

#include "sim/echo_device.h"
#include "tests/sim/test_driver.h"

namespace sim {
namespace {

using base::RegisterSpace;
using sim_test::Bit;
using sim_test::Machine;

class PciRegistersTest : public ::testing::Test {
 protected:
  uint32_t Config(uint32_t offset, unsigned width) {
    return machine_.device->Read(RegisterSpace::kPciConfig, offset, width);
  }
  void SetConfig(uint32_t offset, unsigned width, uint32_t value) {
    machine_.device->Write(RegisterSpace::kPciConfig, offset, width, value);
  }
  uint32_t Bar(uint32_t offset, unsigned width) {
    return machine_.device->Read(base::PciBar(4), offset, width);
  }

  Machine machine_{DeviceOptions{.transport = base::TransportKind::kPci}};
};

TEST_F(PciRegistersTest, IdentifiesAsModernVirtio) {
  EXPECT_EQ(Config(PCI_VENDOR_ID, 2), 0x1AF4u);
  EXPECT_EQ(Config(PCI_DEVICE_ID, 2), 0x1040u + EchoDevice::kDeviceId);
  EXPECT_EQ(Config(PCI_VENDOR_ID, 4), 0x1AF4u | (0x107Fu << 16));
  EXPECT_EQ(Config(PCI_REVISION_ID, 1), 1u);
  EXPECT_EQ(Config(PCI_HEADER_TYPE, 1), 0u);
  EXPECT_TRUE(Config(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
  EXPECT_EQ(Config(PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1AF4u);
  EXPECT_EQ(Config(PCI_INTERRUPT_PIN, 1), 1u);
  EXPECT_TRUE(machine_.device->violations().empty());
}

TEST_F(PciRegistersTest, CapabilityWalkFindsEveryVirtioStructure) {
  struct Found {
    uint8_t bar;
    uint32_t offset;
    uint32_t length;
    uint8_t cap_len;
  };
  std::map<uint8_t, Found> found;
  uint32_t multiplier = 0;
  uint8_t cap = static_cast<uint8_t>(Config(PCI_CAPABILITY_LIST, 1));
  int steps = 0;
  while (cap != 0 && steps++ < 48) {
    ASSERT_EQ(cap % 4, 0) << "capabilities are dword aligned";
    ASSERT_GE(cap, 0x40);
    ASSERT_EQ(Config(cap + VIRTIO_PCI_CAP_VNDR, 1), PCI_CAP_ID_VNDR);
    uint8_t type =
        static_cast<uint8_t>(Config(cap + VIRTIO_PCI_CAP_CFG_TYPE, 1));
    found[type] = {static_cast<uint8_t>(Config(cap + VIRTIO_PCI_CAP_BAR, 1)),
                   Config(cap + VIRTIO_PCI_CAP_OFFSET, 4),
                   Config(cap + VIRTIO_PCI_CAP_LENGTH, 4),
                   static_cast<uint8_t>(Config(cap + VIRTIO_PCI_CAP_LEN, 1))};
    if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
      multiplier = Config(cap + VIRTIO_PCI_NOTIFY_CAP_MULT, 4);
    }
    cap = static_cast<uint8_t>(Config(cap + VIRTIO_PCI_CAP_NEXT, 1));
  }
  ASSERT_EQ(cap, 0) << "capability list does not end";
  ASSERT_EQ(found.size(), 4u);
  for (auto& [type, cap_info] : found) EXPECT_EQ(cap_info.bar, 4) << int(type);
  EXPECT_EQ(found[VIRTIO_PCI_CAP_COMMON_CFG].length,
            sizeof(virtio_pci_common_cfg));
  EXPECT_EQ(found[VIRTIO_PCI_CAP_NOTIFY_CFG].cap_len,
            sizeof(virtio_pci_notify_cap));
  EXPECT_EQ(found[VIRTIO_PCI_CAP_ISR_CFG].length, 1u);
  EXPECT_EQ(found[VIRTIO_PCI_CAP_DEVICE_CFG].length, EchoDevice::kConfigSize);
  EXPECT_EQ(multiplier, 4u);
  // Distinct, non-overlapping structures inside the BAR.
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  for (auto& [type, f] : found)
    ranges.push_back({f.offset, f.offset + f.length});
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    EXPECT_LE(ranges[i - 1].second, ranges[i].first);
  EXPECT_LE(ranges.back().second, PciRegisters::kBarSize);
  // The device config the walk found reads the echo magic.
  EXPECT_EQ(Bar(found[VIRTIO_PCI_CAP_DEVICE_CFG].offset, 4),
            EchoDevice::kConfigMagic);
}

TEST_F(PciRegistersTest, Bar4SizesLikeHardware) {
  const uint32_t low = Config(PCI_BASE_ADDRESS_4, 4);
  const uint32_t high = Config(PCI_BASE_ADDRESS_5, 4);
  EXPECT_EQ(low & PCI_BASE_ADDRESS_SPACE, PCI_BASE_ADDRESS_SPACE_MEMORY);
  EXPECT_EQ(low & PCI_BASE_ADDRESS_MEM_TYPE_MASK, PCI_BASE_ADDRESS_MEM_TYPE_64);
  EXPECT_EQ((uint64_t{high} << 32) | (low & PCI_BASE_ADDRESS_MEM_MASK),
            PciRegisters::kBarAddress);
  SetConfig(PCI_BASE_ADDRESS_4, 4, 0xFFFFFFFF);
  SetConfig(PCI_BASE_ADDRESS_5, 4, 0xFFFFFFFF);
  const uint32_t mask_low = Config(PCI_BASE_ADDRESS_4, 4);
  const uint32_t mask_high = Config(PCI_BASE_ADDRESS_5, 4);
  uint64_t mask =
      (uint64_t{mask_high} << 32) | (mask_low & PCI_BASE_ADDRESS_MEM_MASK);
  EXPECT_EQ(~mask + 1, PciRegisters::kBarSize);
  EXPECT_EQ(mask_low & ~PCI_BASE_ADDRESS_MEM_MASK,
            low & ~PCI_BASE_ADDRESS_MEM_MASK);
  // Restore, as firmware does.
  SetConfig(PCI_BASE_ADDRESS_4, 4, low);
  SetConfig(PCI_BASE_ADDRESS_5, 4, high);
  EXPECT_EQ(Config(PCI_BASE_ADDRESS_4, 4), low);
  // Unimplemented BARs read 0 and stay 0 when sized.
  SetConfig(PCI_BASE_ADDRESS_0, 4, 0xFFFFFFFF);
  EXPECT_EQ(Config(PCI_BASE_ADDRESS_0, 4), 0u);
  // Read-only registers ignore writes; the command register keeps them.
  SetConfig(PCI_VENDOR_ID, 2, 0x1234);
  EXPECT_EQ(Config(PCI_VENDOR_ID, 2), 0x1AF4u);
  SetConfig(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  EXPECT_EQ(Config(PCI_COMMAND, 2),
            unsigned{PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER});
  EXPECT_TRUE(machine_.device->violations().empty());
}

TEST_F(PciRegistersTest, CommonConfigFields) {
  sim_test::TestDriver& d = *machine_.driver;
  EXPECT_EQ(d.Common(VIRTIO_PCI_COMMON_NUMQ, 2), 1u);
  EXPECT_EQ(d.Common(VIRTIO_PCI_COMMON_MSIX, 2),
            unsigned{VIRTIO_MSI_NO_VECTOR});
  uint64_t features = d.DeviceFeatures();
  EXPECT_TRUE(features & Bit(VIRTIO_F_VERSION_1));
  EXPECT_TRUE(features & Bit(VIRTIO_RING_F_INDIRECT_DESC));
  EXPECT_TRUE(features & Bit(VIRTIO_RING_F_EVENT_IDX));
  d.SetCommon(VIRTIO_PCI_COMMON_DFSELECT, 4, 2);
  EXPECT_EQ(d.Common(VIRTIO_PCI_COMMON_DF, 4), 0u);
  EXPECT_EQ(d.Common(VIRTIO_PCI_COMMON_DFSELECT, 4), 2u);

  d.SetStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE);
  d.AddStatus(VIRTIO_CONFIG_S_DRIVER);
  d.SetDriverFeatures(Bit(VIRTIO_F_VERSION_1) | Bit(VIRTIO_RING_F_EVENT_IDX));
  d.SetCommon(VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
  EXPECT_EQ(d.Common(VIRTIO_PCI_COMMON_GF, 4), 1u);  // VERSION_1 is bit 32.
  d.SetCommon(VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
  EXPECT_EQ(d.Common(VIRTIO_PCI_COMMON_GF, 4), 1u << VIRTIO_RING_F_EVENT_IDX);
  d.AddStatus(VIRTIO_CONFIG_S_FEATURES_OK);
  EXPECT_EQ(d.Status(), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                            VIRTIO_CONFIG_S_FEATURES_OK);

  d.SelectQueue(0);
  EXPECT_EQ(d.Common(VIRTIO_PCI_COMMON_Q_SELECT, 2), 0u);
  EXPECT_EQ(d.Common(VIRTIO_PCI_COMMON_Q_SIZE, 2), 256u);
  EXPECT_EQ(d.Common(VIRTIO_PCI_COMMON_Q_NOFF, 2), 0u);
  EXPECT_EQ(d.Common(VIRTIO_PCI_COMMON_Q_MSIX, 2),
            unsigned{VIRTIO_MSI_NO_VECTOR});
  d.SetCommon(VIRTIO_PCI_COMMON_Q_SIZE, 2, 16);
  EXPECT_EQ(d.Common(VIRTIO_PCI_COMMON_Q_SIZE, 2), 16u);
  // 64-bit addresses as two halves.
  d.SetCommon(VIRTIO_PCI_COMMON_Q_DESCLO, 4, 0x89ABC000);
  d.SetCommon(VIRTIO_PCI_COMMON_Q_DESCHI, 4, 0x1);
  EXPECT_EQ(d.Common(VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0x89ABC000u);
  EXPECT_EQ(d.Common(VIRTIO_PCI_COMMON_Q_DESCHI, 4), 0x1u);
  EXPECT_EQ(d.Common(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0u);
  // A queue that does not exist has size 0.
  d.SelectQueue(1);
  EXPECT_EQ(d.Common(VIRTIO_PCI_COMMON_Q_SIZE, 2), 0u);
  EXPECT_TRUE(machine_.device->violations().empty());
  // Reset returns everything to its initial state.
  d.SetStatus(0);
  d.SelectQueue(0);
  EXPECT_EQ(d.Common(VIRTIO_PCI_COMMON_Q_SIZE, 2), 256u);
  EXPECT_EQ(d.Common(VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0u);
  EXPECT_EQ(machine_.model().driver_features(), 0u);
}

TEST_F(PciRegistersTest, IsrReadClearsAndNotifyUsesMultiplier) {
  sim_test::TestDriver& d = *machine_.driver;
  ASSERT_TRUE(d.Init());
  EXPECT_EQ(d.TakeIsr(), 0);
  ASSERT_EQ(d.Echo("isr"), "isr");
  EXPECT_EQ(d.TakeIsr(), VirtioDeviceModel::kIsrQueue);
  EXPECT_EQ(d.TakeIsr(), 0);  // Cleared by the read.
  EXPECT_EQ(d.notify_multiplier(), 4u);
  // A notify between two queues' addresses is not a notify.
  machine_.device->Write(base::PciBar(4), d.notify_offset() + 2, 2, 0);
  ASSERT_EQ(machine_.device->violations().size(), 1u);
  EXPECT_EQ(machine_.device->violations()[0].violation,
            Violation::kRegisterAccessInvalid);
}

TEST_F(PciRegistersTest, BadAccessesReadZeroAndAreReported) {
  struct Case {
    RegisterSpace space;
    uint32_t offset;
    unsigned width;
  };
  const Case cases[] = {
      {RegisterSpace::kPciConfig, 256, 4},         // Past configuration space.
      {RegisterSpace::kPciConfig, 2, 4},           // Misaligned.
      {RegisterSpace::kPciConfig, 0, 8},           // Bad width.
      {base::PciBar(0), 0, 4},                     // A BAR that does not exist.
      {RegisterSpace::kMmio, 0, 4},                // Another transport's space.
      {base::PciBar(4), VIRTIO_PCI_COMMON_DF, 2},  // Half of a 32-bit field.
      {base::PciBar(4), 0x3FFC, 4},                // Nothing there.
      {base::PciBar(4), 0xFFFFFFFC, 4},            // Far outside the BAR.
  };
  for (const Case& c : cases) {
    machine_.model().ClearViolations();
    EXPECT_EQ(machine_.device->Read(c.space, c.offset, c.width), 0u)
        << c.offset;
    ASSERT_EQ(machine_.device->violations().size(), 1u) << c.offset;
    EXPECT_EQ(machine_.device->violations()[0].violation,
              Violation::kRegisterAccessInvalid);
  }
  machine_.model().ClearViolations();
  // A write to a read-only field is reported and changes nothing.
  machine_.driver->SetCommon(VIRTIO_PCI_COMMON_NUMQ, 2, 9);
  EXPECT_EQ(machine_.driver->Common(VIRTIO_PCI_COMMON_NUMQ, 2), 1u);
  ASSERT_FALSE(machine_.device->violations().empty());
  EXPECT_EQ(machine_.device->violations()[0].violation,
            Violation::kRegisterAccessInvalid);
}

TEST_F(PciRegistersTest, DeviceConfigAccess) {
  sim_test::TestDriver& d = *machine_.driver;
  EXPECT_EQ(d.ReadConfig(EchoDevice::kConfigMagicOffset, 4),
            EchoDevice::kConfigMagic);
  EXPECT_EQ(d.ReadConfig(EchoDevice::kConfigMagicOffset, 1),
            EchoDevice::kConfigMagic & 0xFF);
  EXPECT_EQ(d.ReadConfig(EchoDevice::kConfigNumQueuesOffset, 2), 1u);
  d.WriteConfig(EchoDevice::kConfigScratchOffset, 4, 0xCAFEF00D);
  EXPECT_EQ(d.ReadConfig(EchoDevice::kConfigScratchOffset, 4), 0xCAFEF00Du);
  d.WriteConfig(EchoDevice::kConfigScratchOffset + 2, 2, 0x1234);
  EXPECT_EQ(d.ReadConfig(EchoDevice::kConfigScratchOffset, 4), 0x1234F00Du);
  uint8_t generation = d.ConfigGeneration();
  machine_.model().NotifyConfigChanged();
  EXPECT_EQ(d.ConfigGeneration(), static_cast<uint8_t>(generation + 1));
  EXPECT_EQ(d.TakeIsr(), VirtioDeviceModel::kIsrConfig);
  EXPECT_TRUE(machine_.device->violations().empty());
}

}  // namespace
}  // namespace sim
