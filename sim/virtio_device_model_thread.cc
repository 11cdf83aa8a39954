// VirtioDeviceModel: the device threads (NotifyMode::kThread): polling for
// work, sleeping, and holding posted chains for the chains behind them.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <thread>
#include <utility>

#include "sim/cpu_relax.h"
#include "sim/virtio_device_model.h"

namespace sim {

void VirtioDeviceModel::DeviceThreadMain(DeviceThread& thread) {
  while (!stopping_.load(std::memory_order_acquire)) {
    thread.seat.Take();
    if (!LeaveToWaiters() && ProcessPosted(thread)) continue;
    std::optional<uint64_t> left_as;
    if (PollForWork(thread, &left_as)) {
      // Work left to the waiters is taken as it was when its grace ran out:
      // had a waiter taken it since, and another chain come (a slow turn, a
      // preemption), that chain would be taken before its own grace.
      if (!left_as || WorkMarks(thread) == *left_as) ProcessPosted(thread);
      continue;
    }
    if (AskForNotification(thread)) continue;
    // Polled for its poll_nanos and nothing came: block.
    backend_->Idle();
    thread.seat.Leave();
    const auto slept_at = std::chrono::steady_clock::now();
    thread.sleeping.store(true, std::memory_order_seq_cst);
    if (!AnyPosted(thread)) {
      std::unique_lock<std::mutex> lock(thread.sleep_mutex);
      thread.wake.wait(lock, [&] {
        return AnyPosted(thread) || stopping_.load(std::memory_order_seq_cst);
      });
    }
    thread.sleeping.store(false, std::memory_order_relaxed);
    thread.poll_nanos = NextDevicePollNanos(
        thread.poll_nanos, std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now() - slept_at)
                               .count());
  }
  thread.seat.Leave();
}

bool VirtioDeviceModel::LeaveToWaiters() const {
  return waiters_help_.load(std::memory_order_relaxed) &&
         BusyThreadsOutnumberTheCpus();
}

uint64_t VirtioDeviceModel::ProcessedMarks(const DeviceThread& thread) const {
  uint64_t marks = 0;
  for (uint16_t queue : thread.queues) {
    marks = marks * 65537 + hot_[queue].idle.load(std::memory_order_relaxed);
  }
  return marks;
}

bool VirtioDeviceModel::ProcessPosted(const DeviceThread& thread) {
  bool processed = false;
  for (uint16_t queue : thread.queues) {
    QueueHot& hot = hot_[queue];
    if (hot.posted.exchange(false, std::memory_order_acq_rel) ||
        WorkPosted(hot)) {
      ProcessQueue(queue);
      processed = true;
    }
  }
  return processed;
}

bool VirtioDeviceModel::AnyPosted(const DeviceThread& thread) const {
  for (uint16_t queue : thread.queues) {
    if (hot_[queue].posted.load(std::memory_order_seq_cst)) return true;
  }
  return false;
}

uint64_t VirtioDeviceModel::WorkMarks(const DeviceThread& thread) const {
  uint64_t marks = ProcessedMarks(thread);
  for (uint16_t queue : thread.queues) {
    marks = marks * 65537 + AvailWord(hot_[queue]);
  }
  return marks;
}

bool VirtioDeviceModel::WorkPosted(QueueHot& hot) {
  return hot.posted.load(std::memory_order_acquire) ||
         AvailWord(hot) != hot.idle.load(std::memory_order_relaxed);
}

uint16_t VirtioDeviceModel::AvailWord(QueueHot& hot) {
  hot.peeking.store(true, std::memory_order_seq_cst);
  uint16_t* word = hot.watched_word.load(std::memory_order_seq_cst);
  const uint16_t value =
      word != nullptr
          ? std::atomic_ref<uint16_t>(*word).load(std::memory_order_acquire)
          : hot.idle.load(std::memory_order_relaxed);
  hot.peeking.store(false, std::memory_order_release);
  return value;
}

void VirtioDeviceModel::StopWatchingLocked(uint16_t queue) {
  QueueHot& hot = hot_[queue];
  // Either the thread's next look finds no word, or this waits for the look
  // that found it to end (both sides sequentially consistent).
  hot.watched_word.store(nullptr, std::memory_order_seq_cst);
  while (hot.peeking.load(std::memory_order_seq_cst)) {
    CpuRelax();
  }
  std::lock_guard lock(work_[queue].lock);
  work_[queue].held_count = 0;
  work_[queue].overtaken = false;
}

void VirtioDeviceModel::RecordPoppedLocked(uint16_t queue, bool model_locked) {
  QueueHot& hot = hot_[queue];
  uint16_t* watched = hot.watched_word.load(std::memory_order_relaxed);
  if (queues_[queue].ring == nullptr || watched == nullptr) return;
  const DeviceQueue::AvailWatch watch = queues_[queue].ring->avail_watch();
  // A packed ring's word moved with its cursor; unless the ring stopped being
  // watched meanwhile (StopWatchingLocked), the thread watches the new one.
  if (watch.word != watched &&
      !hot.watched_word.compare_exchange_strong(watched, watch.word,
                                                std::memory_order_seq_cst)) {
    return;
  }
  // A queue that cannot be processed (stopped by a violation, not yet live)
  // takes what the driver has made available as seen: its thread must not
  // spin on buffers it will not pop, and looks again at the next change. An
  // armed queue can be processed.
  hot.idle.store(!model_locked || CanProcessLocked(queue)
                     ? watch.idle
                     : std::atomic_ref<uint16_t>(*watch.word)
                           .load(std::memory_order_acquire),
                 std::memory_order_relaxed);
  for (size_t i = 0; i < watch.read_ahead.size(); ++i) {
    hot.read_ahead[i].store(watch.read_ahead[i], std::memory_order_relaxed);
  }
}

void VirtioDeviceModel::ReadAhead(const QueueHot& hot) {
  // Two lines from each: a request's header and arguments, or a chain's
  // descriptors, may cross into the next.
  for (const std::atomic<const uint8_t*>& spot : hot.read_ahead) {
    if (const uint8_t* line = spot.load(std::memory_order_relaxed)) {
      __builtin_prefetch(line);
      __builtin_prefetch(line + 64);
    }
  }
}

bool VirtioDeviceModel::AskForNotification(const DeviceThread& thread) {
  StateLock lock(*this);
  bool work = false;
  for (uint16_t queue : thread.queues) {
    // Every queue asks, whatever the others found.
    if (!CanProcessLocked(queue)) continue;
    std::lock_guard queue_lock(work_[queue].lock);
    if (queues_[queue].ring->AskForNotification()) work = true;
  }
  return work;
}

bool VirtioDeviceModel::PollForWork(DeviceThread& thread,
                                    std::optional<uint64_t>* left_as) const {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::nanoseconds(thread.poll_nanos);
  auto crowded_deadline =
      start + std::chrono::nanoseconds(kCrowdedDevicePollNanos);
  auto next_yield = start + std::chrono::nanoseconds(kDeviceYieldIntervalNanos);
  uint64_t marks = ProcessedMarks(thread);
  // Work left to the waiters: since when, and its WorkMarks then (a waiter
  // that processes some of it, or a chain made available since, restarts the
  // grace: a notify already served must not shorten a new chain's grace).
  bool work_seen = false;
  Clock::time_point work_seen_at;
  uint64_t work_marks = 0;
  for (;;) {
    const bool crowded = BusyThreadsOutnumberTheCpus();
    const bool leave = LeaveToWaiters();
    // About a microsecond of pauses, watching for a notify...
    bool waiter = false, work = false;
    for (int i = 0; i < 64 && !waiter && !work; ++i) {
      for (uint16_t queue : thread.queues) {
        if (!WorkPosted(hot_[queue])) continue;
        if (!leave) {
          ReadAhead(hot_[queue]);
          return true;
        }
        work = true;
      }
      if (stopping_.load(std::memory_order_relaxed)) return false;
      // ... until a driver thread says it waits for this CPU (cpu_sharing.h).
      waiter = thread.seat.WaiterYielded();
      CpuRelax();
    }
    const auto now = Clock::now();
    thread.machine_load.MaybeSample(now);
    if (work) {
      const uint64_t now_marks = WorkMarks(thread);
      if (!work_seen || now_marks != work_marks) {
        work_seen = true;
        work_seen_at = now;
        work_marks = now_marks;
      } else if (now - work_seen_at >=
                 std::chrono::nanoseconds(kCrowdedGraceNanos)) {
        *left_as = work_marks;
        return true;
      }
    } else {
      work_seen = false;
    }
    if (now >= (crowded ? crowded_deadline : deadline)) {
      // Waiters that processed its queues meanwhile will again: a thread
      // asleep would have to be woken for each of their requests.
      if (!crowded) return false;
      const uint64_t now_marks = ProcessedMarks(thread);
      if (now_marks == marks) return false;
      marks = now_marks;
      crowded_deadline =
          now + std::chrono::nanoseconds(kCrowdedDevicePollNanos);
    }
    // Then a yield: to that thread; at every turn while busy threads
    // outnumber the CPUs, as one of them then waits for a CPU; else every
    // kDeviceYieldIntervalNanos, to any thread that shares the CPU unseen (the
    // driver thread waiting for this device may be one, and must not wait for
    // the poll to time out).
    if (!waiter && !crowded && now < next_yield) continue;
    std::this_thread::yield();
    thread.seat.Take();
    next_yield =
        Clock::now() + std::chrono::nanoseconds(kDeviceYieldIntervalNanos);
  }
}

bool VirtioDeviceModel::HoldLocked(uint16_t queue, const Turn& turn) {
  QueueWork& work = work_[queue];
  // The backend's answer last: it reads the chain's guest memory, for every
  // chain a device thread pops.
  if (options_.notify_mode != NotifyMode::kThread ||
      options_.hold_posted_nanos == 0 || turn.waiter ||
      work.held_count == kMaxHeldChains || BusyThreadsOutnumberTheCpus() ||
      !backend_->MayHandleLater(work.chain)) {
    return false;
  }
  if (work.held_count == 0) {
    work.hold_until = std::chrono::steady_clock::now() +
                      std::chrono::nanoseconds(options_.hold_posted_nanos);
  }
  std::swap(work.chain, work.held[work.held_count++]);
  return true;
}

void VirtioDeviceModel::TakeHeldLocked(uint16_t queue) {
  QueueWork& work = work_[queue];
  if (work.overtaken) work.posted_chains_overtaken++;
  std::swap(work.chain, work.held[0]);
  for (uint8_t i = 1; i < work.held_count; ++i) {
    std::swap(work.held[i - 1], work.held[i]);
  }
  if (--work.held_count == 0) work.overtaken = false;
}

void VirtioDeviceModel::AwaitChainWhileHolding(uint16_t queue, uint64_t epoch) {
  using Clock = std::chrono::steady_clock;
  QueueWork& work = work_[queue];
  QueueHot& hot = hot_[queue];
  while (Clock::now() < work.hold_until) {
    for (int i = 0; i < 16; ++i) {
      if (AvailWord(hot) != hot.idle.load(std::memory_order_relaxed)) return;
      CpuRelax();
    }
    // The ring went (its held chains with it), or the thread is wanted.
    bool end = hot.watched_word.load(std::memory_order_relaxed) == nullptr ||
               epoch_.load(std::memory_order_relaxed) != epoch ||
               resets_waiting_.load(std::memory_order_relaxed) != 0 ||
               stopping_.load(std::memory_order_relaxed);
    for (uint16_t other : hot.thread->queues) {
      end = end || (other != queue && WorkPosted(hot_[other]));
    }
    if (end) work.hold_until = Clock::time_point();
  }
}

}  // namespace sim
