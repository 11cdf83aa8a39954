// The device model's behaviour outside the strict rules: lenient mode, resets,
// feature offers, completions from the backend, the threaded device.
#include "sim/virtio_device_model.h"

#include <gtest/gtest.h>
#include <linux/virtio_config.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/sampler.h"
#include "sim/cpu_sharing.h"
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

// An echo device whose queues ride on queue `host`'s device thread (or each on
// its own: kOwnThreads), and which records the threads that handled its chains.
class ThreadRecordingEcho : public EchoDevice {
 public:
  static constexpr uint16_t kOwnThreads = 0xFFFF;
  ThreadRecordingEcho(uint16_t num_queues, uint16_t host)
      : EchoDevice(Options{.num_queues = num_queues}), host_(host) {}

  uint16_t ThreadQueue(uint16_t queue) const override {
    return host_ == kOwnThreads ? queue : host_;
  }
  std::optional<uint32_t> HandleChain(const DescriptorChain& chain) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      threads_[chain.queue].insert(std::this_thread::get_id());
    }
    return EchoDevice::HandleChain(chain);
  }
  std::set<std::thread::id> threads(uint16_t queue) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = threads_.find(queue);
    return it == threads_.end() ? std::set<std::thread::id>{} : it->second;
  }

 private:
  const uint16_t host_;
  mutable std::mutex mutex_;
  std::map<uint16_t, std::set<std::thread::id>> threads_;
};

// The threaded device's tests run with a thread per queue and with both
// queues on one thread.
class ThreadedDeviceTest : public testing::TestWithParam<uint16_t> {
 protected:
  ThreadedDeviceTest()
      : machine_(DeviceOptions{.notify_mode = NotifyMode::kThread},
                 std::make_unique<ThreadRecordingEcho>(2, GetParam())) {}
  const ThreadRecordingEcho& echo() const {
    return static_cast<const ThreadRecordingEcho&>(*machine_.echo);
  }

  Machine machine_;
};

TEST_P(ThreadedDeviceTest, ServesQueuesNotifiedConcurrently) {
  Machine& machine = machine_;
  auto& driver = *machine.driver;
  ASSERT_TRUE(driver.Init(~uint64_t{0}, 8, 2));
  constexpr int kRounds = 2000;
  auto worker = [&](uint16_t queue) {
    TestRing& ring = driver.ring(queue);
    uint64_t in = ring.BufferWith("q");
    uint64_t out = ring.Buffer(4);
    ring.SetDesc(0, in, 1, VRING_DESC_F_NEXT, 1);
    ring.SetDesc(1, out, 4, VRING_DESC_F_WRITE);
    for (int i = 0; i < kRounds; ++i) {
      ring.Publish(0);
      driver.Notify(queue);
      ASSERT_TRUE(ring.WaitUsedIdx(static_cast<uint16_t>(i + 1)));
    }
  };
  std::thread a(worker, 0);
  std::thread b(worker, 1);
  a.join();
  b.join();
  EXPECT_EQ(machine.model().counters().chains_completed, 2u * kRounds);
  EXPECT_TRUE(machine.device->violations().empty());
  // Each queue stays on one thread: its own, or the one they share.
  ASSERT_EQ(echo().threads(0).size(), 1u);
  ASSERT_EQ(echo().threads(1).size(), 1u);
  const bool shared_thread = GetParam() == 1;
  EXPECT_EQ(*echo().threads(0).begin() == *echo().threads(1).begin(),
            shared_thread);
}

// A device thread polls for a while after its last chain, then sleeps. A
// notify racing with that transition must never be lost: requests from two
// threads, spaced from back to back to well past the poll time, each complete
// (a lost wake-up would leave one waiting until the timeout). Also checks that
// notifies arriving while the thread polls reach it without a wake-up.
TEST_P(ThreadedDeviceTest, NeverMissesANotifyAroundItsSleep) {
  Machine& machine = machine_;
  auto& driver = *machine.driver;
  ASSERT_TRUE(driver.Init(~uint64_t{0}, 8, 2));
  constexpr int kRounds = 600;
  // Gaps around the poll time, where the thread decides to sleep.
  const std::vector<std::chrono::nanoseconds> gaps = {
      std::chrono::nanoseconds(0),
      std::chrono::nanoseconds(kDevicePollNanos / 2),
      std::chrono::nanoseconds(kDevicePollNanos),
      std::chrono::nanoseconds(kDevicePollNanos + kDevicePollNanos / 4),
      std::chrono::nanoseconds(3 * kDevicePollNanos)};
  std::atomic<int> lost{0};
  auto worker = [&](uint16_t queue) {
    TestRing& ring = driver.ring(queue);
    uint64_t in = ring.BufferWith("s");
    uint64_t out = ring.Buffer(4);
    ring.SetDesc(0, in, 1, VRING_DESC_F_NEXT, 1);
    ring.SetDesc(1, out, 4, VRING_DESC_F_WRITE);
    for (int i = 0; i < kRounds; ++i) {
      const auto gap = gaps[(i * 7 + queue) % gaps.size()];
      const auto until = std::chrono::steady_clock::now() + gap;
      while (std::chrono::steady_clock::now() < until) {
      }
      ring.Publish(0);
      driver.Notify(queue);
      if (!ring.WaitUsedIdx(static_cast<uint16_t>(i + 1),
                            std::chrono::milliseconds(2000))) {
        ++lost;
        return;
      }
    }
  };
  std::thread a(worker, 0);
  std::thread b(worker, 1);
  a.join();
  b.join();
  EXPECT_EQ(lost.load(), 0);
  EXPECT_EQ(machine.model().counters().chains_completed, 2u * kRounds);
  EXPECT_TRUE(machine.device->violations().empty());
}

// A driver thread waiting where the device thread cannot run processes the
// queue itself (ProcessForWaiter): here the thread serving both queues is
// held inside a chain of queue 0 while a chain waits on queue 1. The waiter
// handles that chain in its own thread, and cannot take queue 0's, which the
// device thread is processing.
TEST(VirtioDeviceModelTest, AWaiterProcessesAQueueItsDeviceThreadCannotReach) {
  class HeldEcho : public ThreadRecordingEcho {
   public:
    HeldEcho() : ThreadRecordingEcho(2, /*host=*/0) {}
    std::optional<uint32_t> HandleChain(const DescriptorChain& chain) override {
      if (chain.queue == 0) {
        std::unique_lock<std::mutex> lock(mutex_);
        entered_ = true;
        changed_.notify_all();
        changed_.wait(lock, [&] { return released_; });
      }
      return ThreadRecordingEcho::HandleChain(chain);
    }
    void WaitEntered() {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return entered_; });
    }
    void Release() {
      std::lock_guard<std::mutex> lock(mutex_);
      released_ = true;
      changed_.notify_all();
    }

   private:
    std::mutex mutex_;
    std::condition_variable changed_;
    bool entered_ = false, released_ = false;
  };
  auto owned = std::make_unique<HeldEcho>();
  HeldEcho& echo = *owned;
  Machine machine(DeviceOptions{.notify_mode = NotifyMode::kThread},
                  std::move(owned));
  auto& driver = *machine.driver;
  ASSERT_TRUE(driver.Init(~uint64_t{0}, 8, 2));
  for (uint16_t queue : {0, 1}) {
    TestRing& ring = driver.ring(queue);
    ring.SetDesc(0, ring.BufferWith("w"), 1, VRING_DESC_F_NEXT, 1);
    ring.SetDesc(1, ring.Buffer(4), 4, VRING_DESC_F_WRITE);
  }
  driver.ring(0).Publish(0);
  driver.Notify(0);
  echo.WaitEntered();
  driver.ring(1).Publish(0);

  EXPECT_TRUE(machine.model().ProcessForWaiter());
  EXPECT_EQ(driver.ring(1).UsedIdx(), 1);
  EXPECT_EQ(echo.threads(1),
            std::set<std::thread::id>{std::this_thread::get_id()});
  EXPECT_FALSE(machine.model().ProcessForWaiter());
  EXPECT_EQ(driver.ring(0).UsedIdx(), 0);

  echo.Release();
  ASSERT_TRUE(driver.ring(0).WaitUsedIdx(1));
  EXPECT_NE(echo.threads(0),
            std::set<std::thread::id>{std::this_thread::get_id()});
  EXPECT_EQ(machine.model().counters().chains_completed, 2u);
  EXPECT_TRUE(machine.device->violations().empty());
}

// On crowded CPUs (here made so by seats the test takes, one per CPU the
// process may use) a device thread whose waiters help leaves the chains it
// sees to them for kCrowdedGraceNanos: a waiter that looks at once processes
// its chain itself, unless it was kept from looking for the grace. A chain
// nobody waits for is still processed, by the device thread, and mostly not
// before the grace has passed: a device thread whose grace for the waiter's
// chain ran out as the waiter took it looks again before it takes any
// (WorkMarks), but held up between that look and its pop (a preemption, a
// sanitizer) it finds the next chain, made available meanwhile, and takes it
// at once (under ASan, 33 rounds of 3 000 had one such chain).
TEST(VirtioDeviceModelTest, OnCrowdedCpusADeviceThreadLeavesChainsToWaiters) {
  cpu_set_t allowed;
  ASSERT_EQ(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
  std::vector<std::unique_ptr<DeviceSeat>> seats(CPU_COUNT(&allowed));
  for (std::unique_ptr<DeviceSeat>& seat : seats) {
    seat = std::make_unique<DeviceSeat>();
    seat->Take();
  }
  ASSERT_TRUE(DeviceThreadsFillTheCpus());
  auto owned = std::make_unique<ThreadRecordingEcho>(1, /*host=*/0);
  ThreadRecordingEcho& echo = *owned;
  Machine machine(DeviceOptions{.notify_mode = NotifyMode::kThread},
                  std::move(owned));
  machine.model().set_waiters_help(true);
  auto& driver = *machine.driver;
  ASSERT_TRUE(driver.Init(~uint64_t{0}, 8, 1));
  TestRing& ring = driver.ring(0);
  ring.SetDesc(0, ring.BufferWith("c"), 1, VRING_DESC_F_NEXT, 1);
  ring.SetDesc(1, ring.Buffer(4), 4, VRING_DESC_F_WRITE);
  constexpr auto kGrace = std::chrono::nanoseconds(kCrowdedGraceNanos);
  auto since = [](std::chrono::steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::steady_clock::now() - start);
  };
  // Rounds alternate: the waiter looks at once, or never (its chain is one
  // nobody waits for). The waiters' processing keeps the device thread polling.
  constexpr int kRounds = 200;
  int by_waiter = 0;
  bool waiter_took_last = false;
  // How long each chain nobody waited for took, after a chain that went to
  // the waiter.
  std::vector<std::chrono::nanoseconds> unhelped;
  for (int i = 0; i < kRounds; ++i) {
    const auto published = std::chrono::steady_clock::now();
    ring.Publish(0);
    driver.Notify(0);
    if (i % 2 == 0) {
      waiter_took_last = machine.model().ProcessForWaiter();
      // The device thread took the chain first: a waiter kept from looking
      // (preempted, or slowed by a sanitizer) for the grace.
      if (waiter_took_last) {
        ++by_waiter;
      } else {
        EXPECT_GE(since(published), kGrace) << "round " << i;
      }
    }
    ASSERT_TRUE(ring.WaitUsedIdx(static_cast<uint16_t>(i + 1)));
    if (i % 2 == 1 && waiter_took_last) {
      unhelped.push_back(since(published));
    }
    // Reads the queue under its lock, which the device thread holds from a
    // chain's completion through its look for the next: the next chain finds
    // the device thread polling, not in a pass that would take it at once.
    ASSERT_EQ(machine.model().counters().chains_completed,
              static_cast<uint64_t>(i + 1));
  }
  // Some chain went to the waiter, and the one after it was measured.
  EXPECT_GT(by_waiter, 0);
  ASSERT_FALSE(unhelped.empty());
  const auto median = unhelped.begin() + unhelped.size() / 2;
  std::nth_element(unhelped.begin(), median, unhelped.end());
  EXPECT_GE(*median, kGrace);
  EXPECT_EQ(echo.threads(0).size(), 2u);
  EXPECT_EQ(machine.model().counters().chains_completed,
            static_cast<uint64_t>(kRounds));
  EXPECT_TRUE(machine.device->violations().empty());
}

// A device thread counts on its CPU (sim/cpu_sharing.h) while it polls, so
// that a driver thread waiting there yields to it, and not while it sleeps.
// The device thread runs on one CPU and is watched from another: a watcher on
// its CPU sees it only if the scheduler runs the watcher inside the device's
// polling (kDevicePollNanos), which a yield does not make sure of (under
// ThreadSanitizer on a Linux 6.18 host, with 50 us of polling: 3 runs in 30).
TEST(VirtioDeviceModelTest, DeviceThreadOccupiesItsCpuOnlyWhileItPolls) {
  cpu_set_t allowed;
  ASSERT_EQ(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
  if (CPU_COUNT(&allowed) < 2) {
    GTEST_SKIP() << "needs two CPUs: one for the device thread, one to watch";
  }
  const int device_cpu = sched_getcpu();
  cpu_set_t device_set, watcher_set = allowed;
  CPU_ZERO(&device_set);
  CPU_SET(device_cpu, &device_set);
  CPU_CLR(device_cpu, &watcher_set);
  std::unique_ptr<Machine> machine;
  // Threads inherit their creator's CPUs: the device's run on device_cpu.
  std::thread([&] {
    ASSERT_EQ(
        pthread_setaffinity_np(pthread_self(), sizeof(device_set), &device_set),
        0);
    machine = std::make_unique<Machine>(
        DeviceOptions{.notify_mode = NotifyMode::kThread},
        std::make_unique<EchoDevice>(EchoDevice::Options{.num_queues = 1}));
  }).join();
  auto& driver = *machine->driver;
  ASSERT_TRUE(driver.Init(~uint64_t{0}, 8, 1));
  // Whether DeviceThreadOnCpu(device_cpu) is `occupied` within `within` of
  // the watcher's start; `then` runs once the watcher watches.
  auto becomes = [&](bool occupied, std::chrono::microseconds within,
                     auto then) {
    std::atomic<bool> watching{false};
    bool seen = !occupied;
    std::thread watcher([&] {
      ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof(watcher_set),
                                       &watcher_set),
                0);
      const auto deadline = std::chrono::steady_clock::now() + within;
      watching.store(true);
      while ((seen = DeviceThreadOnCpu(device_cpu)) != occupied &&
             std::chrono::steady_clock::now() < deadline) {
      }
    });
    while (!watching.load()) std::this_thread::yield();
    then();
    watcher.join();
    return seen == occupied;
  };
  auto nothing = [] {};
  EXPECT_TRUE(becomes(false, std::chrono::seconds(10), nothing));  // Asleep.
  TestRing& ring = driver.ring(0);
  ring.SetDesc(0, ring.BufferWith("c"), 1, VRING_DESC_F_NEXT, 1);
  ring.SetDesc(1, ring.Buffer(4), 4, VRING_DESC_F_WRITE);
  // Woken, it polls after each chain; the watcher may be descheduled through
  // one chain's polling on a busy machine, not through a hundred.
  bool polled = false;
  for (uint16_t chains = 1; chains <= 100 && !polled; ++chains) {
    polled = becomes(true, std::chrono::milliseconds(2), [&] {
      ring.Publish(0);
      driver.Notify(0);
    });
    ASSERT_TRUE(ring.WaitUsedIdx(chains));
  }
  EXPECT_TRUE(polled);
  // ... and sleeps again.
  EXPECT_TRUE(becomes(false, std::chrono::seconds(10), nothing));
  machine.reset();
}

INSTANTIATE_TEST_SUITE_P(
    ThreadLayouts, ThreadedDeviceTest,
    testing::Values(ThreadRecordingEcho::kOwnThreads, uint16_t{1},
                    // Out of range: each queue keeps its own thread.
                    uint16_t{7}),
    [](const testing::TestParamInfo<uint16_t>& info) -> std::string {
      if (info.param == ThreadRecordingEcho::kOwnThreads) return "OwnThreads";
      return info.param == 1 ? "SharedThread" : "BadHostOwnThreads";
    });

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
