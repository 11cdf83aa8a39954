// VirtioDevice: bring-up and lifetime of one virtio 1.x device over a
// Transport.
//
// Initialize() runs the spec's sequence (3.1.1): reset, ACKNOWLEDGE, DRIVER,
// feature negotiation (VIRTIO_F_VERSION_1 required), FEATURES_OK read back,
// queue setup, DRIVER_OK. Any failure after the reset sets FAILED and returns
// the error. A driver that must read the device config to know which queues to
// ask for (virtio-fs's num_request_queues) splits it: BeginInitialize(), config
// reads, FinishInitialize().
//
// A device that hits an error it cannot recover from on its own sets
// DEVICE_NEEDS_RESET and raises a configuration change interrupt. The interrupt
// handler (or NeedsReset(), for pollers) notices it, marks every queue broken
// so that their operations return EIO, and wakes every queue callback. The
// upper layer then fails or re-queues its requests and calls Reinitialize():
// reset, the same bring-up again, same queue objects. A queue that found the
// device's output invalid (a bogus used element) is broken the same way, and
// recovers the same way.
//
// Completions reach the upper layer two ways:
//  - polling: queue(i).PopUsed() under the caller's lock, or WaitForUsed();
//  - used-buffer notifications: the handler installed on the transport's
//    RegisterIo reads (and acknowledges) the interrupt status and calls the
//    QueueSpec callback of every queue (the ISR does not say which queue).
//    The callback takes the caller's queue lock and pops. It may run on
//    another thread, concurrently with the caller, or synchronously inside
//    Kick() when the platform processes notifications inline: it must not
//    take a lock the caller holds across Kick().
//
// Thread safety: Initialize, Reinitialize and Shutdown must not run
// concurrently with anything else on the device or its queues, nor from a
// callback. NeedsReset and HandleInterrupt may run from any thread. The
// platform and the transport's RegisterIo must outlive the VirtioDevice.
#ifndef DRIVER_VIRTIO_DEVICE_H_
#define DRIVER_VIRTIO_DEVICE_H_

#include <linux/virtio_config.h>
// The legacy part of <linux/virtio_ring.h> (vring_init) is C that C++ rejects.
#ifndef VIRTIO_RING_NO_LEGACY
#define VIRTIO_RING_NO_LEGACY
#endif
#include <linux/virtio_ring.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/platform.h"
#include "base/result.h"
#include "driver/transport.h"
#include "driver/virtqueue.h"

namespace driver {

constexpr uint64_t FeatureBit(unsigned bit) { return uint64_t{1} << bit; }

// The transport and ring feature bits this driver implements. Device-type bits
// (0-23) and bits above the transport range pass through as the caller asks.
inline constexpr uint64_t kDriverTransportFeatures =
    FeatureBit(VIRTIO_RING_F_INDIRECT_DESC) |
    FeatureBit(VIRTIO_RING_F_EVENT_IDX) | FeatureBit(VIRTIO_F_VERSION_1) |
    FeatureBit(VIRTIO_F_ACCESS_PLATFORM) | FeatureBit(VIRTIO_F_RING_PACKED);

class VirtioDevice {
 public:
  // A used-buffer notification for queue `queue`. See the file comment for its
  // rules.
  using QueueCallback = void (*)(void* context, uint16_t queue);
  // A configuration change (also raised when the device needs a reset).
  using ConfigCallback = void (*)(void* context);

  struct QueueSpec {
    uint16_t size = 0;  // Wanted descriptors; lowered to the device's maximum
                        // and to a power of two.
    QueueCallback on_used = nullptr;
    void* context = nullptr;
  };

  // `transport` comes from PciTransport::Probe or MmioTransport::Probe.
  VirtioDevice(base::Platform& platform, std::unique_ptr<Transport> transport);
  // Shutdown().
  ~VirtioDevice();
  VirtioDevice(const VirtioDevice&) = delete;
  VirtioDevice& operator=(const VirtioDevice&) = delete;

  // Brings the device up with queues 0 .. queues.size()-1: BeginInitialize()
  // then FinishInitialize(). Errors: see those.
  base::Result<void> Initialize(uint64_t wanted_features,
                                std::span<const QueueSpec> queues,
                                ConfigCallback on_config_change = nullptr,
                                void* config_context = nullptr);
  // Resets the device (a live one is shut down first, dropping chains in
  // flight) and negotiates features up to FEATURES_OK. The negotiated features
  // are `wanted_features` & the device's & what the driver implements, plus
  // VERSION_1. ENODEV when the device lacks VERSION_1 or refuses the features
  // (FEATURES_OK not kept); ETIMEDOUT when the reset does not complete.
  base::Result<void> BeginInitialize(uint64_t wanted_features);
  // Sets up queues 0 .. queues.size()-1 and sets DRIVER_OK. EINVAL before
  // BeginInitialize or for a queue size of 0; ENODEV when a requested queue
  // does not exist; ENOMEM; EIO when the device needs a reset at once.
  base::Result<void> FinishInitialize(std::span<const QueueSpec> queues,
                                      ConfigCallback on_config_change = nullptr,
                                      void* config_context = nullptr);
  // Resets the device, releases the queues (each chain still in flight is
  // handed to `abandoned`, its buffers no longer in the device's hands) and
  // brings it up again with Initialize's arguments. The Virtqueue objects stay
  // the same while the ring format does.
  base::Result<void> Reinitialize(Virtqueue::AbandonFn abandoned = nullptr,
                                  void* context = nullptr);
  // Removes the interrupt handler, resets the device and releases the queues.
  void Shutdown(Virtqueue::AbandonFn abandoned = nullptr,
                void* context = nullptr);

  // Whether the device set DEVICE_NEEDS_RESET (reads the status register unless
  // an interrupt already reported it). When it did, every queue is marked
  // broken.
  bool NeedsReset();
  // Whether Initialize or Reinitialize completed and no reset happened since.
  bool is_live() const { return live_; }

  Transport& transport() { return *transport_; }
  uint64_t features() const { return features_; }
  // Used-buffer interrupts handled since creation.
  uint64_t used_buffer_interrupts() const {
    return used_buffer_interrupts_.load(std::memory_order_relaxed);
  }
  // Whether VIRTIO_F_RING_PACKED was negotiated: the queues are PackedQueues.
  bool packed_ring() const {
    return (features_ & FeatureBit(VIRTIO_F_RING_PACKED)) != 0;
  }
  bool HasFeature(unsigned bit) const {
    return (features_ & FeatureBit(bit)) != 0;
  }
  uint16_t num_queues() const { return static_cast<uint16_t>(queues_.size()); }
  Virtqueue& queue(uint16_t index) { return *queues_[index]; }

  // Polls `queue` until a chain comes back, the device needs a reset (EIO), the
  // queue is broken (EIO) or `timeout_nanos` pass (ETIMEDOUT). The caller holds
  // the queue's lock: this is the polling path for callers without interrupts.
  base::Result<UsedBuffer> WaitForUsed(uint16_t queue, uint64_t timeout_nanos);

  // What the installed interrupt handler runs: reads and acknowledges the
  // interrupt status, checks for NEEDS_RESET on a config change, calls the
  // callbacks.
  void HandleInterrupt();

 private:
  // The two halves of the bring-up, with the stored arguments.
  base::Result<void> NegotiateFeatures();
  base::Result<void> StartQueues();
  base::Result<void> MakeQueues();
  base::Result<void> SetUpQueues();
  // Sets FAILED (keeping the other bits) and returns `error`.
  base::Error Fail(int error, const char* why);
  // Removes the handler, resets the device and releases the queues. False when
  // the reset timed out: the rings are then kept, since the device may still
  // use them.
  bool StopAndFreeRings(Virtqueue::AbandonFn abandoned, void* context);
  void MarkNeedsReset();
  static void InterruptThunk(void* context);
  static void NotifyThunk(void* context, uint16_t queue);

  base::Platform& platform_;
  const std::unique_ptr<Transport> transport_;
  uint64_t wanted_features_ = 0;
  std::vector<QueueSpec> specs_;
  ConfigCallback on_config_change_ = nullptr;
  void* config_context_ = nullptr;

  std::vector<std::unique_ptr<Virtqueue>> queues_;
  std::atomic<uint64_t> used_buffer_interrupts_{0};
  uint64_t features_ = 0;
  uint8_t status_ = 0;  // The bits the driver has set.
  bool features_ok_ = false;
  bool live_ = false;
  bool handler_installed_ = false;
  std::atomic<bool> needs_reset_{false};
};

}  // namespace driver

#endif  // DRIVER_VIRTIO_DEVICE_H_
