// The driver's side of one packed virtqueue (virtio 1.1+, section 2.8) for
// device-side tests, the packed counterpart of sim_test::TestRing: it lays out
// the descriptor ring and the two event suppression areas in guest memory,
// makes chains available with the AVAIL/USED bits of the driver's wrap counter
// (head flags written last, as a driver must), and reads used descriptors in
// the order the device wrote them. SetDesc writes any flags at any position,
// so that a test can break the rules on purpose.
//
// InitPacked and EchoPacked drive a whole device through a TestDriver's
// registers with such a ring on queue 0, as TestDriver::Init and Echo do with
// a split one.
#ifndef TESTS_SIM_TEST_PACKED_RING_H_
#define TESTS_SIM_TEST_PACKED_RING_H_

#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_config.h>
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
#include "tests/sim/test_driver.h"

namespace sim_test {

inline constexpr uint16_t kPackedAvail = 1u << VRING_PACKED_DESC_F_AVAIL;
inline constexpr uint16_t kPackedUsed = 1u << VRING_PACKED_DESC_F_USED;

class TestPackedRing {
 public:
  // One buffer of a chain; `flags` are WRITE and INDIRECT (NEXT and the wrap
  // bits are added by AddChain).
  struct Desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags = 0;
  };
  // A used descriptor as the driver reads it.
  struct Used {
    uint16_t position;  // Ring position the device wrote it at.
    uint16_t id;
    uint32_t len;
    uint16_t flags;
  };

  TestPackedRing(const sim::GuestMemory& memory, sim::DmaAllocator& allocator,
                 uint16_t size)
      : memory_(memory), allocator_(allocator), size_(size) {
    // Spec 2.8.10.1: the ring 16-byte aligned, the event areas 4-byte. The
    // allocator zeroes them: no descriptor available, driver event ENABLE.
    layout_.size = size;
    layout_.desc = allocator.Allocate(16ull * size, 16).value();
    layout_.driver = allocator.Allocate(4, 4).value();
    layout_.device = allocator.Allocate(4, 4).value();
    chain_lengths_.assign(size, 0);
  }
  ~TestPackedRing() {
    allocator_.Free(layout_.desc);
    allocator_.Free(layout_.driver);
    allocator_.Free(layout_.device);
    for (uint64_t bus : buffers_) allocator_.Free(bus);
  }
  TestPackedRing(const TestPackedRing&) = delete;
  TestPackedRing& operator=(const TestPackedRing&) = delete;

  const sim::QueueLayout& layout() const { return layout_; }
  uint16_t size() const { return size_; }

  // --- Buffers (zeroed, freed with the ring) --------------------------------
  uint64_t Buffer(uint64_t size, uint64_t alignment = 16) {
    uint64_t bus = allocator_.Allocate(size, alignment).value();
    buffers_.push_back(bus);
    return bus;
  }
  uint8_t* Host(uint64_t bus, uint64_t size = 1) const {
    return memory_.HostPointer(bus, size);
  }
  uint64_t BufferWith(const std::string& bytes) {
    uint64_t bus = Buffer(bytes.empty() ? 1 : bytes.size());
    std::memcpy(Host(bus, bytes.size()), bytes.data(), bytes.size());
    return bus;
  }
  std::string Text(uint64_t bus, uint32_t len) const {
    return std::string(reinterpret_cast<const char*>(Host(bus, len)), len);
  }
  // An indirect table (packed descriptors, id 0); returns its bus address.
  uint64_t IndirectTable(const std::vector<Desc>& entries) {
    uint64_t bus = Buffer(16 * entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      const vring_packed_desc desc{entries[i].addr, entries[i].len, 0,
                                   entries[i].flags};
      std::memcpy(Host(bus + 16 * i, 16), &desc, 16);
    }
    return bus;
  }

  // --- Making buffers available ---------------------------------------------
  // The AVAIL/USED bits that make a descriptor available in the pass with
  // wrap counter `wrap` (spec 2.8.1).
  static uint16_t AvailBits(bool wrap) {
    return wrap ? kPackedAvail : kPackedUsed;
  }
  // Writes a descriptor at `position` with exactly `flags` (wrap bits
  // included): addr, len and id first, then flags with release.
  void SetDesc(uint16_t position, uint64_t addr, uint32_t len, uint16_t id,
               uint16_t flags) {
    const vring_packed_desc desc{addr, len, id, 0};
    uint8_t* slot = Host(layout_.desc + 16ull * position, 16);
    std::memcpy(slot, &desc, offsetof(vring_packed_desc, flags));
    std::atomic_ref<uint16_t>(
        *reinterpret_cast<uint16_t*>(slot + offsetof(vring_packed_desc, flags)))
        .store(flags, std::memory_order_release);
  }
  uint16_t LoadFlags(uint16_t position) const {
    return std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(Host(
                                         layout_.desc + 16ull * position +
                                             offsetof(vring_packed_desc, flags),
                                         2)))
        .load(std::memory_order_acquire);
  }
  // Flags first with acquire, then the fields the device wrote before them.
  vring_packed_desc ReadDesc(uint16_t position) const {
    vring_packed_desc desc;
    desc.flags = LoadFlags(position);
    std::memcpy(&desc, Host(layout_.desc + 16ull * position, 16),
                offsetof(vring_packed_desc, flags));
    return desc;
  }

  // Writes a descriptor `ahead` slots past the driver's cursor with `flags`
  // plus the AVAIL/USED bits of that slot's pass; the cursor does not move
  // (Advance moves it). To build a chain by hand: the others first, the head
  // (ahead 0) last.
  void SetDescAhead(uint16_t ahead, uint64_t addr, uint32_t len, uint16_t id,
                    uint16_t flags) {
    uint32_t position = avail_pos_ + uint32_t{ahead};
    bool wrap = avail_wrap_;
    while (position >= size_) {
      position -= size_;
      wrap = !wrap;
    }
    SetDesc(static_cast<uint16_t>(position), addr, len, id,
            flags | AvailBits(wrap));
  }
  // Makes `descs` available as one chain at the driver's cursor with buffer
  // id `id` (written in every descriptor; the device reads the last one's),
  // NEXT on all but the last, the head's flags written last. Returns the
  // head's position; the cursor moves past the chain, flipping the wrap
  // counter when it passes the end of the ring.
  uint16_t AddChain(const std::vector<Desc>& descs, uint16_t id) {
    const uint16_t head = avail_pos_;
    for (size_t i = descs.size(); i-- > 0;) {
      const uint16_t next = i + 1 < descs.size() ? VRING_DESC_F_NEXT : 0;
      SetDescAhead(static_cast<uint16_t>(i), descs[i].addr, descs[i].len, id,
                   descs[i].flags | next);
    }
    if (id < size_) chain_lengths_[id] = static_cast<uint16_t>(descs.size());
    Advance(static_cast<uint16_t>(descs.size()));
    return head;
  }
  // Moves the driver's cursor `count` descriptors on without writing them.
  void Advance(uint16_t count) {
    for (uint16_t i = 0; i < count; ++i) {
      if (++avail_pos_ == size_) {
        avail_pos_ = 0;
        avail_wrap_ = !avail_wrap_;
      }
    }
  }
  uint16_t avail_position() const { return avail_pos_; }
  bool avail_wrap() const { return avail_wrap_; }

  // --- Event suppression ----------------------------------------------------
  void SetDriverEvent(uint16_t flags, uint16_t off_wrap = 0) {
    const vring_packed_desc_event event{off_wrap, flags};
    uint32_t word;
    std::memcpy(&word, &event, sizeof(word));
    std::atomic_ref<uint32_t>(
        *reinterpret_cast<uint32_t*>(Host(layout_.driver, 4)))
        .store(word, std::memory_order_release);
  }
  vring_packed_desc_event DeviceEvent() const {
    uint32_t word = std::atomic_ref<uint32_t>(
                        *reinterpret_cast<uint32_t*>(Host(layout_.device, 4)))
                        .load(std::memory_order_acquire);
    vring_packed_desc_event event;
    std::memcpy(&event, &word, sizeof(word));
    return event;
  }

  // --- Used buffers ---------------------------------------------------------
  // The used descriptor at the driver's used cursor, if the device wrote one
  // (AVAIL and USED both equal to the used wrap counter); the cursor then
  // skips the slots of that buffer's chain (spec 2.8.6). nullopt otherwise.
  std::optional<Used> TakeUsed() {
    // Flags alone first: id and len may be being written by a device thread.
    const uint16_t used_bits = used_wrap_ ? (kPackedAvail | kPackedUsed) : 0;
    if ((LoadFlags(used_pos_) & (kPackedAvail | kPackedUsed)) != used_bits) {
      return std::nullopt;
    }
    const vring_packed_desc desc = ReadDesc(used_pos_);
    const Used used{used_pos_, desc.id, desc.len, desc.flags};
    const uint16_t length = desc.id < size_ && chain_lengths_[desc.id] != 0
                                ? chain_lengths_[desc.id]
                                : 1;
    for (uint16_t i = 0; i < length; ++i) {
      if (++used_pos_ == size_) {
        used_pos_ = 0;
        used_wrap_ = !used_wrap_;
      }
    }
    return used;
  }
  // TakeUsed, polling (for the threaded device) until `timeout`.
  std::optional<Used> WaitUsed(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (std::optional<Used> used = TakeUsed()) return used;
      if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
      sched_yield();
    }
  }
  uint16_t used_position() const { return used_pos_; }
  bool used_wrap() const { return used_wrap_; }

 private:
  const sim::GuestMemory& memory_;
  sim::DmaAllocator& allocator_;
  const uint16_t size_;
  sim::QueueLayout layout_;
  // Both cursors start at position 0 of the pass with wrap counter 1.
  uint16_t avail_pos_ = 0;
  bool avail_wrap_ = true;
  uint16_t used_pos_ = 0;
  bool used_wrap_ = true;
  std::vector<uint16_t> chain_lengths_;  // Ring descriptors, per buffer id.
  std::vector<uint64_t> buffers_;
};

// Negotiates `wanted` (VIRTIO_F_RING_PACKED among them, the device offering
// it), gives queue 0 `ring`, enables it and sets DRIVER_OK. False when any
// step is refused.
inline bool InitPacked(TestDriver& driver, const TestPackedRing& ring,
                       uint64_t wanted = ~uint64_t{0}) {
  if (!driver.Negotiate(wanted)) return false;
  if (!(driver.negotiated() & Bit(VIRTIO_F_RING_PACKED))) return false;
  driver.ConfigureQueue(0, ring.layout());
  driver.EnableQueue(0);
  driver.AddStatus(VIRTIO_CONFIG_S_DRIVER_OK);
  return driver.Status() ==
         (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
          VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

// Sends `input` through the echo device on queue 0 as a chain of one readable
// and one writable descriptor of `output_size` bytes with buffer id `id`,
// notifies, and returns the bytes written, or nullopt when the device used no
// buffer, or another one.
inline std::optional<std::string> EchoPacked(TestDriver& driver,
                                             TestPackedRing& ring,
                                             const std::string& input,
                                             uint32_t output_size = 64,
                                             uint16_t id = 0) {
  const uint64_t in = ring.BufferWith(input);
  const uint64_t out = ring.Buffer(output_size);
  ring.AddChain({{in, static_cast<uint32_t>(input.size())},
                 {out, output_size, VRING_DESC_F_WRITE}},
                id);
  driver.Notify(0);
  std::optional<TestPackedRing::Used> used = ring.WaitUsed();
  if (!used.has_value() || used->id != id) return std::nullopt;
  return ring.Text(out, used->len);
}

}  // namespace sim_test

#endif  // TESTS_SIM_TEST_PACKED_RING_H_
