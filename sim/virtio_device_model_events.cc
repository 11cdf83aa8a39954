// VirtioDeviceModel: interrupts, the deferred delivery of callbacks,
// violations and counters.
#include <linux/virtio_config.h>

#include <algorithm>
#include <utility>
// The legacy part of <linux/virtio_ring.h> (vring_init) is C that C++ rejects.
#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_ring.h>

#include "sim/virtio_device_model.h"

namespace sim {

void VirtioDeviceModel::ActiveThreads::Enter() {
  ids_.push_back(std::this_thread::get_id());
}

void VirtioDeviceModel::ActiveThreads::Leave() {
  ids_.erase(std::find(ids_.begin(), ids_.end(), std::this_thread::get_id()));
}

bool VirtioDeviceModel::ActiveThreads::HasCaller() const {
  return std::find(ids_.begin(), ids_.end(), std::this_thread::get_id()) !=
         ids_.end();
}

bool VirtioDeviceModel::ActiveThreads::HasOthers() const {
  for (std::thread::id id : ids_) {
    if (id != std::this_thread::get_id()) return true;
  }
  return false;
}

uint8_t VirtioDeviceModel::ReadAndClearIsr() {
  std::lock_guard lock(mutex_);
  uint8_t isr = isr_;
  isr_ = 0;
  return isr;
}

uint8_t VirtioDeviceModel::ReadIsr() const {
  std::lock_guard lock(mutex_);
  return isr_;
}

void VirtioDeviceModel::AcknowledgeIsr(uint8_t bits) {
  std::lock_guard lock(mutex_);
  isr_ &= ~bits;
}

void VirtioDeviceModel::SetInterruptHandler(
    base::RegisterIo::InterruptHandler handler, void* context) {
  std::unique_lock<std::mutex> lock(handler_mutex_);
  handler_ = handler;
  handler_context_ = context;
  handler_idle_.wait(lock, [this] { return !handler_calls_.HasOthers(); });
}

void VirtioDeviceModel::RaiseLocked(uint8_t isr_bits) {
  isr_ |= isr_bits;
  counters_.interrupts++;
  deferred_.interrupt = true;
  has_deferred_.store(true, std::memory_order_relaxed);
}

void VirtioDeviceModel::DeliverDeferredWork() {
  Deferred deferred;
  {
    std::lock_guard lock(mutex_);
    std::swap(deferred, deferred_);
    has_deferred_.store(false, std::memory_order_relaxed);
  }
  if (options_.on_violation) {
    for (const ViolationRecord& record : deferred.violations)
      options_.on_violation(record);
  }
  if (!deferred.interrupt) return;
  base::RegisterIo::InterruptHandler handler;
  void* context;
  {
    std::lock_guard<std::mutex> lock(handler_mutex_);
    handler = handler_;
    context = handler_context_;
    if (handler == nullptr) return;
    handler_calls_.Enter();
  }
  handler(context);
  if (options_.after_interrupt) options_.after_interrupt();
  std::lock_guard<std::mutex> lock(handler_mutex_);
  handler_calls_.Leave();
  handler_idle_.notify_all();
}

void VirtioDeviceModel::ReportViolation(Violation violation,
                                        std::string message,
                                        std::optional<uint16_t> queue) {
  StateLock lock(*this);
  ViolateLocked({violation, std::move(message), queue});
}

bool VirtioDeviceModel::ViolateLocked(ViolationRecord record) {
  if (!options_.strict &&
      EnforcementOf(record.violation) == Enforcement::kStrict) {
    return false;
  }
  DisarmNotifiesLocked();
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

void VirtioDeviceModel::SetNeedsReset() {
  StateLock lock(*this);
  // A chain handled across a reset may ask for one after it: the reset already
  // discarded the state the request would have reset, and the driver's reset
  // waits for that chain, so it would see a fresh device claim a reset.
  if (status_ == 0) return;
  status_ |= VIRTIO_CONFIG_S_NEEDS_RESET;
  RaiseLocked(kIsrConfig);
}

std::vector<ViolationRecord> VirtioDeviceModel::violations() const {
  std::lock_guard lock(mutex_);
  return violations_;
}

void VirtioDeviceModel::ClearViolations() {
  std::lock_guard lock(mutex_);
  violations_.clear();
}

ModelCounters VirtioDeviceModel::counters() const {
  std::lock_guard lock(mutex_);
  ModelCounters counters = counters_;
  // Notifies are counted in notifications_ alone, not in counters_.
  counters.notifications = notifications_;
  for (uint16_t q = 0; q < queues_.size(); ++q) {
    const QueueWork& work = work_[q];
    std::lock_guard queue_lock(work.lock);
    counters.chains_popped += work.chains_popped;
    counters.chains_completed += work.chains_completed;
    counters.timed_chains += work.timed_chains;
    counters.timed_chain_nanos += work.timed_chain_nanos;
    counters.posted_chains_overtaken += work.posted_chains_overtaken;
  }
  return counters;
}

bool VirtioDeviceModel::queue_stopped(uint16_t queue) const {
  std::lock_guard lock(mutex_);
  return device_stopped_ || (QueueExists(queue) && queues_[queue].stopped);
}

}  // namespace sim
