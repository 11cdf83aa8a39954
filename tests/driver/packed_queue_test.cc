#include "driver/packed_queue.h"

#include <linux/virtio_config.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/driver/fake_dma_platform.h"
#include "tests/driver/fake_packed_device.h"

namespace driver_test {
namespace {

using driver::PackedQueue;
using driver::Segment;
using driver::UsedBuffer;

constexpr uint64_t kIndirect = uint64_t{1} << VIRTIO_RING_F_INDIRECT_DESC;
constexpr uint64_t kEventIdx = uint64_t{1} << VIRTIO_RING_F_EVENT_IDX;
constexpr uint16_t kWrapBit = 1 << VRING_PACKED_EVENT_F_WRAP_CTR;
constexpr uint16_t kDesc = VRING_PACKED_EVENT_FLAG_DESC;

// Distinct non-null tokens.
void* Token(uintptr_t n) { return reinterpret_cast<void*>(0x1000 + n); }

class PackedQueueTest : public ::testing::Test {
 protected:
  void SetUpQueue(uint16_t size, uint64_t features) {
    ASSERT_TRUE(queue_.Setup(size, features).ok());
    device_.emplace(platform_, queue_.addresses(), size);
    queue_.SetNotifier(
        [](void* context, uint16_t index) {
          auto* self = static_cast<PackedQueueTest*>(context);
          self->notifications_++;
          self->notified_index_ = index;
        },
        this);
    data_ = platform_.AllocateDma(1 << 20, 4096).value();
  }

  // A segment of `length` bytes at `offset` in the data buffer.
  Segment Seg(uint64_t offset, size_t length) {
    return Segment{.bus = data_.bus + offset, .length = length};
  }
  // Two readable segments, then three writable ones.
  std::vector<Segment> Five() {
    return {Seg(0, 100), Seg(4096, 7), Seg(8192, 30), Seg(12288, 1),
            Seg(16384, 4096)};
  }
  base::Result<void> SubmitFive(void* token) {
    const std::vector<Segment> five = Five();
    return queue_.Submit(std::span(five).first(2), std::span(five).subspan(2),
                         token);
  }
  // `count` one-byte segments.
  std::vector<Segment> Segs(size_t count) {
    std::vector<Segment> segments;
    for (size_t i = 0; i < count; ++i) segments.push_back(Seg(i, 1));
    return segments;
  }

  std::optional<UsedBuffer> Pop() {
    auto used = queue_.PopUsed();
    EXPECT_TRUE(used.ok()) << used.error();
    return used.ok() ? used.value() : std::nullopt;
  }

  // Returns every available chain at once with `length` bytes written.
  void CompleteAll(uint32_t length = 0) {
    for (const PackedChain& chain : device_->PopAvailable())
      device_->PushUsed(chain, length);
  }

  // Submits `count` one-descriptor chains, each returned by the device and
  // popped before the next, without kicking.
  void SubmitAndReturn(int count) {
    for (int i = 0; i < count; ++i) {
      ASSERT_TRUE(queue_.Submit(Segs(1), {}, Token(i)).ok());
      CompleteAll();
      ASSERT_TRUE(Pop().has_value());
    }
  }

  static void Abandon(void* context, void* token) {
    static_cast<std::vector<void*>*>(context)->push_back(token);
  }

  DirtyDmaPlatform platform_;
  PackedQueue queue_{platform_, 3};
  std::optional<FakePackedDevice> device_;
  base::DmaRegion data_;
  int notifications_ = 0;
  uint16_t notified_index_ = 0;
};

TEST_F(PackedQueueTest, SetupChecksTheSizeAndLaysOutClearedAlignedParts) {
  EXPECT_EQ(queue_.Setup(0, 0).error(), EINVAL);
  EXPECT_EQ(queue_.Setup(PackedQueue::kMaxSize + 1, 0).error(), EINVAL);
  EXPECT_FALSE(queue_.is_set_up());
  const Segment one[] = {{.bus = 0x1000, .length = 8}};
  EXPECT_EQ(queue_.Submit(one, {}, Token(1)).error(), ENODEV);
  ASSERT_TRUE(queue_.Setup(PackedQueue::kMaxSize, 0).ok());
  EXPECT_EQ(queue_.Setup(8, 0).error(), EINVAL);  // Already set up.
  EXPECT_EQ(queue_.num_free(), PackedQueue::kMaxSize);
  EXPECT_EQ(queue_.size(), PackedQueue::kMaxSize);
  EXPECT_EQ(queue_.index(), 3);
  // Any size, aligned as the spec requires, and cleared.
  for (uint16_t size : {1, 2, 3, 8, 255, 1000}) {
    PackedQueue queue(platform_, 0);
    ASSERT_TRUE(queue.Setup(size, 0).ok());
    const driver::QueueAddresses a = queue.addresses();
    EXPECT_EQ(a.descriptor_table % 16, 0u);
    EXPECT_EQ(a.driver_area % 4, 0u);
    EXPECT_EQ(a.device_area % 4, 0u);
    EXPECT_GE(a.driver_area, a.descriptor_table + 16 * size);
    EXPECT_GE(a.device_area, a.driver_area + 4);
    // The platform hands out dirty memory; the spec wants a zeroed ring.
    EXPECT_TRUE(AllZero(platform_, a.descriptor_table, 16 * size)) << size;
    EXPECT_TRUE(AllZero(platform_, a.driver_area, 4)) << size;
    EXPECT_TRUE(AllZero(platform_, a.device_area, 4)) << size;
  }
}

TEST_F(PackedQueueTest, ChainDescriptorsCarryAddressLengthFlagsAndId) {
  SetUpQueue(16, 0);
  ASSERT_TRUE(queue_.Submit(Segs(1), {}, Token(0)).ok());  // Takes an id.
  ASSERT_TRUE(SubmitFive(Token(1)).ok());
  EXPECT_EQ(queue_.num_free(), 10);
  EXPECT_EQ(queue_.chains_in_flight(), 2);
  auto chains = device_->PopAvailable();
  ASSERT_EQ(chains.size(), 2u);
  const PackedChain& chain = chains[1];
  EXPECT_EQ(chain.head, 1);
  EXPECT_LT(chain.id, 16);
  EXPECT_NE(chain.id, chains[0].id);
  ASSERT_EQ(chain.ring.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    const vring_packed_desc& d = chain.ring[i];
    EXPECT_EQ(d.addr, Five()[i].bus) << i;
    EXPECT_EQ(d.len, Five()[i].length) << i;
    EXPECT_EQ(d.id, chain.id) << i;  // The id is in every descriptor.
    // AVAIL = 1, USED = 0 on the first lap.
    EXPECT_EQ(d.flags, kPackedAvail | (i >= 2 ? VRING_DESC_F_WRITE : 0) |
                           (i < 4 ? VRING_DESC_F_NEXT : 0))
        << i;
  }

  device_->PushUsed(chain, 42);  // At slot 0: used order is not ring order.
  EXPECT_TRUE(queue_.HasUsed());
  auto used = Pop();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->token, Token(1));
  EXPECT_EQ(used->length, 42u);
  EXPECT_EQ(queue_.num_free(), 15);
  EXPECT_EQ(queue_.chains_in_flight(), 1);
  EXPECT_FALSE(queue_.HasUsed());
}

TEST_F(PackedQueueTest, RejectsInvalidChains) {
  SetUpQueue(4, kIndirect);
  const Segment one[] = {Seg(0, 8)};
  const Segment empty_segment[] = {Seg(0, 0)};
  const Segment huge[] = {Seg(0, uint64_t{1} << 32)};
  EXPECT_EQ(queue_.Submit({}, {}, Token(1)).error(), EINVAL);
  EXPECT_EQ(queue_.Submit(one, {}, nullptr).error(), EINVAL);
  EXPECT_EQ(queue_.Submit(empty_segment, {}, Token(1)).error(), EINVAL);
  EXPECT_EQ(queue_.Submit({}, huge, Token(1)).error(), EINVAL);
  // Longer than the queue, even through an indirect table.
  EXPECT_EQ(queue_.Submit(Segs(5), {}, Token(1)).error(), EINVAL);
  EXPECT_EQ(queue_.num_free(), 4);
  EXPECT_TRUE(device_->PopAvailable().empty());
  const Segment max_length[] = {Seg(0, UINT32_MAX)};
  EXPECT_TRUE(queue_.Submit({}, max_length, Token(1)).ok());
}

TEST_F(PackedQueueTest, RunsOutOfDescriptorsAndRecoversAfterCompletions) {
  SetUpQueue(6, 0);
  for (int i = 0; i < 4; ++i)  // 1 + 2 + 1 + 2 descriptors.
    ASSERT_TRUE(queue_.Submit(Segs(1 + i % 2), {}, Token(i)).ok());
  EXPECT_EQ(queue_.num_free(), 0);
  EXPECT_EQ(queue_.Submit(Segs(1), {}, Token(99)).error(), ENOSPC);

  auto chains = device_->PopAvailable();
  ASSERT_EQ(chains.size(), 4u);
  device_->PushUsed(chains[1], 0);  // Two slots.
  EXPECT_EQ(Pop()->token, Token(1));
  EXPECT_EQ(queue_.num_free(), 2);
  EXPECT_EQ(queue_.Submit(Segs(3), {}, Token(100)).error(), ENOSPC);
  ASSERT_TRUE(queue_.Submit(Segs(2), {}, Token(101)).ok());
  EXPECT_EQ(queue_.Submit(Segs(1), {}, Token(102)).error(), ENOSPC);

  for (int i : {3, 0, 2}) device_->PushUsed(chains[i], 0);
  CompleteAll();
  int completed = 0;
  while (Pop().has_value()) ++completed;
  EXPECT_EQ(completed, 4);
  EXPECT_EQ(queue_.num_free(), 6);
  EXPECT_EQ(queue_.chains_in_flight(), 0);
  // All 6 (not a power of two) in one chain, from slot 2 of lap 2 to slot 1 of
  // lap 3: the wrap bits flip inside the chain.
  EXPECT_TRUE(queue_.Submit(Segs(6), {}, Token(200)).ok());
  auto last = device_->PopAvailable();
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].elements.size(), 6u);
  EXPECT_EQ(last[0].head, 2);
  EXPECT_FALSE(last[0].wrap);
  EXPECT_EQ(last[0].ring[0].flags & (kPackedAvail | kPackedUsed), kPackedUsed);
  EXPECT_EQ(last[0].ring[5].flags & (kPackedAvail | kPackedUsed), kPackedAvail);
}

TEST_F(PackedQueueTest, CompletesChainsInAnyOrder) {
  SetUpQueue(32, 0);
  for (int i = 0; i < 10; ++i) {
    const Segment readable[] = {Seg(i * 64, 16)};
    const Segment writable[] = {Seg(4096 + i * 64, 32), Seg(8192 + i * 64, 32)};
    ASSERT_TRUE(queue_.Submit(readable, writable, Token(i)).ok());
  }
  auto chains = device_->PopAvailable();
  ASSERT_EQ(chains.size(), 10u);
  std::vector<uint16_t> ids;
  for (const PackedChain& chain : chains) ids.push_back(chain.id);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end());  // Distinct.
  const int order[] = {7, 2, 9, 0, 5, 1, 8, 3, 6, 4};
  for (int i : order) device_->PushUsed(chains[i], 10 + i);
  UsedBuffer out[6];  // Two batches: 6, then the other 4.
  for (size_t batch : {0, 6}) {
    auto popped = queue_.PollUsed(out);
    ASSERT_TRUE(popped.ok());
    ASSERT_EQ(popped.value(), batch == 0 ? 6u : 4u);
    for (size_t i = 0; i < popped.value(); ++i) {
      EXPECT_EQ(out[i].token, Token(order[batch + i]));
      EXPECT_EQ(out[i].length, 10u + order[batch + i]);
    }
  }
  EXPECT_FALSE(queue_.HasUsed());
  EXPECT_EQ(queue_.num_free(), 32);
}

TEST_F(PackedQueueTest, WrapCountersFlipOverManyLapsWithChainsOfManyLengths) {
  constexpr uint16_t kSize = 7;
  SetUpQueue(kSize, 0);
  // Chains of 1 to 4 descriptors, as many as fit, completed one per round in a
  // rotating order, so that chains straddle the ring's end.
  std::deque<std::pair<PackedChain, uintptr_t>> in_flight;
  uintptr_t next_token = 0;
  uintptr_t seen = 0;
  int straddling = 0;
  for (int round = 0; round < 300; ++round) {
    for (;;) {
      std::vector<Segment> readable, writable;
      for (size_t i = 0; i < 1 + next_token % 4; ++i)
        (i % 2 ? writable : readable).push_back(Seg(next_token * 8 + i, 1 + i));
      auto result = queue_.Submit(readable, writable, Token(next_token));
      if (!result.ok()) {
        ASSERT_EQ(result.error(), ENOSPC);
        break;
      }
      ++next_token;
    }
    for (PackedChain& chain : device_->PopAvailable()) {
      const uintptr_t t = (chain.elements[0].addr - data_.bus) / 8;
      ASSERT_EQ(t, seen++);  // In ring order, which is submission order.
      ASSERT_EQ(chain.elements.size(), 1 + t % 4);
      if (chain.head + chain.ring_descriptors() > kSize) ++straddling;
      in_flight.emplace_back(std::move(chain), t);
    }
    ASSERT_FALSE(in_flight.empty());
    const size_t pick = round % in_flight.size();
    const auto [chain, token] = in_flight[pick];
    in_flight.erase(in_flight.begin() + pick);
    device_->PushUsed(chain, chain.writable_bytes());
    auto used = Pop();
    ASSERT_TRUE(used.has_value());
    ASSERT_EQ(used->token, Token(token));
    ASSERT_EQ(used->length, chain.writable_bytes());
    ASSERT_FALSE(queue_.HasUsed());
  }
  EXPECT_GE(device_->avail_laps(), 3);
  EXPECT_GE(device_->used_laps(), 3);
  EXPECT_GT(straddling, 3);
  // Drain: everything comes back and the ring is whole again.
  for (auto& [chain, token] : in_flight) device_->PushUsed(chain, 0);
  while (Pop().has_value()) {
  }
  EXPECT_EQ(queue_.chains_in_flight(), 0);
  EXPECT_EQ(queue_.num_free(), kSize);
}

TEST_F(PackedQueueTest, IndirectChainUsesOneRingDescriptorAndFreesItsTable) {
  SetUpQueue(8, kIndirect);
  ASSERT_TRUE(queue_.indirect_enabled());
  const size_t baseline = platform_.live_allocations();
  ASSERT_TRUE(SubmitFive(Token(1)).ok());
  EXPECT_EQ(queue_.num_free(), 7);
  EXPECT_EQ(platform_.live_allocations(), baseline + 1);
  ASSERT_TRUE(queue_.Submit(Segs(1), {}, Token(2)).ok());  // Stays direct.
  EXPECT_EQ(platform_.live_allocations(), baseline + 1);

  auto chains = device_->PopAvailable();
  ASSERT_EQ(chains.size(), 2u);
  ASSERT_TRUE(chains[0].indirect);
  ASSERT_EQ(chains[0].ring.size(), 1u);
  EXPECT_EQ(chains[0].ring[0].flags, VRING_DESC_F_INDIRECT | kPackedAvail);
  EXPECT_EQ(chains[0].ring[0].len, 5 * sizeof(vring_packed_desc));
  ASSERT_EQ(chains[0].table.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(chains[0].table[i].addr, Five()[i].bus) << i;
    EXPECT_EQ(chains[0].table[i].len, Five()[i].length) << i;
    EXPECT_EQ(chains[0].table[i].flags, i >= 2 ? VRING_DESC_F_WRITE : 0) << i;
  }
  EXPECT_FALSE(chains[1].indirect);
  EXPECT_EQ(chains[1].head, 1);  // The indirect chain took one slot.

  device_->PushUsed(chains[0], 4127);  // All its writable bytes.
  auto used = Pop();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->token, Token(1));
  EXPECT_EQ(used->length, 4127u);
  EXPECT_EQ(platform_.live_allocations(), baseline);
  EXPECT_EQ(platform_.bad_frees(), 0);
}

TEST_F(PackedQueueTest, IndirectThresholdDecidesWhichChainsGoIndirect) {
  SetUpQueue(8, kIndirect);
  queue_.set_indirect_threshold(4);
  ASSERT_TRUE(queue_.Submit(Segs(3), {}, Token(1)).ok());
  ASSERT_TRUE(queue_.Submit(Segs(4), {}, Token(2)).ok());
  auto chains = device_->PopAvailable();
  ASSERT_EQ(chains.size(), 2u);
  EXPECT_FALSE(chains[0].indirect);
  EXPECT_TRUE(chains[1].indirect);
  EXPECT_EQ(queue_.num_free(), 8 - 3 - 1);
  // Only when full: direct while it fits, then indirect, then out of slots.
  queue_.set_indirect_threshold(PackedQueue::kIndirectOnlyWhenFull);
  ASSERT_TRUE(queue_.Submit(Segs(3), {}, Token(3)).ok());
  ASSERT_TRUE(queue_.Submit(Segs(3), {}, Token(4)).ok());
  chains = device_->PopAvailable();
  ASSERT_EQ(chains.size(), 2u);
  EXPECT_FALSE(chains[0].indirect);
  EXPECT_TRUE(chains[1].indirect);
  EXPECT_EQ(chains[1].elements.size(), 3u);
  EXPECT_EQ(queue_.num_free(), 0);
  EXPECT_EQ(queue_.Submit(Segs(2), {}, Token(5)).error(), ENOSPC);
}

TEST_F(PackedQueueTest, IndirectFallsBackToDirectWithoutMemoryForTheTable) {
  SetUpQueue(8, kIndirect);
  platform_.FailNextAllocations(1);
  ASSERT_TRUE(queue_.Submit(Segs(2), {}, Token(1)).ok());
  auto chains = device_->PopAvailable();
  ASSERT_EQ(chains.size(), 1u);
  EXPECT_FALSE(chains[0].indirect);
  EXPECT_EQ(chains[0].ring_descriptors(), 2);
  // Without memory and without room for a direct chain, the error is ENOMEM.
  platform_.FailNextAllocations(1);
  EXPECT_EQ(queue_.Submit(Segs(8), {}, Token(2)).error(), ENOMEM);
  EXPECT_EQ(queue_.num_free(), 6);
  EXPECT_TRUE(device_->PopAvailable().empty());
}

TEST_F(PackedQueueTest, InvalidUsedDescriptorsBreakTheQueueUntilSetUpAgain) {
  SetUpQueue(8, 0);
  ASSERT_TRUE(queue_.Submit(Segs(2), {}, Token(1)).ok());
  ASSERT_EQ(device_->PopAvailable().size(), 1u);
  device_->PushUsed(1000, 0, 1);  // A used id out of range.
  EXPECT_EQ(queue_.PopUsed().error(), EIO);
  EXPECT_TRUE(queue_.broken());
  EXPECT_EQ(queue_.Submit(Segs(2), {}, Token(2)).error(), EIO);
  EXPECT_EQ(queue_.PopUsed().error(), EIO);
  EXPECT_FALSE(queue_.Kick());
  EXPECT_TRUE(platform_.Logged("used id"));
  // Recovery: release (the token comes back as abandoned) and set up again.
  std::vector<void*> abandoned;
  queue_.FreeRings(Abandon, &abandoned);
  EXPECT_EQ(abandoned, std::vector<void*>{Token(1)});
  SetUpQueue(8, 0);
  EXPECT_FALSE(queue_.broken());
  // A used id in range but not in flight: returned twice.
  ASSERT_TRUE(queue_.Submit(Segs(1), {}, Token(3)).ok());
  ASSERT_TRUE(queue_.Submit(Segs(2), {}, Token(4)).ok());
  auto chains = device_->PopAvailable();
  ASSERT_EQ(chains.size(), 2u);
  device_->PushUsed(chains[0], 0);
  device_->PushUsed(chains[0], 0);
  EXPECT_EQ(Pop()->token, Token(3));
  EXPECT_EQ(queue_.PopUsed().error(), EIO);
  EXPECT_TRUE(queue_.broken());
  EXPECT_EQ(queue_.num_free(), 6);  // Bookkeeping untouched.
  EXPECT_EQ(queue_.chains_in_flight(), 1);
  // A used length above the chain's writable bytes.
  queue_.FreeRings();
  SetUpQueue(8, 0);
  const Segment readable[] = {Seg(0, 100)};
  const Segment writable[] = {Seg(100, 10)};
  ASSERT_TRUE(queue_.Submit(readable, writable, Token(5)).ok());
  CompleteAll(11);
  EXPECT_EQ(queue_.PopUsed().error(), EIO);
  EXPECT_TRUE(platform_.Logged("used length"));
}

TEST_F(PackedQueueTest, UsedDescriptorOfTheWrongLapIsNotUsedYet) {
  SetUpQueue(4, 0);
  ASSERT_TRUE(queue_.Submit(Segs(1), {}, Token(1)).ok());
  auto chains = device_->PopAvailable();
  ASSERT_EQ(chains.size(), 1u);
  device_->PushUsed(chains[0].id, 0, 1, /*wrap_matches=*/false);
  EXPECT_FALSE(queue_.HasUsed());
  EXPECT_FALSE(Pop().has_value());
  EXPECT_TRUE(queue_.EnableInterrupts());
  EXPECT_FALSE(queue_.broken());
  EXPECT_EQ(queue_.chains_in_flight(), 1);
}

TEST_F(PackedQueueTest, EventSuppressionWithFlagsOnlyWithoutEventIdx) {
  SetUpQueue(8, 0);
  EXPECT_FALSE(queue_.Kick());  // Nothing submitted.
  ASSERT_TRUE(queue_.Submit(Segs(1), {}, Token(1)).ok());
  EXPECT_TRUE(queue_.Kick());  // ENABLE, as the cleared area says.
  EXPECT_EQ(notifications_, 1);
  EXPECT_EQ(notified_index_, 3);
  EXPECT_FALSE(queue_.Kick());  // Nothing new since.

  device_->set_device_event(VRING_PACKED_EVENT_FLAG_DISABLE);
  ASSERT_TRUE(queue_.Submit(Segs(1), {}, Token(2)).ok());
  EXPECT_FALSE(queue_.Kick());
  device_->set_device_event(VRING_PACKED_EVENT_FLAG_ENABLE);
  ASSERT_TRUE(queue_.Submit(Segs(1), {}, Token(3)).ok());
  EXPECT_TRUE(queue_.Kick());
  EXPECT_EQ(notifications_, 2);
  // DESC is only valid with EVENT_IDX: without it, notify rather than hang.
  device_->set_device_event(kDesc, 7 | kWrapBit);
  ASSERT_TRUE(queue_.Submit(Segs(1), {}, Token(4)).ok());
  EXPECT_TRUE(queue_.KickPrepare());
  CompleteAll();
  while (Pop().has_value()) {
  }
  // Interrupts: the driver area's flags.
  EXPECT_EQ(device_->driver_event_flags(), VRING_PACKED_EVENT_FLAG_ENABLE);
  queue_.DisableInterrupts();
  EXPECT_EQ(device_->driver_event_flags(), VRING_PACKED_EVENT_FLAG_DISABLE);
  EXPECT_TRUE(queue_.EnableInterrupts());
  EXPECT_EQ(device_->driver_event_flags(), VRING_PACKED_EVENT_FLAG_ENABLE);
  // A chain returned while interrupts were off: enabling reports it must be
  // polled.
  queue_.DisableInterrupts();
  ASSERT_TRUE(queue_.Submit(Segs(1), {}, Token(5)).ok());
  CompleteAll();
  EXPECT_FALSE(queue_.EnableInterrupts());
  EXPECT_TRUE(queue_.HasUsed());
  EXPECT_EQ(Pop()->token, Token(5));
  EXPECT_TRUE(queue_.EnableInterrupts());
}

TEST_F(PackedQueueTest, NotificationFollowsEventOffsetAndWrapWithEventIdx) {
  SetUpQueue(8, kEventIdx);
  ASSERT_TRUE(queue_.event_idx_enabled());
  device_->set_device_event(kDesc, 0 | kWrapBit);
  SubmitAndReturn(1);                 // Slot 0 of lap 1.
  EXPECT_TRUE(queue_.KickPrepare());  // Crossed slot 0.

  device_->set_device_event(kDesc, 4 | kWrapBit);
  SubmitAndReturn(1);  // Slot 1.
  EXPECT_FALSE(queue_.KickPrepare());
  SubmitAndReturn(2);  // Slots 2, 3: slot 4 not yet.
  EXPECT_FALSE(queue_.KickPrepare());
  SubmitAndReturn(1);  // Slot 4.
  EXPECT_TRUE(queue_.KickPrepare());
  // An offset with the other wrap counter is from the lap before: crossed long
  // ago.
  device_->set_device_event(kDesc, 6);
  SubmitAndReturn(1);  // Slot 5.
  EXPECT_FALSE(queue_.KickPrepare());
  // Across the end of the ring: slots 6 and 7 of lap 1, 0 and 1 of lap 2.
  device_->set_device_event(kDesc, 7 | kWrapBit);
  SubmitAndReturn(4);
  EXPECT_TRUE(queue_.KickPrepare());
  device_->set_device_event(kDesc, 0);  // Lap 2, slot 0: behind.
  SubmitAndReturn(1);                   // Slot 2 of lap 2.
  EXPECT_FALSE(queue_.KickPrepare());
  device_->set_device_event(kDesc, 4);  // Lap 2, slot 4.
  SubmitAndReturn(7);                   // Slots 3 .. 7 of lap 2, 0 .. 1 of 3.
  EXPECT_TRUE(queue_.KickPrepare());
  device_->set_device_event(kDesc, 2);  // Lap 4, slot 2.
  SubmitAndReturn(7);                   // Slots 2 .. 7 of lap 3, 0 of lap 4.
  EXPECT_FALSE(queue_.KickPrepare());
  // The flags still rule with EVENT_IDX.
  device_->set_device_event(VRING_PACKED_EVENT_FLAG_DISABLE, 1);
  SubmitAndReturn(1);
  EXPECT_FALSE(queue_.KickPrepare());
  device_->set_device_event(VRING_PACKED_EVENT_FLAG_ENABLE, 0);
  SubmitAndReturn(1);  // Slot 2 of lap 4.
  EXPECT_TRUE(queue_.KickPrepare());
  // Slot 5 of lap 4, on the wrap counter the driver is back on two laps later
  // (slot 1 of lap 6): only a check that knows more than a lap passed sees it
  // was crossed.
  device_->set_device_event(kDesc, 5);
  SubmitAndReturn(14);
  EXPECT_EQ(device_->next_avail(), 1);
  EXPECT_FALSE(device_->avail_wrap());
  EXPECT_TRUE(queue_.Kick());
  EXPECT_EQ(notifications_, 1);
}

TEST_F(PackedQueueTest, InterruptSuppressionWithEventIdx) {
  SetUpQueue(4, kEventIdx);
  // Interrupts on from the start: at the first used descriptor.
  EXPECT_EQ(device_->driver_event_flags(), kDesc);
  EXPECT_EQ(device_->driver_event_off_wrap(), 0 | kWrapBit);
  SubmitAndReturn(3);
  EXPECT_EQ(device_->driver_event_off_wrap(), 3 | kWrapBit);
  EXPECT_EQ(device_->driver_event_off_wrap(), device_->next_used_off_wrap());

  queue_.DisableInterrupts();
  EXPECT_EQ(device_->driver_event_flags(), VRING_PACKED_EVENT_FLAG_DISABLE);
  SubmitAndReturn(2);  // Used slots 3 of lap 1 and 0 of lap 2.
  EXPECT_EQ(device_->driver_event_off_wrap(), 3 | kWrapBit);  // Not re-armed.

  EXPECT_TRUE(queue_.EnableInterrupts());
  EXPECT_EQ(device_->driver_event_flags(), kDesc);
  EXPECT_EQ(device_->driver_event_off_wrap(), 1);  // Slot 1, wrap 0.
  EXPECT_EQ(device_->driver_event_off_wrap(), device_->next_used_off_wrap());

  queue_.DisableInterrupts();
  ASSERT_TRUE(queue_.Submit(Segs(1), {}, Token(9)).ok());
  CompleteAll();
  EXPECT_FALSE(queue_.EnableInterrupts());
  EXPECT_EQ(Pop()->token, Token(9));
  EXPECT_EQ(device_->driver_event_off_wrap(), 2);
}

TEST_F(PackedQueueTest, ReleaseAbandonsChainsInFlightAndFreesEverything) {
  SetUpQueue(8, kIndirect);
  const size_t before_queue = platform_.live_allocations() - 2;  // Ring, data.
  ASSERT_TRUE(queue_.Submit(Segs(2), {}, Token(1)).ok());        // Indirect.
  ASSERT_TRUE(queue_.Submit(Segs(1), {}, Token(2)).ok());
  ASSERT_TRUE(queue_.Submit(Segs(1), {}, Token(3)).ok());
  auto chains = device_->PopAvailable();
  ASSERT_EQ(chains.size(), 3u);
  device_->PushUsed(chains[1], 0);
  EXPECT_EQ(Pop()->token, Token(2));
  std::vector<void*> abandoned;
  queue_.FreeRings(Abandon, &abandoned);
  std::sort(abandoned.begin(), abandoned.end());
  EXPECT_EQ(abandoned, (std::vector<void*>{Token(1), Token(3)}));
  EXPECT_FALSE(queue_.is_set_up());
  EXPECT_EQ(queue_.num_free(), 0);
  EXPECT_EQ(platform_.live_allocations(), before_queue + 1);  // Data only.
  EXPECT_EQ(platform_.bad_frees(), 0);
  EXPECT_EQ(queue_.Submit(Segs(1), {}, Token(4)).error(), ENODEV);
  EXPECT_EQ(queue_.PopUsed().error(), ENODEV);
  EXPECT_FALSE(queue_.HasUsed());
}

// The device on its own thread, as in the simulator: the flags' acquire and
// release carry the descriptors across (ThreadSanitizer checks it).
TEST_F(PackedQueueTest, DeviceOnAnotherThread) {
  SetUpQueue(16, 0);
  std::atomic<bool> stop{false};
  std::thread device([&] { device_->Serve(stop); });
  constexpr uintptr_t kChains = 20000;
  const Segment three = Seg(8192, 3);
  uintptr_t submitted = 0;
  uintptr_t completed = 0;
  while (completed < kChains && !HasFailure()) {
    for (; submitted < kChains; ++submitted) {
      auto result = queue_.Submit(Segs(1), std::span(&three, submitted % 2),
                                  Token(submitted));
      if (!result.ok()) {
        EXPECT_EQ(result.error(), ENOSPC);
        break;
      }
    }
    queue_.Kick();
    if (!queue_.HasUsed()) {
      std::this_thread::yield();
      continue;
    }
    auto used = Pop();
    if (!used.has_value()) break;  // Pop() reported it; join the device.
    EXPECT_EQ(used->token, Token(completed));
    EXPECT_EQ(used->length, completed % 2 ? 3u : 0u);
    ++completed;
  }
  stop.store(true, std::memory_order_release);
  device.join();
  EXPECT_EQ(completed, kChains);
  EXPECT_EQ(queue_.num_free(), 16);
}

}  // namespace
}  // namespace driver_test
