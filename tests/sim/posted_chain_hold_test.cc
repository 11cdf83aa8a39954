// A device thread holds a posted chain (DeviceBackend::MayHandleLater) for a
// chain the driver waits for, and handles that one first (ModelOptions::
// hold_posted_nanos); a posted chain with nothing after it waits out the
// hold; a reset drops a held chain unhandled.
#include <gtest/gtest.h>
#include <linux/virtio_config.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "sim/cpu_sharing.h"
#include "sim/echo_device.h"
#include "sim/virtio_device_model.h"
#include "tests/sim/test_driver.h"

namespace sim {
namespace {

using sim_test::Machine;
using sim_test::TestRing;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// An echo device whose chains starting with 'p' are posted, and which records
// the first byte of each chain it handles.
class PostedEcho : public EchoDevice {
 public:
  bool MayHandleLater(const DescriptorChain& chain) const override {
    return !chain.readable.empty() && chain.readable[0].size > 0 &&
           chain.readable[0].data[0] == 'p';
  }
  std::optional<uint32_t> HandleChain(const DescriptorChain& chain) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      handled_ += static_cast<char>(chain.readable[0].data[0]);
    }
    return EchoDevice::HandleChain(chain);
  }
  std::string handled() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return handled_;
  }

 private:
  mutable std::mutex mutex_;
  std::string handled_;
};

class PostedChainHoldTest : public testing::Test {
 protected:
  // Holds as long as a test may take: nothing but a chain the driver waits
  // for, or a reset, ends a hold in time for the test to see it.
  explicit PostedChainHoldTest(uint64_t hold_nanos = 60'000'000'000)
      : machine_(DeviceOptions{.notify_mode = NotifyMode::kThread,
                               .hold_posted_nanos = hold_nanos},
                 std::make_unique<PostedEcho>()),
        echo_(static_cast<const PostedEcho&>(*machine_.echo)) {
    EXPECT_TRUE(machine_.driver->Init(~uint64_t{0}, 8, 1));
    TestRing& ring = this->ring();
    // Chain 0: posted ("p"); chain 2: waited for ("w").
    ring.SetDesc(0, ring.BufferWith("p"), 1, VRING_DESC_F_NEXT, 1);
    ring.SetDesc(1, ring.Buffer(4), 4, VRING_DESC_F_WRITE);
    ring.SetDesc(2, ring.BufferWith("w"), 1, VRING_DESC_F_NEXT, 3);
    ring.SetDesc(3, ring.Buffer(4), 4, VRING_DESC_F_WRITE);
  }
  TestRing& ring() { return machine_.driver->ring(0); }
  void Send(uint16_t head) {
    ring().Publish(head);
    machine_.driver->Notify(0);
  }
  // Sends `head` to a device thread that holds posted chains: one that finds
  // busy threads outnumbering the CPUs holds none, and one that polls samples
  // the machine's load (a test beside this one, Bazel's server between two).
  // So the thread is left to fall asleep, and the machine noted idle. Returns
  // when it was sent: the device may pop it before Send returns.
  Clock::time_point SendToIdleMachine(uint16_t head) {
    std::this_thread::sleep_for(milliseconds(10));
    NoteMachineRunnableThreads(1);
    NoteMachineRunnableThreads(1);
    const Clock::time_point sent_at = Clock::now();
    Send(head);
    return sent_at;
  }
  // Waits until the device has popped `count` chains.
  bool WaitPopped(uint64_t count) {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (machine_.model().counters().chains_popped < count) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    return true;
  }

  Machine machine_;
  const PostedEcho& echo_;
};

TEST_F(PostedChainHoldTest, AWaitedChainOvertakesAHeldPostedOne) {
  SendToIdleMachine(0);
  ASSERT_TRUE(WaitPopped(1));
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(echo_.handled(), "");  // Held.
  Send(2);
  ASSERT_TRUE(ring().WaitUsedIdx(2));
  EXPECT_EQ(echo_.handled(), "wp");
  EXPECT_EQ(ring().Used(0).id, 2u);
  EXPECT_EQ(ring().Used(1).id, 0u);
  EXPECT_EQ(machine_.model().counters().posted_chains_overtaken, 1u);
  EXPECT_TRUE(machine_.device->violations().empty());
}

TEST_F(PostedChainHoldTest, AResetDropsAHeldChainUnhandled) {
  SendToIdleMachine(0);
  ASSERT_TRUE(WaitPopped(1));
  const auto reset_at = Clock::now();
  machine_.driver->SetStatus(0);
  // The reset waits for no hold.
  EXPECT_LT(Clock::now() - reset_at, std::chrono::seconds(5));
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(echo_.handled(), "");
  EXPECT_EQ(machine_.model().counters().chains_completed, 0u);
  // The device serves the next session at once: the thread left the hold.
  ASSERT_TRUE(machine_.driver->Init(~uint64_t{0}, 8, 1));
  EXPECT_EQ(machine_.driver->Echo("again"), "again");
  EXPECT_EQ(echo_.handled(), "a");
}

class ShortHoldTest : public PostedChainHoldTest {
 protected:
  static constexpr auto kHold = milliseconds(1500);
  ShortHoldTest()
      : PostedChainHoldTest(
            std::chrono::duration_cast<std::chrono::nanoseconds>(kHold)
                .count()) {}
};

TEST_F(ShortHoldTest, APostedChainAloneWaitsOutTheHold) {
  const Clock::time_point sent_at = SendToIdleMachine(0);
  ASSERT_TRUE(ring().WaitUsedIdx(1));
  // Popped after it was sent, and held from then on.
  EXPECT_GE(Clock::now() - sent_at, kHold);
  EXPECT_EQ(echo_.handled(), "p");
  EXPECT_EQ(machine_.model().counters().posted_chains_overtaken, 0u);
}

TEST(PostedChainNoHoldTest, InlineAndAZeroHoldHandleAPostedChainAtOnce) {
  for (const DeviceOptions& options :
       {DeviceOptions{.notify_mode = NotifyMode::kInline},
        DeviceOptions{.notify_mode = NotifyMode::kThread,
        .hold_posted_nanos = 0}}) {
    Machine machine(options, std::make_unique<PostedEcho>());
    ASSERT_TRUE(machine.driver->Init(~uint64_t{0}, 8, 1));
    const auto sent_at = Clock::now();
    EXPECT_EQ(machine.driver->Echo("posted"), "posted");
    EXPECT_LT(Clock::now() - sent_at, std::chrono::seconds(5));
    EXPECT_EQ(machine.model().counters().posted_chains_overtaken, 0u);
  }
}

}  // namespace
}  // namespace sim
