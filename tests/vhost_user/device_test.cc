// vhost_user::Device against a hand-written front-end: negotiation, a ring
// that takes chains and signals completions, stopping and resuming at a base,
// the strict checker on a ring, and every kind of bad input refused (a NACK
// when REPLY_ACK was asked for, the end of the connection otherwise), never
// followed.
#define VIRTIO_RING_NO_LEGACY
#include "vhost_user/device.h"

#include <linux/fuse.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <sys/eventfd.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/echo_device.h"
#include "sim/virtio_fs_device.h"
#include "tests/sim/test_driver.h"
#include "tests/vhost_user/test_frontend.h"

namespace vhost_user_test {
namespace {

using sim_test::TestRing;

constexpr uint64_t kFeatures = (1ull << VIRTIO_F_VERSION_1) |
                               (1ull << VIRTIO_RING_F_EVENT_IDX) |
                               vhost_user::kFeatureProtocolFeatures;

class DeviceTest : public ::testing::Test {
 protected:
  DeviceTest()
      : echo_(sim::EchoDevice::Options{.num_queues = 2}),
        device_(echo_, {.strict = true,
                        .log =
                            [this](const std::string& line) {
                              std::lock_guard<std::mutex> lock(mutex_);
                              log_.push_back(line);
                            },
                        .on_violation =
                            [this](const sim::ViolationRecord& record) {
                              std::lock_guard<std::mutex> lock(mutex_);
                              violations_.push_back(record);
                            }}) {}

  bool Logged(const std::string& text) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const std::string& line : log_) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }

  // Publishes a chain "ping" -> 16 writable bytes on `ring`; its head.
  uint16_t PublishEcho(TestRing& ring, uint16_t head) {
    ring.SetDesc(head, ring.BufferWith("ping"), 4, VRING_DESC_F_NEXT, head + 1);
    ring.SetDesc(head + 1, ring.Buffer(16), 16, VRING_DESC_F_WRITE);
    ring.Publish(head);
    return head;
  }

  sim::EchoDevice echo_;
  vhost_user::Device device_;
  std::mutex mutex_;
  std::vector<std::string> log_;
  std::vector<sim::ViolationRecord> violations_;
};

TEST_F(DeviceTest, OffersItsFeaturesProtocolFeaturesAndQueues) {
  TestFrontend frontend(device_);
  ASSERT_TRUE(frontend.Send(vhost_user::kGetFeatures, nullptr, 0));
  std::optional<uint64_t> features =
      frontend.U64Reply(vhost_user::kGetFeatures);
  ASSERT_TRUE(features);
  EXPECT_EQ(*features & kFeatures, kFeatures);
  EXPECT_TRUE(*features & (1ull << VIRTIO_RING_F_INDIRECT_DESC));
  ASSERT_TRUE(frontend.Send(vhost_user::kGetProtocolFeatures, nullptr, 0));
  EXPECT_EQ(frontend.U64Reply(vhost_user::kGetProtocolFeatures),
            vhost_user::kProtocolMq | vhost_user::kProtocolReplyAck);
  ASSERT_TRUE(frontend.Send(vhost_user::kGetQueueNum, nullptr, 0));
  EXPECT_EQ(frontend.U64Reply(vhost_user::kGetQueueNum), 2u);
  EXPECT_TRUE(frontend.Close().ok());
}

TEST_F(DeviceTest, RingTakesChainsSignalsAndStopsAtItsBase) {
  TestFrontend frontend(device_);
  frontend.Negotiate(kFeatures);
  TestRing ring(frontend.memory(), frontend.allocator(), 8);
  frontend.StartVring(1, ring);
  PublishEcho(ring, 0);
  frontend.Kick();
  ASSERT_TRUE(ring.WaitUsedIdx(1));
  EXPECT_EQ(ring.Used(0).id, 0u);
  EXPECT_EQ(ring.Used(0).len, 4u);
  // EVENT_IDX with used_event 0: the first completion is signalled.
  for (int i = 0; i < 1000 && !frontend.Called(); ++i) usleep(1000);
  // GET_VRING_BASE stops the ring and says where the next chain is.
  vhost_vring_state which{1, 0};
  ASSERT_TRUE(frontend.SendValue(vhost_user::kGetVringBase, which));
  std::optional<std::vector<uint8_t>> base =
      frontend.Reply(vhost_user::kGetVringBase);
  ASSERT_TRUE(base && base->size() == sizeof(vhost_vring_state));
  vhost_vring_state state;
  std::memcpy(&state, base->data(), sizeof(state));
  EXPECT_EQ(state.index, 1u);
  EXPECT_EQ(state.num, 1u);
  // A chain made available while stopped is taken once the ring is started
  // again at that base.
  PublishEcho(ring, 2);
  frontend.StartVring(1, ring, /*base=*/1);
  ASSERT_TRUE(ring.WaitUsedIdx(2));
  EXPECT_EQ(ring.Used(1).id, 2u);
  EXPECT_TRUE(frontend.Close().ok());
}

// A ring the front-end never stopped (QEMU killed) is logged with where it
// stood: here a chain the device still holds.
TEST_F(DeviceTest, ARingRunningAtDisconnectIsLoggedWithItsState) {
  TestFrontend frontend(device_);
  frontend.Negotiate(kFeatures);
  TestRing ring(frontend.memory(), frontend.allocator(), 8);
  frontend.StartVring(1, ring);
  echo_.Hold();
  PublishEcho(ring, 0);
  frontend.Kick();
  for (int i = 0; i < 1000 && echo_.held().empty(); ++i) usleep(1000);
  ASSERT_EQ(echo_.held().size(), 1u);
  EXPECT_TRUE(frontend.Close().ok());
  EXPECT_TRUE(
      Logged("vring 1 stopped while running: driver's avail idx 1, taken up "
             "to 1 (0 waiting), 1 in flight, used idx 0"));
  EXPECT_FALSE(Logged("vring 0 stopped"));  // Never started.
}

// Two rings, each on its own thread; without EVENT_IDX the driver's
// NO_INTERRUPT flag suppresses the call of the ring that sets it.
TEST_F(DeviceTest, RingsRunSideBySideAndHonourNoInterrupt) {
  TestFrontend frontend(device_);
  frontend.Negotiate((1ull << VIRTIO_F_VERSION_1) |
                     vhost_user::kFeatureProtocolFeatures);
  TestRing quiet(frontend.memory(), frontend.allocator(), 8);
  TestRing loud(frontend.memory(), frontend.allocator(), 8);
  frontend.StartVring(0, quiet);
  UniqueFd quiet_call = frontend.TakeCall();
  UniqueFd quiet_kick = frontend.TakeKick();
  frontend.StartVring(1, loud);
  quiet.SetAvailFlags(VRING_AVAIL_F_NO_INTERRUPT);
  for (uint16_t i = 0; i < 4; ++i) {
    PublishEcho(quiet, 2 * i);
    PublishEcho(loud, 2 * i);
  }
  const uint64_t one = 1;
  ASSERT_EQ(write(quiet_kick.get(), &one, 8), 8);
  frontend.Kick();
  ASSERT_TRUE(quiet.WaitUsedIdx(4));
  ASSERT_TRUE(loud.WaitUsedIdx(4));
  bool loud_called = false;
  for (int i = 0; i < 1000 && !loud_called; ++i) {
    loud_called = frontend.Called();
    if (!loud_called) usleep(1000);
  }
  EXPECT_TRUE(loud_called);
  uint64_t count;
  EXPECT_NE(read(quiet_call.get(), &count, 8), 8);  // Never signalled.
  EXPECT_TRUE(frontend.Close().ok());
}

TEST_F(DeviceTest, BrokenRingIsReportedAndStops) {
  TestFrontend frontend(device_);
  frontend.Negotiate(kFeatures);
  TestRing ring(frontend.memory(), frontend.allocator(), 8);
  frontend.StartVring(0, ring);
  ring.Publish(9);  // A head beyond the ring.
  frontend.Kick();
  for (int i = 0; i < 2000; ++i) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!violations_.empty()) break;
    }
    usleep(1000);
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ASSERT_EQ(violations_.size(), 1u);
    EXPECT_EQ(violations_[0].violation, sim::Violation::kHeadIndexOutOfRange);
    EXPECT_EQ(violations_[0].queue, 0);
  }
  // The queue took nothing and takes nothing more.
  PublishEcho(ring, 0);
  frontend.Kick();
  usleep(20000);
  EXPECT_EQ(ring.UsedIdx(), 0);
  EXPECT_TRUE(frontend.Close().ok());
}

// One bad message: with REPLY_ACK it is NACKed and the connection stays.
struct BadInput {
  const char* name;
  std::function<void(TestFrontend&)> send;
  uint32_t request;
};

class BadInputTest : public DeviceTest,
                     public ::testing::WithParamInterface<BadInput> {};

TEST_P(BadInputTest, IsNackedWithReplyAckAndChangesNothing) {
  TestFrontend frontend(device_);
  frontend.Negotiate(kFeatures);
  GetParam().send(frontend);
  EXPECT_EQ(frontend.U64Reply(GetParam().request), 1u);
  EXPECT_TRUE(Logged("refused"));
  // Still served: a well-formed request works.
  ASSERT_TRUE(frontend.Send(vhost_user::kGetQueueNum, nullptr, 0));
  EXPECT_EQ(frontend.U64Reply(vhost_user::kGetQueueNum), 2u);
  EXPECT_TRUE(frontend.Close().ok());
}

vhost_vring_state State(uint32_t index, uint32_t num) { return {index, num}; }

INSTANTIATE_TEST_SUITE_P(
    Messages, BadInputTest,
    ::testing::Values(
        BadInput{"VringIndexOutOfRange",
                 [](TestFrontend& f) {
                   f.SendValue(vhost_user::kSetVringNum, State(7, 8), {}, true);
                 },
                 vhost_user::kSetVringNum},
        BadInput{"VringSizeNotAPowerOfTwo",
                 [](TestFrontend& f) {
                   f.SendValue(vhost_user::kSetVringNum, State(0, 6), {}, true);
                 },
                 vhost_user::kSetVringNum},
        BadInput{"VringBaseAbove65535",
                 [](TestFrontend& f) {
                   f.SendValue(vhost_user::kSetVringBase, State(0, 70000), {},
                               true);
                 },
                 vhost_user::kSetVringBase},
        BadInput{"PayloadOfTheWrongSize",
                 [](TestFrontend& f) {
                   f.SendValue(vhost_user::kSetVringNum, uint32_t{8}, {}, true);
                 },
                 vhost_user::kSetVringNum},
        BadInput{"UnknownRequest",
                 [](TestFrontend& f) {
                   f.SendValue(uint32_t{99}, uint64_t{0}, {}, true);
                 },
                 99},
        BadInput{"FeaturesNotOffered",
                 [](TestFrontend& f) {
                   f.SendValue(vhost_user::kSetFeatures, uint64_t{1} << 63, {},
                               true);
                 },
                 vhost_user::kSetFeatures},
        BadInput{"KickWithoutItsFd",
                 [](TestFrontend& f) {
                   f.SendValue(vhost_user::kSetVringKick, uint64_t{0}, {},
                               true);
                 },
                 vhost_user::kSetVringKick},
        BadInput{"CallWithAnExtraFd",
                 [](TestFrontend& f) {
                   const int fd = eventfd(0, EFD_CLOEXEC);
                   f.SendValue(vhost_user::kSetVringCall,
                               uint64_t{0} | vhost_user::kVringNoFdFlag, {fd},
                               true);
                   close(fd);
                 },
                 vhost_user::kSetVringCall},
        BadInput{"MemoryTableWithoutFds",
                 [](TestFrontend& f) {
                   vhost_user::MemoryTable table{};
                   table.num_regions = 1;
                   table.regions[0] = {0x1000, 0x1000, 0x1000, 0};
                   f.Send(vhost_user::kSetMemTable, &table, 8 + 32, {}, true);
                 },
                 vhost_user::kSetMemTable},
        BadInput{
            "MemoryRegionsOverlap",
            [](TestFrontend& f) {
              vhost_user::MemoryTable table{};
              table.num_regions = 2;
              const uint64_t base = f.memory().base();
              const uint64_t user = f.FrontendAddress(base);
              table.regions[0] = {base, 0x2000, user, 0};
              table.regions[1] = {base + 0x1000, 0x2000, user + 0x10000, 0};
              f.Send(vhost_user::kSetMemTable, &table, 8 + 64,
                     {f.memory().fd(), f.memory().fd()}, true);
            },
            vhost_user::kSetMemTable},
        BadInput{"MemoryRegionOfSizeZero",
                 [](TestFrontend& f) {
                   vhost_user::MemoryTable table{};
                   table.num_regions = 1;
                   table.regions[0] = {0x1000, 0, 0x1000, 0};
                   f.Send(vhost_user::kSetMemTable, &table, 8 + 32,
                          {f.memory().fd()}, true);
                 },
                 vhost_user::kSetMemTable},
        BadInput{
            "MemoryRegionBeyondItsFile",
            [](TestFrontend& f) {
              vhost_user::MemoryTable table{};
              table.num_regions = 1;
              table.regions[0] = {0x1000, 0x1000, 0x1000, uint64_t{1} << 40};
              f.Send(vhost_user::kSetMemTable, &table, 8 + 32,
                     {f.memory().fd()}, true);
            },
            vhost_user::kSetMemTable},
        BadInput{"VringAddressesOutsideEveryRegion",
                 [](TestFrontend& f) {
                   f.SendValue(vhost_user::kSetVringNum, State(0, 8), {}, true);
                   ASSERT_EQ(f.U64Reply(vhost_user::kSetVringNum), 0u);
                   vhost_vring_addr addr{};
                   addr.desc_user_addr = 0x10;
                   addr.avail_user_addr = 0x1000;
                   addr.used_user_addr = 0x2000;
                   f.SendValue(vhost_user::kSetVringAddr, addr, {}, true);
                   ASSERT_EQ(f.U64Reply(vhost_user::kSetVringAddr), 0u);
                   const int kick = eventfd(0, EFD_CLOEXEC);
                   f.SendValue(vhost_user::kSetVringKick, uint64_t{0}, {kick},
                               true);
                   close(kick);
                 },
                 vhost_user::kSetVringKick}),
    [](const ::testing::TestParamInfo<BadInput>& info) {
      return info.param.name;
    });

TEST_F(DeviceTest, WithoutReplyAckABadMessageEndsTheConnection) {
  TestFrontend frontend(device_);
  vhost_vring_state bad{42, 8};
  ASSERT_TRUE(frontend.SendValue(vhost_user::kSetVringNum, bad));
  EXPECT_TRUE(frontend.Closed());
  absl::Status served = frontend.Close();
  EXPECT_FALSE(served.ok());
  EXPECT_NE(served.message().find("vring 42 does not exist"),
            std::string::npos);
}

TEST_F(DeviceTest, ARefusedRequestThatNeedsItsReplyEndsTheConnection) {
  TestFrontend frontend(device_);
  frontend.Negotiate(kFeatures);
  // GET_VRING_BASE of a vring that does not exist: no state to answer with,
  // and a REPLY_ACK u64 is no answer to it either.
  vhost_vring_state which{9, 0};
  ASSERT_TRUE(frontend.SendValue(vhost_user::kGetVringBase, which, {}, true));
  EXPECT_TRUE(frontend.Closed());
  EXPECT_FALSE(frontend.Close().ok());
}

TEST_F(DeviceTest, MalformedMessagesEndTheConnection) {
  {
    TestFrontend frontend(device_);
    // Version 2.
    ASSERT_TRUE(frontend.Send(vhost_user::kGetFeatures, nullptr, 0, {}, false,
                              /*flags=*/2));
    EXPECT_TRUE(frontend.Closed());
    EXPECT_FALSE(frontend.Close().ok());
  }
  {
    TestFrontend frontend(device_);
    // A payload larger than any request's.
    std::vector<uint8_t> big(vhost_user::kMaxPayload + 1);
    ASSERT_TRUE(
        frontend.Send(vhost_user::kSetMemTable, big.data(), big.size()));
    EXPECT_TRUE(frontend.Closed());
    EXPECT_FALSE(frontend.Close().ok());
  }
  {
    TestFrontend frontend(device_);
    // More descriptors than a message may carry.
    std::vector<int> fds;
    for (int i = 0; i < 10; ++i) fds.push_back(eventfd(0, EFD_CLOEXEC));
    ASSERT_TRUE(
        frontend.SendValue(vhost_user::kSetVringCall, uint64_t{0}, fds));
    for (int fd : fds) close(fd);
    EXPECT_TRUE(frontend.Closed());
    EXPECT_FALSE(frontend.Close().ok());
  }
}

// A guest reboot: the front-end stops every ring (GET_VRING_BASE) and starts
// them again; the device's FUSE session ended with the stop, so the new
// driver's FUSE_INIT starts a new one.
TEST(VirtioFsDeviceTest, StoppingEveryRingEndsTheFuseSession) {
  char share[] = "/tmp/vhost-user-test.XXXXXX";
  ASSERT_NE(mkdtemp(share), nullptr);
  auto fs = sim::VirtioFsDevice::Create({.share = {.share_dir = share}});
  ASSERT_TRUE(fs.ok()) << fs.status();
  vhost_user::Device device(**fs, {});
  TestFrontend frontend(device);
  frontend.Negotiate(kFeatures);
  TestRing ring(frontend.memory(), frontend.allocator(), 8);
  // INIT, as a guest's driver sends it first.
  auto send_init = [&](uint16_t head) {
    struct {
      fuse_in_header header;
      fuse_init_in init;
    } request = {};
    request.header.len = sizeof(request);
    request.header.opcode = FUSE_INIT;
    request.header.unique = 2;
    request.init.major = FUSE_KERNEL_VERSION;
    request.init.minor = FUSE_KERNEL_MINOR_VERSION;
    request.init.max_readahead = 65536;
    const std::string bytes(reinterpret_cast<const char*>(&request),
                            sizeof(request));
    const uint64_t reply = ring.Buffer(sizeof(fuse_out_header) + 256);
    ring.SetDesc(head, ring.BufferWith(bytes), bytes.size(), VRING_DESC_F_NEXT,
                 head + 1);
    ring.SetDesc(head + 1, reply, sizeof(fuse_out_header) + 256,
                 VRING_DESC_F_WRITE);
    ring.Publish(head);
    frontend.Kick();
    return reply;
  };
  auto reply_error = [&](uint64_t reply) {
    fuse_out_header header;
    std::memcpy(&header, ring.Host(reply, sizeof(header)), sizeof(header));
    return header.error;
  };
  frontend.StartVring(1, ring);
  const uint64_t first = send_init(0);
  ASSERT_TRUE(ring.WaitUsedIdx(1));
  EXPECT_EQ(reply_error(first), 0);
  // A second INIT in the same session is refused...
  const uint64_t again = send_init(2);
  ASSERT_TRUE(ring.WaitUsedIdx(2));
  EXPECT_NE(reply_error(again), 0);
  // ...but after the front-end stopped the device, it starts a new one.
  vhost_vring_state which{1, 0};
  ASSERT_TRUE(frontend.SendValue(vhost_user::kGetVringBase, which));
  ASSERT_TRUE(frontend.Reply(vhost_user::kGetVringBase));
  frontend.StartVring(1, ring, /*base=*/2);
  const uint64_t rebooted = send_init(4);
  ASSERT_TRUE(ring.WaitUsedIdx(3));
  EXPECT_EQ(reply_error(rebooted), 0);
  EXPECT_TRUE(frontend.Close().ok());
  std::filesystem::remove_all(share);
}

}  // namespace
}  // namespace vhost_user_test
