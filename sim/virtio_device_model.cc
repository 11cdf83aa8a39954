#include "sim/virtio_device_model.h"

#include <linux/virtio_config.h>
// The legacy part of <linux/virtio_ring.h> (vring_init) is C that C++ rejects.
#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_ring.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <utility>

namespace sim {
namespace {

constexpr uint64_t Bit(unsigned n) { return uint64_t{1} << n; }

// HandleChain calls on this thread; a reset issued from inside one (through an
// interrupt handler) must not wait for itself.
thread_local int t_handle_chain_depth = 0;

uint16_t RoundDownToPowerOfTwo(uint32_t value) {
  uint32_t power = 1;
  while (power * 2 <= value) power *= 2;
  return static_cast<uint16_t>(power);
}

std::string StatusText(uint8_t status) {
  char text[8];
  snprintf(text, sizeof(text), "0x%02x", status);
  return text;
}

}  // namespace

VirtioDeviceModel::VirtioDeviceModel(const GuestMemory& memory,
                                     std::unique_ptr<DeviceBackend> backend,
                                     ModelOptions options)
    : memory_(memory),
      backend_(std::move(backend)),
      options_(std::move(options)),
      device_features_(
          backend_->device_features() | Bit(VIRTIO_F_VERSION_1) |
          (options_.offer_indirect_desc ? Bit(VIRTIO_RING_F_INDIRECT_DESC)
                                        : 0) |
          (options_.offer_event_idx ? Bit(VIRTIO_RING_F_EVENT_IDX) : 0)) {
  queues_.resize(backend_->num_queues());
  for (QueueState& queue : queues_) queue.layout.size = max_queue_size();
  processing_.assign(queues_.size(), false);
  rerun_.assign(queues_.size(), false);
  pending_.assign(queues_.size(), false);
  chains_.resize(queues_.size());
  if (options_.notify_mode == NotifyMode::kThread) {
    thread_ = std::thread([this] { DeviceThreadMain(); });
  }
}

VirtioDeviceModel::~VirtioDeviceModel() {
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      work_posted_.store(true, std::memory_order_release);
    }
    work_.notify_all();
    thread_.join();
  }
  backend_->Reset();
}

uint32_t VirtioDeviceModel::device_id() const { return backend_->device_id(); }

uint16_t VirtioDeviceModel::num_queues() const {
  return static_cast<uint16_t>(queues_.size());
}

uint16_t VirtioDeviceModel::max_queue_size() const {
  uint32_t size = backend_->max_queue_size();
  if (size > kMaxSplitQueueSize) size = kMaxSplitQueueSize;
  if (size == 0) size = 1;
  return RoundDownToPowerOfTwo(size);
}

uint32_t VirtioDeviceModel::ReadDeviceFeatures(uint32_t select) const {
  if (select > 1) return 0;
  return static_cast<uint32_t>(device_features_ >> (32 * select));
}

uint32_t VirtioDeviceModel::ReadDriverFeatures(uint32_t select) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (select > 1) return 0;
  return static_cast<uint32_t>(driver_features_ >> (32 * select));
}

uint64_t VirtioDeviceModel::driver_features() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return driver_features_;
}

void VirtioDeviceModel::WriteDriverFeatures(uint32_t select, uint32_t value) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (status_ & VIRTIO_CONFIG_S_FEATURES_OK) {
      // The features are fixed once FEATURES_OK is set: the write is dropped in
      // any mode.
      ViolateLocked({Violation::kFeaturesAfterFeaturesOk,
                     "driver features word " + std::to_string(select) +
                         " written (" + std::to_string(value) +
                         ") after FEATURES_OK"});
    } else if (select <= 1) {
      uint64_t mask = uint64_t{0xFFFFFFFF} << (32 * select);
      driver_features_ =
          (driver_features_ & ~mask) | (uint64_t{value} << (32 * select));
    } else if (value != 0) {
      driver_features_unsupported_ = true;
    }
  }
  DeliverDeferred();
}

uint8_t VirtioDeviceModel::ReadStatus() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return status_;
}

void VirtioDeviceModel::WriteStatus(uint8_t value) {
  if (value == 0) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ResetLocked();
      // A chain popped before the reset must not reach the backend after its
      // Reset().
      if (t_handle_chain_depth == 0) {
        idle_.wait(lock, [this] { return busy_handlers_ == 0; });
      }
    }
    backend_->Reset();
    return;
  }
  bool activate = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (device_stopped_) {
      // Only FAILED is taken until the driver resets the device.
      status_ |= value & VIRTIO_CONFIG_S_FAILED;
    } else {
      // NEEDS_RESET belongs to the device: the driver can neither set nor clear
      // it.
      const uint8_t old = status_ & ~VIRTIO_CONFIG_S_NEEDS_RESET;
      uint8_t requested = value & ~VIRTIO_CONFIG_S_NEEDS_RESET;
      const uint8_t added = requested & ~old;
      const std::string change =
          StatusText(old) + " -> " + StatusText(requested);
      bool broken = false;
      if (old & ~requested) {
        broken |=
            ViolateLocked({Violation::kStatusBitCleared,
                           "status bits cleared without a reset: " + change});
      }
      if ((added & VIRTIO_CONFIG_S_DRIVER) &&
          !(requested & VIRTIO_CONFIG_S_ACKNOWLEDGE)) {
        broken |= ViolateLocked({Violation::kStatusDriverBeforeAcknowledge,
                                 "DRIVER set without ACKNOWLEDGE: " + change});
      }
      if ((added & VIRTIO_CONFIG_S_FEATURES_OK) &&
          !(requested & VIRTIO_CONFIG_S_DRIVER)) {
        broken |= ViolateLocked({Violation::kStatusFeaturesOkBeforeDriver,
                                 "FEATURES_OK set without DRIVER: " + change});
      }
      if ((added & VIRTIO_CONFIG_S_DRIVER_OK) &&
          !(requested & VIRTIO_CONFIG_S_FEATURES_OK)) {
        broken |=
            ViolateLocked({Violation::kStatusDriverOkBeforeFeaturesOk,
                           "DRIVER_OK set without FEATURES_OK: " + change});
      }
      if (!broken && (added & VIRTIO_CONFIG_S_FEATURES_OK)) {
        // Spec 3.1.1: the device leaves FEATURES_OK clear when it cannot take
        // the features; the driver reads status back to find out. Done in every
        // mode.
        const uint64_t extra = driver_features_ & ~device_features_;
        if (extra != 0 || driver_features_unsupported_) {
          requested &= ~VIRTIO_CONFIG_S_FEATURES_OK;
          char text[96];
          snprintf(text, sizeof(text),
                   "driver features 0x%llx include 0x%llx not offered",
                   static_cast<unsigned long long>(driver_features_),
                   static_cast<unsigned long long>(extra));
          ViolateLocked({Violation::kFeaturesNotSubset,
                         std::string(text) + (driver_features_unsupported_
                                                  ? " (and bits above 63)"
                                                  : "")});
        } else if (!(driver_features_ & Bit(VIRTIO_F_VERSION_1))) {
          requested &= ~VIRTIO_CONFIG_S_FEATURES_OK;
          ViolateLocked(
              {Violation::kVersion1NotAccepted,
               "FEATURES_OK without VIRTIO_F_VERSION_1: this device is "
               "modern only"});
        }
      }
      if (!broken) {
        status_ = requested | (status_ & VIRTIO_CONFIG_S_NEEDS_RESET);
        activate =
            (added & VIRTIO_CONFIG_S_DRIVER_OK) && !device_stopped_ && !active_;
      }
    }
  }
  DeliverDeferred();
  if (activate) Activate();
}

void VirtioDeviceModel::Activate() {
  uint64_t features;
  uint64_t epoch;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    features = driver_features_ & device_features_;
    epoch = epoch_;
  }
  backend_->Activate(features, *this);
  std::vector<uint16_t> to_process;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (epoch != epoch_ || device_stopped_) return;
    active_ = true;
    // Buffers made available before DRIVER_OK may be consumed now.
    for (uint16_t q = 0; q < queues_.size(); ++q) {
      if (!queues_[q].enabled) continue;
      if (options_.notify_mode == NotifyMode::kThread) {
        ScheduleLocked(q);
      } else {
        to_process.push_back(q);
      }
    }
  }
  for (uint16_t q : to_process) ProcessQueue(q);
}

void VirtioDeviceModel::ResetLocked() {
  epoch_++;
  counters_.resets++;
  driver_features_ = 0;
  driver_features_unsupported_ = false;
  status_ = 0;
  device_stopped_ = false;
  active_ = false;
  isr_ = 0;
  for (size_t q = 0; q < queues_.size(); ++q) {
    queues_[q].layout = QueueLayout{.size = max_queue_size()};
    queues_[q].enabled = false;
    queues_[q].stopped = false;
    queues_[q].ring.reset();
    pending_[q] = false;
  }
}

uint32_t VirtioDeviceModel::ReadQueueField(uint32_t queue,
                                           QueueField field) const {
  std::lock_guard<std::mutex> lock(mutex_);
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
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!QueueExists(queue)) {
      ViolateLocked({Violation::kRegisterAccessInvalid,
                     "configuration write to queue " + std::to_string(queue) +
                         ", which does not exist (the device has " +
                         std::to_string(queues_.size()) + ")"});
    } else {
      QueueState& state = queues_[queue];
      const uint16_t q = static_cast<uint16_t>(queue);
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
            if (!IsValidQueueSize(value, max_queue_size())) {
              ViolateLocked({Violation::kQueueSizeInvalid,
                             "queue size " + std::to_string(value) +
                                 " is not a power of two in [1, " +
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
              state.ring.reset();
            } else if (!state.enabled && !state.stopped) {
              if (!(status_ & VIRTIO_CONFIG_S_FEATURES_OK) &&
                  ViolateLocked(
                      {Violation::kQueueEnableBeforeFeaturesOk,
                       "queue enabled with status " + StatusText(status_),
                       q})) {
                break;
              }
              if (auto bad = CheckQueueLayout(memory_, state.layout)) {
                bad->queue = q;
                ViolateLocked(std::move(*bad));
                break;
              }
              const uint64_t features = driver_features_ & device_features_;
              state.ring.emplace(
                  memory_, q, state.layout,
                  QueueFeatures{
                      .indirect_desc =
                          (features & Bit(VIRTIO_RING_F_INDIRECT_DESC)) != 0,
                      .event_idx =
                          (features & Bit(VIRTIO_RING_F_EVENT_IDX)) != 0,
                      .strict = options_.strict});
              state.enabled = true;
            }
            break;
        }
      }
    }
  }
  DeliverDeferred();
}

void VirtioDeviceModel::Notify(uint32_t queue) {
  bool process_here = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
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
      counters_.notifications++;
      if (active_) {
        if (options_.notify_mode == NotifyMode::kInline) {
          process_here = true;
        } else {
          ScheduleLocked(static_cast<uint16_t>(queue));
        }
      }
    }
  }
  DeliverDeferred();
  if (process_here) ProcessQueue(static_cast<uint16_t>(queue));
}

bool VirtioDeviceModel::CanProcessLocked(uint16_t queue) const {
  const QueueState& state = queues_[queue];
  return active_ && !device_stopped_ && !(status_ & VIRTIO_CONFIG_S_FAILED) &&
         state.enabled && !state.stopped && state.ring.has_value();
}

void VirtioDeviceModel::ScheduleLocked(uint16_t queue) {
  pending_[queue] = true;
  work_posted_.store(true, std::memory_order_release);
  // A polling thread sees work_posted_ by itself; only a sleeping one needs
  // the wake-up (and its system call).
  if (thread_sleeping_) work_.notify_one();
}

void VirtioDeviceModel::ProcessQueue(uint16_t queue) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // One thread at a time walks a queue; a notify meanwhile makes it look
    // again.
    if (processing_[queue]) {
      rerun_[queue] = true;
      return;
    }
    processing_[queue] = true;
  }
  // This thread alone walks the queue now; its chain's vectors keep their
  // capacity from one request to the next.
  DescriptorChain& chain = chains_[queue];
  for (;;) {
    uint64_t epoch;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const auto stop = [&] {
        processing_[queue] = false;
        rerun_[queue] = false;
      };
      if (!CanProcessLocked(queue)) {
        stop();
        break;
      }
      ViolationRecord violation;
      DeviceQueue::PopStatus status =
          queues_[queue].ring->Pop(&chain, &violation);
      if (status == DeviceQueue::PopStatus::kViolation) {
        ViolateLocked(std::move(violation));
        stop();
        break;
      }
      if (status == DeviceQueue::PopStatus::kEmpty) {
        if (rerun_[queue]) {
          rerun_[queue] = false;
          continue;
        }
        stop();
        break;
      }
      counters_.chains_popped++;
      busy_handlers_++;
      epoch = epoch_;
    }
    t_handle_chain_depth++;
    std::optional<uint32_t> length = backend_->HandleChain(chain);
    t_handle_chain_depth--;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--busy_handlers_ == 0) idle_.notify_all();
      if (length.has_value() && epoch == epoch_) {
        CompleteLocked(queue, chain.head, *length);
      }
    }
    DeliverDeferred();
  }
  DeliverDeferred();
}

void VirtioDeviceModel::CompleteLocked(uint16_t queue, uint16_t head,
                                       uint32_t length) {
  if (!QueueExists(queue)) return;
  QueueState& state = queues_[queue];
  if (!state.ring.has_value() || state.stopped || device_stopped_) return;
  if (!state.ring->PushUsed(head, length)) return;
  counters_.chains_completed++;
  if (state.ring->TakeInterruptDue()) RaiseLocked(kIsrQueue);
}

void VirtioDeviceModel::Complete(uint16_t queue, uint16_t head,
                                 uint32_t used_length) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    CompleteLocked(queue, head, used_length);
  }
  DeliverDeferred();
}

uint8_t VirtioDeviceModel::ReadAndClearIsr() {
  std::lock_guard<std::mutex> lock(mutex_);
  uint8_t isr = isr_;
  isr_ = 0;
  return isr;
}

uint8_t VirtioDeviceModel::ReadIsr() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return isr_;
}

void VirtioDeviceModel::AcknowledgeIsr(uint8_t bits) {
  std::lock_guard<std::mutex> lock(mutex_);
  isr_ &= ~bits;
}

void VirtioDeviceModel::SetInterruptHandler(
    base::RegisterIo::InterruptHandler handler, void* context) {
  std::lock_guard<std::recursive_mutex> lock(handler_mutex_);
  handler_ = handler;
  handler_context_ = context;
}

void VirtioDeviceModel::RaiseLocked(uint8_t isr_bits) {
  isr_ |= isr_bits;
  counters_.interrupts++;
  deferred_.interrupt = true;
  has_deferred_.store(true, std::memory_order_relaxed);
}

void VirtioDeviceModel::DeliverDeferred() {
  // Most calls find nothing to deliver: skip the lock then. Whoever deferred
  // something set the flag under the lock and calls this afterwards, so it
  // sees its own store (or another thread has delivered the work already).
  if (!has_deferred_.load(std::memory_order_relaxed)) return;
  Deferred deferred;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    std::swap(deferred, deferred_);
    has_deferred_.store(false, std::memory_order_relaxed);
  }
  if (options_.on_violation) {
    for (const ViolationRecord& record : deferred.violations)
      options_.on_violation(record);
  }
  if (deferred.interrupt) {
    std::lock_guard<std::recursive_mutex> lock(handler_mutex_);
    if (handler_ != nullptr) handler_(handler_context_);
  }
}

uint32_t VirtioDeviceModel::config_size() const {
  return backend_->config_size();
}

uint8_t VirtioDeviceModel::config_generation() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return config_generation_;
}

uint32_t VirtioDeviceModel::ReadConfig(uint32_t offset, unsigned width) {
  const uint32_t size = backend_->config_size();
  if ((width != 1 && width != 2 && width != 4) || offset % width != 0) {
    ReportViolation(Violation::kRegisterAccessInvalid,
                    "device configuration read of width " +
                        std::to_string(width) + " at offset " +
                        std::to_string(offset));
    return 0;
  }
  if (offset > size || width > size - offset) {
    ReportViolation(Violation::kConfigAccessOutOfRange,
                    "device configuration read of " + std::to_string(width) +
                        " bytes at offset " + std::to_string(offset) +
                        "; size is " + std::to_string(size));
    return 0;
  }
  uint32_t value = 0;  // Little endian, as virtio 1.x configuration space is.
  backend_->ReadConfig(offset, &value, width);
  return value;
}

void VirtioDeviceModel::WriteConfig(uint32_t offset, unsigned width,
                                    uint32_t value) {
  const uint32_t size = backend_->config_size();
  if ((width != 1 && width != 2 && width != 4) || offset % width != 0) {
    ReportViolation(Violation::kRegisterAccessInvalid,
                    "device configuration write of width " +
                        std::to_string(width) + " at offset " +
                        std::to_string(offset));
    return;
  }
  if (offset > size || width > size - offset) {
    ReportViolation(Violation::kConfigAccessOutOfRange,
                    "device configuration write of " + std::to_string(width) +
                        " bytes at offset " + std::to_string(offset) +
                        "; size is " + std::to_string(size));
    return;
  }
  backend_->WriteConfig(offset, &value, width);
}

void VirtioDeviceModel::NotifyConfigChanged() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    config_generation_++;
    RaiseLocked(kIsrConfig);
  }
  DeliverDeferred();
}

void VirtioDeviceModel::ReportViolation(Violation violation,
                                        std::string message,
                                        std::optional<uint16_t> queue) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ViolateLocked({violation, std::move(message), queue});
  }
  DeliverDeferred();
}

bool VirtioDeviceModel::ViolateLocked(ViolationRecord record) {
  if (!options_.strict &&
      EnforcementOf(record.violation) == Enforcement::kStrict) {
    return false;
  }
  if (IsDeviceWide(record.violation) || !record.queue.has_value() ||
      !QueueExists(*record.queue)) {
    device_stopped_ = true;
  } else {
    queues_[*record.queue].stopped = true;
  }
  status_ |= VIRTIO_CONFIG_S_NEEDS_RESET;
  RaiseLocked(kIsrConfig);
  violations_.push_back(record);
  deferred_.violations.push_back(std::move(record));
  has_deferred_.store(true, std::memory_order_relaxed);
  return true;
}

std::vector<ViolationRecord> VirtioDeviceModel::violations() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return violations_;
}

void VirtioDeviceModel::ClearViolations() {
  std::lock_guard<std::mutex> lock(mutex_);
  violations_.clear();
}

ModelCounters VirtioDeviceModel::counters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return counters_;
}

bool VirtioDeviceModel::queue_stopped(uint16_t queue) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return device_stopped_ || (QueueExists(queue) && queues_[queue].stopped);
}

void VirtioDeviceModel::DeviceThreadMain() {
  std::vector<uint16_t> ready;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      const auto has_work = [&] {
        if (stopping_) return true;
        for (bool pending : pending_) {
          if (pending) return true;
        }
        return false;
      };
      if (!has_work()) {
        // Polled for kDevicePollNanos and nothing came: block. A notify
        // from here on sees thread_sleeping_ and wakes the thread.
        thread_sleeping_ = true;
        work_.wait(lock, has_work);
        thread_sleeping_ = false;
      }
      if (stopping_) return;
      work_posted_.store(false, std::memory_order_relaxed);
      ready.clear();
      for (uint16_t q = 0; q < pending_.size(); ++q) {
        if (pending_[q]) {
          pending_[q] = false;
          ready.push_back(q);
        }
      }
    }
    for (uint16_t q : ready) ProcessQueue(q);
    PollForWork();
  }
}

void VirtioDeviceModel::PollForWork() {
  const auto now = [] { return std::chrono::steady_clock::now(); };
  const auto deadline = now() + std::chrono::nanoseconds(kDevicePollNanos);
  for (;;) {
    // About a microsecond and a half of pauses, watching for a notify...
    for (int i = 0; i < 64; ++i) {
      if (work_posted_.load(std::memory_order_acquire)) return;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    if (now() >= deadline) return;
    // ... then a yield: on a busy machine the driver thread waiting for this
    // device may share its core, and must not wait for the poll to time out.
    std::this_thread::yield();
  }
}

}  // namespace sim
