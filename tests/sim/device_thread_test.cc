// The device model's threads (NotifyMode::kThread): queues served
// concurrently, notifies around a thread's sleep, waiters that do the device's
// work, and the CPU-sharing counts the threads keep (sim/cpu_sharing.h).
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

#include "sim/cpu_sharing.h"
#include "sim/echo_device.h"
#include "sim/virtio_device_model.h"
#include "tests/sim/cpu_pinning.h"
#include "tests/sim/test_driver.h"

namespace sim {
namespace {

using sim_test::Machine;
using sim_test::TestRing;

// Descriptors 0 and 1 of `ring`: the one byte `text`, then 4 bytes for the
// echo.
void SetEchoChain(TestRing& ring, const char* text) {
  ring.SetDesc(0, ring.BufferWith(text), 1, VRING_DESC_F_NEXT, 1);
  ring.SetDesc(1, ring.Buffer(4), 4, VRING_DESC_F_WRITE);
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
    SetEchoChain(ring, "q");
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
// threads, spaced from back to back to well past the poll time (which grows
// after short sleeps up to kMaxDevicePollNanos, and shrinks after a long one),
// each complete (a lost wake-up would leave one waiting until the timeout).
// Also checks that notifies arriving while the thread polls reach it without a
// wake-up.
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
      std::chrono::nanoseconds(3 * kDevicePollNanos),
      std::chrono::nanoseconds(kMaxDevicePollNanos),
      std::chrono::nanoseconds(kMaxDevicePollNanos + kDevicePollNanos / 4),
      std::chrono::nanoseconds(2 * kMaxDevicePollNanos)};
  std::atomic<int> lost{0};
  auto worker = [&](uint16_t queue) {
    TestRing& ring = driver.ring(queue);
    SetEchoChain(ring, "s");
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

// A thread woken soon after it fell asleep polls twice as long the next time,
// up to kMaxDevicePollNanos; a long sleep brings it back to kDevicePollNanos.
TEST(DevicePollTest, GrowsAfterShortSleepsAndShrinksAfterALongOne) {
  uint64_t poll = kDevicePollNanos;
  poll = NextDevicePollNanos(poll, kDevicePollNanos / 2);
  EXPECT_EQ(poll, 2 * kDevicePollNanos);
  for (int i = 0; i < 10; ++i) poll = NextDevicePollNanos(poll, 0);
  EXPECT_EQ(poll, kMaxDevicePollNanos);
  EXPECT_EQ(NextDevicePollNanos(poll, kMaxDevicePollNanos - 1),
            kMaxDevicePollNanos);
  EXPECT_EQ(NextDevicePollNanos(poll, kMaxDevicePollNanos), kDevicePollNanos);
}

// An echo device whose thread is held inside its chains of queue 0 until
// released.
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

// A machine on a HeldEcho, threaded unless told otherwise.
struct HeldMachine {
  explicit HeldMachine(
      DeviceOptions options = {.notify_mode = NotifyMode::kThread})
      : HeldMachine(options, std::make_unique<HeldEcho>()) {}
  HeldMachine(DeviceOptions options, std::unique_ptr<HeldEcho> owned)
      : echo(*owned), machine(options, std::move(owned)) {}
  HeldEcho& echo;
  Machine machine;
};

// A driver thread waiting where the device thread cannot run processes the
// queue it waits on itself (ProcessForWaiter): here the thread serving both
// queues is held inside a chain of queue 0 while a chain waits on queue 1. The
// waiter handles that chain in its own thread, and cannot take queue 0's,
// which the device thread is processing: it gets its yield
// (WaiterHelp::kNothing), as a device thread may wait for the waiter's CPU at
// any turn.
TEST(VirtioDeviceModelTest, AWaiterProcessesAQueueItsDeviceThreadCannotReach) {
  HeldMachine held;
  HeldEcho& echo = held.echo;
  Machine& machine = held.machine;
  auto& driver = *machine.driver;
  ASSERT_TRUE(driver.Init(~uint64_t{0}, 8, 2));
  for (uint16_t queue : {0, 1}) {
    TestRing& ring = driver.ring(queue);
    SetEchoChain(ring, "w");
  }
  driver.ring(0).Publish(0);
  driver.Notify(0);
  echo.WaitEntered();
  driver.ring(1).Publish(0);

  EXPECT_EQ(machine.model().ProcessForWaiter(1), WaiterHelp::kProcessed);
  EXPECT_EQ(driver.ring(1).UsedIdx(), 1);
  EXPECT_EQ(echo.threads(1),
            std::set<std::thread::id>{std::this_thread::get_id()});
  EXPECT_EQ(machine.model().ProcessForWaiter(0), WaiterHelp::kNothing);
  EXPECT_EQ(machine.model().ProcessForWaiter(base::Platform::kAnyQueue),
            WaiterHelp::kNothing);
  EXPECT_EQ(driver.ring(0).UsedIdx(), 0);

  echo.Release();
  ASSERT_TRUE(driver.ring(0).WaitUsedIdx(1));
  EXPECT_NE(echo.threads(0),
            std::set<std::thread::id>{std::this_thread::get_id()});
  EXPECT_EQ(machine.model().counters().chains_completed, 2u);
  EXPECT_TRUE(machine.device->violations().empty());
}

// A waiter processes only the queue it waits on, or every queue for
// base::Platform::kAnyQueue, and nothing for a queue the device does not have.
// Inline notifies, and chains never notified: only the waiter takes them.
TEST(VirtioDeviceModelTest, AWaiterProcessesOnlyTheQueueItWaitsOn) {
  Machine machine(DeviceOptions{.notify_mode = NotifyMode::kInline},
                  std::make_unique<ThreadRecordingEcho>(2, /*host=*/0));
  auto& driver = *machine.driver;
  ASSERT_TRUE(driver.Init(~uint64_t{0}, 8, 2));
  for (uint16_t queue : {0, 1}) {
    SetEchoChain(driver.ring(queue), "q");
    driver.ring(queue).Publish(0);
  }
  EXPECT_EQ(machine.model().ProcessForWaiter(1), WaiterHelp::kProcessed);
  EXPECT_EQ(driver.ring(1).UsedIdx(), 1);
  EXPECT_EQ(driver.ring(0).UsedIdx(), 0);
  EXPECT_EQ(machine.model().ProcessForWaiter(1), WaiterHelp::kNothing);
  EXPECT_EQ(machine.model().ProcessForWaiter(2), WaiterHelp::kNothing);
  EXPECT_EQ(driver.ring(0).UsedIdx(), 0);
  EXPECT_EQ(machine.model().ProcessForWaiter(base::Platform::kAnyQueue),
            WaiterHelp::kProcessed);
  EXPECT_EQ(driver.ring(0).UsedIdx(), 1);
  EXPECT_EQ(machine.model().counters().chains_completed, 2u);
  EXPECT_TRUE(machine.device->violations().empty());
}

// A waiter that finds a queue held by another waiter that entered it on
// another CPU says so (WaiterHelp::kBusyElsewhere: SimPlatform::Spin then
// pauses where it would yield, as that waiter finishes unseen through a
// yield); a waiter on its own CPU gets its yield (kNothing), as a device
// thread gets it anywhere (AWaiterProcessesAQueueItsDeviceThreadCannotReach).
// Inline notifies, so that no device thread takes the chain: the holder is a
// waiter held inside it.
TEST(VirtioDeviceModelTest, AWaiterSeesWhetherTheQueuesHolderIsOnAnotherCpu) {
  const std::vector<int> cpus = sim_test::AllowedCpus();
  if (cpus.size() < 2) {
    GTEST_SKIP() << "needs two CPUs; this machine allows " << cpus.size();
  }
  HeldMachine held(DeviceOptions{.notify_mode = NotifyMode::kInline});
  Machine& machine = held.machine;
  auto& driver = *machine.driver;
  ASSERT_TRUE(driver.Init(~uint64_t{0}, 8, 2));
  TestRing& ring = driver.ring(0);
  SetEchoChain(ring, "w");
  ring.Publish(0);  // No notify: the holder takes it.
  WaiterHelp holder = WaiterHelp::kNothing, here = holder, elsewhere = holder;
  std::thread holding = sim_test::OnCpu(
      cpus[0], [&] { holder = machine.model().ProcessForWaiter(0); });
  held.echo.WaitEntered();
  sim_test::OnCpu(cpus[0], [&] {
    here = machine.model().ProcessForWaiter(0);
  }).join();
  sim_test::OnCpu(cpus[1], [&] {
    elsewhere = machine.model().ProcessForWaiter(0);
  }).join();
  held.echo.Release();
  holding.join();
  EXPECT_EQ(holder, WaiterHelp::kProcessed);
  EXPECT_EQ(here, WaiterHelp::kNothing);
  EXPECT_EQ(elsewhere, WaiterHelp::kBusyElsewhere);
  EXPECT_EQ(ring.UsedIdx(), 1);
  EXPECT_TRUE(machine.device->violations().empty());
}

// On crowded CPUs (here made so by seats the test takes, one more than the
// CPUs the process may use) a device thread whose waiters help leaves the
// chains it sees to them for kCrowdedGraceNanos: a waiter that looks at once
// processes its chain itself, unless it was kept from looking for the grace. A
// chain nobody waits for is still processed, by the device thread, and mostly
// not before the grace has passed: a device thread whose grace for the waiter's
// chain ran out as the waiter took it looks again before it takes any
// (WorkMarks), but held up between that look and its pop (a preemption, a
// sanitizer) it finds the next chain, made available meanwhile, and takes it
// at once (under ASan, 33 rounds of 3 000 had one such chain). A waiter that
// looks while that thread is in the queue leaves its chain to it: so a waiter
// too may find its chain taken before the grace, as rarely (one round of 100
// in a TSan run on a loaded 2-CPU machine, CI); a device thread that left
// nothing to waiters took 5 to 16 of 100 here, and the chains nobody waited
// for at once (their median: 3.5-4 us).
TEST(VirtioDeviceModelTest, OnCrowdedCpusADeviceThreadLeavesChainsToWaiters) {
  const std::vector<int> cpus = sim_test::AllowedCpus();
  if (cpus.size() < 2) {
    GTEST_SKIP() << "needs two CPUs: the device thread's and the waiter's";
  }
  std::vector<std::unique_ptr<DeviceSeat>> seats(cpus.size() + 1);
  for (std::unique_ptr<DeviceSeat>& seat : seats) {
    seat = std::make_unique<DeviceSeat>();
    seat->Take();
  }
  ASSERT_TRUE(BusyThreadsOutnumberTheCpus());
  auto owned = std::make_unique<ThreadRecordingEcho>(1, /*host=*/0);
  ThreadRecordingEcho& echo = *owned;
  // The device thread on a CPU of its own (threads inherit their creator's
  // CPUs), the waiter on another: sharing the waiter's, the device thread
  // would run only when the waiter yields, and take no chain early whatever
  // it did with them.
  std::unique_ptr<Machine> owned_machine;
  sim_test::OnCpu(cpus[1], [&] {
    owned_machine = std::make_unique<Machine>(
        DeviceOptions{.notify_mode = NotifyMode::kThread}, std::move(owned));
  }).join();
  Machine& machine = *owned_machine;
  machine.model().set_waiters_help(true);
  auto& driver = *machine.driver;
  ASSERT_TRUE(driver.Init(~uint64_t{0}, 8, 1));
  TestRing& ring = driver.ring(0);
  SetEchoChain(ring, "c");
  constexpr auto kGrace = std::chrono::nanoseconds(kCrowdedGraceNanos);
  auto since = [](std::chrono::steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::steady_clock::now() - start);
  };
  // Rounds alternate: the waiter looks at once, or never (its chain is one
  // nobody waits for). The waiters' processing keeps the device thread polling.
  constexpr int kRounds = 200;
  int by_waiter = 0;
  std::string taken_before_grace;  // The waiter's rounds, as "round (ns)".
  int rounds_taken_before_grace = 0;
  bool waiter_took_last = false;
  // How long each chain nobody waited for took, after a chain that went to
  // the waiter.
  std::vector<std::chrono::nanoseconds> unhelped;
  sim_test::OnCpu(cpus[0], [&] {
    for (int i = 0; i < kRounds; ++i) {
      const auto published = std::chrono::steady_clock::now();
      ring.Publish(0);
      driver.Notify(0);
      if (i % 2 == 0) {
        waiter_took_last =
            machine.model().ProcessForWaiter(0) == WaiterHelp::kProcessed;
        // The device thread took the chain first: a waiter kept from looking
        // (preempted, or slowed by a sanitizer) for the grace, or rarely one
        // that looked while a held-up device thread was in the queue.
        if (waiter_took_last) {
          ++by_waiter;
        } else if (const auto taken = since(published); taken < kGrace) {
          ++rounds_taken_before_grace;
          taken_before_grace += " " + std::to_string(i) + " (" +
                                std::to_string(taken.count()) + " ns)";
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
  }).join();
  // Some chain went to the waiter, and the one after it was measured.
  EXPECT_GT(by_waiter, 0);
  EXPECT_LE(rounds_taken_before_grace, kRounds / 2 / 25)
      << "waiter's rounds taken before the grace:" << taken_before_grace;
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
  SetEchoChain(ring, "c");
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

}  // namespace
}  // namespace sim
