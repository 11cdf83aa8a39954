#include "sim/split_device_queue.h"

// The legacy part of <linux/virtio_ring.h> (vring_init) is C that C++ rejects.
#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_ring.h>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace sim {
namespace {

constexpr uint64_t kDescSize = sizeof(vring_desc);
// flags, idx, ring[size], used_event / avail_event.
uint64_t AvailBytes(uint32_t size) { return 6 + 2ull * size; }
uint64_t UsedBytes(uint32_t size) {
  return 6 + sizeof(vring_used_elem) * uint64_t{size};
}

// Ring indices and flags are shared with a driver running concurrently: access
// them atomically. Alignment was checked when the queue was configured.
uint16_t Load16(const uint8_t* p,
                std::memory_order order = std::memory_order_relaxed) {
  return std::atomic_ref<uint16_t>(
             *reinterpret_cast<uint16_t*>(const_cast<uint8_t*>(p)))
      .load(order);
}
void Store16(uint8_t* p, uint16_t value,
             std::memory_order order = std::memory_order_relaxed) {
  std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(p))
      .store(value, order);
}

std::string Hex(uint64_t value) {
  char text[24];
  snprintf(text, sizeof(text), "0x%llx",
           static_cast<unsigned long long>(value));
  return text;
}

}  // namespace

bool IsValidSplitQueueSize(uint32_t size, uint32_t max_size) {
  return size != 0 && (size & (size - 1)) == 0 && size <= max_size &&
         size <= kMaxQueueSize;
}

std::optional<ViolationRecord> CheckSplitQueueLayout(
    const GuestMemory& memory, const QueueLayout& layout) {
  struct Ring {
    const char* name;
    uint64_t address;
    uint64_t alignment;
    uint64_t bytes;
  };
  const Ring rings[] = {
      {"descriptor table", layout.desc, VRING_DESC_ALIGN_SIZE,
       kDescSize * layout.size},
      {"available ring", layout.driver, VRING_AVAIL_ALIGN_SIZE,
       AvailBytes(layout.size)},
      {"used ring", layout.device, VRING_USED_ALIGN_SIZE,
       UsedBytes(layout.size)},
  };
  for (const Ring& ring : rings) {
    if (ring.address % ring.alignment != 0) {
      return ViolationRecord{
          Violation::kQueueAddressMisaligned,
          std::string(ring.name) + " at " + Hex(ring.address) + " is not " +
              std::to_string(ring.alignment) + "-byte aligned"};
    }
    if (!memory.Contains(ring.address, ring.bytes)) {
      return ViolationRecord{Violation::kQueueAddressOutOfBounds,
                             std::string(ring.name) + " [" + Hex(ring.address) +
                                 ", +" + std::to_string(ring.bytes) +
                                 ") is not inside guest memory " +
                                 memory.Describe()};
    }
  }
  return std::nullopt;
}

SplitDeviceQueue::SplitDeviceQueue(const GuestMemory& memory, uint16_t index,
                                   const QueueLayout& layout,
                                   const QueueFeatures& features,
                                   uint16_t next_avail_idx, uint16_t used_idx)
    : memory_(memory),
      index_(index),
      layout_(layout),
      features_(features),
      desc_(memory.HostPointer(layout.desc, kDescSize * layout.size)),
      avail_(memory.HostPointer(layout.driver, AvailBytes(layout.size))),
      used_(memory.HostPointer(layout.device, UsedBytes(layout.size))),
      last_avail_idx_(next_avail_idx),
      used_idx_(used_idx),
      signalled_used_idx_(used_idx),
      in_flight_writable_(layout.size, 0) {}

uint16_t SplitDeviceQueue::LoadAvailIdx() const {
  // Acquire: the ring entries and descriptors it publishes are read after it
  // (the spec's read barrier, as an acquire load so that ThreadSanitizer sees
  // it too).
  return Load16(avail_ + offsetof(vring_avail, idx), std::memory_order_acquire);
}

uint16_t SplitDeviceQueue::LoadUsedEvent() const {
  // After the avail ring's entries (spec 2.7.10).
  return Load16(avail_ + offsetof(vring_avail, ring) + 2u * layout_.size);
}

void SplitDeviceQueue::PublishAvailEvent() {
  Store16(used_ + 4 + sizeof(vring_used_elem) * layout_.size, last_avail_idx_);
}

DeviceQueue::AvailWatch SplitDeviceQueue::avail_watch() const {
  // The avail ring entry naming the next head, the descriptor the last chain
  // began at, and the buffer it began with.
  const uint16_t slot = last_avail_idx_ & (layout_.size - 1);
  return {reinterpret_cast<uint16_t*>(avail_ + offsetof(vring_avail, idx)),
          last_avail_idx_,
          {avail_ + offsetof(vring_avail, ring) + 2u * slot,
           desc_ + kDescSize * last_head_, last_request_}};
}

std::string SplitDeviceQueue::DescribeState() const {
  const uint16_t avail_idx = LoadAvailIdx();
  std::string state = absl::StrCat(
      "driver's avail idx ", avail_idx, ", taken up to ", last_avail_idx_, " (",
      static_cast<uint16_t>(avail_idx - last_avail_idx_), " waiting), ",
      in_flight_count_, " in flight, used idx ", used_idx_,
      ", last interrupt decision at ", signalled_used_idx_);
  if (features_.event_idx) {
    absl::StrAppend(&state, ", driver's used_event ", LoadUsedEvent());
  } else {
    absl::StrAppend(&state, ", driver's avail flags ",
                    Load16(avail_ + offsetof(vring_avail, flags)));
  }
  return state;
}

bool SplitDeviceQueue::AskForNotification() {
  if (!features_.event_idx) return false;  // The driver always notifies.
  // Ask to be notified at the next buffer, then look again: the driver may
  // have added one before it could see avail_event (spec 2.7.10).
  PublishAvailEvent();
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return LoadAvailIdx() != last_avail_idx_;
}

bool SplitDeviceQueue::Fail(ViolationRecord* violation, Violation kind,
                            std::string message) const {
  violation->violation = kind;
  violation->message = std::move(message);
  violation->queue = index_;
  return false;
}

DeviceQueue::PopStatus SplitDeviceQueue::Pop(DescriptorChain* chain,
                                             ViolationRecord* violation) {
  uint16_t avail_idx = LoadAvailIdx();
  if (avail_idx == last_avail_idx_) {
    if (polled_ || !AskForNotification()) return PopStatus::kEmpty;
    avail_idx = LoadAvailIdx();
  }
  uint16_t pending = static_cast<uint16_t>(avail_idx - last_avail_idx_);
  if (pending > layout_.size) {
    Fail(violation, Violation::kAvailIndexJump,
         "avail idx went from " + std::to_string(last_avail_idx_) + " to " +
             std::to_string(avail_idx) + ", more than the queue size " +
             std::to_string(layout_.size));
    return PopStatus::kViolation;
  }
  uint16_t slot = last_avail_idx_ & (layout_.size - 1);
  uint16_t head = Load16(avail_ + offsetof(vring_avail, ring) + 2u * slot);
  if (head >= layout_.size) {
    Fail(violation, Violation::kHeadIndexOutOfRange,
         "avail ring entry " + std::to_string(slot) + " is descriptor " +
             std::to_string(head) + ", queue size " +
             std::to_string(layout_.size));
    return PopStatus::kViolation;
  }
  if (in_flight_writable_[head] != 0) {
    Fail(violation, Violation::kHeadAlreadyInFlight,
         "descriptor " + std::to_string(head) +
             " made available again before the device used it");
    return PopStatus::kViolation;
  }
  chain->queue = index_;
  chain->head = head;
  chain->readable.clear();
  chain->writable.clear();
  chain->readable_bytes = 0;
  chain->writable_bytes = 0;
  if (Walk(head, chain, violation) != WalkStatus::kOk)
    return PopStatus::kViolation;
  last_avail_idx_++;
  last_head_ = head;
  last_request_ = chain->readable.empty() ? nullptr : chain->readable[0].data;
  in_flight_writable_[head] = chain->writable_bytes + 1;
  in_flight_count_++;
  return PopStatus::kChain;
}

SplitDeviceQueue::WalkStatus SplitDeviceQueue::Walk(
    uint16_t head, DescriptorChain* chain, ViolationRecord* violation) {
  const uint8_t* table = desc_;
  uint32_t table_size = layout_.size;
  bool indirect = false;
  uint32_t index = head;
  uint32_t steps_in_table = 0;  // More steps than entries means a loop.
  uint32_t buffers = 0;
  const auto failed = [&](Violation kind, std::string message) {
    Fail(violation, kind, std::move(message));
    return WalkStatus::kViolation;
  };
  for (;;) {
    if (++steps_in_table > table_size) {
      return failed(Violation::kChainLoop,
                    std::string(indirect ? "indirect table" : "chain") +
                        " from head " + std::to_string(head) +
                        " revisits descriptor " + std::to_string(index));
    }
    vring_desc desc;
    std::memcpy(&desc, table + kDescSize * index, kDescSize);  // Read once.
    // Named only when a rule is broken: the common path builds no strings.
    const auto where = [&] {
      return std::string(indirect ? "indirect descriptor " : "descriptor ") +
             std::to_string(index);
    };
    if (desc.flags & VRING_DESC_F_INDIRECT) {
      if (indirect) {
        return failed(Violation::kIndirectInIndirect,
                      where() +
                          " is INDIRECT inside an "
                          "indirect table");
      }
      if (!features_.indirect_desc && features_.strict) {
        return failed(
            Violation::kIndirectNotNegotiated,
            where() +
                " is INDIRECT but VIRTIO_RING_F_INDIRECT_DESC was not "
                "negotiated");
      }
      if (desc.flags & VRING_DESC_F_NEXT) {
        return failed(Violation::kIndirectWithNext,
                      where() + " has both INDIRECT and NEXT");
      }
      if (desc.len == 0 || desc.len % kDescSize != 0) {
        return failed(Violation::kIndirectTableLengthInvalid,
                      where() + " has table length " +
                          std::to_string(desc.len) +
                          ", not a nonzero multiple of 16");
      }
      const uint8_t* next_table = memory_.HostPointer(desc.addr, desc.len);
      if (next_table == nullptr) {
        return failed(Violation::kDescriptorOutOfBounds,
                      where() + " indirect table [" + Hex(desc.addr) + ", +" +
                          std::to_string(desc.len) +
                          ") is outside guest memory");
      }
      table = next_table;
      table_size = desc.len / kDescSize;
      indirect = true;
      index = 0;
      steps_in_table = 0;
      continue;
    }
    if (++buffers > layout_.size) {
      return failed(Violation::kChainTooLong,
                    "chain from head " + std::to_string(head) +
                        " has more than " + std::to_string(layout_.size) +
                        " buffers");
    }
    uint8_t* data = memory_.HostPointer(desc.addr, desc.len);
    if (data == nullptr) {
      return failed(Violation::kDescriptorOutOfBounds,
                    where() + " buffer [" + Hex(desc.addr) + ", +" +
                        std::to_string(desc.len) +
                        ") is outside guest memory " + memory_.Describe());
    }
    if (desc.flags & VRING_DESC_F_WRITE) {
      chain->writable.push_back(GuestBuffer{data, desc.len});
      chain->writable_bytes += desc.len;
    } else {
      if (!chain->writable.empty() && features_.strict) {
        return failed(
            Violation::kReadableAfterWritable,
            where() + " is device-readable but follows a device-writable one");
      }
      chain->readable.push_back(GuestBuffer{data, desc.len});
      chain->readable_bytes += desc.len;
    }
    if (!(desc.flags & VRING_DESC_F_NEXT)) return WalkStatus::kOk;
    if (desc.next >= table_size) {
      return failed(Violation::kNextIndexOutOfRange,
                    where() + " has next " + std::to_string(desc.next) +
                        ", table size " + std::to_string(table_size));
    }
    index = desc.next;
  }
}

bool SplitDeviceQueue::PushUsed(uint16_t head, uint32_t length) {
  if (head >= layout_.size || in_flight_writable_[head] == 0) return false;
  uint64_t writable = in_flight_writable_[head] - 1;
  if (length > writable) length = static_cast<uint32_t>(writable);
  in_flight_writable_[head] = 0;
  in_flight_count_--;
  vring_used_elem element;
  element.id = head;
  element.len = length;
  uint8_t* entry = used_ + offsetof(vring_used, ring) +
                   sizeof(vring_used_elem) * (used_idx_ & (layout_.size - 1));
  // An entry that already holds this element (the same chain returned with
  // the same length a lap ago) is not written again: the store would take the
  // line from the driver's cache only for the driver to fetch it back.
  if (std::memcmp(entry, &element, sizeof(element)) != 0)
    std::memcpy(entry, &element, sizeof(element));
  used_idx_++;
  // Release: the element is visible before the index that publishes it.
  Store16(used_ + offsetof(vring_used, idx), used_idx_,
          std::memory_order_release);
  pushed_since_decision_ = true;
  return true;
}

bool SplitDeviceQueue::TakeInterruptDue() {
  if (!pushed_since_decision_) return false;
  pushed_since_decision_ = false;
  // used idx must be visible before the driver's suppression fields are read.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (features_.event_idx) {
    uint16_t used_event = LoadUsedEvent();
    uint16_t old_idx = signalled_used_idx_;
    signalled_used_idx_ = used_idx_;
    return vring_need_event(used_event, used_idx_, old_idx);
  }
  signalled_used_idx_ = used_idx_;
  uint16_t flags = Load16(avail_ + offsetof(vring_avail, flags));
  return !(flags & VRING_AVAIL_F_NO_INTERRUPT);
}

}  // namespace sim
