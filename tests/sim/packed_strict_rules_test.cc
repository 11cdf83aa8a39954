// One test per virtio rule of packed virtqueues (spec 2.8) the strict device
// enforces, through the whole device model: registers, notify, the model and
// sim::PackedDeviceQueue. Each test does a deliberately broken thing through
// a packed ring (tests/sim/test_packed_ring.h); the device must name exactly
// that violation, set DEVICE_NEEDS_RESET, raise a configuration change
// interrupt, and work again after a reset, as for split rings
// (strict_rules_test.cc). A few tests show correct packed use served. Every
// test runs on both transports.
#define VIRTIO_RING_NO_LEGACY
#include <gtest/gtest.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/echo_device.h"
#include "sim/packed_device_queue.h"
#include "sim/violation.h"
#include "tests/sim/test_driver.h"
#include "tests/sim/test_packed_ring.h"
#include "tests/sim/violation_checks.h"

namespace sim {
namespace {

using sim_test::Bit;
using sim_test::EchoPacked;
using sim_test::InitPacked;
using sim_test::Machine;
using sim_test::TestDriver;
using sim_test::TestPackedRing;
using Desc = TestPackedRing::Desc;
using Used = TestPackedRing::Used;

constexpr uint16_t kNext = VRING_DESC_F_NEXT;
constexpr uint16_t kWrite = VRING_DESC_F_WRITE;
constexpr uint16_t kIndirect = VRING_DESC_F_INDIRECT;
constexpr uint16_t kWrapBits = sim_test::kPackedAvail | sim_test::kPackedUsed;

class PackedStrictRulesTest
    : public ::testing::TestWithParam<base::TransportKind> {
 protected:
  PackedStrictRulesTest() {
    DeviceOptions options;
    options.transport = GetParam();
    options.strict = true;
    options.offer_packed_ring = true;
    options.on_violation = [this](const ViolationRecord& record) {
      reported_.push_back(record.violation);
    };
    machine_ = std::make_unique<Machine>(
        options,
        std::make_unique<EchoDevice>(EchoDevice::Options{.num_queues = 2}));
  }

  TestDriver& driver() { return *machine_->driver; }
  TestPackedRing& ring() { return *ring_; }
  // A new packed ring for queue 0, replacing the previous one (whose queue
  // the device must have dropped by then: reset).
  TestPackedRing& NewRing(uint16_t size = 8) {
    ring_.reset();
    ring_ = std::make_unique<TestPackedRing>(*machine_->memory,
                                             *machine_->allocator, size);
    return *ring_;
  }
  // Features negotiated with the packed ring, nothing configured yet.
  void NegotiatePacked() {
    ASSERT_TRUE(driver().Negotiate());
    ASSERT_TRUE(driver().negotiated() & Bit(VIRTIO_F_RING_PACKED));
  }

  // A fully initialised device, queue 0 on a packed ring of 8, then a request
  // that works (buffer id 0, ring positions 0 and 1).
  void InitAndCheck(uint64_t wanted = ~uint64_t{0}) {
    ASSERT_TRUE(InitPacked(driver(), NewRing(), wanted));
    ASSERT_EQ(EchoPacked(driver(), ring(), "ok"), "ok");
  }
  // Single writable descriptors, each used at once, until the driver's (and
  // so the device's) cursor stands at `position`.
  void UseUntil(uint16_t position) {
    while (ring().avail_position() != position) {
      ring().AddChain({{ring().Buffer(4), 4, kWrite}}, 1);
      driver().Notify(0);
      ASSERT_TRUE(ring().TakeUsed().has_value());
    }
  }
  // Makes `descs` available as a chain with buffer id `id` and notifies.
  void Submit(const std::vector<Desc>& descs, uint16_t id) {
    ring().AddChain(descs, id);
    driver().Notify(0);
  }

  // The first violation is `expected`, whose stable name is `name`; the chain
  // that broke the rule was not used; the device asks for a reset, raised a
  // config interrupt, and serves a new packed ring after one.
  void ExpectViolationAndRecovery(Violation expected, const char* name) {
    EXPECT_STREQ(ViolationName(expected), name);
    if (ring_ != nullptr) {
      EXPECT_FALSE(ring().TakeUsed().has_value());
    }
    sim_test::ExpectViolationReportedAndReset(*machine_, reported_, expected);
    if (HasFatalFailure()) return;
    ASSERT_TRUE(InitPacked(driver(), NewRing()));
    EXPECT_EQ(EchoPacked(driver(), ring(), "still works"), "still works");
    EXPECT_TRUE(machine_->device->violations().empty())
        << ToString(machine_->device->violations().front());
  }

  std::unique_ptr<Machine> machine_;
  std::unique_ptr<TestPackedRing> ring_;
  std::vector<Violation> reported_;
};

// --- Correct use ---

// Chains of 1 (indirect), 2 and 3 ring descriptors, so that they straddle the
// end of the ring at different offsets, over five laps of a ring of 8.
TEST_P(PackedStrictRulesTest, ChainsServedOverSeveralLaps) {
  ASSERT_TRUE(InitPacked(driver(), NewRing()));
  TestPackedRing& r = ring();
  const uint16_t kLengths[] = {3, 1, 2, 3, 2};
  uint32_t descriptors = 0;
  for (uint16_t i = 0; i < 20; ++i) {
    const std::string input = "chain number " + std::to_string(i);
    const uint32_t half = static_cast<uint32_t>(input.size() / 2);
    const uint64_t in = r.BufferWith(input);
    const uint64_t out = r.Buffer(64);
    std::vector<Desc> descs;
    switch (kLengths[i % 5]) {
      case 1:
        descs = {{r.IndirectTable(
                      {{in, half},
                       {in + half, static_cast<uint32_t>(input.size()) - half},
                       {out, 64, kWrite}}),
                  48, kIndirect}};
        break;
      case 2:
        descs = {{in, static_cast<uint32_t>(input.size())}, {out, 64, kWrite}};
        break;
      default:
        descs = {{in, half},
                 {in + half, static_cast<uint32_t>(input.size()) - half},
                 {out, 64, kWrite}};
    }
    descriptors += static_cast<uint32_t>(descs.size());
    const uint16_t id = static_cast<uint16_t>((3 * i) % r.size());
    const bool wrap = r.avail_wrap();
    const uint16_t head = r.AddChain(descs, id);
    driver().Notify(0);

    std::optional<Used> used = r.TakeUsed();
    ASSERT_TRUE(used.has_value()) << "chain " << i;
    EXPECT_EQ(used->position, head) << "chain " << i;  // Used in order.
    EXPECT_EQ(used->id, id);
    EXPECT_EQ(used->len, input.size());
    EXPECT_EQ(used->flags & kWrapBits, wrap ? kWrapBits : 0);
    EXPECT_TRUE(used->flags & kWrite);  // The length is meaningful.
    EXPECT_EQ(r.Text(out, used->len), input);
    EXPECT_FALSE(r.TakeUsed().has_value());
    EXPECT_TRUE(driver().TakeIsr() & VirtioDeviceModel::kIsrQueue);
    // EVENT_IDX: the device, having found the ring empty, asks to be notified
    // when the descriptor at the driver's cursor is made available.
    const vring_packed_desc_event event = r.DeviceEvent();
    EXPECT_EQ(event.flags, VRING_PACKED_EVENT_FLAG_DESC);
    EXPECT_EQ(event.off_wrap,
              r.avail_position() | (r.avail_wrap() ? kPackedWrapBit : 0));
  }
  EXPECT_GT(descriptors, 5u * r.size());
  EXPECT_TRUE(machine_->device->violations().empty())
      << ToString(machine_->device->violations().front());
}

// Used descriptors go in completion order, each skipping the ring slots of
// the chain it completes.
TEST_P(PackedStrictRulesTest, OutOfOrderCompletionSkipsChainSlots) {
  InitAndCheck();
  TestPackedRing& r = ring();
  machine_->echo->Hold();
  const uint16_t start = r.avail_position();
  Submit({{r.BufferWith("five"), 4}, {r.Buffer(8), 8, kWrite}}, 5);
  Submit({{r.Buffer(8), 8, kWrite}}, 1);  // Nothing to copy: length 0.
  Submit({{r.BufferWith("si"), 2},
          {r.BufferWith("x"), 1},
          {r.Buffer(8), 8, kWrite}},
         6);
  ASSERT_EQ(machine_->echo->held().size(), 3u);
  EXPECT_FALSE(r.TakeUsed().has_value());
  ASSERT_TRUE(machine_->echo->CompleteHeld(0, 6));
  ASSERT_TRUE(machine_->echo->CompleteHeld(0, 5));
  ASSERT_TRUE(machine_->echo->CompleteHeld(0, 1));

  const struct {
    uint16_t position, id;
    uint32_t len;
  } expected[] = {{start, 6, 3},
                  {static_cast<uint16_t>(start + 3), 5, 4},
                  {static_cast<uint16_t>(start + 5), 1, 0}};
  for (const auto& e : expected) {
    std::optional<Used> used = r.TakeUsed();
    ASSERT_TRUE(used.has_value()) << "id " << e.id;
    EXPECT_EQ(used->position, e.position);
    EXPECT_EQ(used->id, e.id);
    EXPECT_EQ(used->len, e.len);
    EXPECT_EQ((used->flags & kWrite) != 0, e.len != 0);
  }
  EXPECT_TRUE(machine_->device->violations().empty());
}

// --- Queue configuration ---

TEST_P(PackedStrictRulesTest, QueueSizeZero) {
  NegotiatePacked();
  driver().SetQueueSize(0, 0);
  ExpectViolationAndRecovery(Violation::kQueueSizeInvalid,
                             "queue size invalid");
}

TEST_P(PackedStrictRulesTest, QueueSizeAboveMaximum) {
  NegotiatePacked();
  ASSERT_EQ(driver().QueueMax(0), 256);
  driver().SetQueueSize(0, 257);
  ExpectViolationAndRecovery(Violation::kQueueSizeInvalid,
                             "queue size invalid");
}

// Packed sizes need not be powers of two (spec 2.8.10.1); a split ring's must.
TEST_P(PackedStrictRulesTest, QueueSizeNotAPowerOfTwoIsAccepted) {
  ASSERT_TRUE(InitPacked(driver(), NewRing(96)));
  if (driver().pci()) {
    EXPECT_EQ(driver().Common(VIRTIO_PCI_COMMON_Q_SIZE, 2), 96u);
  }
  for (uint16_t i = 0; i < 60; ++i) {  // 120 descriptors: past the end.
    const std::string input = "request " + std::to_string(i);
    ASSERT_EQ(EchoPacked(driver(), ring(), input, 64, i % 96), input);
  }
  EXPECT_FALSE(ring().used_wrap());
  EXPECT_TRUE(machine_->device->violations().empty())
      << ToString(machine_->device->violations().front());
}

TEST_P(PackedStrictRulesTest, DescriptorRingMisaligned) {
  NegotiatePacked();
  const sim::QueueLayout& layout = NewRing().layout();
  driver().ConfigureQueue(0, layout);
  driver().SetQueueAddresses(0, layout.desc + 8, layout.driver, layout.device);
  driver().EnableQueue(0);
  ExpectViolationAndRecovery(Violation::kQueueAddressMisaligned,
                             "queue address misaligned");
}

TEST_P(PackedStrictRulesTest, DriverEventAreaMisaligned) {
  NegotiatePacked();
  const sim::QueueLayout& layout = NewRing().layout();
  driver().ConfigureQueue(0, layout);
  driver().SetQueueAddresses(0, layout.desc, layout.driver + 2, layout.device);
  driver().EnableQueue(0);
  ExpectViolationAndRecovery(Violation::kQueueAddressMisaligned,
                             "queue address misaligned");
}

TEST_P(PackedStrictRulesTest, DeviceEventAreaMisaligned) {
  NegotiatePacked();
  const sim::QueueLayout& layout = NewRing().layout();
  driver().ConfigureQueue(0, layout);
  driver().SetQueueAddresses(0, layout.desc, layout.driver, layout.device + 2);
  driver().EnableQueue(0);
  ExpectViolationAndRecovery(Violation::kQueueAddressMisaligned,
                             "queue address misaligned");
}

// The event areas need only 4-byte alignment (spec 2.8.10.1): areas 4 and 12
// bytes past a 16-byte boundary are served.
TEST_P(PackedStrictRulesTest, EventAreasNeedOnlyFourByteAlignment) {
  NegotiatePacked();
  TestPackedRing& r = NewRing();
  const uint64_t areas = r.Buffer(32, 16);
  driver().ConfigureQueue(0, r.layout());
  driver().SetQueueAddresses(0, r.layout().desc, areas + 4, areas + 12);
  driver().EnableQueue(0);
  driver().AddStatus(VIRTIO_CONFIG_S_DRIVER_OK);
  EXPECT_EQ(EchoPacked(driver(), r, "aligned enough"), "aligned enough");
  EXPECT_TRUE(machine_->device->violations().empty())
      << ToString(machine_->device->violations().front());
}

TEST_P(PackedStrictRulesTest, DescriptorRingPastTheEndOfGuestMemory) {
  NegotiatePacked();
  const sim::QueueLayout& layout = NewRing().layout();
  driver().ConfigureQueue(0, layout);
  // 8 descriptors of 16 bytes, the last one past the end.
  driver().SetQueueAddresses(0, machine_->memory->end() - 7 * 16, layout.driver,
                             layout.device);
  driver().EnableQueue(0);
  ExpectViolationAndRecovery(Violation::kQueueAddressOutOfBounds,
                             "queue address outside guest memory");
}

TEST_P(PackedStrictRulesTest, EventAreaOutsideGuestMemory) {
  NegotiatePacked();
  const sim::QueueLayout& layout = NewRing().layout();
  driver().ConfigureQueue(0, layout);
  driver().SetQueueAddresses(0, layout.desc, layout.driver,
                             machine_->memory->end());
  driver().EnableQueue(0);
  ExpectViolationAndRecovery(Violation::kQueueAddressOutOfBounds,
                             "queue address outside guest memory");
}

// --- Buffer ids and ring slots ---

// The buffer id is the last descriptor's (spec 2.8.6): a valid one on the
// head does not help.
TEST_P(PackedStrictRulesTest, BufferIdOutOfRange) {
  InitAndCheck();
  TestPackedRing& r = ring();
  r.SetDescAhead(1, r.Buffer(4), 4, 8, kWrite);  // Queue size 8: ids 0..7.
  r.SetDescAhead(0, r.BufferWith("a"), 1, 3, kNext);
  r.Advance(2);
  driver().Notify(0);
  ExpectViolationAndRecovery(Violation::kBufferIdOutOfRange,
                             "buffer id out of range");
}

TEST_P(PackedStrictRulesTest, BufferIdMadeAvailableTwice) {
  InitAndCheck();
  TestPackedRing& r = ring();
  machine_->echo->Hold();
  Submit({{r.Buffer(8), 8, kWrite}}, 3);
  ASSERT_EQ(machine_->echo->held().size(), 1u);
  Submit({{r.Buffer(8), 8, kWrite}}, 3);
  machine_->echo->CompleteImmediately();
  ExpectViolationAndRecovery(Violation::kBufferIdInFlight,
                             "buffer id already in flight");
}

// Four chains of two fill the ring; a fifth overwrites a slot the device still
// holds, though its buffer id is free.
TEST_P(PackedStrictRulesTest, RingOverrun) {
  InitAndCheck();
  TestPackedRing& r = ring();
  machine_->echo->Hold();
  for (uint16_t id = 0; id < 4; ++id) {
    Submit({{r.BufferWith("x"), 1}, {r.Buffer(8), 8, kWrite}}, id);
  }
  ASSERT_EQ(machine_->echo->held().size(), 4u);
  Submit({{r.Buffer(8), 8, kWrite}}, 4);
  machine_->echo->CompleteImmediately();
  ExpectViolationAndRecovery(Violation::kRingOverrun,
                             "descriptor ring overrun");
}

// --- Availability and event suppression ---

// The head says NEXT, but the slot after it was never made available.
TEST_P(PackedStrictRulesTest, ChainContinuesIntoUnavailableSlot) {
  InitAndCheck();
  TestPackedRing& r = ring();
  r.SetDescAhead(0, r.BufferWith("a"), 1, 1, kNext);
  r.Advance(2);
  driver().Notify(0);
  ExpectViolationAndRecovery(Violation::kChainDescriptorNotAvailable,
                             "chain descriptor not available");
}

// A chain straddling the end of the ring whose tail keeps the old wrap
// counter's bits: the classic packed-driver bug.
TEST_P(PackedStrictRulesTest, ChainTailWithStaleWrapCounter) {
  InitAndCheck();
  UseUntil(7);
  TestPackedRing& r = ring();
  ASSERT_TRUE(r.avail_wrap());
  r.SetDesc(0, r.Buffer(8), 8, 2, kWrite | TestPackedRing::AvailBits(true));
  r.SetDescAhead(0, r.BufferWith("a"), 1, 2, kNext);
  r.Advance(2);
  driver().Notify(0);
  ExpectViolationAndRecovery(Violation::kChainDescriptorNotAvailable,
                             "chain descriptor not available");
}

TEST_P(PackedStrictRulesTest, EventSuppressionReservedFlags) {
  InitAndCheck();
  ring().SetDriverEvent(3);
  Submit({{ring().Buffer(8), 8, kWrite}}, 1);
  ExpectViolationAndRecovery(Violation::kEventSuppressionInvalid,
                             "event suppression invalid");
}

TEST_P(PackedStrictRulesTest, EventSuppressionDescWithoutEventIdx) {
  InitAndCheck(~Bit(VIRTIO_RING_F_EVENT_IDX));
  ring().SetDriverEvent(VRING_PACKED_EVENT_FLAG_DESC, kPackedWrapBit | 1);
  Submit({{ring().Buffer(8), 8, kWrite}}, 1);
  ExpectViolationAndRecovery(Violation::kEventSuppressionInvalid,
                             "event suppression invalid");
}

TEST_P(PackedStrictRulesTest, EventSuppressionOffsetBeyondQueueSize) {
  InitAndCheck();
  ASSERT_TRUE(driver().negotiated() & Bit(VIRTIO_RING_F_EVENT_IDX));
  ring().SetDriverEvent(VRING_PACKED_EVENT_FLAG_DESC, kPackedWrapBit | 8);
  Submit({{ring().Buffer(8), 8, kWrite}}, 1);
  ExpectViolationAndRecovery(Violation::kEventSuppressionInvalid,
                             "event suppression invalid");
}

// Spoilt while a buffer is in flight: the completion still interrupts (a
// missing one would hang the driver) and the next notify reports it.
TEST_P(PackedStrictRulesTest, EventSuppressionSpoiltBeforeCompletion) {
  InitAndCheck();
  machine_->echo->Hold();
  Submit({{ring().BufferWith("late"), 4}, {ring().Buffer(8), 8, kWrite}}, 1);
  ASSERT_EQ(machine_->echo->held().size(), 1u);
  ring().SetDriverEvent(3);
  driver().TakeIsr();
  ASSERT_TRUE(machine_->echo->CompleteHeld(0, 1));
  machine_->echo->CompleteImmediately();
  EXPECT_TRUE(driver().TakeIsr() & VirtioDeviceModel::kIsrQueue);
  std::optional<Used> used = ring().TakeUsed();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->id, 1);
  EXPECT_TRUE(machine_->device->violations().empty());
  driver().Notify(0);
  ExpectViolationAndRecovery(Violation::kEventSuppressionInvalid,
                             "event suppression invalid");
}

// --- Chain shape ---

TEST_P(PackedStrictRulesTest, NextOnEveryDescriptorOfTheRing) {
  InitAndCheck();
  TestPackedRing& r = ring();
  const uint64_t buffer = r.BufferWith("b");
  for (uint16_t ahead = 8; ahead-- > 0;) {  // Head last; wraps at slot 0.
    r.SetDescAhead(ahead, buffer, 1, 1, kNext);
  }
  r.Advance(8);
  driver().Notify(0);
  ExpectViolationAndRecovery(Violation::kChainTooLong,
                             "descriptor chain too long");
}

TEST_P(PackedStrictRulesTest, IndirectTableLongerThanQueueSize) {
  InitAndCheck();
  TestPackedRing& r = ring();
  const std::vector<Desc> entries(9, Desc{r.BufferWith("b"), 1});
  Submit({{r.IndirectTable(entries), 16 * 9, kIndirect}}, 1);
  ExpectViolationAndRecovery(Violation::kChainTooLong,
                             "descriptor chain too long");
}

TEST_P(PackedStrictRulesTest, IndirectInChain) {
  InitAndCheck();
  TestPackedRing& r = ring();
  const uint64_t table = r.IndirectTable({{r.Buffer(4), 4, kWrite}});
  Submit({{r.BufferWith("head"), 4}, {table, 16, kIndirect}}, 1);
  ExpectViolationAndRecovery(Violation::kIndirectInChain,
                             "indirect descriptor in chain");
}

TEST_P(PackedStrictRulesTest, IndirectWithNextFlag) {
  InitAndCheck();
  TestPackedRing& r = ring();
  const uint64_t table = r.IndirectTable({{r.Buffer(4), 4, kWrite}});
  Submit({{table, 16, kIndirect}, {r.Buffer(4), 4, kWrite}}, 1);
  ExpectViolationAndRecovery(Violation::kIndirectWithNext,
                             "indirect descriptor with next");
}

TEST_P(PackedStrictRulesTest, IndirectInsideIndirect) {
  InitAndCheck();
  TestPackedRing& r = ring();
  const uint64_t inner = r.IndirectTable({{r.Buffer(4), 4, kWrite}});
  const uint64_t outer = r.IndirectTable({{inner, 16, kIndirect}});
  Submit({{outer, 16, kIndirect}}, 1);
  ExpectViolationAndRecovery(Violation::kIndirectInIndirect,
                             "indirect descriptor in indirect table");
}

TEST_P(PackedStrictRulesTest, IndirectTableLengthNotMultipleOf16) {
  InitAndCheck();
  TestPackedRing& r = ring();
  const uint64_t table =
      r.IndirectTable({{r.Buffer(4), 4, kWrite}, {r.Buffer(4), 4, kWrite}});
  Submit({{table, 24, kIndirect}}, 1);
  ExpectViolationAndRecovery(Violation::kIndirectTableLengthInvalid,
                             "indirect table length invalid");
}

TEST_P(PackedStrictRulesTest, IndirectTableLengthZero) {
  InitAndCheck();
  Submit({{ring().Buffer(16), 0, kIndirect}}, 1);
  ExpectViolationAndRecovery(Violation::kIndirectTableLengthInvalid,
                             "indirect table length invalid");
}

TEST_P(PackedStrictRulesTest, IndirectWithoutNegotiation) {
  InitAndCheck(~Bit(VIRTIO_RING_F_INDIRECT_DESC));
  TestPackedRing& r = ring();
  Submit({{r.IndirectTable({{r.Buffer(4), 4, kWrite}}), 16, kIndirect}}, 1);
  ExpectViolationAndRecovery(Violation::kIndirectNotNegotiated,
                             "indirect descriptor not negotiated");
}

TEST_P(PackedStrictRulesTest, ReadableAfterWritable) {
  InitAndCheck();
  TestPackedRing& r = ring();
  Submit({{r.Buffer(8), 8, kWrite}, {r.BufferWith("late"), 4}}, 1);
  ExpectViolationAndRecovery(Violation::kReadableAfterWritable,
                             "readable descriptor after writable");
}

TEST_P(PackedStrictRulesTest, ReadableAfterWritableInIndirectTable) {
  InitAndCheck();
  TestPackedRing& r = ring();
  const uint64_t table =
      r.IndirectTable({{r.Buffer(8), 8, kWrite}, {r.BufferWith("late"), 4}});
  Submit({{table, 32, kIndirect}}, 1);
  ExpectViolationAndRecovery(Violation::kReadableAfterWritable,
                             "readable descriptor after writable");
}

// --- Buffers outside guest memory ---

TEST_P(PackedStrictRulesTest, DescriptorOutsideGuestMemory) {
  InitAndCheck();
  Submit({{0x1000, 16}}, 1);  // Below the guest memory base.
  ExpectViolationAndRecovery(Violation::kDescriptorOutOfBounds,
                             "descriptor outside guest memory");
}

TEST_P(PackedStrictRulesTest, DescriptorWrappingTheAddressSpace) {
  InitAndCheck();
  // addr + len wraps to a small number; a naive end check would accept it.
  Submit({{UINT64_MAX - 7, 4096, kWrite}}, 1);
  ExpectViolationAndRecovery(Violation::kDescriptorOutOfBounds,
                             "descriptor outside guest memory");
}

TEST_P(PackedStrictRulesTest, DescriptorStraddlingTheEnd) {
  InitAndCheck();
  Submit(
      {{ring().BufferWith("a"), 1}, {machine_->memory->end() - 8, 16, kWrite}},
      1);
  ExpectViolationAndRecovery(Violation::kDescriptorOutOfBounds,
                             "descriptor outside guest memory");
}

TEST_P(PackedStrictRulesTest, IndirectTableOutsideGuestMemory) {
  InitAndCheck();
  Submit({{machine_->memory->end() - 16, 32, kIndirect}}, 1);
  ExpectViolationAndRecovery(Violation::kDescriptorOutOfBounds,
                             "descriptor outside guest memory");
}

INSTANTIATE_TEST_SUITE_P(
    BothTransports, PackedStrictRulesTest,
    ::testing::Values(base::TransportKind::kPci, base::TransportKind::kMmio),
    [](const ::testing::TestParamInfo<base::TransportKind>& info) {
      return info.param == base::TransportKind::kPci ? "Pci" : "Mmio";
    });

}  // namespace
}  // namespace sim
