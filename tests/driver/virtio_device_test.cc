// VirtioDevice bring-up against a scripted transport: the failure paths a
// well-behaved simulated device never takes.
#include "driver/virtio_device.h"

#include <linux/virtio_config.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "tests/driver/fake_dma_platform.h"

namespace driver_test {
namespace {

using driver::FeatureBit;
using driver::VirtioDevice;

class NullRegisterIo : public base::RegisterIo {
 public:
  uint32_t Read(base::RegisterSpace, uint32_t, unsigned) override { return 0; }
  void Write(base::RegisterSpace, uint32_t, unsigned, uint32_t) override {}
  void SetInterruptHandler(InterruptHandler handler, void*) override {
    handler_installed = handler != nullptr;
  }
  bool handler_installed = false;
};

// A transport whose device is scripted by the test.
class ScriptedTransport : public driver::Transport {
 public:
  explicit ScriptedTransport(base::Platform& platform) : Transport(platform) {}

  const char* name() const override { return "scripted"; }
  uint32_t device_id() const override { return 26; }
  base::RegisterIo& io() override { return io_; }
  uint8_t ReadStatus() override { return status_; }
  void WriteStatus(uint8_t status) override {
    status_log.push_back(status);
    if (status == 0 && stuck_in_reset) return;
    if (status == 0) {
      status_ = 0;
      return;
    }
    if (refuse_features) status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
    if ((status & VIRTIO_CONFIG_S_DRIVER_OK) && needs_reset_at_driver_ok) {
      status |= VIRTIO_CONFIG_S_NEEDS_RESET;
    }
    status_ = status;
  }
  uint64_t ReadDeviceFeatures() override { return offered; }
  void WriteDriverFeatures(uint64_t features) override { accepted = features; }
  uint16_t NumQueues() override { return num_queues; }
  uint16_t MaxQueueSize(uint16_t queue) override {
    return queue < num_queues ? max_queue_size : 0;
  }
  base::Result<void> EnableQueue(uint16_t queue, uint16_t size,
                                 const driver::QueueAddresses&) override {
    enabled.push_back({queue, size});
    return {};
  }
  void NotifyQueue(uint16_t) override {}
  uint32_t ReadAndAckInterrupt() override { return 0; }
  uint32_t ConfigGeneration() override { return 0; }
  base::Result<uint32_t> ReadConfig(uint32_t, unsigned) override {
    return base::Error{EINVAL};
  }

  uint64_t offered = FeatureBit(VIRTIO_F_VERSION_1);
  uint64_t accepted = 0;
  uint16_t num_queues = 2;
  uint16_t max_queue_size = 256;
  bool refuse_features = false;
  bool stuck_in_reset = false;
  bool needs_reset_at_driver_ok = false;
  std::vector<uint8_t> status_log;
  std::vector<std::pair<uint16_t, uint16_t>> enabled;
  NullRegisterIo io_;

 private:
  uint8_t status_ = 0;
};

class VirtioDeviceTest : public ::testing::Test {
 protected:
  VirtioDeviceTest() {
    auto transport = std::make_unique<ScriptedTransport>(platform_);
    transport_ = transport.get();
    device_ = std::make_unique<VirtioDevice>(platform_, std::move(transport));
  }

  base::Result<void> Initialize(uint64_t wanted,
                                std::vector<uint16_t> sizes = {64}) {
    std::vector<VirtioDevice::QueueSpec> specs;
    for (uint16_t size : sizes) specs.push_back({.size = size});
    return device_->Initialize(wanted, specs);
  }

  FakeDmaPlatform platform_;
  ScriptedTransport* transport_;
  std::unique_ptr<VirtioDevice> device_;
};

TEST_F(VirtioDeviceTest, FollowsTheStatusSequence) {
  ASSERT_TRUE(Initialize(0).ok());
  const uint8_t a = VIRTIO_CONFIG_S_ACKNOWLEDGE, d = VIRTIO_CONFIG_S_DRIVER,
                f = VIRTIO_CONFIG_S_FEATURES_OK, ok = VIRTIO_CONFIG_S_DRIVER_OK;
  const std::vector<uint8_t> expected = {0, a, a | d, a | d | f,
                                         a | d | f | ok};
  EXPECT_EQ(transport_->status_log, expected);
  EXPECT_TRUE(transport_->io_.handler_installed);
  EXPECT_TRUE(device_->is_live());
}

TEST_F(VirtioDeviceTest, AcceptsOnlyOfferedAndImplementedFeatures) {
  transport_->offered = FeatureBit(VIRTIO_F_VERSION_1) | FeatureBit(0) |
                        FeatureBit(3) | FeatureBit(VIRTIO_F_ORDER_PLATFORM) |
                        FeatureBit(VIRTIO_F_IN_ORDER) |
                        FeatureBit(VIRTIO_RING_F_EVENT_IDX);
  ASSERT_TRUE(Initialize(FeatureBit(0) | FeatureBit(1) |
                         FeatureBit(VIRTIO_F_ORDER_PLATFORM) |
                         FeatureBit(VIRTIO_F_IN_ORDER) |
                         FeatureBit(VIRTIO_RING_F_EVENT_IDX))
                  .ok());
  EXPECT_EQ(transport_->accepted, FeatureBit(VIRTIO_F_VERSION_1) |
                                      FeatureBit(0) |
                                      FeatureBit(VIRTIO_RING_F_EVENT_IDX));
  EXPECT_EQ(device_->features(), transport_->accepted);
  EXPECT_TRUE(device_->queue(0).event_idx_enabled());
  EXPECT_EQ(device_->queue(0).format(), base::RingFormat::kSplit);
}

// VIRTIO_F_RING_PACKED, when both sides want it, makes every queue a packed
// one; a device that does not offer it (here: after a reset) gets split
// queues.
TEST_F(VirtioDeviceTest, PackedRingsOnlyWhenNegotiated) {
  transport_->offered =
      FeatureBit(VIRTIO_F_VERSION_1) | FeatureBit(VIRTIO_F_RING_PACKED);
  ASSERT_TRUE(Initialize(FeatureBit(VIRTIO_F_RING_PACKED)).ok());
  EXPECT_TRUE(device_->packed_ring());
  EXPECT_EQ(device_->queue(0).format(), base::RingFormat::kPacked);
  EXPECT_TRUE(device_->queue(0).is_set_up());

  // Brought up again on a device that no longer offers it.
  transport_->offered = FeatureBit(VIRTIO_F_VERSION_1);
  ASSERT_TRUE(Initialize(FeatureBit(VIRTIO_F_RING_PACKED)).ok());
  EXPECT_FALSE(device_->packed_ring());
  EXPECT_EQ(device_->queue(0).format(), base::RingFormat::kSplit);
}

TEST_F(VirtioDeviceTest, LegacyOnlyDeviceFails) {
  transport_->offered = FeatureBit(0);
  EXPECT_EQ(Initialize(0).error(), ENODEV);
  EXPECT_TRUE(transport_->ReadStatus() & VIRTIO_CONFIG_S_FAILED);
  EXPECT_FALSE(device_->is_live());
  EXPECT_TRUE(platform_.Logged("VIRTIO_F_VERSION_1"));
}

TEST_F(VirtioDeviceTest, RefusedFeaturesFail) {
  transport_->refuse_features = true;
  EXPECT_EQ(Initialize(0).error(), ENODEV);
  EXPECT_TRUE(transport_->ReadStatus() & VIRTIO_CONFIG_S_FAILED);
  EXPECT_TRUE(
      transport_->enabled.empty());  // No queue set up after the refusal.
}

TEST_F(VirtioDeviceTest, MissingQueueOrZeroSizeFails) {
  EXPECT_EQ(Initialize(0, {64, 64, 64}).error(), ENODEV);
  EXPECT_TRUE(transport_->ReadStatus() & VIRTIO_CONFIG_S_FAILED);
  EXPECT_EQ(Initialize(0, {64, 0}).error(), EINVAL);
  transport_->max_queue_size = 0;
  EXPECT_EQ(Initialize(0, {64}).error(), ENODEV);
}

TEST_F(VirtioDeviceTest, QueueSizeIsTheLargestPowerOfTwoAllowed) {
  transport_->max_queue_size = 200;
  ASSERT_TRUE(Initialize(0, {1000, 5}).ok());
  const std::vector<std::pair<uint16_t, uint16_t>> expected = {{0, 128},
                                                               {1, 4}};
  EXPECT_EQ(transport_->enabled, expected);
}

TEST_F(VirtioDeviceTest, OutOfDmaMemoryFails) {
  platform_.FailNextAllocations(1);
  EXPECT_EQ(Initialize(0).error(), ENOMEM);
  EXPECT_TRUE(transport_->ReadStatus() & VIRTIO_CONFIG_S_FAILED);
  ASSERT_TRUE(device_->Reinitialize().ok());  // And a retry works.
  EXPECT_TRUE(device_->is_live());
}

TEST_F(VirtioDeviceTest, ResetThatNeverCompletesTimesOut) {
  transport_->stuck_in_reset = true;
  transport_->WriteStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE);
  EXPECT_EQ(Initialize(0).error(), ETIMEDOUT);
  transport_->stuck_in_reset = false;  // Let the destructor's reset finish.
}

TEST_F(VirtioDeviceTest, NeedsResetAtDriverOkIsReported) {
  transport_->needs_reset_at_driver_ok = true;
  EXPECT_EQ(Initialize(0).error(), EIO);
  EXPECT_TRUE(device_->NeedsReset());
  EXPECT_TRUE(device_->queue(0).broken());
  transport_->needs_reset_at_driver_ok = false;
  ASSERT_TRUE(device_->Reinitialize().ok());
  EXPECT_FALSE(device_->NeedsReset());
  EXPECT_FALSE(device_->queue(0).broken());
}

TEST_F(VirtioDeviceTest, TwoStageBringUpLetsTheDriverReadConfigBeforeQueues) {
  const std::vector<VirtioDevice::QueueSpec> specs = {{.size = 8}};
  EXPECT_EQ(device_->FinishInitialize(specs).error(),
            EINVAL);  // Not negotiated yet.
  ASSERT_TRUE(device_->BeginInitialize(0).ok());
  EXPECT_EQ(transport_->ReadStatus(), VIRTIO_CONFIG_S_ACKNOWLEDGE |
                                          VIRTIO_CONFIG_S_DRIVER |
                                          VIRTIO_CONFIG_S_FEATURES_OK);
  EXPECT_TRUE(transport_->enabled.empty());
  EXPECT_FALSE(device_->is_live());
  ASSERT_TRUE(device_->FinishInitialize(specs).ok());
  EXPECT_TRUE(device_->is_live());
  EXPECT_EQ(device_->num_queues(), 1);
  EXPECT_EQ(device_->FinishInitialize(specs).error(), EINVAL);  // Already live.
  // Reinitialize repeats both halves with the same arguments.
  transport_->enabled.clear();
  ASSERT_TRUE(device_->Reinitialize().ok());
  EXPECT_EQ(transport_->enabled.size(), 1u);
}

TEST_F(VirtioDeviceTest, WaitForUsedTimesOut) {
  ASSERT_TRUE(Initialize(0).ok());
  EXPECT_EQ(device_->WaitForUsed(0, 1'000'000).error(), ETIMEDOUT);
  EXPECT_EQ(device_->WaitForUsed(5, 1'000'000).error(), EINVAL);
}

}  // namespace
}  // namespace driver_test
