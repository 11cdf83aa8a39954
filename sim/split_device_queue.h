// The device side of one split virtqueue (virtio 1.x, section 2.7) over guest
// memory; the interface is DeviceQueue's (sim/device_queue.h).
//
// Everything the driver controls is read from guest memory exactly once into
// locals and checked before use: the driver may change it concurrently, and may
// be wrong. Ordering follows the spec: avail idx is read, then an acquire
// fence, then the ring entries and descriptors; a used element is written, then
// a release fence, then used idx; a full fence separates publishing used idx
// (or avail_event) from reading the driver's suppression fields. Not
// thread-safe: the device model serialises calls.
#ifndef SIM_SPLIT_DEVICE_QUEUE_H_
#define SIM_SPLIT_DEVICE_QUEUE_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "sim/device_backend.h"
#include "sim/device_queue.h"
#include "sim/guest_memory.h"
#include "sim/violation.h"

namespace sim {

// Whether `size` is a valid split queue size (a power of two) no larger than
// `max_size`.
bool IsValidSplitQueueSize(uint32_t size, uint32_t max_size);

// Checks the ring addresses of `layout` (whose size must be valid): alignment,
// then bounds. The violation (without queue number) when they are wrong.
std::optional<ViolationRecord> CheckSplitQueueLayout(const GuestMemory& memory,
                                                     const QueueLayout& layout);

class SplitDeviceQueue final : public DeviceQueue {
 public:
  // `layout` must have passed CheckSplitQueueLayout. A new queue starts at 0 on
  // both rings; one taken over while the driver runs (vhost-user: after
  // SET_VRING_BASE, or a reconnect) starts taking chains at avail position
  // `next_avail_idx` and puts used elements from `used_idx` on.
  SplitDeviceQueue(const GuestMemory& memory, uint16_t index,
                   const QueueLayout& layout, const QueueFeatures& features,
                   uint16_t next_avail_idx = 0, uint16_t used_idx = 0);

  // Takes the next available chain into `chain`. kEmpty when the driver has
  // made nothing new available (with EVENT_IDX, avail_event is published first
  // and avail idx rechecked, so a buffer made available concurrently is not
  // missed). kViolation with `violation` filled when the ring or chain breaks a
  // rule; the caller must stop using the queue.
  PopStatus Pop(DescriptorChain* chain, ViolationRecord* violation) override;

  // Puts (head, length) on the used ring. `length` is clamped to the chain's
  // writable bytes. False, and nothing written, when `head` is not a chain
  // popped and not yet used.
  bool PushUsed(uint16_t head, uint32_t length) override;

  // Whether a used buffer notification is due for the elements pushed since the
  // last call (EVENT_IDX: used_event was crossed; otherwise
  // VRING_AVAIL_F_NO_INTERRUPT is clear).
  bool TakeInterruptDue() override;

  uint16_t index() const override { return index_; }
  const QueueLayout& layout() const override { return layout_; }
  uint16_t last_avail_idx() const override { return last_avail_idx_; }
  uint16_t used_idx() const override { return used_idx_; }
  uint32_t in_flight() const override { return in_flight_count_; }
  uint16_t chains_taken() const override { return last_avail_idx_; }

  void set_polled(bool polled) override { polled_ = polled; }
  bool AskForNotification() override;
  AvailWatch avail_watch() const override;
  std::string DescribeState() const override;

 private:
  enum class WalkStatus : uint8_t { kOk, kViolation };

  uint16_t LoadAvailIdx() const;
  uint16_t LoadUsedEvent() const;
  void PublishAvailEvent();
  WalkStatus Walk(uint16_t head, DescriptorChain* chain,
                  ViolationRecord* violation);
  bool Fail(ViolationRecord* violation, Violation kind,
            std::string message) const;

  const GuestMemory& memory_;
  const uint16_t index_;
  const QueueLayout layout_;
  const QueueFeatures features_;
  bool polled_ = false;
  // The last chain popped: its head and first readable buffer (avail_watch).
  uint16_t last_head_ = 0;
  const uint8_t* last_request_ = nullptr;
  // Host views of the rings, checked once at construction.
  uint8_t* const desc_;
  uint8_t* const avail_;
  uint8_t* const used_;

  uint16_t last_avail_idx_;
  uint16_t used_idx_;
  uint16_t signalled_used_idx_;  // used idx at the last interrupt decision.
  bool pushed_since_decision_ = false;
  // Per head: writable bytes + 1 while in flight, 0 when free.
  std::vector<uint64_t> in_flight_writable_;
  uint32_t in_flight_count_ = 0;
};

}  // namespace sim

#endif  // SIM_SPLIT_DEVICE_QUEUE_H_
