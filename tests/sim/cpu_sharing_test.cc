// The CPU-sharing counts (sim/cpu_sharing.h) and their use by the simulated
// platform's waiting turns. Each thread here is pinned, so that "the CPU it
// runs on" is known; the counts are process-wide, and this binary runs no
// device threads of its own.
#include "sim/cpu_sharing.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "sim/guest_memory.h"
#include "sim/sim_platform.h"
#include "tests/sim/cpu_pinning.h"

namespace sim {
namespace {

using sim_test::AllowedCpus;
using sim_test::OnCpu;
using sim_test::PinTo;

// Calls `turn` until `done()` holds, for ten seconds at most: whether it did.
template <typename Done, typename Turn>
bool Until(Done done, Turn turn) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    turn();
  }
  return true;
}

// Yields until `done`, for ten seconds at most.
bool Eventually(const std::atomic<bool>& done) {
  return Until([&] { return done.load(); }, [] { sched_yield(); });
}

// A device thread seated on `cpu` watches for a waiter's yield there while a
// thread on the same CPU calls `wait_turn` until the device has seen one (ten
// seconds at most). Whether it did; `seen_after`: whether the device still saw
// one once the waiter was done.
template <typename Turn>
bool DeviceSeesAWaiterYield(int cpu, Turn wait_turn, bool* seen_after) {
  std::atomic<bool> seated{false}, seen{false}, waiter_done{false};
  std::thread device = OnCpu(cpu, [&] {
    DeviceSeat seat;
    seat.Take();
    seated = true;
    seen = Until([&] { return seat.WaiterYielded(); }, [] {});
    Eventually(waiter_done);
    *seen_after = seat.WaiterYielded();
  });
  std::thread waiter = OnCpu(cpu, [&] {
    Eventually(seated);
    Until([&] { return seen.load(); }, wait_turn);
    waiter_done = true;
  });
  waiter.join();
  device.join();
  return seen;
}

TEST(CpuSharingTest, ADeviceSeatIsSeenOnItsCpuOnlyUntilItLeaves) {
  const std::vector<int> cpus = AllowedCpus();
  ASSERT_FALSE(cpus.empty());
  std::atomic<bool> seated{false}, checked{false}, left{false};
  std::thread device = OnCpu(cpus[0], [&] {
    DeviceSeat seat;
    seat.Take();
    seated = true;
    Eventually(checked);
    seat.Leave();
    left = true;
  });
  ASSERT_TRUE(Eventually(seated));
  bool on_same = false, on_other = true;
  OnCpu(cpus[0], [&] { on_same = DeviceThreadOnThisCpu(); }).join();
  // A single-CPU machine has no other CPU to look from.
  if (cpus.size() > 1) {
    OnCpu(cpus[1], [&] { on_other = DeviceThreadOnThisCpu(); }).join();
  } else {
    on_other = false;
  }
  checked = true;
  ASSERT_TRUE(Eventually(left));
  bool after_leaving = true;
  OnCpu(cpus[0], [&] { after_leaving = DeviceThreadOnThisCpu(); }).join();
  device.join();
  EXPECT_TRUE(on_same);
  EXPECT_FALSE(on_other);
  EXPECT_FALSE(after_leaving);
}

TEST(CpuSharingTest, ASeatFollowsItsThreadToAnotherCpu) {
  const std::vector<int> cpus = AllowedCpus();
  if (cpus.size() < 2) {
    GTEST_SKIP() << "needs two CPUs to move between; this machine allows "
                 << cpus.size();
  }
  bool on_first = true, on_second = false;
  OnCpu(cpus[0], [&] {
    DeviceSeat seat;
    seat.Take();
    PinTo(cpus[1]);
    seat.Take();
    OnCpu(cpus[0], [&] { on_first = DeviceThreadOnThisCpu(); }).join();
    on_second = DeviceThreadOnThisCpu();
  }).join();
  EXPECT_FALSE(on_first);
  EXPECT_TRUE(on_second);
}

// Busy threads outnumber the CPUs once the seated device threads and the
// polling waiters together are more than the CPUs the process may use,
// wherever they sit; a waiter counts once however often it says it polls.
TEST(CpuSharingTest, BusyThreadsAreSeatedDeviceThreadsAndPollingWaiters) {
  const std::vector<int> cpus = AllowedCpus();
  ASSERT_FALSE(cpus.empty());
  EXPECT_FALSE(BusyThreadsOutnumberTheCpus());
  std::vector<DeviceSeat> seats(cpus.size());
  OnCpu(cpus.back(), [&] {
    for (DeviceSeat& seat : seats) seat.Take();
    EXPECT_FALSE(BusyThreadsOutnumberTheCpus());
    EXPECT_FALSE(SetWaiterPolling(true));
    EXPECT_TRUE(SetWaiterPolling(true));
    EXPECT_TRUE(BusyThreadsOutnumberTheCpus());
    seats.front().Leave();
    EXPECT_FALSE(BusyThreadsOutnumberTheCpus());
    std::thread([] {
      SetWaiterPolling(true);
      EXPECT_TRUE(BusyThreadsOutnumberTheCpus());
      EXPECT_TRUE(SetWaiterPolling(false));
    }).join();
    seats.front().Take();
    EXPECT_TRUE(BusyThreadsOutnumberTheCpus());
    EXPECT_TRUE(SetWaiterPolling(false));
    EXPECT_FALSE(BusyThreadsOutnumberTheCpus());
  }).join();
  seats.clear();  // Each seat leaves.
  EXPECT_FALSE(BusyThreadsOutnumberTheCpus());
}

// A waiter is counted until it stops polling or its thread exits, however
// many waiters there are at once (more than the slots a waiter marks itself
// in: the rest share a count).
TEST(CpuSharingTest, AWaiterIsCountedUntilItStopsPollingOrExits) {
  const std::vector<int> cpus = AllowedCpus();
  ASSERT_FALSE(cpus.empty());
  std::vector<DeviceSeat> seats(cpus.size());
  OnCpu(cpus.back(), [&] {
    for (DeviceSeat& seat : seats) seat.Take();
  }).join();
  ASSERT_FALSE(BusyThreadsOutnumberTheCpus());
  std::thread([] { SetWaiterPolling(true); }).join();  // Exits polling.
  EXPECT_FALSE(BusyThreadsOutnumberTheCpus());

  constexpr int kWaiters = 80;
  std::atomic<int> polling{0};
  std::atomic<bool> stop{false}, counted{true};
  std::vector<std::thread> waiters;
  for (int i = 0; i < kWaiters; ++i) {
    waiters.emplace_back([&] {
      SetWaiterPolling(true);
      polling.fetch_add(1);
      while (!stop.load()) std::this_thread::yield();
      counted = counted && BusyThreadsOutnumberTheCpus();
      SetWaiterPolling(false);
    });
  }
  while (polling.load() < kWaiters) std::this_thread::yield();
  EXPECT_TRUE(BusyThreadsOutnumberTheCpus());
  stop = true;
  for (std::thread& waiter : waiters) waiter.join();
  EXPECT_TRUE(counted);
  EXPECT_FALSE(BusyThreadsOutnumberTheCpus());
  seats.clear();
}

int OnlineCpus() { return static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)); }

// Leaves the machine's verdict as it found it: not crowded.
void NoteAnIdleMachine() {
  NoteMachineRunnableThreads(1);
  NoteMachineRunnableThreads(1);
}

// The machine crowds its CPUs from the second sample in a row with more
// runnable threads than CPUs, and no longer from the second in a row with no
// more; a sample that differs from the one before changes nothing.
TEST(CpuSharingTest, TheMachineCrowdsItsCpusFromTheSecondSampleInARow) {
  const int cpus = OnlineCpus();
  ASSERT_GT(cpus, 0);
  NoteAnIdleMachine();
  EXPECT_FALSE(BusyThreadsOutnumberTheCpus());
  NoteMachineRunnableThreads(cpus + 1);
  EXPECT_FALSE(BusyThreadsOutnumberTheCpus());
  NoteMachineRunnableThreads(cpus + 3);
  EXPECT_TRUE(BusyThreadsOutnumberTheCpus());
  NoteMachineRunnableThreads(cpus);
  EXPECT_TRUE(BusyThreadsOutnumberTheCpus());
  NoteMachineRunnableThreads(cpus + 1);
  EXPECT_TRUE(BusyThreadsOutnumberTheCpus());
  NoteMachineRunnableThreads(cpus);
  NoteMachineRunnableThreads(cpus);
  EXPECT_FALSE(BusyThreadsOutnumberTheCpus());
}

// A device thread's sampler sees other processes' threads, which the
// process's own counts cannot: one more spinning process than the machine has
// CPUs crowds them. It samples at most once in its interval.
TEST(CpuSharingTest, TheSamplerSeesOtherProcessesSpinning) {
  NoteAnIdleMachine();
  std::vector<pid_t> spinners;
  bool forked_all = true;
  int fork_error = 0;
  for (int i = 0; i <= OnlineCpus() && forked_all; ++i) {
    const pid_t pid = fork();
    if (pid == 0) {
      for (volatile uint64_t turns = 0;; turns = turns + 1) {
      }
    }
    if (pid > 0) spinners.push_back(pid);
    if (pid < 0) fork_error = errno;
    forked_all = pid > 0;
  }
  bool after_one_sample = false, after_two_samples = false;
  if (forked_all) {
    MachineLoadSampler sampler;
    const auto start = MachineLoadSampler::Clock::now();
    sampler.MaybeSample(start);
    sampler.MaybeSample(start + MachineLoadSampler::kInterval / 2);
    after_one_sample = BusyThreadsOutnumberTheCpus();
    sampler.MaybeSample(start + MachineLoadSampler::kInterval);
    after_two_samples = BusyThreadsOutnumberTheCpus();
  }
  // Whatever happened, no spinner outlives the test.
  for (pid_t pid : spinners) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  NoteAnIdleMachine();
  ASSERT_TRUE(forked_all) << "fork: " << std::strerror(fork_error);
  EXPECT_FALSE(after_one_sample);
  EXPECT_TRUE(after_two_samples);
}

// A device thread sharing a CPU with a waiter sees the waiter's yield while
// it lasts, and nothing once the waiter is done.
TEST(CpuSharingTest, AWaitersYieldIsSeenByTheDeviceOnItsCpu) {
  bool seen_after = true;
  EXPECT_TRUE(DeviceSeesAWaiterYield(AllowedCpus().front(), YieldAsWaiter,
                                     &seen_after));
  EXPECT_FALSE(seen_after);
}

// SimPlatform::Spin, a waiting turn, yields the CPU when a device thread is
// on it (and is seen doing so), where it would otherwise only pause.
TEST(CpuSharingTest, PlatformSpinYieldsToADeviceThreadOnItsCpu) {
  auto memory = GuestMemory::Create(1 << 16);
  ASSERT_NE(memory, nullptr);
  SimPlatform platform(*memory);
  bool seen_after = true;
  EXPECT_TRUE(DeviceSeesAWaiterYield(
      AllowedCpus().front(), [&] { platform.Spin(1); }, &seen_after));
  EXPECT_FALSE(seen_after);
}

// Where Spin would yield to a device thread on its CPU, it first lets the
// device helper do the device's work on the queue spun for
// (SimPlatform::set_device_helper); with no device thread there, it only
// pauses. A helper that found a thread on another CPU processing a queue has
// it pause, not yield.
TEST(CpuSharingTest, PlatformSpinLetsTheHelperWorkWhereItWouldYield) {
  auto memory = GuestMemory::Create(1 << 16);
  ASSERT_NE(memory, nullptr);
  SimPlatform platform(*memory);
  int calls = 0;
  std::set<uint16_t> helped_queues;
  WaiterHelp help = WaiterHelp::kProcessed;
  platform.set_device_helper([&](uint16_t queue) {
    ++calls;
    helped_queues.insert(queue);
    return help;
  });
  std::thread([&] {
    PinTo(AllowedCpus().front());
    platform.Spin(2);
    EXPECT_EQ(calls, 0);
    DeviceSeat seat;  // A device thread on this very CPU.
    seat.Take();
    platform.Spin(2);
    EXPECT_EQ(calls, 1);
  }).join();
  EXPECT_EQ(helped_queues, std::set<uint16_t>{2});
  // The seat's CPU sees every yield of a waiter there; Spin's with a helper
  // that answers kBusyElsewhere are none.
  help = WaiterHelp::kBusyElsewhere;
  std::atomic<bool> device_seated{false}, done{false}, yield_seen{false};
  const int cpu = AllowedCpus().front();
  std::thread device = OnCpu(cpu, [&] {
    DeviceSeat seat;
    seat.Take();
    device_seated = true;
    while (!done) yield_seen = yield_seen || seat.WaiterYielded();
  });
  std::thread waiter = OnCpu(cpu, [&] {
    Eventually(device_seated);
    for (int i = 0; i < 1000; ++i) platform.Spin(2);
    done = true;
  });
  waiter.join();
  device.join();
  EXPECT_EQ(calls, 1001);
  EXPECT_FALSE(yield_seen);
}

}  // namespace
}  // namespace sim
