// The device side of a split virtqueue, played by hand in unit tests (as
// rcore-os virtio-drivers' fake transport does): it reads the driver's
// descriptor table and available ring by bus address and writes used elements
// itself, so a test can return chains in any order, or return garbage.
#ifndef TESTS_DRIVER_FAKE_RING_DEVICE_H_
#define TESTS_DRIVER_FAKE_RING_DEVICE_H_

#ifndef VIRTIO_RING_NO_LEGACY
#define VIRTIO_RING_NO_LEGACY
#endif
#include <linux/virtio_ring.h>

#include <cstdint>
#include <vector>

#include "driver/transport.h"
#include "gtest/gtest.h"
#include "tests/driver/fake_dma_platform.h"

namespace driver_test {

struct SeenDescriptor {
  uint64_t addr;
  uint32_t len;
  bool writable;
};

struct SeenChain {
  uint16_t head;
  bool indirect;  // Reached through an indirect table.
  std::vector<SeenDescriptor> descriptors;
};

class FakeRingDevice {
 public:
  FakeRingDevice(FakeDmaPlatform& platform,
                 const driver::QueueAddresses& addresses, uint16_t size)
      : size_(size) {
    desc_ = static_cast<vring_desc*>(platform.BusToCpu(
        addresses.descriptor_table, sizeof(vring_desc) * size));
    avail_ = static_cast<vring_avail*>(
        platform.BusToCpu(addresses.driver_area, 2 * (3 + size)));
    used_ = static_cast<vring_used*>(platform.BusToCpu(
        addresses.device_area, 6 + sizeof(vring_used_elem) * size));
    platform_ = &platform;
    EXPECT_NE(desc_, nullptr);
    EXPECT_NE(avail_, nullptr);
    EXPECT_NE(used_, nullptr);
  }

  // Takes every newly available chain, walking (and checking) its descriptors.
  std::vector<SeenChain> PopAvailable() {
    std::vector<SeenChain> chains;
    while (last_avail_ != avail_->idx) {
      const uint16_t head = avail_->ring[last_avail_ % size_];
      ++last_avail_;
      chains.push_back(Walk(head));
    }
    return chains;
  }

  void PushUsed(uint32_t id, uint32_t length) {
    vring_used_elem& elem = used_->ring[used_idx_ % size_];
    elem.id = id;
    elem.len = length;
    ++used_idx_;
    __atomic_store_n(&used_->idx, used_idx_, __ATOMIC_RELEASE);
  }

  uint16_t avail_idx() const { return avail_->idx; }
  uint16_t avail_flags() const { return avail_->flags; }
  uint16_t used_event() const { return avail_->ring[size_]; }
  void set_used_flags(uint16_t flags) { used_->flags = flags; }
  void set_avail_event(uint16_t value) {
    *reinterpret_cast<uint16_t*>(&used_->ring[size_]) = value;
  }
  void set_used_idx(uint16_t value) {
    used_idx_ = value;
    used_->idx = value;
  }
  vring_desc* desc() { return desc_; }
  vring_avail* avail() { return avail_; }

 private:
  SeenChain Walk(uint16_t head) {
    SeenChain chain{.head = head, .indirect = false, .descriptors = {}};
    EXPECT_LT(head, size_);
    const vring_desc& first = desc_[head % size_];
    if (first.flags & VRING_DESC_F_INDIRECT) {
      EXPECT_EQ(first.flags & VRING_DESC_F_NEXT, 0);
      EXPECT_EQ(first.len % sizeof(vring_desc), 0u);
      chain.indirect = true;
      auto* table =
          static_cast<vring_desc*>(platform_->BusToCpu(first.addr, first.len));
      EXPECT_NE(table, nullptr);
      if (table == nullptr) return chain;
      Follow(table, first.len / sizeof(vring_desc), 0, &chain);
    } else {
      Follow(desc_, size_, head, &chain);
    }
    return chain;
  }

  void Follow(const vring_desc* table, uint32_t count, uint16_t index,
              SeenChain* chain) {
    for (uint32_t steps = 0; steps <= count; ++steps) {
      EXPECT_LT(index, count);
      if (index >= count) return;
      const vring_desc& d = table[index];
      EXPECT_NE(platform_->BusToCpu(d.addr, d.len), nullptr)
          << "descriptor outside DMA memory";
      const bool writable = (d.flags & VRING_DESC_F_WRITE) != 0;
      if (!chain->descriptors.empty() && chain->descriptors.back().writable) {
        EXPECT_TRUE(writable) << "readable descriptor after a writable one";
      }
      chain->descriptors.push_back({d.addr, d.len, writable});
      if ((d.flags & VRING_DESC_F_NEXT) == 0) return;
      index = d.next;
    }
    ADD_FAILURE() << "chain loops";
  }

  FakeDmaPlatform* platform_;
  uint16_t size_;
  vring_desc* desc_;
  vring_avail* avail_;
  vring_used* used_;
  uint16_t last_avail_ = 0;
  uint16_t used_idx_ = 0;
};

}  // namespace driver_test

#endif  // TESTS_DRIVER_FAKE_RING_DEVICE_H_
