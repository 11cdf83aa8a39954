#include "sim/packed_device_queue.h"

// The legacy part of <linux/virtio_ring.h> (vring_init) is C that C++ rejects.
#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_ring.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

namespace sim {
namespace {

static_assert(kPackedWrapBit == 1u << VRING_PACKED_EVENT_F_WRAP_CTR);

constexpr uint64_t kDescSize = sizeof(vring_packed_desc);
constexpr uint64_t kEventSize = sizeof(vring_packed_desc_event);
constexpr uint16_t kAvailFlag = 1u << VRING_PACKED_DESC_F_AVAIL;
constexpr uint16_t kUsedFlag = 1u << VRING_PACKED_DESC_F_USED;
constexpr uint16_t kPositionMask = kPackedWrapBit - 1;

// Flags and event areas are shared with a driver running concurrently: access
// them atomically. Alignment was checked when the queue was configured.
uint16_t Load16(const uint8_t* p,
                std::memory_order order = std::memory_order_relaxed) {
  return std::atomic_ref<uint16_t>(
             *reinterpret_cast<uint16_t*>(const_cast<uint8_t*>(p)))
      .load(order);
}
void Store16(uint8_t* p, uint16_t value, std::memory_order order) {
  std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(p))
      .store(value, order);
}

// Available for the pass with wrap counter `wrap`: AVAIL == wrap, USED != it
// (spec 2.8.1). A used descriptor has both equal, so it never qualifies.
bool IsAvailable(uint16_t flags, bool wrap) {
  return ((flags & kAvailFlag) != 0) == wrap &&
         ((flags & kUsedFlag) != 0) != wrap;
}

// Copies addr, len and id once; `flags` is the value already loaded with
// acquire, never read again from the ring (the driver may be changing it).
vring_packed_desc ReadDesc(const uint8_t* slot, uint16_t flags) {
  vring_packed_desc desc;
  std::memcpy(&desc, slot, offsetof(vring_packed_desc, flags));
  desc.flags = flags;
  return desc;
}

std::string Hex(uint64_t value) {
  char text[24];
  snprintf(text, sizeof(text), "0x%llx",
           static_cast<unsigned long long>(value));
  return text;
}

// The position part of an encoded cursor, taken modulo the size so that a bad
// cursor cannot point outside the ring (IsValidPackedQueueCursor lets a caller
// refuse it instead).
uint16_t PositionOf(uint16_t cursor, uint16_t size) {
  return size == 0 ? 0 : (cursor & kPositionMask) % size;
}

std::string Position(uint16_t pos, bool wrap) {
  return "ring position " + std::to_string(pos) + " (wrap counter " +
         std::to_string(wrap ? 1 : 0) + ")";
}

}  // namespace

bool IsValidPackedQueueSize(uint32_t size, uint32_t max_size) {
  return size != 0 && size <= max_size && size <= kMaxQueueSize;
}

bool IsValidPackedQueueCursor(uint16_t cursor, uint32_t size) {
  return (cursor & kPositionMask) < size;
}

std::optional<ViolationRecord> CheckPackedQueueLayout(
    const GuestMemory& memory, const QueueLayout& layout) {
  struct Area {
    const char* name;
    uint64_t address;
    uint64_t alignment;
    uint64_t bytes;
  };
  // Spec 2.8.10.1: the ring is 16-byte aligned, the event areas 4-byte.
  const Area areas[] = {
      {"descriptor ring", layout.desc, 16, kDescSize * layout.size},
      {"driver event suppression area", layout.driver, 4, kEventSize},
      {"device event suppression area", layout.device, 4, kEventSize},
  };
  for (const Area& area : areas) {
    if (area.address % area.alignment != 0) {
      return ViolationRecord{
          Violation::kQueueAddressMisaligned,
          std::string(area.name) + " at " + Hex(area.address) + " is not " +
              std::to_string(area.alignment) + "-byte aligned"};
    }
    if (!memory.Contains(area.address, area.bytes)) {
      return ViolationRecord{Violation::kQueueAddressOutOfBounds,
                             std::string(area.name) + " [" + Hex(area.address) +
                                 ", +" + std::to_string(area.bytes) +
                                 ") is not inside guest memory " +
                                 memory.Describe()};
    }
  }
  return std::nullopt;
}

PackedDeviceQueue::PackedDeviceQueue(const GuestMemory& memory, uint16_t index,
                                     const QueueLayout& layout,
                                     const QueueFeatures& features,
                                     uint16_t next_avail, uint16_t used)
    : memory_(memory),
      index_(index),
      layout_(layout),
      features_(features),
      desc_(memory.HostPointer(layout.desc, kDescSize * layout.size)),
      driver_event_(memory.HostPointer(layout.driver, kEventSize)),
      device_event_(memory.HostPointer(layout.device, kEventSize)),
      avail_pos_(PositionOf(next_avail, layout.size)),
      avail_wrap_((next_avail & kPackedWrapBit) != 0),
      used_pos_(PositionOf(used, layout.size)),
      used_wrap_((used & kPackedWrapBit) != 0),
      in_flight_(layout.size) {
  // Whatever the area held, the driver must notify for its next buffer.
  PublishDeviceEvent();
}

uint16_t PackedDeviceQueue::LoadDescFlags(uint16_t pos) const {
  // Acquire: the descriptor's other fields, written before its flags, are read
  // after (the spec's read barrier, visible to ThreadSanitizer too).
  return Load16(desc_ + kDescSize * pos + offsetof(vring_packed_desc, flags),
                std::memory_order_acquire);
}

void PackedDeviceQueue::PublishDeviceEvent() {
  vring_packed_desc_event event;
  if (features_.event_idx) {
    // "Notify when you make the descriptor at the avail cursor available".
    event.off_wrap = last_avail_idx();
    event.flags = VRING_PACKED_EVENT_FLAG_DESC;
  } else {
    event.off_wrap = 0;
    event.flags = VRING_PACKED_EVENT_FLAG_ENABLE;
  }
  // One 32-bit store: a driver reading the area as one word (Linux does) sees
  // offset and flags of the same decision.
  uint32_t word;
  std::memcpy(&word, &event, sizeof(word));
  std::atomic_ref<uint32_t>(*reinterpret_cast<uint32_t*>(device_event_))
      .store(word, std::memory_order_release);
}

bool PackedDeviceQueue::AskForNotification() {
  if (!features_.event_idx) return false;  // The driver always notifies.
  // Ask to be notified at the next buffer, then look again: the driver may
  // have added one before it could see the new offset (spec 2.8.10).
  PublishDeviceEvent();
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return IsAvailable(LoadDescFlags(avail_pos_), avail_wrap_);
}

DeviceQueue::AvailWatch PackedDeviceQueue::avail_watch() const {
  auto* word = reinterpret_cast<uint16_t*>(desc_ + kDescSize * avail_pos_ +
                                           offsetof(vring_packed_desc, flags));
  // Making a descriptor available always changes its flags: its avail bit
  // becomes the current lap's, which neither a descriptor of the last lap nor
  // a used one holds.
  const uint16_t flags = LoadDescFlags(avail_pos_);
  // The word's descriptor is read with it; the chain's next one may be on
  // the next line. And the buffer the last chain began with.
  const uint16_t next = avail_pos_ + 1 == layout_.size ? 0 : avail_pos_ + 1;
  return {
      word,
      static_cast<uint16_t>(IsAvailable(flags, avail_wrap_) ? ~flags : flags),
      {desc_ + kDescSize * next, last_request_}};
}

bool PackedDeviceQueue::CheckDriverEvent(uint16_t flags, uint16_t off_wrap,
                                         std::string* problem) const {
  if (flags == VRING_PACKED_EVENT_FLAG_ENABLE ||
      flags == VRING_PACKED_EVENT_FLAG_DISABLE) {
    return true;
  }
  if (flags == VRING_PACKED_EVENT_FLAG_DESC) {
    if (!features_.event_idx) {
      *problem =
          "driver event flags are DESC (2) but VIRTIO_RING_F_EVENT_IDX was "
          "not negotiated";
      return false;
    }
    const uint16_t offset = off_wrap & kPositionMask;
    if (offset >= layout_.size) {
      *problem = "driver event offset " + std::to_string(offset) +
                 " (off_wrap " + Hex(off_wrap) + ") is beyond queue size " +
                 std::to_string(layout_.size);
      return false;
    }
    return true;
  }
  *problem = "driver event flags " + std::to_string(flags) + " are reserved";
  return false;
}

bool PackedDeviceQueue::Fail(ViolationRecord* violation, Violation kind,
                             std::string message) const {
  violation->violation = kind;
  violation->message = std::move(message);
  violation->queue = index_;
  return false;
}

PackedDeviceQueue::PopStatus PackedDeviceQueue::Pop(
    DescriptorChain* chain, ViolationRecord* violation) {
  if (pending_violation_.has_value()) {
    *violation = std::move(*pending_violation_);
    pending_violation_.reset();
    return PopStatus::kViolation;
  }
  if (features_.strict) {
    const uint16_t event_flags =
        Load16(driver_event_ + offsetof(vring_packed_desc_event, flags),
               std::memory_order_acquire);
    const uint16_t off_wrap =
        Load16(driver_event_ + offsetof(vring_packed_desc_event, off_wrap));
    std::string problem;
    if (!CheckDriverEvent(event_flags, off_wrap, &problem)) {
      Fail(violation, Violation::kEventSuppressionInvalid, std::move(problem));
      return PopStatus::kViolation;
    }
  }
  uint16_t flags = LoadDescFlags(avail_pos_);
  if (!IsAvailable(flags, avail_wrap_)) {
    if (polled_ || !AskForNotification()) return PopStatus::kEmpty;
    flags = LoadDescFlags(avail_pos_);
  }
  chain->queue = index_;
  chain->head = 0;
  chain->readable.clear();
  chain->writable.clear();
  chain->readable_bytes = 0;
  chain->writable_bytes = 0;
  uint16_t descriptors = 0;
  if (Walk(flags, chain, &descriptors, violation) != WalkStatus::kOk) {
    return PopStatus::kViolation;
  }
  const uint16_t id = chain->head;
  if (id >= layout_.size) {
    Fail(violation, Violation::kBufferIdOutOfRange,
         "chain at " + Position(avail_pos_, avail_wrap_) + " has buffer id " +
             std::to_string(id) + ", queue size " +
             std::to_string(layout_.size));
    return PopStatus::kViolation;
  }
  if (in_flight_[id].descriptors != 0) {
    Fail(violation, Violation::kBufferIdInFlight,
         "chain at " + Position(avail_pos_, avail_wrap_) + " has buffer id " +
             std::to_string(id) + ", made available before the device used it");
    return PopStatus::kViolation;
  }
  if (in_flight_descriptors_ + descriptors > layout_.size) {
    Fail(violation, Violation::kRingOverrun,
         "chain of " + std::to_string(descriptors) + " descriptors at " +
             Position(avail_pos_, avail_wrap_) + " while the device holds " +
             std::to_string(in_flight_descriptors_) +
             " not yet used, queue size " + std::to_string(layout_.size));
    return PopStatus::kViolation;
  }
  avail_pos_ += descriptors;
  if (avail_pos_ >= layout_.size) {
    avail_pos_ -= layout_.size;
    avail_wrap_ = !avail_wrap_;
  }
  in_flight_[id] = InFlight{chain->writable_bytes, descriptors};
  in_flight_count_++;
  chains_taken_++;
  last_request_ = chain->readable.empty() ? nullptr : chain->readable[0].data;
  in_flight_descriptors_ += descriptors;
  return PopStatus::kChain;
}

PackedDeviceQueue::WalkStatus PackedDeviceQueue::Walk(
    uint16_t flags, DescriptorChain* chain, uint16_t* descriptors,
    ViolationRecord* violation) {
  uint16_t pos = avail_pos_;
  bool wrap = avail_wrap_;
  uint32_t count = 0;    // Ring descriptors taken: at most the queue size.
  uint32_t buffers = 0;  // Buffers, the indirect ones too: the same bound.
  const auto failed = [&](Violation kind, std::string message) {
    Fail(violation, kind, std::move(message));
    return WalkStatus::kViolation;
  };
  // Named only when a rule is broken: the common path builds no strings.
  const auto where = [&] { return "descriptor at " + Position(pos, wrap); };
  const auto add_buffer = [&](uint64_t addr, uint32_t len,
                              uint16_t buffer_flags, const auto& what) {
    if (++buffers > layout_.size) {
      return failed(Violation::kChainTooLong,
                    "chain at " + Position(avail_pos_, avail_wrap_) +
                        " has more than " + std::to_string(layout_.size) +
                        " buffers");
    }
    uint8_t* data = memory_.HostPointer(addr, len);
    if (data == nullptr) {
      return failed(Violation::kDescriptorOutOfBounds,
                    what() + " buffer [" + Hex(addr) + ", +" +
                        std::to_string(len) + ") is outside guest memory " +
                        memory_.Describe());
    }
    if (buffer_flags & VRING_DESC_F_WRITE) {
      chain->writable.push_back(GuestBuffer{data, len});
      chain->writable_bytes += len;
    } else {
      if (!chain->writable.empty() && features_.strict) {
        return failed(Violation::kReadableAfterWritable,
                      what() +
                          " is device-readable but follows a device-writable "
                          "one");
      }
      chain->readable.push_back(GuestBuffer{data, len});
      chain->readable_bytes += len;
    }
    return WalkStatus::kOk;
  };
  for (;;) {
    ++count;
    const vring_packed_desc desc = ReadDesc(desc_ + kDescSize * pos, flags);
    if (desc.flags & VRING_DESC_F_INDIRECT) {
      if (desc.flags & VRING_DESC_F_NEXT) {
        return failed(Violation::kIndirectWithNext,
                      where() + " has both INDIRECT and NEXT");
      }
      // Spec 2.8.19: an indirect descriptor stands alone in the ring.
      if (count > 1 && features_.strict) {
        return failed(Violation::kIndirectInChain,
                      where() + " is INDIRECT but follows " +
                          std::to_string(count - 1) +
                          " descriptor(s) with NEXT");
      }
      if (!features_.indirect_desc && features_.strict) {
        return failed(Violation::kIndirectNotNegotiated,
                      where() +
                          " is INDIRECT but VIRTIO_RING_F_INDIRECT_DESC was "
                          "not negotiated");
      }
      if (desc.len == 0 || desc.len % kDescSize != 0) {
        return failed(Violation::kIndirectTableLengthInvalid,
                      where() + " has table length " +
                          std::to_string(desc.len) +
                          ", not a nonzero multiple of 16");
      }
      const uint8_t* table = memory_.HostPointer(desc.addr, desc.len);
      if (table == nullptr) {
        return failed(Violation::kDescriptorOutOfBounds,
                      where() + " indirect table [" + Hex(desc.addr) + ", +" +
                          std::to_string(desc.len) +
                          ") is outside guest memory");
      }
      // Entries are read in order; NEXT and id inside the table are reserved
      // and ignored (spec 2.8.19). add_buffer bounds the loop by the size.
      const uint32_t entries = desc.len / kDescSize;
      for (uint32_t i = 0; i < entries; ++i) {
        vring_packed_desc entry;
        std::memcpy(&entry, table + kDescSize * i, kDescSize);  // Read once.
        const auto entry_where = [&] {
          return where() + " indirect entry " + std::to_string(i);
        };
        if (entry.flags & VRING_DESC_F_INDIRECT) {
          return failed(
              Violation::kIndirectInIndirect,
              entry_where() + " is INDIRECT inside an indirect table");
        }
        if (add_buffer(entry.addr, entry.len, entry.flags, entry_where) !=
            WalkStatus::kOk) {
          return WalkStatus::kViolation;
        }
      }
    } else if (add_buffer(desc.addr, desc.len, desc.flags, where) !=
               WalkStatus::kOk) {
      return WalkStatus::kViolation;
    }
    if (!(desc.flags & VRING_DESC_F_NEXT)) {
      chain->head = desc.id;  // The buffer id is in the chain's last one.
      *descriptors = static_cast<uint16_t>(count);
      return WalkStatus::kOk;
    }
    if (count >= layout_.size) {
      return failed(Violation::kChainTooLong,
                    "chain at " + Position(avail_pos_, avail_wrap_) +
                        " has NEXT on all " + std::to_string(count) +
                        " descriptors of the ring");
    }
    if (++pos == layout_.size) {
      pos = 0;
      wrap = !wrap;
    }
    flags = LoadDescFlags(pos);
    // The driver writes the head's flags last, so the rest of the chain must
    // already be available in this pass (spec 2.8.6).
    if (!IsAvailable(flags, wrap) && features_.strict) {
      return failed(Violation::kChainDescriptorNotAvailable,
                    where() + " continues a chain but its flags " + Hex(flags) +
                        " do not mark it available");
    }
  }
}

bool PackedDeviceQueue::PushUsed(uint16_t id, uint32_t length) {
  if (id >= layout_.size || in_flight_[id].descriptors == 0) return false;
  const InFlight buffer = in_flight_[id];
  in_flight_[id] = InFlight{};
  in_flight_count_--;
  in_flight_descriptors_ -= buffer.descriptors;
  if (length > buffer.writable) length = static_cast<uint32_t>(buffer.writable);
  uint8_t* slot = desc_ + kDescSize * used_pos_;
  std::memcpy(slot + offsetof(vring_packed_desc, id), &id, sizeof(id));
  std::memcpy(slot + offsetof(vring_packed_desc, len), &length, sizeof(length));
  uint16_t flags = used_wrap_ ? (kAvailFlag | kUsedFlag) : 0;
  // WRITE tells the driver that len is meaningful (spec 2.8.4).
  if (length != 0) flags |= VRING_DESC_F_WRITE;
  // Release: id and len are visible before the flags that publish them.
  Store16(slot + offsetof(vring_packed_desc, flags), flags,
          std::memory_order_release);
  // The driver skips the slots of the rest of the chain (spec 2.8.6), so does
  // the used cursor.
  used_pos_ += buffer.descriptors;
  if (used_pos_ >= layout_.size) {
    used_pos_ -= layout_.size;
    used_wrap_ = !used_wrap_;
  }
  // Capped: two laps cross every (offset, wrap) there is.
  used_since_decision_ = std::min<uint32_t>(
      used_since_decision_ + buffer.descriptors, 2u * layout_.size);
  pushed_since_decision_ = true;
  return true;
}

bool PackedDeviceQueue::TakeInterruptDue() {
  if (!pushed_since_decision_) return false;
  pushed_since_decision_ = false;
  const uint32_t moved = used_since_decision_;
  used_since_decision_ = 0;
  // The used flags must be visible before the driver's area is read.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const uint16_t flags =
      Load16(driver_event_ + offsetof(vring_packed_desc_event, flags),
             std::memory_order_acquire);
  const uint16_t off_wrap =
      Load16(driver_event_ + offsetof(vring_packed_desc_event, off_wrap));
  std::string problem;
  if (features_.strict && !CheckDriverEvent(flags, off_wrap, &problem)) {
    // A spurious notification is harmless; a missing one hangs the driver.
    if (!pending_violation_.has_value()) {
      pending_violation_ = ViolationRecord{Violation::kEventSuppressionInvalid,
                                           std::move(problem), index_};
    }
    return true;
  }
  if (flags == VRING_PACKED_EVENT_FLAG_DISABLE) return false;
  const uint16_t offset = off_wrap & kPositionMask;
  if (flags != VRING_PACKED_EVENT_FLAG_DESC || !features_.event_idx ||
      offset >= layout_.size) {
    return true;  // ENABLE, or (lenient) anything malformed.
  }
  // (position, wrap) as one counter modulo two laps: wrap counter 1 is the
  // first lap, as a new ring starts. The used cursor moved from `old` to
  // `now`; notify when the offset named lies in [old, now), as
  // vring_need_event does for split rings.
  const uint32_t laps = 2u * layout_.size;
  if (moved >= laps) return true;
  const auto linear = [&](uint32_t pos, bool wrap) {
    return wrap ? pos : pos + layout_.size;
  };
  const uint32_t now = linear(used_pos_, used_wrap_);
  const uint32_t old = (now + laps - moved) % laps;
  const uint32_t event = linear(offset, (off_wrap & kPackedWrapBit) != 0);
  return (event + laps - old) % laps < moved;
}

}  // namespace sim
