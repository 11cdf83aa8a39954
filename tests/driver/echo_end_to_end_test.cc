// The driver (transports, bring-up, split queues) against the simulated device
// running the echo device type: both transports x both notify modes.
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "driver/mmio_transport.h"
#include "driver/pci_transport.h"
#include "driver/virtio_device.h"
#include "driver/virtqueue.h"
#include "gtest/gtest.h"
#include "sim/echo_device.h"
#include "sim/guest_memory.h"
#include "sim/sim_device.h"
#include "sim/sim_platform.h"
#include "sim/violation.h"
#include "tests/common/machine_variants.h"

namespace driver_test {
namespace {

using driver::FeatureBit;
using driver::Segment;
using driver::UsedBuffer;
using driver::VirtioDevice;
using driver::Virtqueue;

constexpr uint64_t kSecond = 1'000'000'000;

// One chain's buffers in DMA memory: readable parts filled with a pattern,
// writable parts zeroed, so that the echo can be checked byte by byte.
class ChainBuffers {
 public:
  ChainBuffers(base::Platform& platform, std::vector<size_t> readable,
               std::vector<size_t> writable, uint32_t seed)
      : platform_(platform) {
    size_t total = 0;
    for (size_t n : readable) total += n;
    for (size_t n : writable) total += n;
    auto region = platform.AllocateDma(total, 8);
    EXPECT_TRUE(region.ok());
    region_ = region.value();
    auto* bytes = static_cast<uint8_t*>(region_.cpu);
    size_t offset = 0;
    for (size_t n : readable) {
      readable_.push_back({region_.bus + offset, n});
      for (size_t i = 0; i < n; ++i) {
        bytes[offset + i] =
            static_cast<uint8_t>(seed * 31 + sent_.size() * 7 + 1);
        sent_.push_back(bytes[offset + i]);
      }
      offset += n;
    }
    for (size_t n : writable) {
      writable_.push_back({region_.bus + offset, n});
      writable_views_.push_back({bytes + offset, n});
      offset += n;
    }
  }
  ~ChainBuffers() { platform_.FreeDma(region_); }

  const std::vector<Segment>& readable() const { return readable_; }
  const std::vector<Segment>& writable() const { return writable_; }
  uint32_t expected_length() const {
    size_t capacity = 0;
    for (const auto& [p, n] : writable_views_) capacity += n;
    return static_cast<uint32_t>(std::min(capacity, sent_.size()));
  }
  // The writable buffers, concatenated, hold the first `length` bytes sent.
  bool EchoedCorrectly(uint32_t length) const {
    if (length != expected_length()) return false;
    std::vector<uint8_t> received;
    for (const auto& [p, n] : writable_views_)
      received.insert(received.end(), p, p + n);
    return std::equal(sent_.begin(), sent_.begin() + length, received.begin());
  }

 private:
  base::Platform& platform_;
  base::DmaRegion region_;
  std::vector<Segment> readable_;
  std::vector<Segment> writable_;
  std::vector<std::pair<uint8_t*, size_t>> writable_views_;
  std::vector<uint8_t> sent_;
};

class EchoEndToEndTest
    : public ::testing::TestWithParam<testing_variants::MachineVariant> {
 protected:
  void SetUp() override {
    memory_ = sim::GuestMemory::Create(32 << 20);
    ASSERT_NE(memory_, nullptr);
    platform_ = std::make_unique<sim::SimPlatform>(
        *memory_, [this](base::LogLevel, const char* line) {
          std::lock_guard<std::mutex> lock(log_mutex_);
          logs_.push_back(line);
        });
  }

  void TearDown() override {
    if (virtio_ != nullptr) {
      virtio_.reset();
      // Everything the driver allocated went back: only what the test holds is
      // live.
      EXPECT_EQ(platform_->dma_in_use(), 0u);
    }
    virtio_.reset();
    device_.reset();
  }

  // Builds the simulated device and the driver and brings the device up.
  void Start(bool offer_ring_features = true, uint16_t queue0_size = 128,
             uint16_t queue1_size = 64) {
    auto echo = std::make_unique<sim::EchoDevice>(
        sim::EchoDevice::Options{.num_queues = 2, .max_queue_size = 256});
    echo_ = echo.get();
    device_ = sim::MakeDevice(*memory_, std::move(echo),
                              {.transport = GetParam().transport,
                               .notify_mode = GetParam().notify_mode,
                               .strict = true,
                               .offer_indirect_desc = offer_ring_features,
                               .offer_event_idx = offer_ring_features,
                               .offer_packed_ring = packed(),
                               .on_violation = {}});
    std::unique_ptr<driver::Transport> transport;
    if (GetParam().transport == base::TransportKind::kPci) {
      auto probed = driver::PciTransport::Probe(*platform_, *device_);
      ASSERT_TRUE(probed.ok()) << probed.error();
      transport = std::move(probed.value());
    } else {
      auto probed = driver::MmioTransport::Probe(*platform_, *device_);
      ASSERT_TRUE(probed.ok()) << probed.error();
      transport = std::move(probed.value());
    }
    EXPECT_EQ(transport->device_id(), sim::EchoDevice::kDeviceId);
    virtio_ = std::make_unique<VirtioDevice>(*platform_, std::move(transport));
    const VirtioDevice::QueueSpec queues[] = {
        {.size = queue0_size, .on_used = &OnUsed, .context = this},
        {.size = queue1_size, .on_used = &OnUsed, .context = this},
    };
    const uint64_t wanted = FeatureBit(VIRTIO_RING_F_INDIRECT_DESC) |
                            FeatureBit(VIRTIO_RING_F_EVENT_IDX) |
                            FeatureBit(5) |
                            (packed() ? FeatureBit(VIRTIO_F_RING_PACKED) : 0);
    auto started = virtio_->Initialize(wanted, queues, &OnConfigChange, this);
    ASSERT_TRUE(started.ok()) << started.error();
  }

  bool packed() const { return GetParam().ring == base::RingFormat::kPacked; }

  static void OnUsed(void* context, uint16_t queue) {
    auto* self = static_cast<EchoEndToEndTest*>(context);
    self->used_callbacks_[queue].fetch_add(1);
  }
  static void OnConfigChange(void* context) {
    static_cast<EchoEndToEndTest*>(context)->config_callbacks_.fetch_add(1);
  }

  // Submits, kicks and waits for one chain; checks the echo.
  void RoundTrip(uint16_t queue, std::vector<size_t> readable,
                 std::vector<size_t> writable, uint32_t seed) {
    ChainBuffers buffers(*platform_, readable, writable, seed);
    ASSERT_TRUE(virtio_->queue(queue)
                    .Submit(buffers.readable(), buffers.writable(), &buffers)
                    .ok());
    virtio_->queue(queue).Kick();
    auto used = virtio_->WaitForUsed(queue, 5 * kSecond);
    ASSERT_TRUE(used.ok()) << used.error();
    EXPECT_EQ(used.value().token, &buffers);
    EXPECT_TRUE(buffers.EchoedCorrectly(used.value().length))
        << used.value().length;
  }

  // Waits (bounded) until `condition` holds; the device thread may need time.
  template <typename Condition>
  bool Eventually(Condition condition) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!condition()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::yield();
    }
    return true;
  }

  std::vector<std::string> ViolationNames() {
    std::vector<std::string> names;
    for (const sim::ViolationRecord& record : device_->violations()) {
      names.push_back(sim::ToString(record));
    }
    return names;
  }

  bool Logged(const std::string& needle) {
    std::lock_guard<std::mutex> lock(log_mutex_);
    for (const std::string& line : logs_) {
      if (line.find(needle) != std::string::npos) return true;
    }
    return false;
  }

  std::unique_ptr<sim::GuestMemory> memory_;
  std::unique_ptr<sim::SimPlatform> platform_;
  std::unique_ptr<sim::SimDevice> device_;
  sim::EchoDevice* echo_ = nullptr;
  std::unique_ptr<VirtioDevice> virtio_;
  std::atomic<int> used_callbacks_[2] = {0, 0};
  std::atomic<int> config_callbacks_{0};
  std::mutex log_mutex_;
  std::vector<std::string> logs_;
};

TEST_P(EchoEndToEndTest, BringUpNegotiatesFeaturesAndSizesQueues) {
  Start(true, 128, 1000);
  EXPECT_TRUE(virtio_->is_live());
  EXPECT_TRUE(echo_->active());
  EXPECT_TRUE(virtio_->HasFeature(VIRTIO_F_VERSION_1));
  EXPECT_TRUE(virtio_->HasFeature(VIRTIO_RING_F_INDIRECT_DESC));
  EXPECT_TRUE(virtio_->HasFeature(VIRTIO_RING_F_EVENT_IDX));
  EXPECT_FALSE(virtio_->HasFeature(
      5));  // Wanted, but the echo device does not offer it.
  EXPECT_EQ(echo_->negotiated_features(), virtio_->features());
  ASSERT_EQ(virtio_->num_queues(), 2);
  EXPECT_EQ(virtio_->queue(0).size(), 128);
  EXPECT_EQ(virtio_->queue(1).size(),
            256);  // 1000 capped at the device's maximum.
  const uint8_t status = virtio_->transport().ReadStatus();
  EXPECT_EQ(status, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                        VIRTIO_CONFIG_S_FEATURES_OK |
                        VIRTIO_CONFIG_S_DRIVER_OK);
  EXPECT_FALSE(virtio_->NeedsReset());
  EXPECT_TRUE(ViolationNames().empty()) << ViolationNames()[0];
}

// A split ring's size is a power of two; a packed ring may have any size.
TEST_P(EchoEndToEndTest, QueueSizesFollowTheRingFormat) {
  Start(true, 100, 3);
  EXPECT_EQ(virtio_->queue(0).size(), packed() ? 100 : 64);
  EXPECT_EQ(virtio_->queue(1).size(), packed() ? 3 : 2);
  RoundTrip(1, {10}, {10}, 1);
  EXPECT_TRUE(ViolationNames().empty());
}

TEST_P(EchoEndToEndTest, ReadsDeviceConfigConsistently) {
  Start();
  driver::Transport& transport = virtio_->transport();
  uint32_t magic = 0;
  uint16_t num_queues = 0;
  auto read = transport.ReadConfigConsistent([&]() -> base::Result<void> {
    magic = TRY(transport.ReadConfig32(sim::EchoDevice::kConfigMagicOffset));
    num_queues =
        TRY(transport.ReadConfig16(sim::EchoDevice::kConfigNumQueuesOffset));
    return {};
  });
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(magic, sim::EchoDevice::kConfigMagic);
  EXPECT_EQ(num_queues, 2);
  char bytes[4];
  ASSERT_TRUE(transport.ReadConfigBytes(0, bytes, 4).ok());
  EXPECT_EQ(std::string(bytes, 4), "echo");
  // Past the echo device's 16 bytes: PCI knows the window length and refuses
  // locally; MMIO has no length register, so only the bound of the register
  // block applies.
  if (GetParam().transport == base::TransportKind::kPci) {
    EXPECT_EQ(transport.ReadConfig32(sim::EchoDevice::kConfigSize).error(),
              EINVAL);
  }
  EXPECT_TRUE(ViolationNames().empty());
}

TEST_P(EchoEndToEndTest, EchoesDirectAndIndirectChains) {
  Start();
  // Queue 0: chains of two or more segments go through indirect tables.
  RoundTrip(0, {100}, {100}, 1);
  RoundTrip(0, {3, 5, 7, 11}, {2, 4, 8, 16, 32}, 2);  // Boundaries differ.
  RoundTrip(0, {4096}, {10}, 3);  // Writable smaller: truncated.
  RoundTrip(0, {10}, {4096}, 4);  // Readable smaller.
  RoundTrip(0, {}, {16}, 5);      // One segment: direct.
  virtio_->queue(1).set_indirect_threshold(UINT16_MAX);  // Keep queue 1 direct.
  RoundTrip(1, {1, 2, 3}, {3, 2, 1}, 6);
  EXPECT_EQ(virtio_->queue(0).num_free(), 128);
  EXPECT_EQ(virtio_->queue(1).num_free(), 64);
  EXPECT_TRUE(ViolationNames().empty()) << ViolationNames()[0];
}

TEST_P(EchoEndToEndTest, WorksWithoutIndirectAndEventIdx) {
  Start(/*offer_ring_features=*/false);
  EXPECT_FALSE(virtio_->HasFeature(VIRTIO_RING_F_INDIRECT_DESC));
  EXPECT_FALSE(virtio_->HasFeature(VIRTIO_RING_F_EVENT_IDX));
  for (uint32_t i = 0; i < 50; ++i)
    RoundTrip(i % 2, {1 + i, 3}, {2, 40 + i}, i);
  EXPECT_TRUE(ViolationNames().empty()) << ViolationNames()[0];
}

TEST_P(EchoEndToEndTest, ManyChainsInFlightCompleteOutOfOrder) {
  Start();
  echo_->Hold();
  Virtqueue& queue = virtio_->queue(0);
  std::vector<std::unique_ptr<ChainBuffers>> chains;
  for (uint32_t i = 0; i < 100; ++i) {
    chains.push_back(std::make_unique<ChainBuffers>(
        *platform_, std::vector<size_t>{8 + i % 5, 16},
        std::vector<size_t>{24 + i % 3}, i));
    ASSERT_TRUE(queue
                    .Submit(chains[i]->readable(), chains[i]->writable(),
                            chains[i].get())
                    .ok());
    if (i % 10 == 9) queue.Kick();
  }
  ASSERT_TRUE(Eventually([&] { return echo_->held().size() == 100; }));
  EXPECT_EQ(queue.chains_in_flight(), 100);
  // The device completes the even ones first, most recent first, then the rest.
  std::vector<sim::EchoDevice::HeldChain> held = echo_->held();
  for (int pass = 0; pass < 2; ++pass) {
    for (auto it = held.rbegin(); it != held.rend(); ++it) {
      if (it->head % 2 == pass) {
        ASSERT_TRUE(echo_->CompleteHeld(it->queue, it->head));
      }
    }
  }
  std::vector<void*> tokens;
  while (tokens.size() < 100) {
    auto used = virtio_->WaitForUsed(0, 5 * kSecond);
    ASSERT_TRUE(used.ok()) << used.error();
    auto* buffers = static_cast<ChainBuffers*>(used.value().token);
    EXPECT_TRUE(buffers->EchoedCorrectly(used.value().length));
    tokens.push_back(buffers);
  }
  // Every chain came back exactly once, and not in submission order.
  std::vector<void*> submitted;
  for (auto& chain : chains) submitted.push_back(chain.get());
  EXPECT_NE(tokens, submitted);
  std::sort(tokens.begin(), tokens.end());
  std::sort(submitted.begin(), submitted.end());
  EXPECT_EQ(tokens, submitted);
  EXPECT_EQ(queue.num_free(), 128);
  EXPECT_TRUE(ViolationNames().empty()) << ViolationNames()[0];
}

TEST_P(EchoEndToEndTest, ReleaseAfterModeReversesBatches) {
  Start();
  echo_->Hold(/*release_after=*/4);
  Virtqueue& queue = virtio_->queue(1);
  std::vector<std::unique_ptr<ChainBuffers>> chains;
  for (uint32_t i = 0; i < 8; ++i) {
    chains.push_back(std::make_unique<ChainBuffers>(
        *platform_, std::vector<size_t>{32}, std::vector<size_t>{32}, i));
    ASSERT_TRUE(queue
                    .Submit(chains[i]->readable(), chains[i]->writable(),
                            chains[i].get())
                    .ok());
    queue.Kick();
    // The device handles chains in ring order, so the batches are 0-3 and 4-7.
    ASSERT_TRUE(
        Eventually([&] { return echo_->held().size() == (i + 1) % 4; }));
  }
  std::vector<void*> order;
  for (int i = 0; i < 8; ++i) {
    auto used = virtio_->WaitForUsed(1, 5 * kSecond);
    ASSERT_TRUE(used.ok());
    order.push_back(used.value().token);
  }
  const std::vector<void*> expected = {
      chains[3].get(), chains[2].get(), chains[1].get(), chains[0].get(),
      chains[7].get(), chains[6].get(), chains[5].get(), chains[4].get()};
  EXPECT_EQ(order, expected);
}

TEST_P(EchoEndToEndTest, IndicesWrapPast65535) {
  Start(true, 128, 16);
  Virtqueue& queue = virtio_->queue(1);
  queue.set_indirect_threshold(
      3);  // 2-segment chains direct: the free list churns.
  constexpr int kSlots = 8;
  std::vector<std::unique_ptr<ChainBuffers>> slots;
  for (int i = 0; i < kSlots; ++i) {
    slots.push_back(std::make_unique<ChainBuffers>(
        *platform_, std::vector<size_t>{64}, std::vector<size_t>{64}, i));
  }
  int completed = 0;
  int submitted = 0;
  std::vector<ChainBuffers*> free_slots;
  for (auto& slot : slots) free_slots.push_back(slot.get());
  while (completed < 70000) {
    while (!free_slots.empty() && submitted < 70000) {
      ChainBuffers* slot = free_slots.back();
      free_slots.pop_back();
      ASSERT_TRUE(queue.Submit(slot->readable(), slot->writable(), slot).ok());
      ++submitted;
    }
    queue.Kick();
    auto used = virtio_->WaitForUsed(1, 5 * kSecond);
    ASSERT_TRUE(used.ok()) << used.error() << " after " << completed;
    ASSERT_EQ(used.value().length, 64u);
    free_slots.push_back(static_cast<ChainBuffers*>(used.value().token));
    ++completed;
    // Drain whatever else is ready.
    for (;;) {
      auto more = queue.PopUsed();
      ASSERT_TRUE(more.ok());
      if (!more.value().has_value()) break;
      free_slots.push_back(static_cast<ChainBuffers*>(more.value()->token));
      ++completed;
    }
  }
  EXPECT_EQ(completed, 70000);
  for (auto& slot : slots) EXPECT_TRUE(slot->EchoedCorrectly(64));
  EXPECT_EQ(queue.num_free(), 16);
  EXPECT_TRUE(ViolationNames().empty()) << ViolationNames()[0];
}

TEST_P(EchoEndToEndTest, UsedBufferNotificationsCallTheQueueCallback) {
  Start();
  Virtqueue& queue = virtio_->queue(0);
  ASSERT_TRUE(queue.EnableInterrupts());
  ChainBuffers buffers(*platform_, {16}, {16}, 1);
  ASSERT_TRUE(
      queue.Submit(buffers.readable(), buffers.writable(), &buffers).ok());
  queue.Kick();
  ASSERT_TRUE(Eventually([&] { return used_callbacks_[0].load() > 0; }));
  auto used = queue.PopUsed();
  ASSERT_TRUE(used.ok());
  ASSERT_TRUE(used.value().has_value());
  EXPECT_TRUE(buffers.EchoedCorrectly(used.value()->length));

  // With interrupts disabled the device completes without interrupting.
  queue.DisableInterrupts();
  const uint64_t interrupts = device_->model().counters().interrupts;
  ASSERT_TRUE(
      queue.Submit(buffers.readable(), buffers.writable(), &buffers).ok());
  queue.Kick();
  ASSERT_TRUE(Eventually([&] { return queue.HasUsed(); }));
  EXPECT_EQ(device_->model().counters().interrupts, interrupts);
  // Re-enabling with a completion pending says "poll, do not wait".
  EXPECT_FALSE(queue.EnableInterrupts());
  ASSERT_TRUE(queue.PopUsed().ok());
  EXPECT_TRUE(queue.EnableInterrupts());
}

TEST_P(EchoEndToEndTest, ABatchOfChainsRingsTheDoorbellOnce) {
  Start();
  // Many chains in one batch ring the doorbell at most once; the device counts
  // notifications. Not always once: a device thread still polling (for a
  // while after its last work, longer under a sanitizer) has notifications
  // suppressed and takes the chains by itself.
  Virtqueue& queue = virtio_->queue(0);
  std::vector<std::unique_ptr<ChainBuffers>> chains;
  const uint64_t before = device_->model().counters().notifications;
  for (uint32_t i = 0; i < 20; ++i) {
    chains.push_back(std::make_unique<ChainBuffers>(
        *platform_, std::vector<size_t>{8}, std::vector<size_t>{8}, i));
    ASSERT_TRUE(queue
                    .Submit(chains[i]->readable(), chains[i]->writable(),
                            chains[i].get())
                    .ok());
  }
  const bool kicked = queue.Kick();
  if (GetParam().notify_mode == sim::NotifyMode::kInline) {
    EXPECT_TRUE(kicked);
  }
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(virtio_->WaitForUsed(0, 5 * kSecond).ok());
  EXPECT_EQ(device_->model().counters().notifications,
            before + (kicked ? 1 : 0));
}

TEST_P(EchoEndToEndTest, RecoversFromNeedsResetAfterADeliberateViolation) {
  Start();
  Virtqueue& queue = virtio_->queue(0);
  // A buffer outside guest memory: the device must refuse it and ask for a
  // reset.
  const Segment outside[] = {{.bus = 0x1000, .length = 64}};
  ChainBuffers reply(*platform_, {}, {64}, 0);
  int token = 0;
  ASSERT_TRUE(queue.Submit(outside, reply.writable(), &token).ok());
  queue.Kick();
  ASSERT_TRUE(Eventually([&] { return virtio_->NeedsReset(); }));
  EXPECT_TRUE(queue.broken());
  EXPECT_TRUE(virtio_->queue(1).broken());
  EXPECT_EQ(queue.Submit(reply.writable(), reply.writable(), &reply).error(),
            EIO);
  EXPECT_EQ(virtio_->WaitForUsed(0, kSecond).error(), EIO);
  const std::vector<sim::ViolationRecord> violations = device_->violations();
  ASSERT_FALSE(violations.empty());
  EXPECT_EQ(violations[0].violation, sim::Violation::kDescriptorOutOfBounds)
      << sim::ToString(violations[0]);
  // The config-change interrupt woke the callbacks so waiters would see the
  // error.
  ASSERT_TRUE(Eventually([&] { return config_callbacks_.load() > 0; }));
  ASSERT_TRUE(Eventually([&] { return used_callbacks_[1].load() > 0; }));

  std::vector<void*> abandoned;
  auto reinit = virtio_->Reinitialize(
      [](void* context, void* t) {
        static_cast<std::vector<void*>*>(context)->push_back(t);
      },
      &abandoned);
  ASSERT_TRUE(reinit.ok()) << reinit.error();
  EXPECT_EQ(abandoned, std::vector<void*>{&token});
  EXPECT_FALSE(virtio_->NeedsReset());
  EXPECT_FALSE(queue.broken());
  device_->model().ClearViolations();
  RoundTrip(0, {5, 6}, {11}, 9);
  RoundTrip(1, {50}, {50}, 10);
  EXPECT_TRUE(ViolationNames().empty()) << ViolationNames()[0];
}

TEST_P(EchoEndToEndTest, BogusUsedIdFromTheDeviceIsAnErrorAndResetRecovers) {
  Start();
  Virtqueue& queue = virtio_->queue(0);
  ChainBuffers buffers(*platform_, {8}, {8}, 1);
  ASSERT_TRUE(
      queue.Submit(buffers.readable(), buffers.writable(), &buffers).ok());
  queue.Kick();
  ASSERT_TRUE(Eventually([&] { return queue.HasUsed(); }));
  // Play a broken device: overwrite the used element's id in guest memory
  // (split: used ring[0]; packed: the used descriptor written over ring
  // slot 0).
  const uint64_t used_id =
      packed()
          ? queue.addresses().descriptor_table + offsetof(vring_packed_desc, id)
          : queue.addresses().device_area + offsetof(vring_used, ring);
  const uint16_t bogus_id = 999;
  ASSERT_TRUE(memory_->Write(used_id, &bogus_id, sizeof(bogus_id)));
  EXPECT_EQ(queue.PopUsed().error(), EIO);
  EXPECT_TRUE(queue.broken());
  // The device itself did not notice anything.
  EXPECT_FALSE(virtio_->NeedsReset());
  EXPECT_TRUE(Logged(packed()
                         ? "used id is not a buffer id in flight"
                         : "used id is not the head of a chain in flight"));

  ASSERT_TRUE(virtio_->Reinitialize().ok());
  RoundTrip(0, {8}, {8}, 2);
  EXPECT_TRUE(ViolationNames().empty()) << ViolationNames()[0];
}

TEST_P(EchoEndToEndTest, ShutdownReleasesEverythingAndResetsTheDevice) {
  Start();
  echo_->Hold();
  ChainBuffers buffers(*platform_, {8}, {8}, 1);
  ASSERT_TRUE(virtio_->queue(0)
                  .Submit(buffers.readable(), buffers.writable(), &buffers)
                  .ok());
  virtio_->queue(0).Kick();
  ASSERT_TRUE(Eventually([&] { return echo_->held().size() == 1; }));
  int abandoned = 0;
  virtio_->Shutdown([](void* context, void*) { ++*static_cast<int*>(context); },
                    &abandoned);
  EXPECT_EQ(abandoned, 1);
  EXPECT_FALSE(virtio_->is_live());
  EXPECT_EQ(virtio_->transport().ReadStatus(), 0);
  EXPECT_FALSE(echo_->active());
  EXPECT_FALSE(virtio_->queue(0).is_set_up());
  EXPECT_EQ(platform_->dma_in_use(),
            1u);  // The test's buffers.
}

INSTANTIATE_TEST_SUITE_P(
    Machines, EchoEndToEndTest,
    ::testing::ValuesIn(testing_variants::AllMachineVariants()),
    testing_variants::MachineVariantName);

}  // namespace
}  // namespace driver_test
