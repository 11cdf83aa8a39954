// PciTransport and MmioTransport against hand-built register spaces, including
// malformed ones: every bad value from the device must give an error, never an
// access outside the windows it announced.
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_pci.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "driver/mmio_transport.h"
#include "driver/pci_transport.h"
#include "gtest/gtest.h"
#include "tests/driver/fake_dma_platform.h"

namespace driver_test {
namespace {

using base::RegisterSpace;

// Plain memory behind every register space, with a few hooks.
class FakeRegisters : public base::RegisterIo {
 public:
  uint32_t Read(RegisterSpace space, uint32_t offset, unsigned width) override {
    reads_++;
    if (space == generation_space_ && offset == generation_offset_ &&
        generation_changes_ > 0) {
      generation_changes_--;
      Store(space, offset, width, Load(space, offset, width) + 1);
    }
    return Load(space, offset, width);
  }
  void Write(RegisterSpace space, uint32_t offset, unsigned width,
             uint32_t value) override {
    if (space == sticky_space_ && offset == sticky_offset_)
      return;  // Never resets.
    Store(space, offset, width, value);
    writes_.push_back({space, offset, value});
  }
  void SetInterruptHandler(InterruptHandler, void*) override {}

  uint32_t Load(RegisterSpace space, uint32_t offset, unsigned width) {
    std::vector<uint8_t>& bytes = Space(space);
    EXPECT_LE(uint64_t{offset} + width, bytes.size())
        << "access outside the space";
    if (uint64_t{offset} + width > bytes.size()) return 0;
    uint32_t value = 0;
    std::memcpy(&value, &bytes[offset], width);
    return value;
  }
  void Store(RegisterSpace space, uint32_t offset, unsigned width,
             uint32_t value) {
    std::vector<uint8_t>& bytes = Space(space);
    EXPECT_LE(uint64_t{offset} + width, bytes.size())
        << "access outside the space";
    if (uint64_t{offset} + width > bytes.size()) return;
    std::memcpy(&bytes[offset], &value, width);
  }
  std::vector<uint8_t>& Space(RegisterSpace space) {
    auto& bytes = spaces_[space];
    if (bytes.empty())
      bytes.resize(space == RegisterSpace::kPciConfig ? 256 : 0x4000);
    return bytes;
  }

  void BumpGenerationOnRead(RegisterSpace space, uint32_t offset, int times) {
    generation_space_ = space;
    generation_offset_ = offset;
    generation_changes_ = times;
  }
  void IgnoreWritesTo(RegisterSpace space, uint32_t offset) {
    sticky_space_ = space;
    sticky_offset_ = offset;
  }

  struct WriteRecord {
    RegisterSpace space;
    uint32_t offset;
    uint32_t value;
  };
  std::vector<WriteRecord> writes_;
  int reads_ = 0;

 private:
  std::map<RegisterSpace, std::vector<uint8_t>> spaces_;
  RegisterSpace generation_space_ = RegisterSpace::kMmio;
  uint32_t generation_offset_ = UINT32_MAX;
  int generation_changes_ = 0;
  RegisterSpace sticky_space_ = RegisterSpace::kMmio;
  uint32_t sticky_offset_ = UINT32_MAX;
};

constexpr uint32_t kCommon = 0x0000;
constexpr uint32_t kIsr = 0x1000;
constexpr uint32_t kDevice = 0x2000;
constexpr uint32_t kNotify = 0x3000;

class PciTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Cfg(PCI_VENDOR_ID, 2, 0x1af4);
    Cfg(PCI_DEVICE_ID, 2, 0x105a);  // virtio-fs.
    Cfg(PCI_STATUS, 2, PCI_STATUS_CAP_LIST);
    Cfg(PCI_CAPABILITY_LIST, 1, 0x40);
    // A non-virtio capability first (MSI-X id 0x11), as real devices have.
    Cfg(0x40, 1, 0x11);
    Cfg(0x41, 1, 0x50);
    AddCap(0x50, 0x60, VIRTIO_PCI_CAP_COMMON_CFG, 4, kCommon, 0x38);
    AddCap(0x60, 0x74, VIRTIO_PCI_CAP_NOTIFY_CFG, 4, kNotify, 0x1000, 20);
    Cfg(0x60 + VIRTIO_PCI_NOTIFY_CAP_MULT, 4, 4);
    AddCap(0x74, 0x84, VIRTIO_PCI_CAP_ISR_CFG, 4, kIsr, 1);
    AddCap(0x84, 0x00, VIRTIO_PCI_CAP_DEVICE_CFG, 4, kDevice, 8);
    // Two queues of up to 128, queue_notify_off = queue number.
    Bar(kCommon + VIRTIO_PCI_COMMON_NUMQ, 2, 2);
    Bar(kCommon + VIRTIO_PCI_COMMON_Q_SIZE, 2, 128);
    Bar(kCommon + VIRTIO_PCI_COMMON_Q_NOFF, 2, 1);
  }

  void Cfg(uint32_t offset, unsigned width, uint32_t value) {
    io_.Store(RegisterSpace::kPciConfig, offset, width, value);
  }
  void Bar(uint32_t offset, unsigned width, uint32_t value) {
    io_.Store(base::PciBar(4), offset, width, value);
  }
  void AddCap(uint32_t at, uint32_t next, uint8_t type, uint8_t bar,
              uint32_t offset, uint32_t length, uint8_t cap_len = 16) {
    Cfg(at + VIRTIO_PCI_CAP_VNDR, 1, PCI_CAP_ID_VNDR);
    Cfg(at + VIRTIO_PCI_CAP_NEXT, 1, next);
    Cfg(at + VIRTIO_PCI_CAP_LEN, 1, cap_len);
    Cfg(at + VIRTIO_PCI_CAP_CFG_TYPE, 1, type);
    Cfg(at + VIRTIO_PCI_CAP_BAR, 1, bar);
    Cfg(at + VIRTIO_PCI_CAP_OFFSET, 4, offset);
    Cfg(at + VIRTIO_PCI_CAP_LENGTH, 4, length);
  }
  base::Result<std::unique_ptr<driver::PciTransport>> Probe() {
    return driver::PciTransport::Probe(platform_, io_);
  }

  FakeDmaPlatform platform_;
  FakeRegisters io_;
};

TEST_F(PciTransportTest, ProbeFindsEveryVirtioCapability) {
  auto probed = Probe();
  ASSERT_TRUE(probed.ok()) << probed.error();
  driver::PciTransport& t = *probed.value();
  EXPECT_EQ(t.device_id(), 26u);
  EXPECT_EQ(t.common_window().space, base::PciBar(4));
  EXPECT_EQ(t.common_window().offset, kCommon);
  EXPECT_EQ(t.notify_window().offset, kNotify);
  EXPECT_EQ(t.notify_window().length, 0x1000u);
  EXPECT_EQ(t.notify_off_multiplier(), 4u);
  EXPECT_EQ(t.isr_window().offset, kIsr);
  EXPECT_EQ(t.device_window().length, 8u);
  EXPECT_EQ(io_.Load(RegisterSpace::kPciConfig, PCI_COMMAND, 2) &
                (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER),
            PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  EXPECT_EQ(t.NumQueues(), 2);
  EXPECT_EQ(t.MaxQueueSize(1), 128);
  EXPECT_EQ(t.MaxQueueSize(2), 0);  // Beyond num_queues.
}

TEST_F(PciTransportTest, FeaturesGoThroughTheSelectRegisters) {
  auto t = std::move(Probe().value());
  t->WriteDriverFeatures(0x0000'0001'0000'0003);
  // The last two writes of the select/value pairs: select 1, then the high
  // word.
  std::vector<std::pair<uint32_t, uint32_t>> feature_writes;
  for (const auto& w : io_.writes_) {
    if (w.offset == VIRTIO_PCI_COMMON_GFSELECT ||
        w.offset == VIRTIO_PCI_COMMON_GF) {
      feature_writes.push_back({w.offset, w.value});
    }
  }
  const std::vector<std::pair<uint32_t, uint32_t>> expected = {
      {VIRTIO_PCI_COMMON_GFSELECT, 0},
      {VIRTIO_PCI_COMMON_GF, 3},
      {VIRTIO_PCI_COMMON_GFSELECT, 1},
      {VIRTIO_PCI_COMMON_GF, 1}};
  EXPECT_EQ(feature_writes, expected);
}

TEST_F(PciTransportTest, RejectsOtherVendorsAndTransitionalDevices) {
  Cfg(PCI_DEVICE_ID, 2, 0x1009);  // Transitional virtio-fs id.
  EXPECT_EQ(Probe().error(), ENODEV);
  Cfg(PCI_DEVICE_ID, 2, 0x1080);
  EXPECT_EQ(Probe().error(), ENODEV);
  Cfg(PCI_DEVICE_ID, 2, 0x105a);
  Cfg(PCI_VENDOR_ID, 2, 0x8086);
  EXPECT_EQ(Probe().error(), ENODEV);
}

TEST_F(PciTransportTest, NoCapabilityListIsNoDevice) {
  Cfg(PCI_STATUS, 2, 0);
  EXPECT_EQ(Probe().error(), ENODEV);
}

TEST_F(PciTransportTest, CapabilityLoopIsAnError) {
  Cfg(0x84 + VIRTIO_PCI_CAP_NEXT, 1,
      0x50);  // Last cap points back to the second.
  EXPECT_EQ(Probe().error(), EIO);
  Cfg(0x84 + VIRTIO_PCI_CAP_NEXT, 1, 0x84);  // Points to itself.
  EXPECT_EQ(Probe().error(), EIO);
}

TEST_F(PciTransportTest, CapabilityPointerIntoTheHeaderIsAnError) {
  Cfg(PCI_CAPABILITY_LIST, 1, 0x10);
  EXPECT_EQ(Probe().error(), EIO);
}

TEST_F(PciTransportTest, CapabilityRunningPastConfigSpaceIsIgnored) {
  // The notify cap moves to 0xf8 with a length that crosses the end of config
  // space.
  Cfg(0x50 + VIRTIO_PCI_CAP_NEXT, 1, 0xf8);
  Cfg(0xf8 + VIRTIO_PCI_CAP_VNDR, 1, PCI_CAP_ID_VNDR);
  Cfg(0xf8 + VIRTIO_PCI_CAP_NEXT, 1, 0x74);
  Cfg(0xf8 + VIRTIO_PCI_CAP_LEN, 1, 20);
  Cfg(0xf8 + VIRTIO_PCI_CAP_CFG_TYPE, 1, VIRTIO_PCI_CAP_NOTIFY_CFG);
  EXPECT_EQ(Probe().error(), ENODEV);
  EXPECT_TRUE(platform_.Logged("ignoring notify capability"));
}

TEST_F(PciTransportTest, ReservedBarIsIgnoredAndALaterGoodCapabilityUsed) {
  Cfg(0x50 + VIRTIO_PCI_CAP_BAR, 1, 7);
  EXPECT_EQ(Probe().error(), ENODEV);  // The only common cap is unusable.
  // A second common capability (as a device may offer for alternatives) is
  // used.
  Cfg(0x84 + VIRTIO_PCI_CAP_NEXT, 1, 0xa0);
  AddCap(0xa0, 0x00, VIRTIO_PCI_CAP_COMMON_CFG, 2, 0x100, 0x38);
  auto probed = Probe();
  ASSERT_TRUE(probed.ok());
  EXPECT_EQ(probed.value()->common_window().space, base::PciBar(2));
  EXPECT_EQ(probed.value()->common_window().offset, 0x100u);
}

TEST_F(PciTransportTest, WindowThatOverflowsOrIsTooShortIsIgnored) {
  Cfg(0x50 + VIRTIO_PCI_CAP_OFFSET, 4, 0xffff'ff00);
  Cfg(0x50 + VIRTIO_PCI_CAP_LENGTH, 4, 0x200);  // offset + length wraps.
  EXPECT_EQ(Probe().error(), ENODEV);
  Cfg(0x50 + VIRTIO_PCI_CAP_OFFSET, 4, kCommon);
  Cfg(0x50 + VIRTIO_PCI_CAP_LENGTH, 4,
      0x10);  // Shorter than the common config.
  EXPECT_EQ(Probe().error(), ENODEV);
  Cfg(0x50 + VIRTIO_PCI_CAP_LENGTH, 4, 0x38);
  Cfg(0x60 + VIRTIO_PCI_CAP_LEN, 1, 16);  // Notify cap without its multiplier.
  EXPECT_EQ(Probe().error(), ENODEV);
}

TEST_F(PciTransportTest, DoorbellOutsideTheNotifyWindowIsAnError) {
  auto t = std::move(Probe().value());
  Bar(kCommon + VIRTIO_PCI_COMMON_Q_NOFF, 2,
      0x400);  // 0x400 * 4 = 0x1000: past end.
  const driver::QueueAddresses addresses{0x10000, 0x20000, 0x30000};
  EXPECT_EQ(t->EnableQueue(0, 64, addresses).error(), EIO);
  EXPECT_EQ(io_.Load(base::PciBar(4), kCommon + VIRTIO_PCI_COMMON_Q_ENABLE, 2),
            0u);
  Bar(kCommon + VIRTIO_PCI_COMMON_Q_NOFF, 2,
      0x3ff);  // Last doorbell in the window.
  ASSERT_TRUE(t->EnableQueue(0, 64, addresses).ok());
  EXPECT_EQ(io_.Load(base::PciBar(4), kCommon + VIRTIO_PCI_COMMON_Q_ENABLE, 2),
            1u);
  EXPECT_EQ(io_.Load(base::PciBar(4), kCommon + VIRTIO_PCI_COMMON_Q_SIZE, 2),
            64u);
  EXPECT_EQ(io_.Load(base::PciBar(4), kCommon + VIRTIO_PCI_COMMON_Q_USEDLO, 4),
            0x30000u);
  t->NotifyQueue(0);
  EXPECT_EQ(io_.writes_.back().offset, kNotify + 0x3ff * 4);
  EXPECT_EQ(io_.writes_.back().value, 0u);
  const size_t writes = io_.writes_.size();
  t->NotifyQueue(1);  // Never enabled: no doorbell.
  EXPECT_EQ(io_.writes_.size(), writes);
}

TEST_F(PciTransportTest, EnableQueueChecksSizeAndState) {
  auto t = std::move(Probe().value());
  const driver::QueueAddresses addresses{0x10000, 0x20000, 0x30000};
  EXPECT_EQ(t->EnableQueue(0, 256, addresses).error(), EINVAL);  // Above 128.
  EXPECT_EQ(t->EnableQueue(2, 64, addresses).error(),
            EINVAL);  // No such queue.
  ASSERT_TRUE(t->EnableQueue(0, 128, addresses).ok());
  EXPECT_EQ(t->EnableQueue(0, 64, addresses).error(),
            EINVAL);  // Already enabled.
}

TEST_F(PciTransportTest, DeviceConfigReadsStayInsideTheWindow) {
  auto t = std::move(Probe().value());
  Bar(kDevice + 4, 4, 0xabcd1234);
  EXPECT_EQ(t->ReadConfig32(4).value(), 0xabcd1234u);
  EXPECT_EQ(t->ReadConfig16(6).value(), 0xabcdu);
  EXPECT_EQ(t->ReadConfig8(7).value(), 0xabu);
  EXPECT_EQ(t->ReadConfig32(8).error(), EINVAL);
  EXPECT_EQ(t->ReadConfig16(7).error(), EINVAL);  // Misaligned.
  EXPECT_EQ(t->ReadConfig(0, 3).error(), EINVAL);
  EXPECT_EQ(t->ReadConfig32(UINT32_MAX - 3).error(), EINVAL);
  EXPECT_EQ(t->ReadConfig64(4).error(), EINVAL);  // The high half is outside.
  uint8_t bytes[4];
  ASSERT_TRUE(t->ReadConfigBytes(4, bytes, 4).ok());
  EXPECT_EQ(bytes[0], 0x34);
  EXPECT_EQ(t->ReadConfigBytes(6, bytes, 4).error(), EINVAL);
}

TEST_F(PciTransportTest, ConsistentConfigReadRetriesWhileTheGenerationMoves) {
  auto t = std::move(Probe().value());
  io_.BumpGenerationOnRead(base::PciBar(4),
                           kCommon + VIRTIO_PCI_COMMON_CFGGENERATION, 3);
  int attempts = 0;
  auto result = t->ReadConfigConsistent([&]() -> base::Result<void> {
    ++attempts;
    return {};
  });
  EXPECT_TRUE(result.ok());
  EXPECT_GE(attempts, 2);

  io_.BumpGenerationOnRead(base::PciBar(4),
                           kCommon + VIRTIO_PCI_COMMON_CFGGENERATION, 1000);
  EXPECT_EQ(t->ReadConfigConsistent([]() -> base::Result<void> {
               return {};
             }).error(),
            EAGAIN);
  // An error from the reads is passed through.
  io_.BumpGenerationOnRead(base::PciBar(4), 0, 0);
  EXPECT_EQ(t->ReadConfigConsistent([&]() -> base::Result<void> {
               return base::Error{EINVAL};
             }).error(),
            EINVAL);
}

TEST_F(PciTransportTest, ResetTimesOutWhenTheStatusNeverReadsZero) {
  auto t = std::move(Probe().value());
  t->WriteStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE);
  io_.IgnoreWritesTo(base::PciBar(4), kCommon + VIRTIO_PCI_COMMON_STATUS);
  EXPECT_EQ(t->Reset(2'000'000).error(), ETIMEDOUT);
  EXPECT_TRUE(platform_.Logged("did not complete reset"));
}

TEST_F(PciTransportTest, InterruptStatusIsReadFromTheIsrWindow) {
  auto t = std::move(Probe().value());
  Bar(kIsr, 1, 0x3);
  EXPECT_EQ(t->ReadAndAckInterrupt(),
            driver::kInterruptUsedBuffer | driver::kInterruptConfigChange);
}

class MmioTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Reg(VIRTIO_MMIO_MAGIC_VALUE, 0x74726976);
    Reg(VIRTIO_MMIO_VERSION, 2);
    Reg(VIRTIO_MMIO_DEVICE_ID, 26);
  }
  void Reg(uint32_t offset, uint32_t value) {
    io_.Store(RegisterSpace::kMmio, offset, 4, value);
  }
  base::Result<std::unique_ptr<driver::MmioTransport>> Probe() {
    return driver::MmioTransport::Probe(platform_, io_);
  }

  FakeDmaPlatform platform_;
  FakeRegisters io_;
};

TEST_F(MmioTransportTest, ProbeAcceptsVersion2) {
  auto probed = Probe();
  ASSERT_TRUE(probed.ok());
  EXPECT_EQ(probed.value()->device_id(), 26u);
  EXPECT_STREQ(probed.value()->name(), "mmio");
}

TEST_F(MmioTransportTest, LegacyVersion1IsRefusedWithAClearMessage) {
  Reg(VIRTIO_MMIO_VERSION, 1);
  EXPECT_EQ(Probe().error(), ENODEV);
  EXPECT_TRUE(platform_.Logged("legacy device (version 1) is not supported"));
  Reg(VIRTIO_MMIO_VERSION, 3);
  EXPECT_EQ(Probe().error(), ENODEV);
}

TEST_F(MmioTransportTest, BadMagicOrEmptySlotIsNoDevice) {
  Reg(VIRTIO_MMIO_DEVICE_ID, 0);
  EXPECT_EQ(Probe().error(), ENODEV);
  Reg(VIRTIO_MMIO_DEVICE_ID, 26);
  Reg(VIRTIO_MMIO_MAGIC_VALUE, 0x12345678);
  EXPECT_EQ(Probe().error(), ENODEV);
}

TEST_F(MmioTransportTest, InterruptIsAcknowledgedWithWhatWasRead) {
  auto t = std::move(Probe().value());
  Reg(VIRTIO_MMIO_INTERRUPT_STATUS, 0x1);
  EXPECT_EQ(t->ReadAndAckInterrupt(), driver::kInterruptUsedBuffer);
  EXPECT_EQ(io_.writes_.back().offset,
            static_cast<uint32_t>(VIRTIO_MMIO_INTERRUPT_ACK));
  EXPECT_EQ(io_.writes_.back().value, 0x1u);
}

TEST_F(MmioTransportTest, ConfigReadsAreBoundedAndOffsetBy0x100) {
  auto t = std::move(Probe().value());
  Reg(VIRTIO_MMIO_CONFIG + 8, 0x55667788);
  EXPECT_EQ(t->ReadConfig32(8).value(), 0x55667788u);
  EXPECT_EQ(t->ReadConfig32(driver::kVirtioMmioConfigLimit).error(), EINVAL);
  EXPECT_EQ(t->ReadConfig32(2).error(), EINVAL);
}

}  // namespace
}  // namespace driver_test
