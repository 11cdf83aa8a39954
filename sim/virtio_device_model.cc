// VirtioDeviceModel: identity, features, the status state machine, reset and
// the device configuration space.
#include "sim/virtio_device_model.h"

#include <linux/virtio_config.h>
// The legacy part of <linux/virtio_ring.h> (vring_init) is C that C++ rejects.
#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_ring.h>

#include <cstdio>
#include <string>
#include <utility>

namespace sim {
namespace {

uint16_t RoundDownToPowerOfTwo(uint32_t value) {
  uint32_t power = 1;
  while (power * 2 <= value) power *= 2;
  return static_cast<uint16_t>(power);
}

}  // namespace

std::string VirtioDeviceModel::StatusText(uint8_t status) {
  char text[8];
  snprintf(text, sizeof(text), "0x%02x", status);
  return text;
}

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
          (options_.offer_event_idx ? Bit(VIRTIO_RING_F_EVENT_IDX) : 0) |
          (options_.offer_packed_ring ? Bit(VIRTIO_F_RING_PACKED) : 0)),
      hot_(std::make_unique<QueueHot[]>(backend_->num_queues())),
      work_(std::make_unique<QueueWork[]>(backend_->num_queues())) {
  queues_.resize(backend_->num_queues());
  for (QueueState& queue : queues_) queue.layout.size = max_queue_size();
  if (options_.notify_mode == NotifyMode::kThread) {
    std::vector<DeviceThread*> thread_of(queues_.size(), nullptr);
    for (uint16_t q = 0; q < queues_.size(); ++q) {
      uint16_t host = backend_->ThreadQueue(q);
      // Only a queue on a thread of its own takes others.
      if (host >= queues_.size() || backend_->ThreadQueue(host) != host) {
        host = q;
      }
      DeviceThread*& thread = thread_of[host];
      if (thread == nullptr) {
        thread = threads_.emplace_back(std::make_unique<DeviceThread>()).get();
      }
      thread->queues.push_back(q);
      hot_[q].thread = thread;
    }
    for (const std::unique_ptr<DeviceThread>& thread : threads_) {
      thread->thread =
          std::thread([this, &t = *thread] { DeviceThreadMain(t); });
    }
  }
}

VirtioDeviceModel::~VirtioDeviceModel() {
  stopping_.store(true, std::memory_order_seq_cst);
  for (const std::unique_ptr<DeviceThread>& thread : threads_) {
    {
      std::lock_guard<std::mutex> lock(thread->sleep_mutex);
      thread->wake.notify_all();
    }
    thread->thread.join();
  }
  backend_->Reset();
}

uint32_t VirtioDeviceModel::device_id() const { return backend_->device_id(); }

uint16_t VirtioDeviceModel::num_queues() const {
  return static_cast<uint16_t>(queues_.size());
}

uint16_t VirtioDeviceModel::max_queue_size() const {
  uint32_t size = backend_->max_queue_size();
  if (size > kMaxQueueSize) size = kMaxQueueSize;
  if (size == 0) size = 1;
  return RoundDownToPowerOfTwo(size);
}

uint32_t VirtioDeviceModel::ReadDeviceFeatures(uint32_t select) const {
  if (select > 1) return 0;
  return static_cast<uint32_t>(device_features_ >> (32 * select));
}

uint32_t VirtioDeviceModel::ReadDriverFeatures(uint32_t select) const {
  std::lock_guard lock(mutex_);
  if (select > 1) return 0;
  return static_cast<uint32_t>(driver_features_ >> (32 * select));
}

uint64_t VirtioDeviceModel::driver_features() const {
  std::lock_guard lock(mutex_);
  return driver_features_;
}

void VirtioDeviceModel::WriteDriverFeatures(uint32_t select, uint32_t value) {
  StateLock lock(*this);
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

uint8_t VirtioDeviceModel::ReadStatus() const {
  std::lock_guard lock(mutex_);
  return status_;
}

void VirtioDeviceModel::WriteStatus(uint8_t value) {
  if (value == 0) {
    {
      StateLock lock(*this);
      ResetLocked();
      // A chain popped before the reset must not reach the backend after its
      // Reset(); but a reset from inside a chain's handling (an interrupt
      // handler's) must not wait for itself.
      if (!CallerHandlingLocked()) {
        resets_waiting_++;
        idle_.wait(lock.lock(), [this] { return !OthersHandlingLocked(); });
        resets_waiting_--;
      }
    }
    backend_->Reset();
    return;
  }
  bool activate = false;
  {
    StateLock lock(*this);
    DisarmNotifiesLocked();
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
  if (activate) Activate();
}

bool VirtioDeviceModel::OthersHandlingLocked() const {
  for (uint16_t q = 0; q < queues_.size(); ++q) {
    std::lock_guard lock(work_[q].lock);
    const std::thread::id id = work_[q].handling;
    if (id != std::thread::id() && id != std::this_thread::get_id()) {
      return true;
    }
  }
  return false;
}

bool VirtioDeviceModel::CallerHandlingLocked() const {
  for (uint16_t q = 0; q < queues_.size(); ++q) {
    std::lock_guard lock(work_[q].lock);
    if (work_[q].handling == std::this_thread::get_id()) return true;
  }
  return false;
}

void VirtioDeviceModel::Activate() {
  uint64_t features;
  uint64_t epoch;
  {
    std::lock_guard lock(mutex_);
    features = driver_features_ & device_features_;
    epoch = epoch_;
  }
  backend_->Activate(features, *this);
  std::vector<uint16_t> to_process;
  {
    std::lock_guard lock(mutex_);
    if (epoch != epoch_ || device_stopped_) return;
    active_ = true;
    // Buffers made available before DRIVER_OK may be consumed now.
    for (uint16_t q = 0; q < queues_.size(); ++q) {
      if (!queues_[q].enabled) continue;
      if (options_.notify_mode == NotifyMode::kThread) {
        Post(q);
      } else {
        to_process.push_back(q);
      }
    }
  }
  for (uint16_t q : to_process) ProcessQueue(q);
}

void VirtioDeviceModel::ResetLocked() {
  // First, so that no turn under a queue's lock alone sees what follows.
  DisarmNotifiesLocked();
  epoch_.fetch_add(1, std::memory_order_relaxed);
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
    StopWatchingLocked(static_cast<uint16_t>(q));
    queues_[q].ring.reset();
  }
}

uint32_t VirtioDeviceModel::config_size() const {
  return backend_->config_size();
}

uint8_t VirtioDeviceModel::config_generation() const {
  std::lock_guard lock(mutex_);
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
  StateLock lock(*this);
  config_generation_++;
  RaiseLocked(kIsrConfig);
}

}  // namespace sim
