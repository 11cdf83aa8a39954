#include "sim/mmio_registers.h"

#include <gtest/gtest.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "sim/echo_device.h"
#include "tests/sim/test_driver.h"

namespace sim {
namespace {

using base::RegisterSpace;
using sim_test::Bit;
using sim_test::Machine;

class MmioRegistersTest : public ::testing::Test {
 protected:
  uint32_t Reg(uint32_t offset) { return machine_.driver->Mmio(offset); }
  void SetReg(uint32_t offset, uint32_t value) {
    machine_.driver->SetMmio(offset, value);
  }
  void ExpectOneInvalidAccess() {
    std::vector<ViolationRecord> violations = machine_.device->violations();
    ASSERT_EQ(violations.size(), 1u);
    EXPECT_EQ(violations[0].violation, Violation::kRegisterAccessInvalid);
    machine_.model().ClearViolations();
  }

  Machine machine_{DeviceOptions{.transport = base::TransportKind::kMmio}};
};

TEST_F(MmioRegistersTest, IdentificationRegisters) {
  EXPECT_EQ(Reg(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976u);
  EXPECT_EQ(Reg(VIRTIO_MMIO_VERSION), 2u);
  EXPECT_EQ(Reg(VIRTIO_MMIO_DEVICE_ID), EchoDevice::kDeviceId);
  EXPECT_EQ(Reg(VIRTIO_MMIO_VENDOR_ID), 0x1AF4u);
  EXPECT_EQ(Reg(VIRTIO_MMIO_SHM_LEN_LOW), 0xFFFFFFFFu);
  EXPECT_EQ(Reg(VIRTIO_MMIO_SHM_LEN_HIGH), 0xFFFFFFFFu);
  EXPECT_TRUE(machine_.device->violations().empty());
}

TEST_F(MmioRegistersTest, FeaturesStatusAndQueueRegisters) {
  SetReg(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
  EXPECT_EQ(Reg(VIRTIO_MMIO_DEVICE_FEATURES), 1u);  // VERSION_1 = bit 32.
  SetReg(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
  EXPECT_EQ(
      Reg(VIRTIO_MMIO_DEVICE_FEATURES),
      (1u << VIRTIO_RING_F_INDIRECT_DESC) | (1u << VIRTIO_RING_F_EVENT_IDX));
  SetReg(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
  SetReg(VIRTIO_MMIO_STATUS,
         VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
  SetReg(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
  SetReg(VIRTIO_MMIO_DRIVER_FEATURES, 1);
  EXPECT_EQ(machine_.model().driver_features(), Bit(VIRTIO_F_VERSION_1));
  SetReg(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
                                 VIRTIO_CONFIG_S_DRIVER |
                                 VIRTIO_CONFIG_S_FEATURES_OK);
  EXPECT_TRUE(Reg(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);

  SetReg(VIRTIO_MMIO_QUEUE_SEL, 0);
  EXPECT_EQ(Reg(VIRTIO_MMIO_QUEUE_NUM_MAX), 256u);
  EXPECT_EQ(Reg(VIRTIO_MMIO_QUEUE_READY), 0u);
  SetReg(VIRTIO_MMIO_QUEUE_SEL, 1);
  EXPECT_EQ(Reg(VIRTIO_MMIO_QUEUE_NUM_MAX), 0u);  // No such queue.
  SetReg(VIRTIO_MMIO_QUEUE_SEL, 0);
  sim_test::TestRing ring(*machine_.memory, *machine_.allocator, 16);
  SetReg(VIRTIO_MMIO_QUEUE_NUM, 16);
  SetReg(VIRTIO_MMIO_QUEUE_DESC_LOW, static_cast<uint32_t>(ring.layout().desc));
  SetReg(VIRTIO_MMIO_QUEUE_DESC_HIGH,
         static_cast<uint32_t>(ring.layout().desc >> 32));
  SetReg(VIRTIO_MMIO_QUEUE_AVAIL_LOW,
         static_cast<uint32_t>(ring.layout().driver));
  SetReg(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
  SetReg(VIRTIO_MMIO_QUEUE_USED_LOW,
         static_cast<uint32_t>(ring.layout().device));
  SetReg(VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
  SetReg(VIRTIO_MMIO_QUEUE_READY, 1);
  EXPECT_EQ(Reg(VIRTIO_MMIO_QUEUE_READY), 1u);
  EXPECT_EQ(machine_.model().ReadQueueField(0, QueueField::kSize), 16u);
  EXPECT_EQ(machine_.model().ReadQueueField(0, QueueField::kDescLow),
            static_cast<uint32_t>(ring.layout().desc));
  SetReg(VIRTIO_MMIO_STATUS,
         Reg(VIRTIO_MMIO_STATUS) | VIRTIO_CONFIG_S_DRIVER_OK);

  // A request, then InterruptStatus / InterruptACK.
  ring.SetDesc(0, ring.BufferWith("mmio"), 4, VRING_DESC_F_NEXT, 1);
  uint64_t out = ring.Buffer(8);
  ring.SetDesc(1, out, 8, VRING_DESC_F_WRITE);
  ring.Publish(0);
  SetReg(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
  ASSERT_EQ(ring.UsedIdx(), 1);
  EXPECT_EQ(ring.Used(0).len, 4u);
  EXPECT_EQ(Reg(VIRTIO_MMIO_INTERRUPT_STATUS), unsigned{VIRTIO_MMIO_INT_VRING});
  EXPECT_EQ(Reg(VIRTIO_MMIO_INTERRUPT_STATUS),
            unsigned{VIRTIO_MMIO_INT_VRING});  // Kept.
  SetReg(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
  EXPECT_EQ(Reg(VIRTIO_MMIO_INTERRUPT_STATUS), 0u);
  EXPECT_TRUE(machine_.device->violations().empty());

  // QueueReady = 0 stops the queue; writing 0 to Status resets everything.
  SetReg(VIRTIO_MMIO_STATUS, 0);
  EXPECT_EQ(Reg(VIRTIO_MMIO_STATUS), 0u);
  EXPECT_EQ(Reg(VIRTIO_MMIO_QUEUE_READY), 0u);
}

TEST_F(MmioRegistersTest, ConfigSpace) {
  const RegisterSpace mmio = RegisterSpace::kMmio;
  EXPECT_EQ(machine_.device->Read(mmio, VIRTIO_MMIO_CONFIG, 4),
            EchoDevice::kConfigMagic);
  EXPECT_EQ(machine_.device->Read(mmio, VIRTIO_MMIO_CONFIG + 1, 1),
            (EchoDevice::kConfigMagic >> 8) & 0xFF);
  machine_.device->Write(
      mmio, VIRTIO_MMIO_CONFIG + EchoDevice::kConfigScratchOffset, 4, 77);
  EXPECT_EQ(machine_.device->Read(
                mmio, VIRTIO_MMIO_CONFIG + EchoDevice::kConfigScratchOffset, 4),
            77u);
  uint32_t generation = Reg(VIRTIO_MMIO_CONFIG_GENERATION);
  machine_.model().NotifyConfigChanged();
  EXPECT_EQ(Reg(VIRTIO_MMIO_CONFIG_GENERATION), generation + 1);
  EXPECT_EQ(Reg(VIRTIO_MMIO_INTERRUPT_STATUS),
            unsigned{VIRTIO_MMIO_INT_CONFIG});
  EXPECT_TRUE(machine_.device->violations().empty());
  EXPECT_EQ(machine_.device->Read(mmio, VIRTIO_MMIO_CONFIG + 1, 2),
            0u);  // Misaligned.
  ExpectOneInvalidAccess();
}

TEST_F(MmioRegistersTest, BadAccessesReadZeroAndAreReported) {
  const RegisterSpace mmio = RegisterSpace::kMmio;
  EXPECT_EQ(machine_.device->Read(mmio, VIRTIO_MMIO_VERSION, 1),
            0u);  // Not 32-bit.
  ExpectOneInvalidAccess();
  EXPECT_EQ(machine_.device->Read(mmio, VIRTIO_MMIO_VERSION + 2, 4),
            0u);  // Misaligned.
  ExpectOneInvalidAccess();
  EXPECT_EQ(Reg(VIRTIO_MMIO_QUEUE_NUM), 0u);  // Write-only.
  ExpectOneInvalidAccess();
  EXPECT_EQ(Reg(VIRTIO_MMIO_QUEUE_PFN), 0u);  // Legacy only.
  ExpectOneInvalidAccess();
  EXPECT_EQ(Reg(0x0F0), 0u);  // Nothing there.
  ExpectOneInvalidAccess();
  SetReg(VIRTIO_MMIO_MAGIC_VALUE, 1);  // Read-only.
  ExpectOneInvalidAccess();
  SetReg(VIRTIO_MMIO_GUEST_PAGE_SIZE, 4096);  // Legacy only.
  ExpectOneInvalidAccess();
  EXPECT_EQ(machine_.device->Read(base::RegisterSpace::kPciConfig, 0, 4), 0u);
  ExpectOneInvalidAccess();
  EXPECT_EQ(Reg(VIRTIO_MMIO_MAGIC_VALUE), MmioRegisters::kMagic);
}

}  // namespace
}  // namespace sim
