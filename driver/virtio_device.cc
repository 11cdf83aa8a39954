#include "driver/virtio_device.h"

#include <new>

#include "base/format.h"
#include "driver/packed_queue.h"
#include "driver/split_queue.h"

namespace driver {
namespace {

// Transport-reserved feature bits (VIRTIO_TRANSPORT_F_START .. _END): only
// those the driver implements may be accepted, whatever the caller asks for.
constexpr uint64_t TransportFeatureMask() {
  uint64_t mask = 0;
  for (unsigned bit = VIRTIO_TRANSPORT_F_START; bit < VIRTIO_TRANSPORT_F_END;
       ++bit) {
    mask |= FeatureBit(bit);
  }
  return mask;
}

uint16_t RoundDownToPowerOfTwo(uint16_t n) {
  uint16_t power = 1;
  while (power <= n / 2) power *= 2;
  return power;
}

// How often WaitForUsed looks at the status register: a register read can be a
// VM exit.
constexpr uint32_t kSpinsPerStatusCheck = 1024;

}  // namespace

VirtioDevice::VirtioDevice(base::Platform& platform,
                           std::unique_ptr<Transport> transport)
    : platform_(platform), transport_(std::move(transport)) {}

VirtioDevice::~VirtioDevice() { Shutdown(); }

base::Result<void> VirtioDevice::Initialize(uint64_t wanted_features,
                                            std::span<const QueueSpec> queues,
                                            ConfigCallback on_config_change,
                                            void* config_context) {
  TRY(BeginInitialize(wanted_features));
  return FinishInitialize(queues, on_config_change, config_context);
}

base::Result<void> VirtioDevice::BeginInitialize(uint64_t wanted_features) {
  if (!StopAndFreeRings(nullptr, nullptr)) return base::Error{ETIMEDOUT};
  wanted_features_ = wanted_features;
  return NegotiateFeatures();
}

base::Result<void> VirtioDevice::FinishInitialize(
    std::span<const QueueSpec> queues, ConfigCallback on_config_change,
    void* config_context) {
  if (!features_ok_ || live_) return base::Error{EINVAL};
  specs_.assign(queues.begin(), queues.end());
  on_config_change_ = on_config_change;
  config_context_ = config_context;
  queues_.clear();  // All released: the device was reset before negotiation.
  return StartQueues();
}

base::Result<void> VirtioDevice::Reinitialize(Virtqueue::AbandonFn abandoned,
                                              void* context) {
  if (!StopAndFreeRings(abandoned, context)) return base::Error{ETIMEDOUT};
  TRY(NegotiateFeatures());
  return StartQueues();
}

void VirtioDevice::Shutdown(Virtqueue::AbandonFn abandoned, void* context) {
  (void)StopAndFreeRings(abandoned, context);
}

bool VirtioDevice::StopAndFreeRings(Virtqueue::AbandonFn abandoned,
                                    void* context) {
  live_ = false;
  features_ok_ = false;
  status_ = 0;
  if (handler_installed_) {
    // Waits for a running handler: none runs after this returns.
    transport_->io().SetInterruptHandler(nullptr, nullptr);
    handler_installed_ = false;
  }
  if (!transport_->Reset().ok()) {
    // The device may still write to the rings; giving their memory back could
    // let it corrupt whatever reuses it. Keep it (and the tokens) and stay
    // broken.
    for (auto& queue : queues_) queue->MarkBroken();
    return false;
  }
  for (auto& queue : queues_) queue->FreeRings(abandoned, context);
  return true;
}

base::Error VirtioDevice::Fail(int error, const char* why) {
  base::Logf(platform_, base::LogLevel::kError, "virtio-%s: device %u: %s",
             transport_->name(), transport_->device_id(), why);
  // As Linux does: what the device shows, plus FAILED.
  status_ = transport_->ReadStatus() | VIRTIO_CONFIG_S_FAILED;
  transport_->WriteStatus(status_);
  for (auto& queue : queues_) queue->MarkBroken();
  return base::Error{error};
}

base::Result<void> VirtioDevice::NegotiateFeatures() {
  needs_reset_.store(false, std::memory_order_release);
  status_ = VIRTIO_CONFIG_S_ACKNOWLEDGE;
  transport_->WriteStatus(status_);
  status_ |= VIRTIO_CONFIG_S_DRIVER;
  transport_->WriteStatus(status_);
  const uint64_t offered = transport_->ReadDeviceFeatures();
  if ((offered & FeatureBit(VIRTIO_F_VERSION_1)) == 0) {
    return Fail(ENODEV,
                "device does not offer VIRTIO_F_VERSION_1 (legacy only)");
  }
  const uint64_t implemented =
      ~TransportFeatureMask() | kDriverTransportFeatures;
  features_ = (wanted_features_ & offered & implemented) |
              FeatureBit(VIRTIO_F_VERSION_1);
  transport_->WriteDriverFeatures(features_);
  status_ |= VIRTIO_CONFIG_S_FEATURES_OK;
  transport_->WriteStatus(status_);
  if ((transport_->ReadStatus() & VIRTIO_CONFIG_S_FEATURES_OK) == 0) {
    return Fail(
        ENODEV,
        "device refused the negotiated features (FEATURES_OK not kept)");
  }
  features_ok_ = true;
  return {};
}

base::Result<void> VirtioDevice::StartQueues() {
  TRY(MakeQueues());
  TRY(SetUpQueues());
  transport_->io().SetInterruptHandler(&InterruptThunk, this);
  handler_installed_ = true;
  status_ |= VIRTIO_CONFIG_S_DRIVER_OK;
  transport_->WriteStatus(status_);
  if (transport_->ReadStatus() & VIRTIO_CONFIG_S_NEEDS_RESET) {
    MarkNeedsReset();
    return Fail(EIO, "device needs reset right after DRIVER_OK");
  }
  live_ = true;
  return {};
}

base::Result<void> VirtioDevice::MakeQueues() {
  // The ring format is the negotiated one: the queues are made anew when there
  // are none yet or a reset renegotiated another format.
  const base::RingFormat format =
      packed_ring() ? base::RingFormat::kPacked : base::RingFormat::kSplit;
  if (queues_.size() == specs_.size() &&
      (queues_.empty() || queues_[0]->format() == format)) {
    return {};
  }
  queues_.clear();
  for (uint16_t i = 0; i < specs_.size(); ++i) {
    Virtqueue* queue = nullptr;
    if (format == base::RingFormat::kPacked) {
      queue = new (std::nothrow) PackedQueue(platform_, i);
    } else {
      queue = new (std::nothrow) SplitQueue(platform_, i);
    }
    if (queue == nullptr) {
      queues_.clear();
      return Fail(ENOMEM, "cannot allocate a queue");
    }
    queues_.emplace_back(queue);
  }
  return {};
}

base::Result<void> VirtioDevice::SetUpQueues() {
  const uint16_t available = transport_->NumQueues();
  if (specs_.size() > available) {
    return Fail(ENODEV, "device has fewer queues than requested");
  }
  for (uint16_t i = 0; i < specs_.size(); ++i) {
    if (specs_[i].size == 0) return Fail(EINVAL, "queue size 0 requested");
    const uint16_t max_size = transport_->MaxQueueSize(i);
    if (max_size == 0)
      return Fail(ENODEV, "a requested queue is not available");
    uint16_t size = specs_[i].size < max_size ? specs_[i].size : max_size;
    if (size > Virtqueue::kMaxSize) size = Virtqueue::kMaxSize;
    // A packed ring may have any size; a split one a power of two.
    if (!packed_ring()) size = RoundDownToPowerOfTwo(size);
    Virtqueue& queue = *queues_[i];
    base::Result<void> setup = queue.Setup(size, features_);
    if (!setup.ok()) return Fail(setup.error(), "cannot allocate queue rings");
    queue.SetNotifier(&NotifyThunk, this);
    base::Result<void> enabled =
        transport_->EnableQueue(i, size, queue.addresses());
    if (!enabled.ok()) return Fail(enabled.error(), "cannot enable a queue");
  }
  return {};
}

void VirtioDevice::MarkNeedsReset() {
  // The queues first: a thread that sees needs_reset_ (NeedsReset() returns
  // at once then) sees them broken.
  for (auto& queue : queues_) queue->MarkBroken();
  needs_reset_.store(true, std::memory_order_release);
}

bool VirtioDevice::NeedsReset() {
  if (needs_reset_.load(std::memory_order_acquire)) return true;
  if ((transport_->ReadStatus() & VIRTIO_CONFIG_S_NEEDS_RESET) == 0)
    return false;
  base::Logf(platform_, base::LogLevel::kError,
             "virtio-%s: device %u needs a reset", transport_->name(),
             transport_->device_id());
  MarkNeedsReset();
  return true;
}

void VirtioDevice::HandleInterrupt() {
  const uint32_t cause = transport_->ReadAndAckInterrupt();
  // With MSI-X a device need not set the ISR bits (spec 4.1.4.5.1), so an
  // interrupt that shows no cause may still be a used buffer: reaping every
  // queue costs nothing when it was not.
  bool wake_all = (cause & kInterruptUsedBuffer) != 0 || cause == 0;
  if (wake_all) used_buffer_interrupts_.fetch_add(1, std::memory_order_relaxed);
  if (cause & kInterruptConfigChange) {
    // A device that needs a reset says so with a config change: wake every
    // waiter so that it sees EIO instead of waiting for a completion that will
    // not come.
    if (NeedsReset()) wake_all = true;
    if (on_config_change_ != nullptr) on_config_change_(config_context_);
  }
  if (!wake_all) return;
  for (uint16_t i = 0; i < specs_.size(); ++i) {
    if (specs_[i].on_used != nullptr) specs_[i].on_used(specs_[i].context, i);
  }
}

base::Result<UsedBuffer> VirtioDevice::WaitForUsed(uint16_t queue_index,
                                                   uint64_t timeout_nanos) {
  if (queue_index >= queues_.size()) return base::Error{EINVAL};
  Virtqueue& queue = *queues_[queue_index];
  const uint64_t start = platform_.MonotonicNanos();
  for (uint32_t spins = 1;; ++spins) {
    std::optional<UsedBuffer> used = TRY(queue.PopUsed());
    if (used.has_value()) return *used;
    if (spins % kSpinsPerStatusCheck == 0 && NeedsReset())
      return base::Error{EIO};
    if (platform_.MonotonicNanos() - start > timeout_nanos) {
      return NeedsReset() ? base::Error{EIO} : base::Error{ETIMEDOUT};
    }
    platform_.Relax();
  }
}

void VirtioDevice::InterruptThunk(void* context) {
  static_cast<VirtioDevice*>(context)->HandleInterrupt();
}

void VirtioDevice::NotifyThunk(void* context, uint16_t queue) {
  static_cast<VirtioDevice*>(context)->transport_->NotifyQueue(queue);
}

}  // namespace driver
