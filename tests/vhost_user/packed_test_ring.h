// The driver's side of one packed virtqueue (virtio 1.1+, section 2.8) in
// guest memory, for vhost-user tests: it lays out the descriptor ring and the
// two event suppression areas, makes chains available as a driver does
// (descriptors, then the head's flags with release), and reads used buffers
// at its own used cursor. It keeps its cursors across a stop and resume of
// the device, as a guest's driver does.
#ifndef TESTS_VHOST_USER_PACKED_TEST_RING_H_
#define TESTS_VHOST_USER_PACKED_TEST_RING_H_

#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_ring.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "sim/device_queue.h"
#include "sim/dma_allocator.h"
#include "sim/guest_memory.h"
#include "sim/packed_device_queue.h"

namespace vhost_user_test {

class PackedTestRing {
 public:
  struct Desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;  // WRITE; NEXT and the wrap bits are added.
  };
  struct Used {
    uint16_t id;
    uint32_t len;
  };

  PackedTestRing(const sim::GuestMemory& memory, sim::DmaAllocator& allocator,
                 uint16_t size)
      : memory_(memory), allocator_(allocator), chain_length_(size) {
    layout_.size = size;
    layout_.desc =
        allocator.Allocate(sizeof(vring_packed_desc) * size, 16).value();
    layout_.driver =
        allocator.Allocate(sizeof(vring_packed_desc_event), 4).value();
    layout_.device =
        allocator.Allocate(sizeof(vring_packed_desc_event), 4).value();
    // The allocator zero-fills: no descriptor is available in the first pass.
    // The driver wants every used buffer signalled.
    SetDriverEvent(VRING_PACKED_EVENT_FLAG_ENABLE);
  }
  ~PackedTestRing() {
    allocator_.Free(layout_.desc);
    allocator_.Free(layout_.driver);
    allocator_.Free(layout_.device);
    for (uint64_t bus : buffers_) allocator_.Free(bus);
  }
  PackedTestRing(const PackedTestRing&) = delete;
  PackedTestRing& operator=(const PackedTestRing&) = delete;

  const sim::QueueLayout& layout() const { return layout_; }
  uint16_t size() const { return layout_.size; }
  // The driver's cursors, encoded as VRING_BASE carries them.
  uint16_t avail_cursor() const { return Encode(avail_pos_, avail_wrap_); }
  uint16_t used_cursor() const { return Encode(used_pos_, used_wrap_); }

  // A zeroed buffer in guest memory, freed with the ring.
  uint64_t Buffer(uint64_t size) {
    const uint64_t bus = allocator_.Allocate(size, 16).value();
    buffers_.push_back(bus);
    return bus;
  }
  uint64_t BufferWith(const std::string& bytes) {
    const uint64_t bus = Buffer(bytes.size());
    std::memcpy(Host(bus, bytes.size()), bytes.data(), bytes.size());
    return bus;
  }
  uint8_t* Host(uint64_t bus, uint64_t size = 1) const {
    return memory_.HostPointer(bus, size);
  }

  // Makes `descs` available as one chain with buffer id `id` at the avail
  // cursor: every descriptor but the head, then the head's flags (release),
  // NEXT on all but the last. `id` goes in every descriptor of the chain, as
  // Linux writes it (the device reads the last one's).
  void AddChain(const std::vector<Desc>& descs, uint16_t id) {
    const uint16_t head = avail_pos_;
    const uint16_t head_flags = AvailFlags(avail_wrap_);
    uint16_t head_extra = 0;
    for (size_t i = 0; i < descs.size(); ++i) {
      const uint16_t flags =
          descs[i].flags | (i + 1 < descs.size() ? VRING_DESC_F_NEXT : 0);
      if (i == 0) {
        head_extra = flags;
      } else {
        WriteDesc(avail_pos_, descs[i].addr, descs[i].len, id,
                  flags | AvailFlags(avail_wrap_));
      }
      if (++avail_pos_ == layout_.size) {
        avail_pos_ = 0;
        avail_wrap_ = !avail_wrap_;
      }
    }
    if (id < chain_length_.size()) {
      chain_length_[id] = static_cast<uint16_t>(descs.size());
    }
    WriteDesc(head, descs[0].addr, descs[0].len, id, head_extra | head_flags);
  }

  // The used buffer at the used cursor, if the device has marked it (both
  // bits equal to the used wrap counter); the cursor then skips the chain's
  // slots.
  std::optional<Used> TakeUsed() {
    const uint8_t* slot = Host(layout_.desc + kDescSize * used_pos_, kDescSize);
    const uint16_t flags = std::atomic_ref<uint16_t>(
                               *reinterpret_cast<uint16_t*>(
                                   const_cast<uint8_t*>(slot + kFlagsOffset)))
                               .load(std::memory_order_acquire);
    const bool avail = flags & (1u << VRING_PACKED_DESC_F_AVAIL);
    const bool used = flags & (1u << VRING_PACKED_DESC_F_USED);
    if (avail != used || used != used_wrap_) return std::nullopt;
    vring_packed_desc desc;
    std::memcpy(&desc, slot, kDescSize);
    const uint16_t length =
        desc.id < chain_length_.size() && chain_length_[desc.id] != 0
            ? chain_length_[desc.id]
            : 1;
    used_pos_ += length;
    if (used_pos_ >= layout_.size) {
      used_pos_ -= layout_.size;
      used_wrap_ = !used_wrap_;
    }
    return Used{desc.id, desc.len};
  }
  // Polls TakeUsed (for the device's thread); nullopt on timeout.
  std::optional<Used> WaitUsed(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (std::optional<Used> used = TakeUsed()) return used;
      if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
      sched_yield();
    }
  }

  void SetDriverEvent(uint16_t flags, uint16_t off_wrap = 0) {
    const vring_packed_desc_event event{off_wrap, flags};
    std::memcpy(Host(layout_.driver, sizeof(event)), &event, sizeof(event));
  }
  vring_packed_desc_event DeviceEvent() const {
    vring_packed_desc_event event;
    std::memcpy(&event, Host(layout_.device, sizeof(event)), sizeof(event));
    return event;
  }

 private:
  static constexpr uint64_t kDescSize = sizeof(vring_packed_desc);
  static constexpr size_t kFlagsOffset = offsetof(vring_packed_desc, flags);

  static uint16_t Encode(uint16_t pos, bool wrap) {
    return static_cast<uint16_t>(pos | (wrap ? sim::kPackedWrapBit : 0));
  }
  // AVAIL equal to the wrap counter, USED not: available in that pass.
  static uint16_t AvailFlags(bool wrap) {
    return wrap ? 1u << VRING_PACKED_DESC_F_AVAIL
                : 1u << VRING_PACKED_DESC_F_USED;
  }
  void WriteDesc(uint16_t pos, uint64_t addr, uint32_t len, uint16_t id,
                 uint16_t flags) {
    uint8_t* slot = Host(layout_.desc + kDescSize * pos, kDescSize);
    const vring_packed_desc desc{addr, len, id, 0};
    std::memcpy(slot, &desc, kFlagsOffset);
    std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(slot + kFlagsOffset))
        .store(flags, std::memory_order_release);
  }

  const sim::GuestMemory& memory_;
  sim::DmaAllocator& allocator_;
  sim::QueueLayout layout_;
  uint16_t avail_pos_ = 0;
  bool avail_wrap_ = true;
  uint16_t used_pos_ = 0;
  bool used_wrap_ = true;
  std::vector<uint16_t> chain_length_;  // Per buffer id: ring slots taken.
  std::vector<uint64_t> buffers_;
};

}  // namespace vhost_user_test

#endif  // TESTS_VHOST_USER_PACKED_TEST_RING_H_
