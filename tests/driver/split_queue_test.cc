#include "driver/split_queue.h"

#include <linux/virtio_config.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "gtest/gtest.h"
#include "tests/driver/fake_dma_platform.h"
#include "tests/driver/fake_ring_device.h"

namespace driver_test {
namespace {

using driver::Segment;
using driver::SplitQueue;
using driver::UsedBuffer;

constexpr uint64_t kIndirect = uint64_t{1} << VIRTIO_RING_F_INDIRECT_DESC;
constexpr uint64_t kEventIdx = uint64_t{1} << VIRTIO_RING_F_EVENT_IDX;

// Distinct non-null tokens.
void* Token(uintptr_t n) { return reinterpret_cast<void*>(0x1000 + n); }

class SplitQueueTest : public ::testing::Test {
 protected:
  void SetUpQueue(uint16_t size, uint64_t features) {
    ASSERT_TRUE(queue_.Setup(size, features).ok());
    device_.emplace(platform_, queue_.addresses(), size);
    queue_.SetNotifier(
        [](void* context, uint16_t index) {
          auto* self = static_cast<SplitQueueTest*>(context);
          self->notifications_++;
          self->notified_index_ = index;
        },
        this);
    auto data = platform_.AllocateDma(1 << 20, 4096);
    ASSERT_TRUE(data.ok());
    data_ = data.value();
  }

  // A segment of `length` bytes at `offset` in the data buffer.
  Segment Seg(uint64_t offset, size_t length) {
    return Segment{.bus = data_.bus + offset, .length = length};
  }

  std::optional<UsedBuffer> Pop() {
    auto used = queue_.PopUsed();
    EXPECT_TRUE(used.ok()) << used.error();
    return used.ok() ? used.value() : std::nullopt;
  }

  FakeDmaPlatform platform_;
  SplitQueue queue_{platform_, 3};
  std::optional<FakeRingDevice> device_;
  base::DmaRegion data_;
  int notifications_ = 0;
  uint16_t notified_index_ = 0;
};

TEST_F(SplitQueueTest, SetupRejectsSizesThatAreNotPowersOfTwo) {
  EXPECT_EQ(queue_.Setup(0, 0).error(), EINVAL);
  EXPECT_EQ(queue_.Setup(3, 0).error(), EINVAL);
  EXPECT_EQ(queue_.Setup(65535, 0).error(), EINVAL);
  EXPECT_FALSE(queue_.is_set_up());
  ASSERT_TRUE(queue_.Setup(SplitQueue::kMaxSize, 0).ok());
  EXPECT_EQ(queue_.Setup(8, 0).error(), EINVAL);  // Already set up.
  EXPECT_EQ(queue_.num_free(), SplitQueue::kMaxSize);
}

TEST_F(SplitQueueTest, RingPartsAreAlignedAsTheSpecRequires) {
  for (uint16_t size : {1, 2, 8, 256, 1024}) {
    SplitQueue queue(platform_, 0);
    ASSERT_TRUE(queue.Setup(size, 0).ok());
    const driver::QueueAddresses a = queue.addresses();
    EXPECT_EQ(a.descriptor_table % 16, 0u);
    EXPECT_EQ(a.driver_area % 2, 0u);
    EXPECT_EQ(a.device_area % 4, 0u);
    EXPECT_GE(a.driver_area, a.descriptor_table + 16 * size);
    EXPECT_GE(a.device_area, a.driver_area + 2 * (3 + size));
    EXPECT_NE(platform_.BusToCpu(a.device_area, 6 + 8 * size), nullptr);
  }
}

TEST_F(SplitQueueTest, ChainPutsReadableSegmentsBeforeWritableOnes) {
  SetUpQueue(16, 0);
  const Segment readable[] = {Seg(0, 100), Seg(4096, 7)};
  const Segment writable[] = {Seg(8192, 30), Seg(12288, 1), Seg(16384, 4096)};
  ASSERT_TRUE(queue_.Submit(readable, writable, Token(1)).ok());
  EXPECT_EQ(queue_.num_free(), 11);
  EXPECT_EQ(queue_.chains_in_flight(), 1);

  auto chains = device_->PopAvailable();
  ASSERT_EQ(chains.size(), 1u);
  EXPECT_FALSE(chains[0].indirect);
  ASSERT_EQ(chains[0].descriptors.size(), 5u);
  const Segment* all[] = {&readable[0], &readable[1], &writable[0],
                          &writable[1], &writable[2]};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(chains[0].descriptors[i].addr, all[i]->bus) << i;
    EXPECT_EQ(chains[0].descriptors[i].len, all[i]->length) << i;
    EXPECT_EQ(chains[0].descriptors[i].writable, i >= 2) << i;
  }

  device_->PushUsed(chains[0].head, 42);
  auto used = Pop();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->token, Token(1));
  EXPECT_EQ(used->length, 42u);
  EXPECT_EQ(queue_.num_free(), 16);
  EXPECT_FALSE(Pop().has_value());
}

TEST_F(SplitQueueTest, RejectsInvalidChains) {
  SetUpQueue(4, 0);
  const Segment one[] = {Seg(0, 8)};
  const Segment five[] = {Seg(0, 8), Seg(8, 8), Seg(16, 8), Seg(24, 8),
                          Seg(32, 8)};
  const Segment empty_segment[] = {Seg(0, 0)};
  const Segment huge[] = {Seg(0, uint64_t{1} << 32)};
  EXPECT_EQ(queue_.Submit({}, {}, Token(1)).error(), EINVAL);
  EXPECT_EQ(queue_.Submit(one, {}, nullptr).error(), EINVAL);
  EXPECT_EQ(queue_.Submit(empty_segment, {}, Token(1)).error(), EINVAL);
  EXPECT_EQ(queue_.Submit({}, huge, Token(1)).error(), EINVAL);
  EXPECT_EQ(queue_.Submit(five, {}, Token(1)).error(),
            EINVAL);  // > queue size.
  EXPECT_EQ(queue_.num_free(), 4);
  EXPECT_EQ(device_->avail_idx(), 0);
  const Segment max_length[] = {Seg(0, UINT32_MAX)};
  EXPECT_TRUE(queue_.Submit({}, max_length, Token(1)).ok());
}

TEST_F(SplitQueueTest, RunsOutOfDescriptorsAndRecoversAfterCompletions) {
  SetUpQueue(8, 0);
  const Segment one[] = {Seg(0, 8)};
  for (int i = 0; i < 8; ++i)
    ASSERT_TRUE(queue_.Submit(one, {}, Token(i)).ok()) << i;
  EXPECT_EQ(queue_.num_free(), 0);
  EXPECT_EQ(queue_.Submit(one, {}, Token(99)).error(), ENOSPC);

  auto chains = device_->PopAvailable();
  ASSERT_EQ(chains.size(), 8u);
  device_->PushUsed(chains[5].head, 0);
  device_->PushUsed(chains[2].head, 0);
  EXPECT_EQ(Pop()->token, Token(5));
  EXPECT_EQ(queue_.num_free(), 1);
  const Segment three[] = {Seg(0, 8), Seg(8, 8), Seg(16, 8)};
  EXPECT_EQ(queue_.Submit(three, {}, Token(100)).error(), ENOSPC);
  EXPECT_EQ(Pop()->token, Token(2));
  EXPECT_EQ(queue_.Submit(three, {}, Token(100)).error(), ENOSPC);  // 2 free.
  ASSERT_TRUE(queue_.Submit(one, {}, Token(101)).ok());
  ASSERT_TRUE(queue_.Submit(one, {}, Token(102)).ok());
  EXPECT_EQ(queue_.num_free(), 0);

  // Drain everything; the free list must hold all 8 descriptors again.
  for (const SeenChain& chain : device_->PopAvailable())
    device_->PushUsed(chain.head, 0);
  for (int i : {0, 1, 3, 4, 6, 7}) device_->PushUsed(chains[i].head, 0);
  int completed = 0;
  while (Pop().has_value()) ++completed;
  EXPECT_EQ(completed, 8);
  EXPECT_EQ(queue_.num_free(), 8);
  EXPECT_EQ(queue_.chains_in_flight(), 0);
  const Segment eight[] = {Seg(0, 1), Seg(1, 1), Seg(2, 1), Seg(3, 1),
                           Seg(4, 1), Seg(5, 1), Seg(6, 1), Seg(7, 1)};
  EXPECT_TRUE(queue_.Submit(eight, {}, Token(200)).ok());
  auto last = device_->PopAvailable();
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].descriptors.size(), 8u);
}

TEST_F(SplitQueueTest, CompletesChainsInAnyOrder) {
  SetUpQueue(32, 0);
  for (int i = 0; i < 10; ++i) {
    const Segment readable[] = {Seg(i * 64, 16)};
    const Segment writable[] = {Seg(4096 + i * 64, 32), Seg(8192 + i * 64, 32)};
    ASSERT_TRUE(queue_.Submit(readable, writable, Token(i)).ok());
  }
  auto chains = device_->PopAvailable();
  ASSERT_EQ(chains.size(), 10u);
  const int order[] = {7, 2, 9, 0, 5, 1, 8, 3, 6, 4};
  for (int i : order) device_->PushUsed(chains[i].head, 10 + i);
  for (int i : order) {
    auto used = Pop();
    ASSERT_TRUE(used.has_value());
    EXPECT_EQ(used->token, Token(i));
    EXPECT_EQ(used->length, 10u + i);
  }
  EXPECT_EQ(queue_.num_free(), 32);
}

// The driver skips storing a descriptor or avail entry that already holds its
// value (to keep the line in the device's cache); every field that differs
// must still reach the device, whatever the table held before.
TEST_F(SplitQueueTest, AReusedDescriptorIsRewrittenInEveryFieldThatChanged) {
  SetUpQueue(8, 0);
  struct Shape {
    uint64_t readable_offset;
    size_t readable_length;
    size_t writable_count;
  };
  const Shape shapes[] = {
      {0, 16, 1},   // First use.
      {0, 16, 1},   // The same again: nothing to store.
      {64, 16, 1},  // Address only.
      {64, 24, 1},  // Length only.
      {64, 24, 0},  // NEXT flag and next index only.
      {64, 24, 2},  // Back to a chain, one descriptor longer.
  };
  for (int round = 0; round < 2; ++round) {
    for (const Shape& shape : shapes) {
      const Segment readable[] = {
          Seg(shape.readable_offset, shape.readable_length)};
      const Segment writable[] = {Seg(4096, 32), Seg(8192, 8)};
      const std::span<const Segment> writes(writable, shape.writable_count);
      ASSERT_TRUE(queue_.Submit(readable, writes, Token(1)).ok());
      auto chains = device_->PopAvailable();
      ASSERT_EQ(chains.size(), 1u);
      ASSERT_EQ(chains[0].descriptors.size(), 1 + shape.writable_count);
      EXPECT_EQ(chains[0].descriptors[0].addr, readable[0].bus);
      EXPECT_EQ(chains[0].descriptors[0].len, shape.readable_length);
      EXPECT_FALSE(chains[0].descriptors[0].writable);
      for (size_t i = 0; i < shape.writable_count; ++i) {
        EXPECT_EQ(chains[0].descriptors[1 + i].addr, writable[i].bus);
        EXPECT_TRUE(chains[0].descriptors[1 + i].writable);
      }
      device_->PushUsed(chains[0].head, 0);
      ASSERT_TRUE(Pop().has_value());
    }
    // A device that wrote over the descriptor table and the avail ring (it
    // must not, but may) does not make the driver publish stale entries.
    for (uint16_t i = 0; i < 8; ++i) {
      device_->desc()[i] = vring_desc{
          .addr = 0xdead0000, .len = 1, .flags = VRING_DESC_F_WRITE, .next = 7};
      device_->avail()->ring[i] = 7 - i;
    }
  }
}

TEST_F(SplitQueueTest, PollUsedReturnsABatch) {
  SetUpQueue(8, 0);
  const Segment one[] = {Seg(0, 8)};
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(queue_.Submit({}, one, Token(i)).ok());
  for (const SeenChain& chain : device_->PopAvailable())
    device_->PushUsed(chain.head, 8);
  UsedBuffer out[3];
  auto first = queue_.PollUsed(out);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.value(), 3u);
  EXPECT_EQ(out[2].token, Token(2));
  auto second = queue_.PollUsed(out);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second.value(), 2u);
  EXPECT_EQ(out[1].token, Token(4));
  EXPECT_FALSE(queue_.HasUsed());
}

TEST_F(SplitQueueTest, IndirectChainUsesOneRingDescriptorAndFreesItsTable) {
  SetUpQueue(8, kIndirect);
  ASSERT_TRUE(queue_.indirect_enabled());
  const size_t baseline = platform_.live_allocations();
  const Segment readable[] = {Seg(0, 10), Seg(100, 20)};
  const Segment writable[] = {Seg(200, 30), Seg(300, 40), Seg(400, 50)};
  ASSERT_TRUE(queue_.Submit(readable, writable, Token(1)).ok());
  EXPECT_EQ(queue_.num_free(), 7);
  EXPECT_EQ(platform_.live_allocations(), baseline + 1);
  const Segment one[] = {Seg(500, 4)};
  ASSERT_TRUE(
      queue_.Submit(one, {}, Token(2)).ok());  // A single segment stays direct.
  EXPECT_EQ(platform_.live_allocations(), baseline + 1);

  auto chains = device_->PopAvailable();
  ASSERT_EQ(chains.size(), 2u);
  EXPECT_TRUE(chains[0].indirect);
  EXPECT_EQ(device_->desc()[chains[0].head].flags, VRING_DESC_F_INDIRECT);
  EXPECT_EQ(device_->desc()[chains[0].head].len, 5 * sizeof(vring_desc));
  ASSERT_EQ(chains[0].descriptors.size(), 5u);
  EXPECT_EQ(chains[0].descriptors[1].addr, readable[1].bus);
  EXPECT_FALSE(chains[0].descriptors[1].writable);
  EXPECT_TRUE(chains[0].descriptors[2].writable);
  EXPECT_EQ(chains[0].descriptors[4].len, 50u);
  EXPECT_FALSE(chains[1].indirect);

  device_->PushUsed(chains[0].head, 120);
  auto used = Pop();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->token, Token(1));
  EXPECT_EQ(platform_.live_allocations(), baseline);
  EXPECT_EQ(platform_.bad_frees(), 0);
}

TEST_F(SplitQueueTest, IndirectLetsMoreChainsFitThanDescriptors) {
  SetUpQueue(2, kIndirect);
  const Segment four[] = {Seg(0, 1), Seg(1, 1), Seg(2, 1), Seg(3, 1)};
  // Direct chains can never be longer than the queue; indirect ones may not
  // either.
  EXPECT_EQ(queue_.Submit(four, {}, Token(1)).error(), EINVAL);
  const Segment two[] = {Seg(0, 1), Seg(1, 1)};
  ASSERT_TRUE(queue_.Submit(two, {}, Token(1)).ok());
  ASSERT_TRUE(queue_.Submit(two, {}, Token(2)).ok());
  EXPECT_EQ(queue_.Submit(two, {}, Token(3)).error(), ENOSPC);
}

TEST_F(SplitQueueTest, IndirectThresholdKeepsShortChainsDirect) {
  SetUpQueue(8, kIndirect);
  queue_.set_indirect_threshold(4);
  const Segment three[] = {Seg(0, 1), Seg(1, 1), Seg(2, 1)};
  const Segment four[] = {Seg(0, 1), Seg(1, 1), Seg(2, 1), Seg(3, 1)};
  ASSERT_TRUE(queue_.Submit(three, {}, Token(1)).ok());
  ASSERT_TRUE(queue_.Submit(four, {}, Token(2)).ok());
  auto chains = device_->PopAvailable();
  ASSERT_EQ(chains.size(), 2u);
  EXPECT_FALSE(chains[0].indirect);
  EXPECT_TRUE(chains[1].indirect);
  EXPECT_EQ(queue_.num_free(), 8 - 3 - 1);
}

TEST_F(SplitQueueTest, IndirectFallsBackToDirectWithoutMemoryForTheTable) {
  SetUpQueue(8, kIndirect);
  const Segment two[] = {Seg(0, 1), Seg(1, 1)};
  platform_.FailNextAllocations(1);
  ASSERT_TRUE(queue_.Submit(two, {}, Token(1)).ok());
  auto chains = device_->PopAvailable();
  ASSERT_EQ(chains.size(), 1u);
  EXPECT_FALSE(chains[0].indirect);
  EXPECT_EQ(chains[0].descriptors.size(), 2u);
}

TEST_F(SplitQueueTest, IndicesWrapPast65535) {
  SetUpQueue(4, kIndirect);
  // Three chains always in flight, completed oldest-but-one first, across more
  // than 65536 submissions, so both 16-bit indices wrap.
  std::vector<SeenChain> in_flight;
  std::vector<uintptr_t> tokens;
  uintptr_t next_token = 0;
  uint64_t completed = 0;
  for (int round = 0; round < 70000; ++round) {
    while (queue_.chains_in_flight() < 3) {
      const uintptr_t t = next_token++;
      const Segment readable[] = {Seg(t % 512, 8)};
      const Segment writable[] = {Seg(4096, 16), Seg(8192, 16)};
      ASSERT_TRUE(queue_.Submit(readable, writable, Token(t)).ok());
      tokens.push_back(t);
    }
    for (SeenChain& chain : device_->PopAvailable()) in_flight.push_back(chain);
    ASSERT_EQ(in_flight.size(), 3u);
    device_->PushUsed(in_flight[1].head, 32);
    in_flight.erase(in_flight.begin() + 1);
    auto used = Pop();
    ASSERT_TRUE(used.has_value());
    ASSERT_EQ(used->token, Token(tokens[1]));
    ASSERT_EQ(used->length, 32u);
    tokens.erase(tokens.begin() + 1);
    ++completed;
  }
  EXPECT_EQ(completed, 70000u);
  EXPECT_EQ(device_->avail_idx(), static_cast<uint16_t>(next_token));
  EXPECT_EQ(queue_.chains_in_flight(), 2);
  EXPECT_EQ(queue_.num_free(), 2);
}

TEST_F(SplitQueueTest, NotificationFollowsUsedFlagsWithoutEventIdx) {
  SetUpQueue(8, 0);
  const Segment one[] = {Seg(0, 8)};
  EXPECT_FALSE(queue_.Kick());  // Nothing submitted.
  ASSERT_TRUE(queue_.Submit(one, {}, Token(1)).ok());
  EXPECT_TRUE(queue_.Kick());
  EXPECT_EQ(notifications_, 1);
  EXPECT_EQ(notified_index_, 3);
  EXPECT_FALSE(queue_.Kick());  // Nothing new since.

  device_->set_used_flags(VRING_USED_F_NO_NOTIFY);
  ASSERT_TRUE(queue_.Submit(one, {}, Token(2)).ok());
  EXPECT_FALSE(queue_.Kick());
  device_->set_used_flags(0);
  ASSERT_TRUE(queue_.Submit(one, {}, Token(3)).ok());
  EXPECT_TRUE(queue_.Kick());
  EXPECT_EQ(notifications_, 2);
}

TEST_F(SplitQueueTest, NotificationFollowsAvailEventWithEventIdx) {
  SetUpQueue(8, kEventIdx);
  const Segment one[] = {Seg(0, 8)};
  device_->set_used_flags(VRING_USED_F_NO_NOTIFY);  // Ignored with EVENT_IDX.
  device_->set_avail_event(0);
  ASSERT_TRUE(queue_.Submit(one, {}, Token(1)).ok());  // avail idx 0 -> 1.
  EXPECT_TRUE(queue_.KickPrepare());                   // Crossed 0.

  device_->set_avail_event(4);  // "Tell me when idx moves past 4."
  ASSERT_TRUE(queue_.Submit(one, {}, Token(2)).ok());  // 1 -> 2.
  EXPECT_FALSE(queue_.KickPrepare());
  for (int i = 0; i < 2; ++i)
    ASSERT_TRUE(queue_.Submit(one, {}, Token(3 + i)).ok());
  EXPECT_FALSE(queue_.KickPrepare());                  // 2 -> 4: not past 4.
  ASSERT_TRUE(queue_.Submit(one, {}, Token(5)).ok());  // 4 -> 5.
  EXPECT_TRUE(queue_.KickPrepare());
}

TEST_F(SplitQueueTest, EventIdxDecisionsSurviveTheIndexWrap) {
  SetUpQueue(4, kEventIdx);
  const Segment one[] = {Seg(0, 8)};
  // Advance the avail index to 65534 with the device asking for no
  // notification.
  device_->set_avail_event(0x8000);
  uint16_t idx = 0;
  while (idx != 65534) {
    ASSERT_TRUE(queue_.Submit(one, {}, Token(1)).ok());
    ++idx;
    for (const SeenChain& chain : device_->PopAvailable())
      device_->PushUsed(chain.head, 0);
    ASSERT_TRUE(Pop().has_value());
    if (idx % 1000 == 0 || idx == 65534) queue_.KickPrepare();
  }
  // 65534 -> 1 crosses 65535 and 0.
  device_->set_avail_event(65535);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(queue_.Submit(one, {}, Token(2 + i)).ok());
  EXPECT_EQ(device_->avail_idx(), 1);
  EXPECT_TRUE(queue_.KickPrepare());
  device_->set_avail_event(1);  // Past 1 only.
  for (const SeenChain& chain : device_->PopAvailable())
    device_->PushUsed(chain.head, 0);
  while (Pop().has_value()) {
  }
  ASSERT_TRUE(queue_.Submit(one, {}, Token(9)).ok());  // 1 -> 2: crosses 1.
  EXPECT_TRUE(queue_.KickPrepare());
  device_->set_avail_event(0);  // Long behind: 2 -> 3 does not cross it.
  ASSERT_TRUE(queue_.Submit(one, {}, Token(10)).ok());
  EXPECT_FALSE(queue_.KickPrepare());
}

TEST_F(SplitQueueTest, KicksOnItsOwnBefore65536UnkickedSubmissions) {
  SetUpQueue(2, 0);
  const Segment one[] = {Seg(0, 8)};
  for (int i = 0; i < 65535; ++i) {
    ASSERT_TRUE(queue_.Submit(one, {}, Token(1)).ok());
    for (const SeenChain& chain : device_->PopAvailable())
      device_->PushUsed(chain.head, 0);
    ASSERT_TRUE(Pop().has_value());
  }
  EXPECT_EQ(notifications_, 1);
}

TEST_F(SplitQueueTest, InterruptSuppressionWithFlags) {
  SetUpQueue(8, 0);
  const Segment one[] = {Seg(0, 8)};
  queue_.DisableInterrupts();
  EXPECT_EQ(device_->avail_flags(), VRING_AVAIL_F_NO_INTERRUPT);
  EXPECT_TRUE(queue_.EnableInterrupts());
  EXPECT_EQ(device_->avail_flags(), 0);

  // A chain returned while interrupts were off: enabling reports it must be
  // polled.
  queue_.DisableInterrupts();
  ASSERT_TRUE(queue_.Submit(one, {}, Token(1)).ok());
  for (const SeenChain& chain : device_->PopAvailable())
    device_->PushUsed(chain.head, 0);
  EXPECT_FALSE(queue_.EnableInterrupts());
  EXPECT_TRUE(queue_.HasUsed());
  EXPECT_EQ(Pop()->token, Token(1));
  EXPECT_TRUE(queue_.EnableInterrupts());
}

TEST_F(SplitQueueTest, InterruptSuppressionWithEventIdx) {
  SetUpQueue(8, kEventIdx);
  const Segment one[] = {Seg(0, 8)};
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(queue_.Submit(one, {}, Token(i)).ok());
  for (const SeenChain& chain : device_->PopAvailable())
    device_->PushUsed(chain.head, 0);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Pop().has_value());
  EXPECT_EQ(device_->used_event(), 3);  // Interrupt at the next used entry.

  queue_.DisableInterrupts();
  EXPECT_EQ(device_->avail_flags(), 0);  // Flags must stay 0 with EVENT_IDX.
  // The device would interrupt when used idx moves past used_event: 2 is
  // behind 3.
  EXPECT_EQ(device_->used_event(), 2);
  EXPECT_FALSE(vring_need_event(device_->used_event(), 4, 3));
  ASSERT_TRUE(queue_.Submit(one, {}, Token(3)).ok());
  for (const SeenChain& chain : device_->PopAvailable())
    device_->PushUsed(chain.head, 0);
  ASSERT_TRUE(Pop().has_value());
  EXPECT_EQ(device_->used_event(), 2);  // Not re-armed while disabled.

  EXPECT_TRUE(queue_.EnableInterrupts());
  EXPECT_EQ(device_->used_event(), 4);
  EXPECT_TRUE(vring_need_event(device_->used_event(), 5, 4));
}

TEST_F(SplitQueueTest, BogusUsedIdIsAnErrorNotACrash) {
  SetUpQueue(8, 0);
  const Segment two[] = {Seg(0, 8), Seg(8, 8)};
  ASSERT_TRUE(queue_.Submit(two, {}, Token(1)).ok());
  auto chains = device_->PopAvailable();
  device_->PushUsed(1000, 0);  // Out of range.
  EXPECT_EQ(queue_.PopUsed().error(), EIO);
  EXPECT_TRUE(queue_.broken());
  EXPECT_EQ(queue_.Submit(two, {}, Token(2)).error(), EIO);
  EXPECT_EQ(queue_.PopUsed().error(), EIO);
  EXPECT_FALSE(queue_.Kick());
  EXPECT_TRUE(platform_.Logged("used id"));

  // Recovery: release (the token comes back as abandoned) and set up again.
  std::vector<void*> abandoned;
  queue_.FreeRings(
      [](void* context, void* token) {
        static_cast<std::vector<void*>*>(context)->push_back(token);
      },
      &abandoned);
  EXPECT_EQ(abandoned, std::vector<void*>{Token(1)});
  SetUpQueue(8, 0);
  EXPECT_FALSE(queue_.broken());
  ASSERT_TRUE(queue_.Submit(two, {}, Token(3)).ok());
  chains = device_->PopAvailable();
  device_->PushUsed(chains[0].head, 0);
  EXPECT_EQ(Pop()->token, Token(3));
}

TEST_F(SplitQueueTest, UsedIdThatIsNotAnInFlightHeadIsRejected) {
  SetUpQueue(8, 0);
  const Segment two[] = {Seg(0, 8), Seg(8, 8)};
  ASSERT_TRUE(queue_.Submit(two, {}, Token(1)).ok());
  auto chains = device_->PopAvailable();
  ASSERT_EQ(chains.size(), 1u);
  // The second descriptor of the chain is not a head; 7 was never used.
  const uint32_t not_head = device_->desc()[chains[0].head].next;
  device_->PushUsed(not_head, 0);
  EXPECT_EQ(queue_.PopUsed().error(), EIO);
  EXPECT_EQ(queue_.num_free(), 6);  // Free list untouched.
}

TEST_F(SplitQueueTest, UsedIdCompletedTwiceIsRejected) {
  SetUpQueue(8, 0);
  const Segment one[] = {Seg(0, 8)};
  ASSERT_TRUE(queue_.Submit(one, {}, Token(1)).ok());
  ASSERT_TRUE(queue_.Submit(one, {}, Token(2)).ok());
  auto chains = device_->PopAvailable();
  device_->PushUsed(chains[0].head, 0);
  device_->PushUsed(chains[0].head, 0);
  EXPECT_EQ(Pop()->token, Token(1));
  EXPECT_EQ(queue_.PopUsed().error(), EIO);
  EXPECT_EQ(queue_.num_free(), 7);
}

TEST_F(SplitQueueTest, UsedLengthAboveWritableBytesIsRejected) {
  SetUpQueue(8, 0);
  const Segment readable[] = {Seg(0, 100)};
  const Segment writable[] = {Seg(100, 10)};
  ASSERT_TRUE(queue_.Submit(readable, writable, Token(1)).ok());
  auto chains = device_->PopAvailable();
  device_->PushUsed(chains[0].head, 11);
  EXPECT_EQ(queue_.PopUsed().error(), EIO);
}

TEST_F(SplitQueueTest, UsedIndexRunningAheadIsRejected) {
  SetUpQueue(8, 0);
  const Segment one[] = {Seg(0, 8)};
  ASSERT_TRUE(queue_.Submit(one, {}, Token(1)).ok());
  device_->set_used_idx(5);  // Five used entries for one chain in flight.
  EXPECT_EQ(queue_.PopUsed().error(), EIO);
  EXPECT_EQ(queue_.num_free(), 7);
}

TEST_F(SplitQueueTest, ReleaseAbandonsChainsInFlightAndFreesEverything) {
  SetUpQueue(8, kIndirect);
  const size_t before_queue =
      platform_.live_allocations() - 2;  // Rings and data.
  const Segment two[] = {Seg(0, 8), Seg(8, 8)};
  const Segment one[] = {Seg(0, 8)};
  ASSERT_TRUE(queue_.Submit(two, {}, Token(1)).ok());
  ASSERT_TRUE(queue_.Submit(one, {}, Token(2)).ok());
  std::vector<void*> abandoned;
  queue_.FreeRings(
      [](void* context, void* token) {
        static_cast<std::vector<void*>*>(context)->push_back(token);
      },
      &abandoned);
  std::sort(abandoned.begin(), abandoned.end());
  EXPECT_EQ(abandoned, (std::vector<void*>{Token(1), Token(2)}));
  EXPECT_FALSE(queue_.is_set_up());
  EXPECT_EQ(platform_.live_allocations(),
            before_queue + 1);  // Only the data buffer.
  EXPECT_EQ(platform_.bad_frees(), 0);
  EXPECT_EQ(queue_.Submit(one, {}, Token(3)).error(), ENODEV);
}

}  // namespace
}  // namespace driver_test
