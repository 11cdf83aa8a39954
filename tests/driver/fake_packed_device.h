// The device side of a packed virtqueue (virtio spec 2.8), played by hand in
// unit tests: it reads the driver's available descriptors from the ring by bus
// address, in ring order, with its own wrap counters, and writes used
// descriptors itself, so a test can return chains in any order, or return
// garbage. It checks what a strict device would: that a chain's descriptors are
// all marked available for their own lap, that readable ones come first, that
// every buffer lies in DMA memory, and what an indirect table may hold.
//
// Accesses to descriptor flags are atomic (acquire and release), so that the
// device may also run on its own thread against the driver.
#ifndef TESTS_DRIVER_FAKE_PACKED_DEVICE_H_
#define TESTS_DRIVER_FAKE_PACKED_DEVICE_H_

#ifndef VIRTIO_RING_NO_LEGACY
#define VIRTIO_RING_NO_LEGACY
#endif
#include <linux/virtio_ring.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "driver/transport.h"
#include "gtest/gtest.h"
#include "tests/driver/fake_dma_platform.h"

namespace driver_test {

inline constexpr uint16_t kPackedAvail = 1 << VRING_PACKED_DESC_F_AVAIL;
inline constexpr uint16_t kPackedUsed = 1 << VRING_PACKED_DESC_F_USED;

// One buffer element of a chain, from the ring or from an indirect table.
struct PackedElement {
  uint64_t addr;
  uint32_t len;
  bool writable;
};

struct PackedChain {
  uint16_t id;    // Buffer id, from the chain's last ring descriptor.
  uint16_t head;  // Ring slot of its first descriptor.
  bool wrap;      // The device's avail wrap counter at the head.
  bool indirect;  // Reached through an indirect table.
  std::vector<vring_packed_desc> ring;   // Its ring descriptors, as read.
  std::vector<vring_packed_desc> table;  // The indirect table, as read.
  std::vector<PackedElement> elements;   // Its buffers, in order.
  uint16_t ring_descriptors() const { return ring.size(); }
  uint32_t writable_bytes() const {
    uint32_t bytes = 0;
    for (const PackedElement& e : elements) bytes += e.writable ? e.len : 0;
    return bytes;
  }
};

// A platform whose DMA memory comes back dirty, as Platform allows, so that a
// test sees what the driver failed to clear.
class DirtyDmaPlatform : public FakeDmaPlatform {
 public:
  base::Result<base::DmaRegion> AllocateDma(size_t size,
                                            size_t alignment) override {
    base::DmaRegion region = TRY(FakeDmaPlatform::AllocateDma(size, alignment));
    std::memset(region.cpu, 0xa5, size);
    return region;
  }
};

// Whether [bus, bus + length) is DMA memory of `platform`'s holding only zeros.
inline bool AllZero(FakeDmaPlatform& platform, uint64_t bus, size_t length) {
  auto* bytes = static_cast<const uint8_t*>(platform.BusToCpu(bus, length));
  if (bytes == nullptr) return false;
  for (size_t i = 0; i < length; ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

class FakePackedDevice {
 public:
  FakePackedDevice(FakeDmaPlatform& platform,
                   const driver::QueueAddresses& addresses, uint16_t size)
      : platform_(&platform), size_(size) {
    desc_ = static_cast<vring_packed_desc*>(platform.BusToCpu(
        addresses.descriptor_table, sizeof(vring_packed_desc) * size));
    driver_event_ = static_cast<vring_packed_desc_event*>(platform.BusToCpu(
        addresses.driver_area, sizeof(vring_packed_desc_event)));
    device_event_ = static_cast<vring_packed_desc_event*>(platform.BusToCpu(
        addresses.device_area, sizeof(vring_packed_desc_event)));
    EXPECT_NE(desc_, nullptr);
    EXPECT_NE(driver_event_, nullptr);
    EXPECT_NE(device_event_, nullptr);
  }

  // Takes every newly available chain, in ring order.
  std::vector<PackedChain> PopAvailable() {
    std::vector<PackedChain> chains;
    while (IsAvailable(LoadFlags(next_avail_), avail_wrap_)) {
      chains.push_back(Walk());
      if (::testing::Test::HasFailure()) break;
    }
    return chains;
  }

  // Writes a used descriptor for buffer `id` at the next used position, then
  // skips `skip` ring slots (the chain's descriptor count), flipping the used
  // wrap counter at the end of the ring.
  void PushUsed(uint16_t id, uint32_t length, uint16_t skip,
                bool wrap_matches = true) {
    vring_packed_desc& d = desc_[next_used_];
    d.id = id;
    d.len = length;
    const bool wrap = wrap_matches ? used_wrap_ : !used_wrap_;
    const uint16_t flags =
        VRING_DESC_F_WRITE | (wrap ? kPackedAvail | kPackedUsed : 0);
    __atomic_store_n(&d.flags, flags, __ATOMIC_RELEASE);
    const uint32_t next = uint32_t{next_used_} + skip;
    if (next >= size_) {
      next_used_ = static_cast<uint16_t>(next - size_);
      used_wrap_ = !used_wrap_;
      ++used_laps_;
    } else {
      next_used_ = static_cast<uint16_t>(next);
    }
  }
  void PushUsed(const PackedChain& chain, uint32_t length) {
    PushUsed(chain.id, length, chain.ring_descriptors());
  }

  // Returns every chain with all its writable bytes written until `stop`, on
  // the device's own thread.
  void Serve(const std::atomic<bool>& stop) {
    while (!stop.load(std::memory_order_acquire)) {
      for (const PackedChain& chain : PopAvailable())
        PushUsed(chain, chain.writable_bytes());
      std::this_thread::yield();
    }
  }

  // The device event suppression area, which tells the driver when to notify.
  void set_device_event(uint16_t flags, uint16_t off_wrap = 0) {
    __atomic_store_n(&device_event_->off_wrap, off_wrap, __ATOMIC_RELAXED);
    __atomic_store_n(&device_event_->flags, flags, __ATOMIC_RELEASE);
  }
  // The driver event suppression area, which tells the device when to
  // interrupt.
  uint16_t driver_event_flags() const { return driver_event_->flags; }
  uint16_t driver_event_off_wrap() const { return driver_event_->off_wrap; }
  // Off_wrap naming this device's next used position.
  uint16_t next_used_off_wrap() const {
    return next_used_ | (used_wrap_ ? 1 << VRING_PACKED_EVENT_F_WRAP_CTR : 0);
  }

  const vring_packed_desc& desc(uint16_t slot) const { return desc_[slot]; }
  uint16_t next_avail() const { return next_avail_; }
  bool avail_wrap() const { return avail_wrap_; }
  uint16_t next_used() const { return next_used_; }
  bool used_wrap() const { return used_wrap_; }
  int avail_laps() const { return avail_laps_; }
  int used_laps() const { return used_laps_; }

 private:
  static bool IsAvailable(uint16_t flags, bool wrap) {
    return ((flags & kPackedAvail) != 0) == wrap &&
           ((flags & kPackedUsed) != 0) != wrap;
  }
  uint16_t LoadFlags(uint16_t slot) const {
    return __atomic_load_n(&desc_[slot].flags, __ATOMIC_ACQUIRE);
  }

  PackedChain Walk() {
    PackedChain chain{.id = 0,
                      .head = next_avail_,
                      .wrap = avail_wrap_,
                      .indirect = false,
                      .ring = {},
                      .table = {},
                      .elements = {}};
    for (uint32_t steps = 0; steps < size_; ++steps) {
      vring_packed_desc d = desc_[next_avail_];
      d.flags = LoadFlags(next_avail_);
      EXPECT_TRUE(IsAvailable(d.flags, avail_wrap_))
          << "descriptor " << next_avail_ << " of a chain is not available";
      if (++next_avail_ == size_) {
        next_avail_ = 0;
        avail_wrap_ = !avail_wrap_;
        ++avail_laps_;
      }
      chain.ring.push_back(d);
      if (d.flags & VRING_DESC_F_INDIRECT) {
        chain.indirect = true;
        EXPECT_EQ(chain.ring.size(), 1u) << "indirect descriptor in a chain";
        EXPECT_EQ(d.flags & (VRING_DESC_F_NEXT | VRING_DESC_F_WRITE), 0);
        ReadTable(d, &chain);
      } else {
        Add({d.addr, d.len, (d.flags & VRING_DESC_F_WRITE) != 0}, &chain);
      }
      if ((d.flags & VRING_DESC_F_NEXT) == 0) {
        chain.id = d.id;
        return chain;
      }
    }
    ADD_FAILURE() << "chain longer than the ring";
    return chain;
  }

  void ReadTable(const vring_packed_desc& d, PackedChain* chain) {
    EXPECT_EQ(d.len % sizeof(vring_packed_desc), 0u);
    EXPECT_GT(d.len, 0u);
    auto* table = static_cast<const vring_packed_desc*>(
        platform_->BusToCpu(d.addr, d.len));
    EXPECT_NE(table, nullptr) << "indirect table outside DMA memory";
    if (table == nullptr) return;
    EXPECT_EQ(d.addr % 16, 0u);
    for (size_t i = 0; i < d.len / sizeof(vring_packed_desc); ++i) {
      chain->table.push_back(table[i]);
      EXPECT_EQ(table[i].flags & ~VRING_DESC_F_WRITE, 0)
          << "only WRITE is valid in an indirect table";
      Add({table[i].addr, table[i].len,
           (table[i].flags & VRING_DESC_F_WRITE) != 0},
          chain);
    }
  }

  void Add(const PackedElement& element, PackedChain* chain) {
    EXPECT_NE(platform_->BusToCpu(element.addr, element.len), nullptr)
        << "buffer outside DMA memory";
    if (!chain->elements.empty() && chain->elements.back().writable) {
      EXPECT_TRUE(element.writable) << "readable element after a writable one";
    }
    chain->elements.push_back(element);
  }

  FakeDmaPlatform* platform_;
  uint16_t size_;
  vring_packed_desc* desc_;
  vring_packed_desc_event* driver_event_;
  vring_packed_desc_event* device_event_;
  uint16_t next_avail_ = 0;
  bool avail_wrap_ = true;
  uint16_t next_used_ = 0;
  bool used_wrap_ = true;
  int avail_laps_ = 0;
  int used_laps_ = 0;
};

}  // namespace driver_test

#endif  // TESTS_DRIVER_FAKE_PACKED_DEVICE_H_
