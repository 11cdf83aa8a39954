// One test per strict-mode rule: a deliberately broken driver action; the
// device must name exactly that violation, set DEVICE_NEEDS_RESET, raise a
// configuration change interrupt, and work again after a reset. Every test runs
// on both transports.
#include <gtest/gtest.h>
#include <linux/virtio_config.h>

#include <memory>
#include <string>
#include <vector>

#include "sim/echo_device.h"
#include "sim/violation.h"
#include "tests/sim/test_driver.h"
#include "tests/sim/violation_checks.h"

namespace sim {
namespace {

using sim_test::Bit;
using sim_test::Machine;
using sim_test::TestDriver;
using sim_test::TestRing;

constexpr uint8_t kAck = VIRTIO_CONFIG_S_ACKNOWLEDGE;
constexpr uint8_t kDriver = VIRTIO_CONFIG_S_DRIVER;
constexpr uint8_t kFeaturesOk = VIRTIO_CONFIG_S_FEATURES_OK;
constexpr uint8_t kDriverOk = VIRTIO_CONFIG_S_DRIVER_OK;

class StrictRulesTest : public ::testing::TestWithParam<base::TransportKind> {
 protected:
  StrictRulesTest() {
    DeviceOptions options;
    options.transport = GetParam();
    options.strict = true;
    options.on_violation = [this](const ViolationRecord& record) {
      reported_.push_back(record.violation);
    };
    machine_ = std::make_unique<Machine>(
        options,
        std::make_unique<EchoDevice>(EchoDevice::Options{.num_queues = 2}));
  }

  TestDriver& driver() { return *machine_->driver; }
  TestRing& ring() { return driver().ring(0); }

  // The first violation recorded is `expected`; the device asks for a reset,
  // raised a config interrupt, and is usable again after one.
  void ExpectViolationAndRecovery(Violation expected) {
    sim_test::ExpectViolationReportedAndReset(*machine_, reported_, expected);
    if (HasFatalFailure()) return;
    ASSERT_TRUE(driver().Init());
    EXPECT_EQ(driver().Echo("still works"), "still works");
    EXPECT_TRUE(machine_->device->violations().empty())
        << ToString(machine_->device->violations().front());
  }

  // A fully initialised device with one queue of 8, then a request that works.
  void InitAndCheck() {
    ASSERT_TRUE(driver().Init());
    ASSERT_EQ(driver().Echo("ok"), "ok");
  }

  std::unique_ptr<Machine> machine_;
  std::vector<Violation> reported_;
};

// --- Status
// ----------------------------------------------------------------------------

TEST_P(StrictRulesTest, DriverBeforeAcknowledge) {
  driver().SetStatus(0);
  driver().SetStatus(kDriver);
  ExpectViolationAndRecovery(Violation::kStatusDriverBeforeAcknowledge);
}

TEST_P(StrictRulesTest, FeaturesOkBeforeDriver) {
  driver().SetStatus(kAck);
  driver().SetDriverFeatures(Bit(VIRTIO_F_VERSION_1));
  driver().SetStatus(kAck | kFeaturesOk);
  EXPECT_FALSE(driver().Status() & kFeaturesOk);
  ExpectViolationAndRecovery(Violation::kStatusFeaturesOkBeforeDriver);
}

TEST_P(StrictRulesTest, DriverOkBeforeFeaturesOk) {
  driver().SetStatus(kAck);
  driver().SetStatus(kAck | kDriver);
  driver().SetStatus(kAck | kDriver | kDriverOk);
  EXPECT_FALSE(driver().Status() & kDriverOk);
  ExpectViolationAndRecovery(Violation::kStatusDriverOkBeforeFeaturesOk);
}

TEST_P(StrictRulesTest, StatusBitClearedWithoutReset) {
  InitAndCheck();
  driver().SetStatus(kAck | kDriver);  // Drops FEATURES_OK and DRIVER_OK.
  // The device stopped: a request is not processed until reset.
  TestRing& r = ring();
  r.SetDesc(0, r.BufferWith("x"), 1, 0);
  r.Publish(0);
  driver().Notify(0);
  EXPECT_EQ(r.UsedIdx(), 1);  // Only the request from InitAndCheck.
  ExpectViolationAndRecovery(Violation::kStatusBitCleared);
}

// --- Features
// --------------------------------------------------------------------------

TEST_P(StrictRulesTest, FeaturesWrittenAfterFeaturesOk) {
  ASSERT_TRUE(driver().Negotiate(Bit(VIRTIO_F_VERSION_1)));
  driver().SetDriverFeatures(Bit(VIRTIO_F_VERSION_1) |
                             Bit(VIRTIO_RING_F_EVENT_IDX));
  EXPECT_EQ(machine_->model().driver_features(), Bit(VIRTIO_F_VERSION_1));
  ExpectViolationAndRecovery(Violation::kFeaturesAfterFeaturesOk);
}

TEST_P(StrictRulesTest, FeaturesNotOfferedLeaveFeaturesOkClear) {
  driver().SetStatus(kAck);
  driver().SetStatus(kAck | kDriver);
  driver().SetDriverFeatures(Bit(VIRTIO_F_VERSION_1) |
                             Bit(5));  // Bit 5: not offered.
  driver().SetStatus(kAck | kDriver | kFeaturesOk);
  EXPECT_FALSE(driver().Status() & kFeaturesOk);
  ExpectViolationAndRecovery(Violation::kFeaturesNotSubset);
}

TEST_P(StrictRulesTest, Version1NotAccepted) {
  EXPECT_FALSE(driver().Negotiate(Bit(VIRTIO_RING_F_EVENT_IDX)));
  EXPECT_FALSE(driver().Status() & kFeaturesOk);
  ExpectViolationAndRecovery(Violation::kVersion1NotAccepted);
}

// --- Queue configuration
// ---------------------------------------------------------------

TEST_P(StrictRulesTest, QueueSizeNotAPowerOfTwo) {
  ASSERT_TRUE(driver().Negotiate());
  driver().SetQueueSize(0, 6);
  ExpectViolationAndRecovery(Violation::kQueueSizeInvalid);
}

TEST_P(StrictRulesTest, QueueSizeAboveMaximum) {
  ASSERT_TRUE(driver().Negotiate());
  EXPECT_EQ(driver().QueueMax(0), 256);
  driver().SetQueueSize(0, 512);
  ExpectViolationAndRecovery(Violation::kQueueSizeInvalid);
}

TEST_P(StrictRulesTest, QueueConfiguredWhileEnabled) {
  InitAndCheck();
  driver().SetQueueSize(0, 4);
  ExpectViolationAndRecovery(Violation::kQueueConfigWhileEnabled);
}

TEST_P(StrictRulesTest, QueueEnabledBeforeFeaturesOk) {
  driver().SetStatus(kAck);
  driver().SetStatus(kAck | kDriver);
  TestRing r(*machine_->memory, *machine_->allocator, 8);
  driver().ConfigureQueue(0, r.layout());
  driver().EnableQueue(0);
  ExpectViolationAndRecovery(Violation::kQueueEnableBeforeFeaturesOk);
}

TEST_P(StrictRulesTest, QueueAddressOutsideGuestMemory) {
  ASSERT_TRUE(driver().Negotiate());
  TestRing r(*machine_->memory, *machine_->allocator, 8);
  driver().ConfigureQueue(0, r.layout());
  // A used ring whose last bytes fall past the end of guest memory.
  driver().SetQueueAddresses(0, r.layout().desc, r.layout().driver,
                             machine_->memory->end() - 32);
  driver().EnableQueue(0);
  ExpectViolationAndRecovery(Violation::kQueueAddressOutOfBounds);
}

TEST_P(StrictRulesTest, QueueAddressMisaligned) {
  ASSERT_TRUE(driver().Negotiate());
  TestRing r(*machine_->memory, *machine_->allocator, 8);
  driver().ConfigureQueue(0, r.layout());
  driver().SetQueueAddresses(0, r.layout().desc + 8, r.layout().driver,
                             r.layout().device);
  driver().EnableQueue(0);
  ExpectViolationAndRecovery(Violation::kQueueAddressMisaligned);
}

// --- Notifications
// ---------------------------------------------------------------------

TEST_P(StrictRulesTest, NotifyForNonexistentQueue) {
  InitAndCheck();
  driver().Notify(7);  // The device has 2 queues.
  ExpectViolationAndRecovery(Violation::kNotifyNonexistentQueue);
}

TEST_P(StrictRulesTest, NotifyForQueueNotEnabled) {
  InitAndCheck();
  driver().Notify(1);  // Queue 1 exists but was never configured.
  ExpectViolationAndRecovery(Violation::kNotifyQueueNotEnabled);
}

TEST_P(StrictRulesTest, NotifyBeforeDriverOk) {
  ASSERT_TRUE(driver().Negotiate());
  TestRing r(*machine_->memory, *machine_->allocator, 8);
  driver().ConfigureQueue(0, r.layout());
  driver().EnableQueue(0);
  r.SetDesc(0, r.BufferWith("early"), 5, 0);
  r.Publish(0);
  driver().Notify(0);
  EXPECT_EQ(r.UsedIdx(), 0);
  ExpectViolationAndRecovery(Violation::kNotifyBeforeDriverOk);
}

// --- Rings and chains
// ------------------------------------------------------------------

TEST_P(StrictRulesTest, AvailIndexJumpsByMoreThanQueueSize) {
  InitAndCheck();
  ring().SetAvailIdx(static_cast<uint16_t>(ring().avail_idx() + 9));
  driver().Notify(0);
  ExpectViolationAndRecovery(Violation::kAvailIndexJump);
}

TEST_P(StrictRulesTest, HeadIndexOutOfRange) {
  InitAndCheck();
  ring().Publish(8);  // Queue size 8: heads are 0..7.
  driver().Notify(0);
  ExpectViolationAndRecovery(Violation::kHeadIndexOutOfRange);
}

TEST_P(StrictRulesTest, HeadMadeAvailableTwice) {
  InitAndCheck();
  machine_->echo->Hold();
  TestRing& r = ring();
  r.SetDesc(3, r.Buffer(8), 8, VRING_DESC_F_WRITE);
  r.Publish(3);
  driver().Notify(0);
  ASSERT_EQ(machine_->echo->held().size(), 1u);
  r.Publish(3);
  driver().Notify(0);
  machine_->echo->CompleteImmediately();
  ExpectViolationAndRecovery(Violation::kHeadAlreadyInFlight);
}

TEST_P(StrictRulesTest, NextIndexOutOfRange) {
  InitAndCheck();
  TestRing& r = ring();
  r.SetDesc(0, r.BufferWith("a"), 1, VRING_DESC_F_NEXT, 8);
  r.Publish(0);
  driver().Notify(0);
  ExpectViolationAndRecovery(Violation::kNextIndexOutOfRange);
}

TEST_P(StrictRulesTest, DescriptorOutsideGuestMemory) {
  InitAndCheck();
  TestRing& r = ring();
  r.SetDesc(0, 0x1000, 16, 0);  // Below the guest memory base.
  r.Publish(0);
  driver().Notify(0);
  ExpectViolationAndRecovery(Violation::kDescriptorOutOfBounds);
}

TEST_P(StrictRulesTest, DescriptorWrappingTheAddressSpace) {
  InitAndCheck();
  TestRing& r = ring();
  // addr + len wraps to a small number; a naive end check would accept it.
  r.SetDesc(0, UINT64_MAX - 7, 4096, VRING_DESC_F_WRITE);
  r.Publish(0);
  driver().Notify(0);
  ExpectViolationAndRecovery(Violation::kDescriptorOutOfBounds);
}

TEST_P(StrictRulesTest, DescriptorStraddlingTheEnd) {
  InitAndCheck();
  TestRing& r = ring();
  r.SetDesc(0, machine_->memory->end() - 8, 16, VRING_DESC_F_WRITE);
  r.Publish(0);
  driver().Notify(0);
  ExpectViolationAndRecovery(Violation::kDescriptorOutOfBounds);
}

TEST_P(StrictRulesTest, ReadableAfterWritable) {
  InitAndCheck();
  TestRing& r = ring();
  r.SetDesc(0, r.Buffer(8), 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
  r.SetDesc(1, r.BufferWith("late"), 4, 0);
  r.Publish(0);
  driver().Notify(0);
  ExpectViolationAndRecovery(Violation::kReadableAfterWritable);
}

TEST_P(StrictRulesTest, ChainLoops) {
  InitAndCheck();
  TestRing& r = ring();
  uint64_t buffer = r.BufferWith("loop");
  r.SetDesc(0, buffer, 4, VRING_DESC_F_NEXT, 1);
  r.SetDesc(1, buffer, 4, VRING_DESC_F_NEXT, 2);
  r.SetDesc(2, buffer, 4, VRING_DESC_F_NEXT, 0);
  r.Publish(0);
  driver().Notify(0);
  ExpectViolationAndRecovery(Violation::kChainLoop);
}

TEST_P(StrictRulesTest, IndirectTableLoops) {
  InitAndCheck();
  TestRing& r = ring();
  uint64_t buffer = r.BufferWith("loop");
  uint64_t table = r.IndirectTable(
      {{buffer, 4, VRING_DESC_F_NEXT, 1}, {buffer, 4, VRING_DESC_F_NEXT, 0}});
  r.SetDesc(0, table, 32, VRING_DESC_F_INDIRECT);
  r.Publish(0);
  driver().Notify(0);
  ExpectViolationAndRecovery(Violation::kChainLoop);
}

TEST_P(StrictRulesTest, ChainLongerThanQueueSize) {
  InitAndCheck();
  TestRing& r = ring();
  uint64_t buffer = r.BufferWith("b");
  std::vector<vring_desc> entries;
  for (uint16_t i = 0; i < 9; ++i) {  // 9 buffers on a queue of 8, no loop.
    entries.push_back({buffer, 1,
                       static_cast<uint16_t>(i < 8 ? VRING_DESC_F_NEXT : 0),
                       static_cast<uint16_t>(i + 1)});
  }
  r.SetDesc(0, r.IndirectTable(entries), 16 * 9, VRING_DESC_F_INDIRECT);
  r.Publish(0);
  driver().Notify(0);
  ExpectViolationAndRecovery(Violation::kChainTooLong);
}

TEST_P(StrictRulesTest, IndirectWithoutNegotiation) {
  ASSERT_TRUE(driver().Init(~Bit(VIRTIO_RING_F_INDIRECT_DESC)));
  TestRing& r = ring();
  uint64_t table = r.IndirectTable({{r.Buffer(4), 4, VRING_DESC_F_WRITE, 0}});
  r.SetDesc(0, table, 16, VRING_DESC_F_INDIRECT);
  r.Publish(0);
  driver().Notify(0);
  ExpectViolationAndRecovery(Violation::kIndirectNotNegotiated);
}

TEST_P(StrictRulesTest, IndirectInsideIndirect) {
  InitAndCheck();
  TestRing& r = ring();
  uint64_t inner = r.IndirectTable({{r.Buffer(4), 4, VRING_DESC_F_WRITE, 0}});
  uint64_t outer = r.IndirectTable({{inner, 16, VRING_DESC_F_INDIRECT, 0}});
  r.SetDesc(0, outer, 16, VRING_DESC_F_INDIRECT);
  r.Publish(0);
  driver().Notify(0);
  ExpectViolationAndRecovery(Violation::kIndirectInIndirect);
}

TEST_P(StrictRulesTest, IndirectWithNextFlag) {
  InitAndCheck();
  TestRing& r = ring();
  uint64_t table = r.IndirectTable({{r.Buffer(4), 4, VRING_DESC_F_WRITE, 0}});
  r.SetDesc(0, table, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
  r.SetDesc(1, r.Buffer(4), 4, VRING_DESC_F_WRITE);
  r.Publish(0);
  driver().Notify(0);
  ExpectViolationAndRecovery(Violation::kIndirectWithNext);
}

TEST_P(StrictRulesTest, IndirectTableLengthNotMultipleOf16) {
  InitAndCheck();
  TestRing& r = ring();
  uint64_t table = r.IndirectTable({{r.Buffer(4), 4, VRING_DESC_F_WRITE, 0},
                                    {r.Buffer(4), 4, VRING_DESC_F_WRITE, 0}});
  r.SetDesc(0, table, 24, VRING_DESC_F_INDIRECT);
  r.Publish(0);
  driver().Notify(0);
  ExpectViolationAndRecovery(Violation::kIndirectTableLengthInvalid);
}

TEST_P(StrictRulesTest, IndirectTableLengthZero) {
  InitAndCheck();
  TestRing& r = ring();
  r.SetDesc(0, r.Buffer(16), 0, VRING_DESC_F_INDIRECT);
  r.Publish(0);
  driver().Notify(0);
  ExpectViolationAndRecovery(Violation::kIndirectTableLengthInvalid);
}

// --- Registers
// -------------------------------------------------------------------------

TEST_P(StrictRulesTest, ConfigAccessOutOfRange) {
  InitAndCheck();
  EXPECT_EQ(driver().ReadConfig(EchoDevice::kConfigSize, 4), 0u);
  ExpectViolationAndRecovery(Violation::kConfigAccessOutOfRange);
}

TEST_P(StrictRulesTest, RegisterAccessOfWrongWidth) {
  InitAndCheck();
  if (driver().pci()) {
    // device_status is 8 bits wide.
    EXPECT_EQ(driver().Common(VIRTIO_PCI_COMMON_STATUS, 4), 0u);
  } else {
    EXPECT_EQ(machine_->device->Read(base::RegisterSpace::kMmio,
                                     VIRTIO_MMIO_MAGIC_VALUE, 2),
              0u);
  }
  ExpectViolationAndRecovery(Violation::kRegisterAccessInvalid);
}

INSTANTIATE_TEST_SUITE_P(
    BothTransports, StrictRulesTest,
    ::testing::Values(base::TransportKind::kPci, base::TransportKind::kMmio),
    [](const ::testing::TestParamInfo<base::TransportKind>& info) {
      return info.param == base::TransportKind::kPci ? "Pci" : "Mmio";
    });

// Every violation has a distinct stable name.
TEST(ViolationNamesTest, AreDistinctAndNonEmpty) {
  std::vector<std::string> names;
  for (int v = 0; v <= static_cast<int>(Violation::kRegisterAccessInvalid);
       ++v) {
    std::string name = ViolationName(static_cast<Violation>(v));
    EXPECT_FALSE(name.empty());
    EXPECT_NE(name, "unknown violation");
    for (const std::string& other : names) EXPECT_NE(name, other);
    names.push_back(name);
  }
  EXPECT_STREQ(ViolationName(Violation::kRegisterAccessInvalid),
               "register access invalid");
}

}  // namespace
}  // namespace sim
