// vhost_user::Device with packed virtqueues (VIRTIO_F_RING_PACKED) against a
// hand-written front-end: the feature offered and negotiated, a request served,
// the ring stopped and resumed at its VRING_BASE (both cursors with their wrap
// counters), the sizes and addresses of the format, and every bad size, base
// and layout refused, or reported when the guest's driver breaks the ring.
#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/echo_device.h"
#include "sim/packed_device_queue.h"
#include "tests/vhost_user/packed_test_ring.h"
#include "tests/vhost_user/test_frontend.h"
#include "vhost_user/device.h"
#include "vhost_user/protocol.h"

namespace vhost_user_test {
namespace {

using vhost_user::PackedVringBase;

constexpr uint64_t kPackedBit = 1ull << VIRTIO_F_RING_PACKED;
constexpr uint64_t kSplit = (1ull << VIRTIO_F_VERSION_1) |
                            (1ull << VIRTIO_RING_F_EVENT_IDX) |
                            vhost_user::kFeatureProtocolFeatures;
constexpr uint64_t kPacked = kSplit | kPackedBit;
// Where QEMU starts a packed ring: both cursors at position 0, wrap 1.
constexpr uint32_t kStart =
    PackedVringBase(sim::kPackedQueueStart, sim::kPackedQueueStart);
constexpr uint16_t kWrap = sim::kPackedWrapBit;

vhost_vring_state State(uint32_t index, uint32_t num) { return {index, num}; }

class PackedRingTest : public ::testing::Test {
 protected:
  PackedRingTest() : device_(echo_, Options(/*packed_rings=*/true)) {}

  vhost_user::DeviceOptions Options(bool packed_rings) {
    return {.strict = true,
            .packed_rings = packed_rings,
            .log =
                [this](const std::string& line) {
                  std::lock_guard<std::mutex> lock(mutex_);
                  log_.push_back(line);
                },
            .on_violation =
                [this](const sim::ViolationRecord& record) {
                  std::lock_guard<std::mutex> lock(mutex_);
                  violations_.push_back(record);
                }};
  }

  bool Logged(const std::string& text) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const std::string& line : log_) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }
  std::string Log() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string all;
    for (const std::string& line : log_) all += line + "\n";
    return all;
  }

  // Makes "text" -> 16 writable bytes available as buffer `id`; the writable
  // buffer's bus address.
  uint64_t Echo(PackedTestRing& ring, uint16_t id, const std::string& text) {
    const uint64_t reply = ring.Buffer(16);
    ring.AddChain(
        {{ring.BufferWith(text), static_cast<uint32_t>(text.size()), 0},
         {reply, 16, VRING_DESC_F_WRITE}},
        id);
    return reply;
  }

  // Sends a vring state request with REPLY_ACK; its ack (0 taken, 1 refused).
  std::optional<uint64_t> SendState(TestFrontend& frontend, uint32_t request,
                                    uint32_t index, uint32_t num) {
    if (!frontend.SendValue(request, State(index, num), {}, true)) {
      return std::nullopt;
    }
    return frontend.U64Reply(request);
  }

  // SET_VRING_CALL and SET_VRING_KICK with fresh eventfds: the kick starts
  // the ring; its ack.
  std::optional<uint64_t> SendKick(TestFrontend& frontend, uint32_t index) {
    UniqueFd call(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    UniqueFd kick(eventfd(0, EFD_CLOEXEC));
    if (!frontend.SendValue(vhost_user::kSetVringCall, uint64_t{index},
                            {call.get()}, true) ||
        frontend.U64Reply(vhost_user::kSetVringCall) != 0u ||
        !frontend.SendValue(vhost_user::kSetVringKick, uint64_t{index},
                            {kick.get()}, true)) {
      return std::nullopt;
    }
    return frontend.U64Reply(vhost_user::kSetVringKick);
  }

  bool WaitFor(const std::function<bool()>& condition) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!condition()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      usleep(1000);
    }
    return true;
  }

  sim::EchoDevice echo_{sim::EchoDevice::Options{.num_queues = 2}};
  vhost_user::Device device_;
  std::mutex mutex_;
  std::vector<std::string> log_;
  std::vector<sim::ViolationRecord> violations_;
};

TEST_F(PackedRingTest, IsOfferedAndItsNegotiationLogged) {
  TestFrontend frontend(device_);
  ASSERT_TRUE(frontend.Send(vhost_user::kGetFeatures, nullptr, 0));
  std::optional<uint64_t> offered = frontend.U64Reply(vhost_user::kGetFeatures);
  ASSERT_TRUE(offered);
  EXPECT_NE(*offered & kPackedBit, 0u);
  frontend.Negotiate(kPacked);
  EXPECT_TRUE(Logged("features: VERSION_1|RING_PACKED|EVENT_IDX")) << Log();
  EXPECT_TRUE(frontend.Close().ok());
}

TEST_F(PackedRingTest, TurnedOffItIsNeitherOfferedNorAccepted) {
  vhost_user::Device split_only(echo_, Options(/*packed_rings=*/false));
  TestFrontend frontend(split_only);
  ASSERT_TRUE(frontend.Send(vhost_user::kGetFeatures, nullptr, 0));
  std::optional<uint64_t> offered = frontend.U64Reply(vhost_user::kGetFeatures);
  ASSERT_TRUE(offered);
  EXPECT_EQ(*offered & kPackedBit, 0u);
  EXPECT_EQ(*offered & kSplit, kSplit);
  ASSERT_TRUE(frontend.SendValue(vhost_user::kSetProtocolFeatures,
                                 vhost_user::kProtocolReplyAck));
  ASSERT_TRUE(frontend.SendValue(vhost_user::kSetFeatures, kPacked, {}, true));
  EXPECT_EQ(frontend.U64Reply(vhost_user::kSetFeatures), 1u);
  EXPECT_TRUE(Logged("include some not offered")) << Log();
  EXPECT_TRUE(frontend.Close().ok());
}

TEST_F(PackedRingTest, ServesARequestAndSignalsIt) {
  TestFrontend frontend(device_);
  frontend.Negotiate(kPacked);
  PackedTestRing ring(frontend.memory(), frontend.allocator(), 8);
  frontend.StartVring(1, ring.layout(), kStart);
  EXPECT_TRUE(
      Logged("vring 1 started: packed ring of 8 from avail position 0 "
             "(wrap 1), used position 0 (wrap 1)"))
      << Log();
  const uint64_t reply = Echo(ring, 3, "ping");
  frontend.Kick();
  std::optional<PackedTestRing::Used> used = ring.WaitUsed();
  ASSERT_TRUE(used);
  EXPECT_EQ(used->id, 3u);
  EXPECT_EQ(used->len, 4u);
  EXPECT_EQ(std::memcmp(ring.Host(reply, 4), "ping", 4), 0);
  // The driver event area says ENABLE: the completion is signalled.
  EXPECT_TRUE(WaitFor([&] { return frontend.Called(); }));
  // With EVENT_IDX the device asks to be kicked at the next descriptor: the
  // device event area names the avail cursor past the chain (position 2).
  EXPECT_TRUE(WaitFor([&] {
    const vring_packed_desc_event event = ring.DeviceEvent();
    return event.flags == VRING_PACKED_EVENT_FLAG_DESC &&
           event.off_wrap == (2 | kWrap);
  }));
  EXPECT_TRUE(frontend.Close().ok());
}

// Five entries (no power of two) and chains of two descriptors, so that
// chains straddle the end of the ring and the wrap counters flip mid-chain.
TEST_F(PackedRingTest, StopsAndResumesAtBothCursorsAfterSeveralLaps) {
  TestFrontend frontend(device_);
  frontend.Negotiate(kPacked);
  PackedTestRing ring(frontend.memory(), frontend.allocator(), 5);
  frontend.StartVring(0, ring.layout(), kStart);
  // 8 chains: 16 descriptors, three laps and one: position 1, wrap 0.
  for (uint16_t i = 0; i < 8; ++i) {
    Echo(ring, i % 5, "lap");
    frontend.Kick();
    std::optional<PackedTestRing::Used> used = ring.WaitUsed();
    ASSERT_TRUE(used) << "chain " << i;
    EXPECT_EQ(used->id, i % 5);
  }
  ASSERT_EQ(ring.avail_cursor(), 1);
  std::optional<uint32_t> base = frontend.GetVringBase(0);
  ASSERT_TRUE(base);
  EXPECT_EQ(*base, PackedVringBase(1, 1)) << std::hex << *base;
  // Made available while the ring is stopped, taken once it resumes there.
  Echo(ring, 0, "one");
  Echo(ring, 1, "two");
  frontend.StartVring(0, ring.layout(), *base);
  EXPECT_TRUE(
      Logged("packed ring of 5 from avail position 1 (wrap 0), used "
             "position 1 (wrap 0)"))
      << Log();
  for (uint16_t id : {0, 1}) {
    std::optional<PackedTestRing::Used> used = ring.WaitUsed();
    ASSERT_TRUE(used) << "buffer " << id;
    EXPECT_EQ(used->id, id);
    EXPECT_EQ(used->len, 3u);
  }
  // 20 descriptors: four laps, back to position 0 with wrap 1.
  base = frontend.GetVringBase(0);
  ASSERT_TRUE(base);
  EXPECT_EQ(*base, kStart) << std::hex << *base;
  EXPECT_EQ(*base, PackedVringBase(ring.avail_cursor(), ring.used_cursor()));
  EXPECT_TRUE(frontend.Close().ok());
}

TEST_F(PackedRingTest, InvalidBasesAreRefused) {
  TestFrontend frontend(device_);
  frontend.Negotiate(kPacked);
  ASSERT_EQ(SendState(frontend, vhost_user::kSetVringNum, 0, 8), 0u);
  const struct {
    uint16_t avail;
    uint16_t used;
    uint64_t ack;
    const char* logged;
  } cases[] = {
      {8 | kWrap, kWrap, 1,
       "base 0x80008008: the avail cursor (position 8 (wrap 1)) is beyond the "
       "packed ring's 8 entries"},
      {kWrap, 9, 1, "the used cursor (position 9 (wrap 0)) is beyond"},
      {2 | kWrap, 3 | kWrap, 1,
       "the used cursor (position 3 (wrap 1)) is ahead of the avail cursor "
       "(position 2 (wrap 1))"},
      // One lap behind plus one: more than the ring held by the device.
      {1 | kWrap, 0, 1, "the used cursor (position 0 (wrap 0)) is ahead"},
      // Exactly one lap behind: the device holds the whole ring.
      {0, kWrap, 0, nullptr},
      {5, 2, 0, nullptr},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::Message()
                 << std::hex << PackedVringBase(c.avail, c.used));
    EXPECT_EQ(SendState(frontend, vhost_user::kSetVringBase, 0,
                        PackedVringBase(c.avail, c.used)),
              c.ack);
    if (c.logged) {
      EXPECT_TRUE(Logged(c.logged)) << Log();
    }
  }
  EXPECT_TRUE(frontend.Close().ok());
}

TEST_F(PackedRingTest, ASplitRingRefusesAPackedBase) {
  TestFrontend frontend(device_);
  frontend.Negotiate(kSplit);
  ASSERT_EQ(SendState(frontend, vhost_user::kSetVringNum, 0, 8), 0u);
  EXPECT_EQ(SendState(frontend, vhost_user::kSetVringBase, 0, kStart), 1u);
  EXPECT_TRUE(Logged("base 0x80008000 of a split ring is above 65535"))
      << Log();
  EXPECT_TRUE(frontend.Close().ok());
}

// A base that fit the size it was checked against is checked again with the
// size the ring starts with.
TEST_F(PackedRingTest, TheBaseIsCheckedAgainAtStart) {
  TestFrontend frontend(device_);
  frontend.Negotiate(kPacked);
  PackedTestRing ring(frontend.memory(), frontend.allocator(), 8);
  ASSERT_EQ(SendState(frontend, vhost_user::kSetVringNum, 0, 16), 0u);
  ASSERT_EQ(SendState(frontend, vhost_user::kSetVringBase, 0,
                      PackedVringBase(12 | kWrap, 12 | kWrap)),
            0u);
  ASSERT_EQ(SendState(frontend, vhost_user::kSetVringNum, 0, 8), 0u);
  ASSERT_TRUE(frontend.SendVringAddresses(0, ring.layout()));
  ASSERT_EQ(frontend.U64Reply(vhost_user::kSetVringAddr), 0u);
  EXPECT_EQ(SendKick(frontend, 0), 1u);
  EXPECT_TRUE(
      Logged("the avail cursor (position 12 (wrap 1)) is beyond the "
             "packed ring's 8 entries"))
      << Log();
  EXPECT_TRUE(frontend.Close().ok());
}

TEST_F(PackedRingTest, AnySizeUpToTheMaximumButOnlyForPackedRings) {
  {
    TestFrontend frontend(device_);
    frontend.Negotiate(kPacked);
    EXPECT_EQ(SendState(frontend, vhost_user::kSetVringNum, 0, 6), 0u);
    EXPECT_EQ(SendState(frontend, vhost_user::kSetVringNum, 0, 1), 0u);
    EXPECT_EQ(SendState(frontend, vhost_user::kSetVringNum, 0, 255), 0u);
    EXPECT_EQ(SendState(frontend, vhost_user::kSetVringNum, 0, 0), 1u);
    EXPECT_EQ(SendState(frontend, vhost_user::kSetVringNum, 0, 257), 1u);
    EXPECT_TRUE(Logged("size 257 is not from 1 to 256 (packed ring)")) << Log();
    EXPECT_TRUE(frontend.Close().ok());
  }
  {
    TestFrontend frontend(device_);
    frontend.Negotiate(kSplit);
    EXPECT_EQ(SendState(frontend, vhost_user::kSetVringNum, 0, 6), 1u);
    EXPECT_TRUE(
        Logged("size 6 is not a power of two from 1 to 256 (split "
               "ring)"))
        << Log();
    EXPECT_TRUE(frontend.Close().ok());
  }
}

// A size taken for a packed ring is refused when the front-end then
// negotiates split rings and starts the ring.
TEST_F(PackedRingTest, TheSizeIsCheckedAgainstTheFormatAtStart) {
  TestFrontend frontend(device_);
  frontend.Negotiate(kPacked);
  sim_test::TestRing split(frontend.memory(), frontend.allocator(), 8);
  ASSERT_EQ(SendState(frontend, vhost_user::kSetVringNum, 0, 6), 0u);
  ASSERT_TRUE(frontend.SendValue(vhost_user::kSetFeatures, kSplit, {}, true));
  ASSERT_EQ(frontend.U64Reply(vhost_user::kSetFeatures), 0u);
  ASSERT_TRUE(frontend.SendVringAddresses(0, split.layout()));
  ASSERT_EQ(frontend.U64Reply(vhost_user::kSetVringAddr), 0u);
  EXPECT_EQ(SendKick(frontend, 0), 1u);
  EXPECT_TRUE(Logged("vring 0 size 6 is not a power of two")) << Log();
  EXPECT_TRUE(frontend.Close().ok());
}

// The event suppression areas are 4 bytes each: at the very end of guest
// memory they fit (a split ring's avail and used rings there would not).
TEST_F(PackedRingTest, EventAreasAreTranslatedWithTheirOwnSize) {
  TestFrontend frontend(device_);
  frontend.Negotiate(kPacked);
  PackedTestRing ring(frontend.memory(), frontend.allocator(), 8);
  const uint64_t end = frontend.memory().base() + frontend.memory().size();
  sim::QueueLayout layout = ring.layout();
  layout.driver = end - 8;  // Zero: ENABLE.
  layout.device = end - 4;
  frontend.StartVring(0, layout, kStart);
  Echo(ring, 0, "edge");
  frontend.Kick();
  std::optional<PackedTestRing::Used> used = ring.WaitUsed();
  ASSERT_TRUE(used);
  EXPECT_EQ(used->len, 4u);
  EXPECT_TRUE(WaitFor([&] {
    vring_packed_desc_event event;
    std::memcpy(&event, ring.Host(end - 4, 4), 4);
    return event.flags == VRING_PACKED_EVENT_FLAG_DESC;
  }));
  EXPECT_TRUE(frontend.Close().ok());
}

TEST_F(PackedRingTest, BadLayoutsAreRefused) {
  TestFrontend frontend(device_);
  frontend.Negotiate(kPacked);
  PackedTestRing ring(frontend.memory(), frontend.allocator(), 8);
  const uint64_t end = frontend.memory().base() + frontend.memory().size();
  const struct {
    uint64_t desc;
    uint64_t driver;
    uint64_t device;
    const char* logged;
  } cases[] = {
      {end - 64, ring.layout().driver, ring.layout().device,
       "descriptor ring at front-end address"},
      {ring.layout().desc, end - 2, ring.layout().device,
       "driver event suppression area at front-end address"},
      {ring.layout().desc, ring.layout().driver, ring.layout().device + 2,
       "device event suppression area at 0x"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.logged);
    ASSERT_EQ(SendState(frontend, vhost_user::kSetVringNum, 0, 8), 0u);
    ASSERT_TRUE(frontend.SendVringAddresses(
        0,
        {.size = 8, .desc = c.desc, .driver = c.driver, .device = c.device}));
    ASSERT_EQ(frontend.U64Reply(vhost_user::kSetVringAddr), 0u);
    EXPECT_EQ(SendKick(frontend, 0), 1u);
    EXPECT_TRUE(Logged(c.logged)) << Log();
  }
  EXPECT_TRUE(Logged("is not 4-byte aligned")) << Log();
  EXPECT_TRUE(frontend.Close().ok());
}

TEST_F(PackedRingTest, ABufferIdOutOfRangeIsReportedAndStopsTheRing) {
  TestFrontend frontend(device_);
  frontend.Negotiate(kPacked);
  PackedTestRing ring(frontend.memory(), frontend.allocator(), 8);
  frontend.StartVring(0, ring.layout(), kStart);
  Echo(ring, 8, "bad");
  frontend.Kick();
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(mutex_);
    return !violations_.empty();
  }));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ASSERT_EQ(violations_.size(), 1u);
    EXPECT_EQ(violations_[0].violation, sim::Violation::kBufferIdOutOfRange);
    EXPECT_EQ(violations_[0].queue, 0);
    EXPECT_NE(violations_[0].message.find("buffer id 8"), std::string::npos)
        << violations_[0].message;
  }
  // The ring took nothing and takes nothing more.
  Echo(ring, 1, "good");
  frontend.Kick();
  usleep(20000);
  EXPECT_FALSE(ring.TakeUsed());
  EXPECT_TRUE(frontend.Close().ok());
}

}  // namespace
}  // namespace vhost_user_test
