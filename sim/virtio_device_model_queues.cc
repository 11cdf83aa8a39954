// VirtioDeviceModel: queue configuration, notifications, chain processing
// and completion.
#include <linux/virtio_config.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
// The legacy part of <linux/virtio_ring.h> (vring_init) is C that C++ rejects.
#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_ring.h>

#include "base/sampler.h"
#include "sim/virtio_device_model.h"

namespace sim {

uint32_t VirtioDeviceModel::ReadQueueField(uint32_t queue,
                                           QueueField field) const {
  std::lock_guard lock(mutex_);
  if (!QueueExists(queue)) return 0;
  const QueueState& state = queues_[queue];
  switch (field) {
    case QueueField::kSize:
      return state.layout.size;
    case QueueField::kDescLow:
      return static_cast<uint32_t>(state.layout.desc);
    case QueueField::kDescHigh:
      return static_cast<uint32_t>(state.layout.desc >> 32);
    case QueueField::kDriverLow:
      return static_cast<uint32_t>(state.layout.driver);
    case QueueField::kDriverHigh:
      return static_cast<uint32_t>(state.layout.driver >> 32);
    case QueueField::kDeviceLow:
      return static_cast<uint32_t>(state.layout.device);
    case QueueField::kDeviceHigh:
      return static_cast<uint32_t>(state.layout.device >> 32);
    case QueueField::kEnable:
      return state.enabled ? 1 : 0;
  }
  return 0;
}

void VirtioDeviceModel::WriteQueueField(uint32_t queue, QueueField field,
                                        uint32_t value) {
  StateLock lock(*this);
  if (!QueueExists(queue)) {
    ViolateLocked({Violation::kRegisterAccessInvalid,
                   "configuration write to queue " + std::to_string(queue) +
                       ", which does not exist (the device has " +
                       std::to_string(queues_.size()) + ")"});
  } else {
    DisarmNotifiesLocked();
    QueueState& state = queues_[queue];
    const uint16_t q = static_cast<uint16_t>(queue);
    // Queues are configured after the features, so the format is known.
    const bool packed =
        (driver_features_ & device_features_ & Bit(VIRTIO_F_RING_PACKED)) != 0;
    const auto set_half = [value](uint64_t& address, bool high) {
      if (high) {
        address = (address & 0xFFFFFFFFull) | (uint64_t{value} << 32);
      } else {
        address = (address & ~0xFFFFFFFFull) | value;
      }
    };
    if (field != QueueField::kEnable && state.enabled) {
      ViolateLocked({Violation::kQueueConfigWhileEnabled,
                     "queue configuration changed while the queue is enabled",
                     q});
    } else {
      switch (field) {
        case QueueField::kSize:
          if (!IsValidQueueSize(value, max_queue_size(), packed)) {
            ViolateLocked({Violation::kQueueSizeInvalid,
                           "queue size " + std::to_string(value) +
                               (packed ? " is not in [1, "
                                       : " is not a power of two in [1, ") +
                               std::to_string(max_queue_size()) + "]",
                           q});
          } else {
            state.layout.size = static_cast<uint16_t>(value);
          }
          break;
        case QueueField::kDescLow:
        case QueueField::kDescHigh:
          set_half(state.layout.desc, field == QueueField::kDescHigh);
          break;
        case QueueField::kDriverLow:
        case QueueField::kDriverHigh:
          set_half(state.layout.driver, field == QueueField::kDriverHigh);
          break;
        case QueueField::kDeviceLow:
        case QueueField::kDeviceHigh:
          set_half(state.layout.device, field == QueueField::kDeviceHigh);
          break;
        case QueueField::kEnable:
          if (value == 0) {
            state.enabled = false;
            StopWatchingLocked(q);
            state.ring.reset();
          } else if (!state.enabled && !state.stopped) {
            if (!(status_ & VIRTIO_CONFIG_S_FEATURES_OK) &&
                ViolateLocked(
                    {Violation::kQueueEnableBeforeFeaturesOk,
                     "queue enabled with status " + StatusText(status_), q})) {
              break;
            }
            if (auto bad = CheckQueueLayout(memory_, state.layout, packed)) {
              bad->queue = q;
              ViolateLocked(std::move(*bad));
              break;
            }
            const uint64_t features = driver_features_ & device_features_;
            state.ring = MakeDeviceQueue(
                memory_, q, state.layout,
                QueueFeatures{
                    .indirect_desc =
                        (features & Bit(VIRTIO_RING_F_INDIRECT_DESC)) != 0,
                    .event_idx = (features & Bit(VIRTIO_RING_F_EVENT_IDX)) != 0,
                    .packed = packed,
                    .strict = options_.strict});
            state.enabled = true;
            if (options_.notify_mode == NotifyMode::kThread) {
              state.ring->set_polled(true);
              hot_[q].watched_word.store(state.ring->avail_watch().word,
                                         std::memory_order_release);
            }
          }
          break;
      }
    }
  }
}

void VirtioDeviceModel::Notify(uint32_t queue) {
  if (queue < queues_.size() &&
      hot_[queue].notify_ready.load(std::memory_order_acquire)) {
    notifications_ += 1;
    Dispatch(static_cast<uint16_t>(queue));
    return;
  }
  bool dispatch = false;
  {
    StateLock lock(*this);
    if (!QueueExists(queue)) {
      ViolateLocked({Violation::kNotifyNonexistentQueue,
                     "notify for queue " + std::to_string(queue) +
                         "; the device has " + std::to_string(queues_.size())});
    } else if (!queues_[queue].enabled) {
      ViolateLocked({Violation::kNotifyQueueNotEnabled,
                     "notify for a queue that is not configured and enabled",
                     static_cast<uint16_t>(queue)});
    } else if (!(status_ & VIRTIO_CONFIG_S_DRIVER_OK)) {
      ViolateLocked({Violation::kNotifyBeforeDriverOk,
                     "notify with status " + StatusText(status_),
                     static_cast<uint16_t>(queue)});
    } else {
      notifications_ += 1;
      dispatch = active_;
      if (CanProcessLocked(static_cast<uint16_t>(queue))) {
        hot_[queue].notify_ready.store(true, std::memory_order_release);
      }
    }
  }
  if (dispatch) Dispatch(static_cast<uint16_t>(queue));
}

bool VirtioDeviceModel::CanProcessLocked(uint16_t queue) const {
  const QueueState& state = queues_[queue];
  return active_ && !device_stopped_ && !(status_ & VIRTIO_CONFIG_S_FAILED) &&
         state.enabled && !state.stopped && state.ring != nullptr;
}

bool VirtioDeviceModel::CompletableLocked(uint16_t queue) const {
  const QueueState& state = queues_[queue];
  return state.ring != nullptr && !state.stopped && !device_stopped_;
}

void VirtioDeviceModel::DisarmNotifiesLocked() {
  for (uint16_t q = 0; q < queues_.size(); ++q) {
    // Waits out a turn that found the queue armed.
    std::lock_guard lock(work_[q].lock);
    hot_[q].notify_ready.store(false, std::memory_order_relaxed);
  }
}

void VirtioDeviceModel::Dispatch(uint16_t queue) {
  if (options_.notify_mode == NotifyMode::kInline) {
    ProcessQueue(queue);
  } else {
    Post(queue);
  }
}

void VirtioDeviceModel::Post(uint16_t queue) {
  QueueHot& hot = hot_[queue];
  hot.posted.store(true, std::memory_order_seq_cst);
  // A polling thread sees `posted` by itself; only a sleeping one needs the
  // wake-up (and its system call).
  DeviceThread& thread = *hot.thread;
  if (thread.sleeping.load(std::memory_order_seq_cst)) {
    std::lock_guard<std::mutex> lock(thread.sleep_mutex);
    thread.wake.notify_one();
  }
}

WaiterHelp VirtioDeviceModel::ProcessForWaiter(uint16_t queue) {
  if (queue != base::Platform::kAnyQueue) {
    return queue < queues_.size() ? ProcessQueue(queue, /*waiter=*/true)
                                  : WaiterHelp::kNothing;
  }
  WaiterHelp help = WaiterHelp::kNothing;
  for (uint16_t q = 0; q < queues_.size(); ++q) {
    help = std::min(help, ProcessQueue(q, /*waiter=*/true));
  }
  return help;
}

WaiterHelp VirtioDeviceModel::ProcessQueue(uint16_t queue, bool waiter) {
  // Each turn completes the chain handled last and pops the next: under the
  // queue's lock alone while the queue is armed, else under mutex_ too. What
  // only mutex_'s holder may do (record a violation, raise an interrupt, wake
  // a waiting reset) is done after an armed turn, under mutex_.
  QueueWork& work = work_[queue];
  Turn turn;
  turn.waiter = waiter;
  bool handled_any = false;
  for (;;) {
    bool armed = false;
    TurnEnd end = TurnEnd::kStopped;
    {
      std::lock_guard lock(work.lock);
      if (hot_[queue].notify_ready.load(std::memory_order_acquire)) {
        armed = true;
        end = TurnLocked(queue, turn, /*model_locked=*/false);
      }
    }
    if (!armed || end == TurnEnd::kViolation || turn.interrupt_due ||
        resets_waiting_.load(std::memory_order_seq_cst) != 0) {
      StateLock lock(*this);
      if (!armed) {
        std::lock_guard queue_lock(work.lock);
        end = TurnLocked(queue, turn, /*model_locked=*/true);
      }
      // Unless a reset came between the turn and this lock.
      const bool current = turn.epoch == epoch_.load(std::memory_order_relaxed);
      if (end == TurnEnd::kViolation) {
        if (current) ViolateLocked(std::move(*turn.violation));
        turn.violation.reset();
        std::lock_guard queue_lock(work.lock);
        StopLocked(queue, /*model_locked=*/true);
        end = TurnEnd::kStopped;
      }
      if (turn.interrupt_due && current) RaiseLocked(kIsrQueue);
      turn.interrupt_due = false;
      if (resets_waiting_.load(std::memory_order_relaxed) != 0) {
        idle_.notify_all();
      }
    }
    if (end == TurnEnd::kHolding) {
      AwaitChainWhileHolding(queue, turn.epoch);
      continue;
    }
    if (handled_any && end != TurnEnd::kChain) return WaiterHelp::kProcessed;
    if (end == TurnEnd::kOtherCpu) return WaiterHelp::kBusyElsewhere;
    if (end != TurnEnd::kChain) return WaiterHelp::kNothing;
    turn.length = backend_->HandleChain(work.chain);
    handled_any = true;
    turn.handled = true;
  }
}

VirtioDeviceModel::TurnEnd VirtioDeviceModel::TurnLocked(uint16_t queue,
                                                         Turn& turn,
                                                         bool model_locked) {
  QueueWork& work = work_[queue];
  DescriptorChain& chain = work.chain;
  if (!turn.entered) {
    // One thread at a time walks a queue; a notify meanwhile makes it look
    // again.
    if (work.processing) {
      work.rerun = true;
      if (turn.waiter && work.waiter_cpu >= 0) {
        const int cpu = sched_getcpu();
        if (cpu >= 0 && cpu != work.waiter_cpu) return TurnEnd::kOtherCpu;
      }
      return TurnEnd::kOtherThread;
    }
    work.processing = true;
    work.waiter_cpu = turn.waiter ? sched_getcpu() : -1;
    turn.entered = true;
  }
  if (turn.handled) {
    work.handling = std::thread::id();
    if (turn.length.has_value() &&
        turn.epoch == epoch_.load(std::memory_order_relaxed)) {
      // An armed queue has its ring and is not stopped.
      if ((!model_locked || CompletableLocked(queue)) &&
          PushUsedLocked(queue, chain.head, *turn.length, /*notify=*/true)) {
        turn.interrupt_due = true;
      }
      if (turn.timed) {
        work.timed_chains++;
        work.timed_chain_nanos += static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::steady_clock::now() - turn.popped_at)
                .count());
      }
    }
    turn.handled = false;
  }
  turn.epoch = epoch_.load(std::memory_order_relaxed);
  if (model_locked) {
    if (!CanProcessLocked(queue)) {
      StopLocked(queue, model_locked);
      return TurnEnd::kStopped;
    }
    // Found processable, as a notify would have found it: the next turns
    // need not take mutex_ (the device threads' turns, which no notify arms).
    hot_[queue].notify_ready.store(true, std::memory_order_release);
  }
  DeviceQueue* ring = queues_[queue].ring.get();
  // The chain's place in its queue's order; none for a held chain: no driver
  // waits for it, so none times it.
  std::optional<uint16_t> place;
  for (;;) {
    // The chain that overtook the held ones has been completed.
    if (work.overtaken) {
      TakeHeldLocked(queue);
      break;
    }
    const uint16_t taken = ring->chains_taken();
    ViolationRecord violation;
    const DeviceQueue::PopStatus status = ring->Pop(&chain, &violation);
    if (status == DeviceQueue::PopStatus::kViolation) {
      turn.violation = std::move(violation);
      return TurnEnd::kViolation;
    }
    if (status == DeviceQueue::PopStatus::kChain) {
      work.chains_popped++;
      if (HoldLocked(queue, turn)) continue;
      place = taken;
      work.overtaken = work.held_count > 0;
      break;
    }
    if (work.rerun) {
      work.rerun = false;
      continue;
    }
    if (work.held_count == 0) {
      StopLocked(queue, model_locked);
      return TurnEnd::kStopped;
    }
    if (!turn.waiter && std::chrono::steady_clock::now() < work.hold_until) {
      RecordPoppedLocked(queue, model_locked);
      return TurnEnd::kHolding;
    }
    TakeHeldLocked(queue);
    break;
  }
  turn.timed = place && chain.writable_bytes > base::kMaxUntimedWritableBytes &&
               base::IsSampledPlace<kChainTimeSampling>(*place);
  if (turn.timed) turn.popped_at = std::chrono::steady_clock::now();
  work.handling = std::this_thread::get_id();
  return TurnEnd::kChain;
}

void VirtioDeviceModel::StopLocked(uint16_t queue, bool model_locked) {
  QueueWork& work = work_[queue];
  work.processing = false;
  work.rerun = false;
  RecordPoppedLocked(queue, model_locked);
}

bool VirtioDeviceModel::PushUsedLocked(uint16_t queue, uint16_t head,
                                       uint32_t length, bool notify) {
  DeviceQueue& ring = *queues_[queue].ring;
  if (!ring.PushUsed(head, length)) return false;
  work_[queue].chains_completed++;
  return notify && ring.TakeInterruptDue();
}

void VirtioDeviceModel::CompleteLocked(uint16_t queue, uint16_t head,
                                       uint32_t length, bool notify) {
  if (!QueueExists(queue) || !CompletableLocked(queue)) return;
  bool interrupt_due;
  {
    std::lock_guard lock(work_[queue].lock);
    interrupt_due = PushUsedLocked(queue, head, length, notify);
  }
  if (interrupt_due) RaiseLocked(kIsrQueue);
}

void VirtioDeviceModel::Complete(uint16_t queue, uint16_t head,
                                 uint32_t used_length) {
  StateLock lock(*this);
  CompleteLocked(queue, head, used_length);
}

void VirtioDeviceModel::CompleteWithoutNotification(uint16_t queue,
                                                    uint16_t head,
                                                    uint32_t used_length) {
  StateLock lock(*this);
  CompleteLocked(queue, head, used_length, /*notify=*/false);
}

}  // namespace sim
