// The echo device end to end through both transports and both notify modes,
// driven by the hand-written test driver.
#include "sim/echo_device.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "tests/sim/test_driver.h"

namespace sim {
namespace {

using sim_test::Bit;
using sim_test::Machine;
using sim_test::TestRing;

using Param = std::tuple<base::TransportKind, NotifyMode>;

class EchoDeviceTest : public ::testing::TestWithParam<Param> {
 protected:
  EchoDeviceTest()
      : machine_(DeviceOptions{.transport = std::get<0>(GetParam()),
                               .notify_mode = std::get<1>(GetParam())}) {}

  static void CountInterrupt(void* context) {
    static_cast<std::atomic<int>*>(context)->fetch_add(1);
  }
  // Interrupts arrive asynchronously from the device thread.
  static bool WaitCount(const std::atomic<int>& count, int expected) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (count.load() < expected) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::yield();
    }
    return true;
  }
  bool WaitHeld(size_t count) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (machine_.echo->held().size() != count) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::yield();
    }
    return true;
  }
  // Chain `head` as one indirect descriptor: `input` readable, `out_size`
  // writable.
  uint64_t PostIndirect(TestRing& ring, uint16_t head, const std::string& input,
                        uint32_t out_size) {
    uint64_t in = ring.BufferWith(input);
    uint64_t out = ring.Buffer(out_size);
    uint64_t table = ring.IndirectTable(
        {{in, static_cast<uint32_t>(input.size()), VRING_DESC_F_NEXT, 1},
         {out, out_size, VRING_DESC_F_WRITE, 0}});
    ring.SetDesc(head, table, 32, VRING_DESC_F_INDIRECT);
    ring.Publish(head);
    return out;
  }

  Machine machine_;
};

TEST_P(EchoDeviceTest, EchoesBytes) {
  ASSERT_TRUE(machine_.driver->Init());
  EXPECT_TRUE(machine_.echo->active());
  EXPECT_EQ(machine_.echo->negotiated_features(),
            machine_.driver->negotiated());
  EXPECT_EQ(machine_.driver->Echo("hello, device"), "hello, device");
  // A short writable buffer gets the first bytes; used length says how many.
  EXPECT_EQ(machine_.driver->Echo("truncated reply", 9), "truncated");
  EXPECT_EQ(
      machine_.driver->ReadConfig(EchoDevice::kConfigChainsHandledOffset, 4),
      2u);
  EXPECT_TRUE(machine_.device->violations().empty());
}

TEST_P(EchoDeviceTest, ScattersAcrossBuffers) {
  ASSERT_TRUE(machine_.driver->Init());
  TestRing& ring = machine_.driver->ring();
  uint64_t a = ring.BufferWith("0123");
  uint64_t b = ring.BufferWith("456789");
  uint64_t x = ring.Buffer(3);
  uint64_t y = ring.Buffer(16);
  ring.SetDesc(4, a, 4, VRING_DESC_F_NEXT, 6);
  ring.SetDesc(6, b, 6, VRING_DESC_F_NEXT, 1);
  ring.SetDesc(1, x, 3, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
  ring.SetDesc(2, y, 16, VRING_DESC_F_WRITE);
  ring.Publish(4);
  machine_.driver->Notify(0);
  ASSERT_TRUE(ring.WaitUsedIdx(1));
  EXPECT_EQ(ring.Used(0).id, 4u);
  EXPECT_EQ(ring.Used(0).len, 10u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(ring.Host(x, 3)), 3), "012");
  EXPECT_EQ(std::string(reinterpret_cast<char*>(ring.Host(y, 7)), 7),
            "3456789");
}

TEST_P(EchoDeviceTest, ManyChainsInFlight) {
  ASSERT_TRUE(machine_.driver->Init(~uint64_t{0}, 16));
  TestRing& ring = machine_.driver->ring();
  std::vector<uint64_t> outputs;
  for (uint16_t head = 0; head < 16; ++head) {
    outputs.push_back(
        PostIndirect(ring, head, "request " + std::to_string(head), 32));
  }
  machine_.driver->Notify(0);
  ASSERT_TRUE(ring.WaitUsedIdx(16));
  std::vector<bool> seen(16, false);
  for (uint16_t i = 0; i < 16; ++i) {
    vring_used_elem used = ring.Used(i);
    ASSERT_LT(used.id, 16u);
    EXPECT_FALSE(seen[used.id]);
    seen[used.id] = true;
    std::string expected = "request " + std::to_string(used.id);
    EXPECT_EQ(used.len, expected.size());
    EXPECT_EQ(std::string(reinterpret_cast<char*>(
                              ring.Host(outputs[used.id], used.len)),
                          used.len),
              expected);
  }
  EXPECT_TRUE(machine_.device->violations().empty());
}

TEST_P(EchoDeviceTest, OutOfOrderCompletion) {
  ASSERT_TRUE(machine_.driver->Init());
  TestRing& ring = machine_.driver->ring();
  machine_.echo->Hold();
  for (uint16_t head = 0; head < 4; ++head) {
    PostIndirect(ring, head, std::string(head + 1, 'a' + head), 8);
  }
  machine_.driver->Notify(0);
  ASSERT_TRUE(WaitHeld(4));
  EXPECT_EQ(ring.UsedIdx(), 0);
  // Complete chain 2 first, then the rest most recent first.
  EXPECT_TRUE(machine_.echo->CompleteHeld(0, 2));
  EXPECT_FALSE(machine_.echo->CompleteHeld(0, 2));
  EXPECT_EQ(machine_.echo->CompleteAllHeld(/*reverse=*/true), 3u);
  ASSERT_TRUE(ring.WaitUsedIdx(4));
  std::vector<uint32_t> ids, lengths;
  for (uint16_t i = 0; i < 4; ++i) {
    ids.push_back(ring.Used(i).id);
    lengths.push_back(ring.Used(i).len);
  }
  EXPECT_EQ(ids, (std::vector<uint32_t>{2, 3, 1, 0}));
  EXPECT_EQ(lengths, (std::vector<uint32_t>{3, 4, 2, 1}));
}

TEST_P(EchoDeviceTest, HoldReleasesInReverseAfterN) {
  ASSERT_TRUE(machine_.driver->Init());
  TestRing& ring = machine_.driver->ring();
  machine_.echo->Hold(/*release_after=*/3);
  for (uint16_t head = 0; head < 3; ++head) PostIndirect(ring, head, "x", 8);
  machine_.driver->Notify(0);
  ASSERT_TRUE(ring.WaitUsedIdx(3));
  EXPECT_EQ(ring.Used(0).id, 2u);
  EXPECT_EQ(ring.Used(1).id, 1u);
  EXPECT_EQ(ring.Used(2).id, 0u);
  EXPECT_TRUE(machine_.echo->held().empty());
}

TEST_P(EchoDeviceTest, InterruptsAndSuppression) {
  std::atomic<int> interrupts{0};
  machine_.device->SetInterruptHandler(&EchoDeviceTest::CountInterrupt,
                                       &interrupts);
  // Without EVENT_IDX, VRING_AVAIL_F_NO_INTERRUPT suppresses used-buffer
  // interrupts.
  ASSERT_TRUE(machine_.driver->Init(~Bit(VIRTIO_RING_F_EVENT_IDX)));
  ASSERT_EQ(machine_.driver->Echo("one"), "one");
  ASSERT_TRUE(WaitCount(interrupts, 1));
  EXPECT_EQ(machine_.driver->TakeIsr(), VirtioDeviceModel::kIsrQueue);
  machine_.driver->ring().SetAvailFlags(VRING_AVAIL_F_NO_INTERRUPT);
  ASSERT_EQ(machine_.driver->Echo("two"), "two");
  EXPECT_EQ(interrupts.load(), 1);
  EXPECT_EQ(machine_.driver->TakeIsr(), 0);
  machine_.device->SetInterruptHandler(nullptr, nullptr);
  machine_.driver->ring().SetAvailFlags(0);
  ASSERT_EQ(machine_.driver->Echo("three"), "three");
  EXPECT_EQ(interrupts.load(), 1);
}

TEST_P(EchoDeviceTest, EventIdxSuppression) {
  std::atomic<int> interrupts{0};
  machine_.device->SetInterruptHandler(&EchoDeviceTest::CountInterrupt,
                                       &interrupts);
  ASSERT_TRUE(machine_.driver->Init());
  ASSERT_TRUE(machine_.driver->negotiated() & Bit(VIRTIO_RING_F_EVENT_IDX));
  TestRing& ring = machine_.driver->ring();
  ring.SetUsedEvent(2);  // Interrupt when the third element is used.
  for (int i = 0; i < 4; ++i) ASSERT_EQ(machine_.driver->Echo("e"), "e");
  ASSERT_TRUE(WaitCount(interrupts, 1));
  // Past used_event (2) nothing more is due: one more element, still one
  // interrupt.
  ASSERT_EQ(machine_.driver->Echo("f"), "f");
  machine_.device->SetInterruptHandler(nullptr,
                                       nullptr);  // Waits for a running one.
  EXPECT_EQ(interrupts.load(), 1);
  // The device asked to be notified about the next buffer. It publishes that
  // when it finds the ring empty, which a device thread may do after the
  // reply is already back.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (ring.AvailEvent() != 5 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  EXPECT_EQ(ring.AvailEvent(), 5);
}

TEST_P(EchoDeviceTest, IndicesWrapPast65535) {
  ASSERT_TRUE(machine_.driver->Init(~uint64_t{0}, 4));
  TestRing& ring = machine_.driver->ring();
  uint64_t in = ring.BufferWith("w");
  uint64_t out = ring.Buffer(4);
  // Heads 0..3 all point at one indirect chain: readable "w", then 4 writable
  // bytes.
  uint64_t table = ring.IndirectTable(
      {{in, 1, VRING_DESC_F_NEXT, 1}, {out, 4, VRING_DESC_F_WRITE, 0}});
  for (uint16_t d = 0; d < 4; ++d)
    ring.SetDesc(d, table, 32, VRING_DESC_F_INDIRECT);
  constexpr int kBatches = 70000 / 4 + 1;
  uint16_t used = 0;
  for (int batch = 0; batch < kBatches; ++batch) {
    for (uint16_t d = 0; d < 4; ++d) ring.Publish(d);
    machine_.driver->Notify(0);
    used = static_cast<uint16_t>(used + 4);
    ASSERT_TRUE(ring.WaitUsedIdx(used)) << batch;
    for (uint16_t k = 4; k > 0; --k) {
      ASSERT_EQ(ring.Used(static_cast<uint16_t>(used - k)).len, 1u);
    }
  }
  EXPECT_EQ(machine_.model().counters().chains_completed,
            uint64_t{kBatches} * 4);
  EXPECT_TRUE(machine_.device->violations().empty());
}

INSTANTIATE_TEST_SUITE_P(
    TransportsAndModes, EchoDeviceTest,
    ::testing::Combine(::testing::Values(base::TransportKind::kPci,
                                         base::TransportKind::kMmio),
                       ::testing::Values(NotifyMode::kInline,
                                         NotifyMode::kThread)),
    [](const ::testing::TestParamInfo<Param>& info) {
      return std::string(std::get<0>(info.param) == base::TransportKind::kPci
                             ? "Pci"
                             : "Mmio") +
             (std::get<1>(info.param) == NotifyMode::kInline ? "Inline"
                                                             : "Thread");
    });

}  // namespace
}  // namespace sim
