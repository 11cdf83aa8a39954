// The device model's behaviour outside the strict rules: lenient mode, resets,
// feature offers, completions from the backend, chain timing. Its threads:
// device_thread_test.cc.
#include "sim/virtio_device_model.h"

#include <gtest/gtest.h>
#include <linux/virtio_config.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/sampler.h"
#include "sim/echo_device.h"
#include "tests/sim/test_driver.h"

namespace sim {
namespace {

using sim_test::Bit;
using sim_test::Machine;
using sim_test::TestRing;

constexpr uint8_t kAck = VIRTIO_CONFIG_S_ACKNOWLEDGE;
constexpr uint8_t kDriver = VIRTIO_CONFIG_S_DRIVER;

TEST(VirtioDeviceModelTest, TransportFeaturesAreConfigurable) {
  Machine all(DeviceOptions{});
  uint64_t offered = all.driver->DeviceFeatures();
  EXPECT_EQ(offered, Bit(VIRTIO_F_VERSION_1) |
                         Bit(VIRTIO_RING_F_INDIRECT_DESC) |
                         Bit(VIRTIO_RING_F_EVENT_IDX));
  Machine bare(
      DeviceOptions{.offer_indirect_desc = false, .offer_event_idx = false},
      std::make_unique<EchoDevice>(EchoDevice::Options{.features = Bit(3)}));
  EXPECT_EQ(bare.driver->DeviceFeatures(), Bit(VIRTIO_F_VERSION_1) | Bit(3));
  ASSERT_TRUE(bare.driver->Init());
  EXPECT_EQ(bare.echo->negotiated_features(), Bit(VIRTIO_F_VERSION_1) | Bit(3));
  EXPECT_EQ(bare.driver->Echo("bare"), "bare");
}

TEST(VirtioDeviceModelTest, LenientModeToleratesProtocolSlips) {
  Machine machine(DeviceOptions{.strict = false});
  auto& driver = *machine.driver;
  driver.SetStatus(kDriver);  // No ACKNOWLEDGE first.
  EXPECT_EQ(driver.Status(), kDriver);
  EXPECT_EQ(machine.model().ReadConfig(EchoDevice::kConfigSize, 4),
            0u);  // Out of range.
  EXPECT_TRUE(machine.device->violations().empty());
  EXPECT_FALSE(driver.Status() & VIRTIO_CONFIG_S_NEEDS_RESET);
  // A readable buffer after a writable one is accepted and sorted by its flag.
  ASSERT_TRUE(driver.Init());
  TestRing& ring = driver.ring();
  uint64_t out = ring.Buffer(8);
  ring.SetDesc(0, out, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
  ring.SetDesc(1, ring.BufferWith("late"), 4, 0);
  ring.Publish(0);
  driver.Notify(0);
  ASSERT_EQ(ring.UsedIdx(), 1);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(ring.Host(out, 4)), 4), "late");
  driver.Notify(5);  // No such queue: ignored.
  EXPECT_TRUE(machine.device->violations().empty());
  EXPECT_EQ(driver.Echo("fine"), "fine");
}

TEST(VirtioDeviceModelTest, LenientModeStillRefusesUnsafeChains) {
  Machine machine(DeviceOptions{.strict = false});
  auto& driver = *machine.driver;
  ASSERT_TRUE(driver.Init());
  TestRing& ring = driver.ring();
  ring.SetDesc(0, machine.memory->end(), 16, VRING_DESC_F_WRITE);
  ring.Publish(0);
  driver.Notify(0);
  EXPECT_EQ(ring.UsedIdx(), 0);
  ASSERT_EQ(machine.ViolationNames(),
            std::vector<std::string>{"descriptor outside guest memory"});
  EXPECT_TRUE(driver.Status() & VIRTIO_CONFIG_S_NEEDS_RESET);
  EXPECT_TRUE(machine.model().queue_stopped(0));
  ASSERT_TRUE(driver.Init());
  EXPECT_EQ(driver.Echo("recovered"), "recovered");
}

TEST(VirtioDeviceModelTest, LenientModeProcessesBuffersNotifiedBeforeDriverOk) {
  Machine machine(DeviceOptions{.strict = false});
  auto& driver = *machine.driver;
  ASSERT_TRUE(driver.Negotiate());
  TestRing ring(*machine.memory, *machine.allocator, 8);
  driver.ConfigureQueue(0, ring.layout());
  driver.EnableQueue(0);
  ring.SetDesc(0, ring.BufferWith("early"), 5, VRING_DESC_F_NEXT, 1);
  ring.SetDesc(1, ring.Buffer(8), 8, VRING_DESC_F_WRITE);
  ring.Publish(0);
  driver.Notify(0);
  EXPECT_EQ(ring.UsedIdx(),
            0);  // The device does not consume before DRIVER_OK...
  driver.AddStatus(VIRTIO_CONFIG_S_DRIVER_OK);
  EXPECT_EQ(ring.UsedIdx(), 1);  // ...and does at DRIVER_OK.
  EXPECT_EQ(ring.Used(0).len, 5u);
}

TEST(VirtioDeviceModelTest, ResetDropsHeldChainsAndLateCompletions) {
  for (NotifyMode mode : {NotifyMode::kInline, NotifyMode::kThread}) {
    Machine machine(DeviceOptions{.notify_mode = mode});
    auto& driver = *machine.driver;
    ASSERT_TRUE(driver.Init());
    machine.echo->Hold();
    TestRing& ring = driver.ring();
    ring.SetDesc(0, ring.Buffer(4), 4, VRING_DESC_F_WRITE);
    ring.Publish(0);
    driver.Notify(0);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (machine.echo->held().empty() &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    ASSERT_EQ(machine.echo->held().size(), 1u);
    driver.SetStatus(0);
    EXPECT_TRUE(machine.echo->held().empty());
    EXPECT_FALSE(machine.echo->active());
    // A completion arriving after the reset is dropped, not written anywhere.
    machine.model().Complete(0, 0, 4);
    EXPECT_EQ(ring.UsedIdx(), 0);
    EXPECT_EQ(machine.model().counters().resets,
              2u);  // Init's reset and this one.
    machine.echo->CompleteImmediately();
    ASSERT_TRUE(driver.Init());
    EXPECT_EQ(driver.Echo("after reset"), "after reset");
  }
}

TEST(VirtioDeviceModelTest, CompletionsOfUnknownChainsAreIgnored) {
  Machine machine;
  ASSERT_TRUE(machine.driver->Init());
  machine.model().Complete(0, 3, 10);  // Never popped.
  machine.model().Complete(9, 0, 10);  // No such queue.
  EXPECT_EQ(machine.driver->ring().UsedIdx(), 0);
  EXPECT_EQ(machine.model().counters().chains_completed, 0u);
  EXPECT_EQ(machine.driver->Echo("ok"), "ok");
}

// An echo device whose every chain takes at least kWork.
class SlowEchoDevice : public EchoDevice {
 public:
  static constexpr auto kWork = std::chrono::microseconds(20);
  std::optional<uint32_t> HandleChain(const DescriptorChain& chain) override {
    const auto until = std::chrono::steady_clock::now() + kWork;
    while (std::chrono::steady_clock::now() < until) {
    }
    return EchoDevice::HandleChain(chain);
  }
};

TEST(VirtioDeviceModelTest, TimesTheAnsweredChainsAtTheSampledPlaces) {
  Machine machine(DeviceOptions{}, std::make_unique<SlowEchoDevice>());
  auto& driver = *machine.driver;
  ASSERT_TRUE(driver.Init());
  TestRing& ring = driver.ring();
  const ModelCounters before = machine.model().counters();
  // Answered chains (echoes) and chains without a device-writable part (a
  // driver waits for no answer, as for virtio-fs's FORGETs) alternate: only
  // the answered ones at sampled places are timed, where a driver times them.
  uint64_t expected = 0;
  constexpr uint64_t kRuns = 8;
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < kRuns * kChainTimeSampling / 2; ++i) {
    if (base::IsSampledPlace<kChainTimeSampling>(ring.avail_idx())) expected++;
    ASSERT_EQ(driver.Echo("x"), "x");
    ring.SetDesc(0, ring.BufferWith("forget"), 6, 0);
    ring.Publish(0);
    driver.Notify(0);
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const ModelCounters after = machine.model().counters();
  EXPECT_EQ(after.chains_popped,
            before.chains_popped + kRuns * kChainTimeSampling);
  ASSERT_GT(expected, 0u);  // Else the places below would test nothing.
  EXPECT_EQ(after.timed_chains - before.timed_chains, expected);
  const uint64_t nanos = after.timed_chain_nanos - before.timed_chain_nanos;
  EXPECT_GE(nanos,
            expected * std::chrono::nanoseconds(SlowEchoDevice::kWork).count());
  EXPECT_LE(nanos,
            static_cast<uint64_t>(std::chrono::nanoseconds(elapsed).count()));
}

TEST(VirtioDeviceModelTest, InterruptHandlerMayReadRegisters) {
  Machine machine;
  struct Context {
    sim_test::TestDriver* driver;
    std::vector<uint8_t> isr;
  } context{machine.driver.get(), {}};
  machine.device->SetInterruptHandler(
      [](void* c) {
        auto* ctx = static_cast<Context*>(c);
        ctx->isr.push_back(ctx->driver->TakeIsr());
      },
      &context);
  ASSERT_TRUE(machine.driver->Init());
  ASSERT_EQ(machine.driver->Echo("irq"), "irq");
  EXPECT_EQ(context.isr, std::vector<uint8_t>{VirtioDeviceModel::kIsrQueue});
}

}  // namespace
}  // namespace sim
