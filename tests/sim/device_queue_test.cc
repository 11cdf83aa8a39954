#include <gtest/gtest.h>

#include <iterator>
#include <string>

#include "sim/split_device_queue.h"
#include "tests/sim/test_driver.h"

namespace sim {
namespace {

using sim_test::TestRing;

class DeviceQueueTest : public ::testing::Test {
 protected:
  SplitDeviceQueue MakeQueue(TestRing& ring, bool indirect = true,
                             bool event_idx = false) {
    EXPECT_FALSE(CheckSplitQueueLayout(*memory_, ring.layout()).has_value());
    return SplitDeviceQueue(
        *memory_, 0, ring.layout(),
        QueueFeatures{.indirect_desc = indirect, .event_idx = event_idx});
  }
  static std::string Text(const GuestBuffer& buffer) {
    return std::string(reinterpret_cast<const char*>(buffer.data), buffer.size);
  }

  std::unique_ptr<GuestMemory> memory_ = GuestMemory::Create(1 << 20);
  DmaAllocator allocator_{*memory_};
  DescriptorChain chain_;
  ViolationRecord violation_;
};

TEST_F(DeviceQueueTest, QueueSizeRules) {
  EXPECT_TRUE(IsValidSplitQueueSize(1, 1024));
  EXPECT_TRUE(IsValidSplitQueueSize(256, 256));
  EXPECT_TRUE(IsValidSplitQueueSize(32768, 65535));
  EXPECT_FALSE(IsValidSplitQueueSize(0, 1024));
  EXPECT_FALSE(IsValidSplitQueueSize(96, 1024));
  EXPECT_FALSE(IsValidSplitQueueSize(512, 256));
  EXPECT_FALSE(IsValidSplitQueueSize(65536, 65536));
}

TEST_F(DeviceQueueTest, LayoutChecks) {
  QueueLayout good{.size = 8,
                   .desc = memory_->base(),
                   .driver = memory_->base() + 0x1000,
                   .device = memory_->base() + 0x2000};
  EXPECT_FALSE(CheckSplitQueueLayout(*memory_, good).has_value());
  QueueLayout misaligned = good;
  misaligned.desc += 8;
  EXPECT_EQ(CheckSplitQueueLayout(*memory_, misaligned)->violation,
            Violation::kQueueAddressMisaligned);
  misaligned = good;
  misaligned.device += 2;
  EXPECT_EQ(CheckSplitQueueLayout(*memory_, misaligned)->violation,
            Violation::kQueueAddressMisaligned);
  QueueLayout outside = good;
  outside.driver = memory_->end() - 8;  // 6 + 2 * 8 bytes do not fit.
  EXPECT_EQ(CheckSplitQueueLayout(*memory_, outside)->violation,
            Violation::kQueueAddressOutOfBounds);
  outside = good;
  outside.desc = 0x1000;
  EXPECT_EQ(CheckSplitQueueLayout(*memory_, outside)->violation,
            Violation::kQueueAddressOutOfBounds);
}

TEST_F(DeviceQueueTest, PopsDirectChainReadableThenWritable) {
  TestRing ring(*memory_, allocator_, 8);
  SplitDeviceQueue queue = MakeQueue(ring);
  EXPECT_EQ(queue.Pop(&chain_, &violation_), DeviceQueue::PopStatus::kEmpty);
  uint64_t header = ring.BufferWith("head");
  uint64_t body = ring.BufferWith("er and body");
  uint64_t reply = ring.Buffer(32);
  ring.SetDesc(5, header, 4, VRING_DESC_F_NEXT, 2);
  ring.SetDesc(2, body, 11, VRING_DESC_F_NEXT, 7);
  ring.SetDesc(7, reply, 32, VRING_DESC_F_WRITE);
  ring.Publish(5);
  ASSERT_EQ(queue.Pop(&chain_, &violation_), DeviceQueue::PopStatus::kChain);
  EXPECT_EQ(chain_.head, 5);
  ASSERT_EQ(chain_.readable.size(), 2u);
  EXPECT_EQ(Text(chain_.readable[0]) + Text(chain_.readable[1]),
            "header and body");
  ASSERT_EQ(chain_.writable.size(), 1u);
  EXPECT_EQ(chain_.writable[0].data, ring.Host(reply));
  EXPECT_EQ(chain_.readable_bytes, 15u);
  EXPECT_EQ(chain_.writable_bytes, 32u);
  EXPECT_EQ(queue.in_flight(), 1u);
  EXPECT_EQ(queue.Pop(&chain_, &violation_), DeviceQueue::PopStatus::kEmpty);
}

TEST_F(DeviceQueueTest, PopsIndirectChain) {
  TestRing ring(*memory_, allocator_, 4);
  SplitDeviceQueue queue = MakeQueue(ring);
  uint64_t a = ring.BufferWith("abc");
  uint64_t b = ring.BufferWith("defg");
  uint64_t out = ring.Buffer(16);
  // The walk starts at entry 0 and follows next, not the table order.
  uint64_t table = ring.IndirectTable({{a, 3, VRING_DESC_F_NEXT, 2},
                                       {out, 16, VRING_DESC_F_WRITE, 0},
                                       {b, 4, VRING_DESC_F_NEXT, 1}});
  ring.SetDesc(3, table, 48, VRING_DESC_F_INDIRECT);
  ring.Publish(3);
  ASSERT_EQ(queue.Pop(&chain_, &violation_), DeviceQueue::PopStatus::kChain)
      << ToString(violation_);
  EXPECT_EQ(chain_.head, 3);
  ASSERT_EQ(chain_.readable.size(), 2u);
  EXPECT_EQ(Text(chain_.readable[0]), "abc");
  EXPECT_EQ(Text(chain_.readable[1]), "defg");
  ASSERT_EQ(chain_.writable.size(), 1u);
  EXPECT_EQ(chain_.writable_bytes, 16u);
}

TEST_F(DeviceQueueTest, DirectDescriptorsMayEndInAnIndirectTable) {
  TestRing ring(*memory_, allocator_, 4);
  SplitDeviceQueue queue = MakeQueue(ring);
  uint64_t header = ring.BufferWith("hdr");
  uint64_t out = ring.Buffer(8);
  uint64_t table = ring.IndirectTable({{out, 8, VRING_DESC_F_WRITE, 0}});
  ring.SetDesc(0, header, 3, VRING_DESC_F_NEXT, 1);
  ring.SetDesc(1, table, 16, VRING_DESC_F_INDIRECT);
  ring.Publish(0);
  ASSERT_EQ(queue.Pop(&chain_, &violation_), DeviceQueue::PopStatus::kChain)
      << ToString(violation_);
  EXPECT_EQ(chain_.readable.size(), 1u);
  EXPECT_EQ(chain_.writable.size(), 1u);
}

TEST_F(DeviceQueueTest, PushUsedWritesElementThenIndexAndClampsLength) {
  TestRing ring(*memory_, allocator_, 4);
  SplitDeviceQueue queue = MakeQueue(ring);
  uint64_t out = ring.Buffer(10);
  ring.SetDesc(1, out, 10, VRING_DESC_F_WRITE);
  ring.Publish(1);
  ASSERT_EQ(queue.Pop(&chain_, &violation_), DeviceQueue::PopStatus::kChain);
  EXPECT_FALSE(queue.PushUsed(2, 5));  // Not in flight.
  EXPECT_EQ(ring.UsedIdx(), 0);
  EXPECT_TRUE(queue.PushUsed(1, 1000));  // More than the chain can hold.
  EXPECT_EQ(ring.UsedIdx(), 1);
  EXPECT_EQ(ring.Used(0).id, 1u);
  EXPECT_EQ(ring.Used(0).len, 10u);
  EXPECT_FALSE(queue.PushUsed(1, 5));  // Already used.
  EXPECT_EQ(ring.UsedIdx(), 1);
  EXPECT_EQ(queue.in_flight(), 0u);
}

// The device skips storing a used element that already holds its value (to
// keep the line in the driver's cache); one that differs in any field, or was
// overwritten, is stored.
TEST_F(DeviceQueueTest, UsedElementsAreRightWhateverTheRingHeldBefore) {
  TestRing ring(*memory_, allocator_, 2);
  SplitDeviceQueue queue = MakeQueue(ring);
  for (uint16_t d = 0; d < 2; ++d) {
    ring.SetDesc(d, ring.Buffer(16), 16, VRING_DESC_F_WRITE);
  }
  struct Completion {
    uint16_t head;
    uint32_t length;
  };
  // Ring positions 0 and 1 alternate: each position sees the same element
  // again, then its id changed, then its length changed, then garbage.
  const Completion completions[] = {{0, 4}, {1, 4}, {0, 4}, {1, 4}, {1, 4},
                                    {0, 4}, {1, 8}, {0, 9}, {1, 8}, {0, 9}};
  for (uint16_t i = 0; i < std::size(completions); ++i) {
    if (i == 8) {
      ring.SetUsed(0, vring_used_elem{.id = 7, .len = 1});
      ring.SetUsed(1, vring_used_elem{.id = 7, .len = 1});
    }
    const Completion& c = completions[i];
    ring.Publish(c.head);
    ASSERT_EQ(queue.Pop(&chain_, &violation_), DeviceQueue::PopStatus::kChain);
    ASSERT_TRUE(queue.PushUsed(c.head, c.length));
    ASSERT_EQ(ring.UsedIdx(), i + 1);
    EXPECT_EQ(ring.Used(i).id, c.head) << i;
    EXPECT_EQ(ring.Used(i).len, c.length) << i;
  }
}

TEST_F(DeviceQueueTest, NoInterruptFlagSuppressesWithoutEventIdx) {
  TestRing ring(*memory_, allocator_, 4);
  SplitDeviceQueue queue = MakeQueue(ring, true, false);
  uint64_t out = ring.Buffer(4);
  ring.SetDesc(0, out, 4, VRING_DESC_F_WRITE);
  EXPECT_FALSE(queue.TakeInterruptDue());  // Nothing pushed.
  ring.Publish(0);
  ASSERT_EQ(queue.Pop(&chain_, &violation_), DeviceQueue::PopStatus::kChain);
  ASSERT_TRUE(queue.PushUsed(0, 4));
  EXPECT_TRUE(queue.TakeInterruptDue());
  ring.SetAvailFlags(VRING_AVAIL_F_NO_INTERRUPT);
  ring.Publish(0);
  ASSERT_EQ(queue.Pop(&chain_, &violation_), DeviceQueue::PopStatus::kChain);
  ASSERT_TRUE(queue.PushUsed(0, 4));
  EXPECT_FALSE(queue.TakeInterruptDue());
  // Without EVENT_IDX the device never writes avail_event.
  EXPECT_EQ(ring.AvailEvent(), 0);
}

TEST_F(DeviceQueueTest, EventIdxInterruptsOnlyWhenUsedEventIsCrossed) {
  TestRing ring(*memory_, allocator_, 8);
  SplitDeviceQueue queue = MakeQueue(ring, true, true);
  uint64_t out = ring.Buffer(4);
  for (uint16_t d = 0; d < 8; ++d) ring.SetDesc(d, out, 4, VRING_DESC_F_WRITE);
  // EVENT_IDX makes the device ignore the flags.
  ring.SetAvailFlags(VRING_AVAIL_F_NO_INTERRUPT);
  ring.SetUsedEvent(
      2);  // "Interrupt me when used idx passes 2", i.e. becomes 3.
  for (uint16_t d = 0; d < 5; ++d) ring.Publish(d);
  std::vector<bool> due;
  for (uint16_t d = 0; d < 5; ++d) {
    ASSERT_EQ(queue.Pop(&chain_, &violation_), DeviceQueue::PopStatus::kChain);
    ASSERT_TRUE(queue.PushUsed(chain_.head, 1));
    due.push_back(queue.TakeInterruptDue());
  }
  EXPECT_EQ(due, (std::vector<bool>{false, false, true, false, false}));
  // A batch crossing used_event yields one interrupt.
  ring.SetUsedEvent(6);
  for (uint16_t d = 0; d < 3; ++d) ring.Publish(d);
  for (uint16_t d = 0; d < 3; ++d) {
    ASSERT_EQ(queue.Pop(&chain_, &violation_), DeviceQueue::PopStatus::kChain);
    ASSERT_TRUE(queue.PushUsed(chain_.head, 1));
  }
  EXPECT_TRUE(queue.TakeInterruptDue());
}

TEST_F(DeviceQueueTest, EventIdxPublishesAvailEventWhenEmpty) {
  TestRing ring(*memory_, allocator_, 4);
  SplitDeviceQueue queue = MakeQueue(ring, true, true);
  uint64_t out = ring.Buffer(4);
  ring.SetDesc(0, out, 4, VRING_DESC_F_WRITE);
  ring.SetDesc(1, out, 4, VRING_DESC_F_WRITE);
  ring.Publish(0);
  ring.Publish(1);
  ASSERT_EQ(queue.Pop(&chain_, &violation_), DeviceQueue::PopStatus::kChain);
  ASSERT_EQ(queue.Pop(&chain_, &violation_), DeviceQueue::PopStatus::kChain);
  EXPECT_EQ(queue.Pop(&chain_, &violation_), DeviceQueue::PopStatus::kEmpty);
  // The device asks to be notified when avail idx passes 2.
  EXPECT_EQ(ring.AvailEvent(), 2);
}

TEST_F(DeviceQueueTest, DescribesWhatWasTakenReturnedAndAskedFor) {
  TestRing ring(*memory_, allocator_, 4);
  SplitDeviceQueue queue = MakeQueue(ring, true, true);
  uint64_t out = ring.Buffer(4);
  for (uint16_t d = 0; d < 3; ++d) ring.SetDesc(d, out, 4, VRING_DESC_F_WRITE);
  ring.SetUsedEvent(5);
  for (uint16_t d = 0; d < 3; ++d) ring.Publish(d);
  ASSERT_EQ(queue.Pop(&chain_, &violation_), DeviceQueue::PopStatus::kChain);
  ASSERT_EQ(queue.Pop(&chain_, &violation_), DeviceQueue::PopStatus::kChain);
  ASSERT_TRUE(queue.PushUsed(chain_.head, 1));
  EXPECT_FALSE(queue.TakeInterruptDue());
  EXPECT_EQ(queue.DescribeState(),
            "driver's avail idx 3, taken up to 2 (1 waiting), 1 in flight, "
            "used idx 1, last interrupt decision at 1, driver's used_event 5");
}

TEST_F(DeviceQueueTest, IndicesWrapPast65535) {
  TestRing ring(*memory_, allocator_, 4);
  SplitDeviceQueue queue = MakeQueue(ring, true, true);
  uint64_t in = ring.BufferWith("x");
  uint64_t out = ring.Buffer(4);
  for (uint16_t d = 0; d < 4; d += 2) {
    ring.SetDesc(d, in, 1, VRING_DESC_F_NEXT, d + 1);
    ring.SetDesc(d + 1, out, 4, VRING_DESC_F_WRITE);
  }
  constexpr int kRequests = 70000;
  int interrupts = 0;
  for (int i = 0; i < kRequests; ++i) {
    const uint16_t head = (i % 2) * 2;
    ring.Publish(head);
    ring.SetUsedEvent(
        static_cast<uint16_t>(i));  // Interrupt for every element.
    ASSERT_EQ(queue.Pop(&chain_, &violation_), DeviceQueue::PopStatus::kChain)
        << i << ": " << ToString(violation_);
    ASSERT_EQ(chain_.head, head);
    ASSERT_TRUE(queue.PushUsed(head, 1));
    interrupts += queue.TakeInterruptDue();
    const uint16_t used = ring.UsedIdx();
    ASSERT_EQ(used, static_cast<uint16_t>(i + 1));
    ASSERT_EQ(ring.Used(static_cast<uint16_t>(used - 1)).id, head);
  }
  EXPECT_EQ(interrupts, kRequests);
  EXPECT_EQ(queue.last_avail_idx(), static_cast<uint16_t>(kRequests));
  EXPECT_EQ(queue.used_idx(), static_cast<uint16_t>(kRequests));
}

}  // namespace
}  // namespace sim
