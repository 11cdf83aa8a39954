// The contract of a device queue that a device thread polls (DeviceQueue::
// set_polled, AskForNotification, avail_watch), on both ring formats: the
// watched word changes exactly when the driver makes a chain available, an
// empty pop asks for no notification, and asking again before the thread
// sleeps misses no chain; and the lines it reads ahead when the word
// changes.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>

#include "sim/packed_device_queue.h"
#include "sim/split_device_queue.h"
#include "tests/sim/test_driver.h"
#include "tests/sim/test_packed_ring.h"

namespace sim {
namespace {

using sim_test::TestPackedRing;
using sim_test::TestRing;
using Status = DeviceQueue::PopStatus;

constexpr uint16_t kWrite = VRING_DESC_F_WRITE;

// Whether the watched word shows a new chain, as the polling thread reads it.
bool ShowsWork(const DeviceQueue::AvailWatch& watch) {
  return std::atomic_ref<uint16_t>(*watch.word)
             .load(std::memory_order_acquire) != watch.idle;
}

class PolledDeviceQueueTest : public ::testing::Test {
 protected:
  std::unique_ptr<GuestMemory> memory_ = GuestMemory::Create(1 << 20);
  DmaAllocator allocator_{*memory_};
  DescriptorChain chain_;
  ViolationRecord violation_;
};

TEST_F(PolledDeviceQueueTest, SplitRingWatchesTheAvailIndex) {
  TestRing ring(*memory_, allocator_, 4);
  SplitDeviceQueue queue(*memory_, 0, ring.layout(), {.event_idx = true});
  queue.set_polled(true);
  const uint64_t out = ring.Buffer(4);
  ring.SetDesc(0, out, 4, kWrite);
  for (uint16_t lap = 1; lap <= 6; ++lap) {
    const DeviceQueue::AvailWatch watch = queue.avail_watch();
    EXPECT_FALSE(ShowsWork(watch)) << lap;
    // Polled, an empty pop leaves avail_event where the thread last asked.
    EXPECT_EQ(queue.Pop(&chain_, &violation_), Status::kEmpty);
    EXPECT_EQ(ring.AvailEvent(), 0) << lap;
    ring.Publish(0);
    EXPECT_TRUE(ShowsWork(watch)) << lap;
    ASSERT_EQ(queue.Pop(&chain_, &violation_), Status::kChain);
    ASSERT_TRUE(queue.PushUsed(0, 4));
    EXPECT_EQ(queue.avail_watch().word, watch.word);
  }
  // Asking moves avail_event to the next chain; a chain made available before
  // the thread asks is found by the asking.
  EXPECT_FALSE(queue.AskForNotification());
  EXPECT_EQ(ring.AvailEvent(), 6);
  ring.Publish(0);
  EXPECT_TRUE(queue.AskForNotification());
  EXPECT_TRUE(ShowsWork(queue.avail_watch()));
}

// A packed ring has no index: the thread watches the flags of the descriptor
// at the avail cursor, which moves with every chain taken, over laps where
// that slot last held a descriptor of the previous lap or a used one.
TEST_F(PolledDeviceQueueTest, PackedRingWatchesTheFlagsAtTheAvailCursor) {
  TestPackedRing ring(*memory_, allocator_, 4);
  PackedDeviceQueue queue(*memory_, 0, ring.layout(), {.event_idx = true});
  queue.set_polled(true);
  const vring_packed_desc_event asked = ring.DeviceEvent();
  const uint64_t out = ring.Buffer(4);
  for (uint16_t chain = 1; chain <= 12; ++chain) {
    const DeviceQueue::AvailWatch watch = queue.avail_watch();
    EXPECT_FALSE(ShowsWork(watch)) << chain;
    EXPECT_EQ(queue.Pop(&chain_, &violation_), Status::kEmpty);
    // Chains of one to three descriptors: the cursor lands on every slot.
    std::vector<TestPackedRing::Desc> descs(1 + chain % 3, {out, 4, kWrite});
    ring.AddChain(descs, 0);
    EXPECT_TRUE(ShowsWork(watch)) << chain;
    ASSERT_EQ(queue.Pop(&chain_, &violation_), Status::kChain);
    ASSERT_TRUE(queue.PushUsed(0, 4));
    ASSERT_TRUE(ring.TakeUsed().has_value());
    EXPECT_NE(queue.avail_watch().word, watch.word) << chain;
  }
  // Polled, no empty pop moved the device event off where it was.
  EXPECT_EQ(ring.DeviceEvent().off_wrap, asked.off_wrap);
  EXPECT_EQ(ring.DeviceEvent().flags, VRING_PACKED_EVENT_FLAG_DESC);
  // Asking publishes the avail cursor; a chain made available before the
  // thread asks is found by the asking, and the watch shows it at once.
  EXPECT_FALSE(queue.AskForNotification());
  EXPECT_EQ(ring.DeviceEvent().off_wrap,
            ring.avail_position() | (ring.avail_wrap() ? 1u << 15 : 0u));
  ring.AddChain({{out, 4, kWrite}}, 1);
  EXPECT_TRUE(queue.AskForNotification());
  EXPECT_TRUE(ShowsWork(queue.avail_watch()));
}

// Not polled (a device that runs in the notifying thread), an empty pop
// publishes the cursor at once, so that the driver notifies for its next
// chain.
TEST_F(PolledDeviceQueueTest, AnUnpolledPackedRingAsksOnEveryEmptyPop) {
  TestPackedRing ring(*memory_, allocator_, 4);
  PackedDeviceQueue queue(*memory_, 0, ring.layout(), {.event_idx = true});
  const uint64_t out = ring.Buffer(4);
  ring.AddChain({{out, 4, kWrite}}, 0);
  ASSERT_EQ(queue.Pop(&chain_, &violation_), Status::kChain);
  EXPECT_EQ(queue.Pop(&chain_, &violation_), Status::kEmpty);
  EXPECT_EQ(ring.DeviceEvent().off_wrap, 1u | 1u << 15);
}

// What the thread fetches when the word changes: where the last chain was
// read from, which a driver that reuses its descriptors and request buffers
// writes the next one to.
TEST_F(PolledDeviceQueueTest, SplitRingReadsAheadWhereTheLastChainWasRead) {
  TestRing ring(*memory_, allocator_, 4);
  SplitDeviceQueue queue(*memory_, 0, ring.layout(), {});
  const uint64_t in = ring.Buffer(64);
  const uint64_t out = ring.Buffer(64);
  ring.SetDesc(2, in, 64, VRING_DESC_F_NEXT, 3);
  ring.SetDesc(3, out, 64, kWrite);
  const auto slot = [&](uint16_t index) {
    return ring.Host(ring.layout().driver + 4 + 2 * index);
  };
  // Before any chain: the first avail entry, and no guess.
  EXPECT_EQ(queue.avail_watch().read_ahead[0], slot(0));
  EXPECT_EQ(queue.avail_watch().read_ahead[2], nullptr);
  for (uint16_t lap = 1; lap <= 5; ++lap) {
    ring.Publish(2);
    ASSERT_EQ(queue.Pop(&chain_, &violation_), Status::kChain);
    const DeviceQueue::AvailWatch watch = queue.avail_watch();
    EXPECT_EQ(watch.read_ahead[0], slot(lap % 4)) << lap;
    EXPECT_EQ(watch.read_ahead[1], ring.Host(ring.layout().desc + 16 * 2));
    EXPECT_EQ(watch.read_ahead[2], ring.Host(in));
    ASSERT_TRUE(queue.PushUsed(2, 0));
  }
}

TEST_F(PolledDeviceQueueTest, PackedRingReadsAheadWhereTheLastChainWasRead) {
  TestPackedRing ring(*memory_, allocator_, 4);
  PackedDeviceQueue queue(*memory_, 0, ring.layout(), {});
  const uint64_t in = ring.Buffer(64);
  const uint64_t out = ring.Buffer(64);
  EXPECT_EQ(queue.avail_watch().read_ahead[1], nullptr);
  for (uint16_t chain = 1; chain <= 6; ++chain) {
    ring.AddChain({{in, 64}, {out, 64, kWrite}}, 0);
    ASSERT_EQ(queue.Pop(&chain_, &violation_), Status::kChain);
    const DeviceQueue::AvailWatch watch = queue.avail_watch();
    // The watched word's descriptor is read with it; the one after it is the
    // chain's second.
    EXPECT_EQ(
        watch.read_ahead[0],
        ring.Host(ring.layout().desc + 16 * ((ring.avail_position() + 1) % 4)))
        << chain;
    EXPECT_EQ(watch.read_ahead[1], ring.Host(in));
    ASSERT_TRUE(queue.PushUsed(0, 0));
    ASSERT_TRUE(ring.TakeUsed().has_value());
  }
}

}  // namespace
}  // namespace sim
