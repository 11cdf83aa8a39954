// The contract between the generic virtio device model (transports, virtqueues,
// strict checks) and a device type (the echo test device, virtio-fs).
//
// The model owns everything a transport does: feature negotiation, status,
// queue configuration, notifications and interrupts. It pops each available
// chain, checks every descriptor against guest memory, and hands the backend
// the chain as host views of the guest buffers. The backend never sees a guest
// address.
#ifndef SIM_DEVICE_BACKEND_H_
#define SIM_DEVICE_BACKEND_H_

#include <cstdint>
#include <optional>
#include <vector>

namespace sim {

// A bounds-checked host view of one descriptor's buffer in guest memory. The
// driver may change the bytes at any time: copy what must stay stable (headers)
// before using it.
struct GuestBuffer {
  uint8_t* data;
  uint32_t size;
};

// One available chain, device-readable buffers first, then device-writable
// ones.
struct DescriptorChain {
  uint16_t queue = 0;
  uint16_t head = 0;
  std::vector<GuestBuffer> readable;
  std::vector<GuestBuffer> writable;
  uint64_t readable_bytes = 0;
  uint64_t writable_bytes = 0;
};

// How a backend completes a chain it deferred.
class ChainCompleter {
 public:
  virtual ~ChainCompleter() = default;
  // Puts the chain on its queue's used ring with `used_length` bytes written,
  // and notifies the driver unless it suppressed notifications. Thread-safe.
  virtual void Complete(uint16_t queue, uint16_t head,
                        uint32_t used_length) = 0;
  // The same, without a used-buffer notification for it: a device that
  // forgets one (a fault; sim/fault_plan.h). The next completion's decision
  // counts it.
  virtual void CompleteWithoutNotification(uint16_t queue, uint16_t head,
                                           uint32_t used_length) = 0;
};

class DeviceBackend {
 public:
  virtual ~DeviceBackend() = default;

  virtual uint32_t device_id() const = 0;
  // Device-type feature bits (bits 0-23); the model adds the transport bits it
  // supports.
  virtual uint64_t device_features() const = 0;
  virtual uint16_t num_queues() const = 0;
  virtual uint16_t max_queue_size() const { return 1024; }
  // NotifyMode::kThread: the queue whose device thread also serves `queue`
  // (itself by default). A queue of rare, small requests can ride on a busy
  // queue's thread: a thread of its own would poll a core after each of them.
  virtual uint16_t ThreadQueue(uint16_t queue) const { return queue; }

  // Device-specific configuration space. The model checks offset and length
  // against config_size() before calling.
  virtual uint32_t config_size() const = 0;
  virtual void ReadConfig(uint32_t offset, void* out,
                          uint32_t length) const = 0;
  virtual void WriteConfig(uint32_t /*offset*/, const void* /*data*/,
                           uint32_t /*length*/) {}

  // DRIVER_OK was set with these features negotiated. `completer` stays valid
  // until Reset().
  virtual void Activate(uint64_t negotiated_features,
                        ChainCompleter& completer) = 0;
  // The driver reset the device (or the model did, after a violation): drop
  // every chain held and all per-session state.
  virtual void Reset() = 0;

  // Handles one chain. Returns the number of bytes written into the writable
  // buffers to complete it now, or std::nullopt to complete it later through
  // the ChainCompleter.
  virtual std::optional<uint32_t> HandleChain(const DescriptorChain& chain) = 0;
  // Whether a device thread may handle this chain after chains made available
  // later (kHoldPostedNanos), so that the driver reads their replies while the
  // device does this chain's work: the driver goes on without waiting for its
  // completion, and what it sends next is likely to be waited for while its
  // following request comes late (virtio-fs: a FUSE RELEASE).
  virtual bool MayHandleLater(const DescriptorChain& /*chain*/) const {
    return false;
  }
  // The thread that serves a queue found it empty and is about to wait for a
  // notification: work left for a quiet moment is done now (virtio-fs: the
  // close of released read-only descriptors, DeferredCloses). Any thread.
  virtual void Idle() {}
};

}  // namespace sim

#endif  // SIM_DEVICE_BACKEND_H_
