// The device side of one virtqueue over guest memory, whichever format the
// driver negotiated: split (virtio 1.x section 2.7, SplitDeviceQueue) or packed
// (section 2.8, PackedDeviceQueue, with VIRTIO_F_RING_PACKED). The device model
// and the vhost-user vrings take chains and put them back through this
// interface alone.
//
// Everything the driver controls is untrusted: each implementation reads it
// from guest memory once, checks it, and reports a broken rule by name (a
// ViolationRecord) instead of acting on it. Not thread-safe: the caller
// serialises calls.
#ifndef SIM_DEVICE_QUEUE_H_
#define SIM_DEVICE_QUEUE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "sim/device_backend.h"
#include "sim/guest_memory.h"
#include "sim/violation.h"

namespace sim {

// The spec's limit for both formats (2.7: a split ring's size is a power of 2
// <= 32768; 2.8: a packed ring's positions are 15 bits wide).
inline constexpr uint32_t kMaxQueueSize = 32768;

// The three guest areas of a queue, as the transport registers name them.
struct QueueLayout {
  uint16_t size = 0;
  uint64_t desc = 0;    // Descriptor table (split) or ring (packed).
  uint64_t driver = 0;  // Available ring, or driver event suppression.
  uint64_t device = 0;  // Used ring, or device event suppression.
};

struct QueueFeatures {
  bool indirect_desc = false;  // VIRTIO_RING_F_INDIRECT_DESC negotiated.
  bool event_idx = false;      // VIRTIO_RING_F_EVENT_IDX negotiated.
  bool packed = false;         // VIRTIO_F_RING_PACKED negotiated.
  bool strict = true;          // Enforce Enforcement::kStrict rules too.
};

// Whether `size` is a valid queue size of the format no larger than
// `max_size`.
bool IsValidQueueSize(uint32_t size, uint32_t max_size, bool packed);

// Checks the addresses of `layout` (whose size must be valid) for the format:
// alignment, then bounds. The violation (without queue number) when they are
// wrong.
std::optional<ViolationRecord> CheckQueueLayout(const GuestMemory& memory,
                                                const QueueLayout& layout,
                                                bool packed);

class DeviceQueue {
 public:
  enum class PopStatus : uint8_t { kChain, kEmpty, kViolation };

  virtual ~DeviceQueue() = default;

  // Takes the next available chain into `chain` (`chain->head` names it for
  // PushUsed: the head descriptor of a split ring, the buffer id of a packed
  // one). kEmpty when the driver has made nothing new available. kViolation,
  // with `violation` filled, when the ring or the chain breaks a rule: the
  // caller must stop using the queue.
  virtual PopStatus Pop(DescriptorChain* chain, ViolationRecord* violation) = 0;
  // Returns chain `head` with `length` bytes written (clamped to its writable
  // bytes). False, and nothing written, when `head` is not a chain popped and
  // not yet returned.
  virtual bool PushUsed(uint16_t head, uint32_t length) = 0;
  // Whether a used-buffer notification is due for the chains returned since
  // the last call, as the driver's suppression fields say.
  virtual bool TakeInterruptDue() = 0;

  virtual uint16_t index() const = 0;
  virtual const QueueLayout& layout() const = 0;
  // Where the device takes the next chain and puts the next used element, as
  // vhost-user's VRING_BASE carries them (a packed ring's wrap counter in bit
  // 15).
  virtual uint16_t last_avail_idx() const = 0;
  virtual uint16_t used_idx() const = 0;
  virtual uint32_t in_flight() const = 0;
  // The next chain's place, modulo 2^16, in the order the driver makes chains
  // available, as the driver counts it (driver::Virtqueue::
  // chains_made_available): a split ring's avail index; on a packed ring, the
  // chains taken since the queue was set up.
  virtual uint16_t chains_taken() const = 0;

  // Notification suppression for a device thread that polls the ring. With
  // EVENT_IDX, a polled ring's empty pops leave the driver's notification
  // point (a split ring's avail_event, a packed ring's device event offset)
  // where it was, so the driver stops notifying after at most one more
  // notify; AskForNotification moves it to the next buffer again, before the
  // thread sleeps, and returns whether a buffer came meanwhile (looked for
  // after asking: none is missed). Without EVENT_IDX the driver keeps
  // notifying and AskForNotification answers false.
  virtual void set_polled(bool /*polled*/) {}
  virtual bool AskForNotification() { return false; }
  // What a polling thread watches, without the device's lock, for the
  // driver's next chain: a 16-bit word of guest memory that changes when the
  // driver makes it available (a split ring's avail index; a packed ring's
  // flags of the descriptor at the avail cursor) and the value it holds
  // until then, or one that differs from it at once when the chain is already
  // there. A packed ring's word moves with its cursor: ask again after each
  // pop.
  //
  // With it, the guest memory the next chain will most likely be read from
  // (null: nothing to guess), for the thread to fetch all at once when the
  // word changes: a walk of the chain finds them one after another, and each
  // is a line the driver's CPU wrote, whose crossing to the device's CPU is
  // most of a request's hand-off (a few hundred ns on a VM's vCPUs). Drivers
  // reuse their freed descriptors and request buffers first (Linux's free
  // descriptor list, this project's request slots), so the last chain's are
  // the likeliest. A wrong guess costs a fetch; a prefetch never faults.
  static constexpr size_t kReadAheadSpots = 3;
  struct AvailWatch {
    uint16_t* word;
    uint16_t idle;
    std::array<const uint8_t*, kReadAheadSpots> read_ahead{};
  };
  virtual AvailWatch avail_watch() const = 0;

  // Where the ring stands, for a log line when it stops: what the device has
  // taken and returned, and what the driver has published (split rings: its
  // avail idx and interrupt suppression), so that a guest waiting for
  // a completion shows whether its buffers were never taken, are held, or
  // came back without the notification it asked for.
  virtual std::string DescribeState() const;
};

// A queue of the format `features` names on `layout` (which must have passed
// CheckQueueLayout), starting afresh.
std::unique_ptr<DeviceQueue> MakeDeviceQueue(const GuestMemory& memory,
                                             uint16_t index,
                                             const QueueLayout& layout,
                                             const QueueFeatures& features);

}  // namespace sim

#endif  // SIM_DEVICE_QUEUE_H_
