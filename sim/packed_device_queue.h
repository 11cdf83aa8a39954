// The device side of one packed virtqueue (virtio 1.1+, section 2.8) over
// guest memory; the interface is DeviceQueue's (sim/device_queue.h).
//
// A packed ring is one descriptor ring shared both ways plus two 4-byte event
// suppression areas. The device keeps two cursors, each a ring position and a
// wrap counter: where the next available descriptor is looked for, and where
// the next used descriptor is written. A descriptor is available when its
// AVAIL flag equals the avail wrap counter and its USED flag does not; the
// device marks a buffer used by writing id and length at the used cursor, then
// flags with both bits equal to the used wrap counter, and moves the cursor on
// by the number of ring descriptors the buffer's chain took.
//
// Everything the driver controls is untrusted and read once: the flags of a
// descriptor with an acquire load, then its other fields copied into locals,
// before any check. Used id and length are written, then flags with a release
// store; a full fence separates publishing (used descriptors, the device event
// area) from reading what the driver asked for. Not thread-safe: the device
// model serialises calls.
//
// The two cursors are passed and reported as vhost-user's VRING_BASE encodes
// them for packed rings: the position in bits 0-14, the wrap counter in bit 15.
#ifndef SIM_PACKED_DEVICE_QUEUE_H_
#define SIM_PACKED_DEVICE_QUEUE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/device_backend.h"
#include "sim/device_queue.h"
#include "sim/guest_memory.h"
#include "sim/violation.h"

namespace sim {

// Bit 15 of an encoded cursor: the wrap counter.
inline constexpr uint16_t kPackedWrapBit = uint16_t{1} << 15;
// Where both cursors of a new ring stand: position 0, wrap counter 1.
inline constexpr uint16_t kPackedQueueStart = kPackedWrapBit;

// Whether `size` is a valid packed queue size (any, up to kMaxQueueSize) no
// larger than `max_size`.
bool IsValidPackedQueueSize(uint32_t size, uint32_t max_size);

// Whether `cursor` (position | wrap << 15) names a position of a ring of
// `size` entries. The constructor takes an invalid one modulo `size`; a
// front-end's value (vhost-user SET_VRING_BASE) should be checked first.
bool IsValidPackedQueueCursor(uint16_t cursor, uint32_t size);

// Checks the addresses of `layout` (whose size must be valid; `desc` is the
// descriptor ring, `driver` and `device` the event suppression areas):
// alignment, then bounds. The violation (without queue number) when they are
// wrong.
std::optional<ViolationRecord> CheckPackedQueueLayout(
    const GuestMemory& memory, const QueueLayout& layout);

class PackedDeviceQueue final : public DeviceQueue {
 public:
  // `layout` must have passed CheckPackedQueueLayout. `next_avail` and
  // `used` are encoded cursors: a new queue starts at kPackedQueueStart on
  // both; one taken over while the driver runs (vhost-user) starts where the
  // previous owner stopped. The device event area is written at once (ENABLE,
  // or DESC at the avail cursor with EVENT_IDX) so that the driver notifies
  // for its next buffer whatever the area held.
  PackedDeviceQueue(const GuestMemory& memory, uint16_t index,
                    const QueueLayout& layout, const QueueFeatures& features,
                    uint16_t next_avail = kPackedQueueStart,
                    uint16_t used = kPackedQueueStart);

  // Takes the next available chain into `chain`; `chain->head` is its buffer
  // id. kEmpty when the driver has made nothing new available (with
  // EVENT_IDX, the avail cursor is published in the device event area first
  // and the ring looked at again, so a buffer made available concurrently is
  // not missed). kViolation with `violation` filled when the ring, the chain
  // or the driver event area breaks a rule; the caller must stop using the
  // queue.
  PopStatus Pop(DescriptorChain* chain, ViolationRecord* violation) override;

  // Marks buffer `id` used with `length` bytes written, clamped to the chain's
  // writable bytes. False, and nothing written, when `id` is not a buffer
  // popped and not yet used.
  bool PushUsed(uint16_t id, uint32_t length) override;

  // Whether a used buffer notification is due for the buffers pushed since the
  // last call, per the driver event area: ENABLE yes, DISABLE no, DESC (with
  // EVENT_IDX) when the used cursor passed the offset and wrap it names. A
  // malformed area (strict mode) gives a notification, and the violation is
  // reported by the next Pop.
  bool TakeInterruptDue() override;

  uint16_t index() const override { return index_; }
  const QueueLayout& layout() const override { return layout_; }
  // The encoded cursors, for vhost-user GET_VRING_BASE.
  uint16_t last_avail_idx() const override {
    return Encode(avail_pos_, avail_wrap_);
  }
  uint16_t used_idx() const override { return Encode(used_pos_, used_wrap_); }
  uint32_t in_flight() const override { return in_flight_count_; }
  uint16_t chains_taken() const override { return chains_taken_; }

  void set_polled(bool polled) override { polled_ = polled; }
  bool AskForNotification() override;
  AvailWatch avail_watch() const override;

 private:
  enum class WalkStatus : uint8_t { kOk, kViolation };
  struct InFlight {
    uint64_t writable = 0;
    uint16_t descriptors = 0;  // Ring descriptors the chain took; 0: free.
  };

  static uint16_t Encode(uint16_t pos, bool wrap) {
    return static_cast<uint16_t>(pos | (wrap ? kPackedWrapBit : 0));
  }
  uint16_t LoadDescFlags(uint16_t pos) const;
  void PublishDeviceEvent();
  // Whether the driver event area holds a valid value; `problem` says why
  // not.
  bool CheckDriverEvent(uint16_t flags, uint16_t off_wrap,
                        std::string* problem) const;
  WalkStatus Walk(uint16_t head_flags, DescriptorChain* chain,
                  uint16_t* descriptors, ViolationRecord* violation);
  bool Fail(ViolationRecord* violation, Violation kind,
            std::string message) const;

  const GuestMemory& memory_;
  const uint16_t index_;
  const QueueLayout layout_;
  const QueueFeatures features_;
  bool polled_ = false;
  // Host views of the ring and the areas, checked once at construction.
  uint8_t* const desc_;
  uint8_t* const driver_event_;
  uint8_t* const device_event_;

  uint16_t avail_pos_;
  bool avail_wrap_;
  uint16_t used_pos_;
  bool used_wrap_;
  // Ring descriptors the used cursor moved since the last interrupt decision.
  uint32_t used_since_decision_ = 0;
  bool pushed_since_decision_ = false;
  // A malformed driver event area seen by TakeInterruptDue, for Pop to report.
  std::optional<ViolationRecord> pending_violation_;
  std::vector<InFlight> in_flight_;  // Per buffer id.
  uint32_t in_flight_count_ = 0;
  uint16_t chains_taken_ = 0;
  // The last chain's first readable buffer (avail_watch).
  const uint8_t* last_request_ = nullptr;
  uint32_t in_flight_descriptors_ = 0;  // Ring slots the device holds.
};

}  // namespace sim

#endif  // SIM_PACKED_DEVICE_QUEUE_H_
