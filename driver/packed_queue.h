// PackedQueue: the driver side of one packed virtqueue (virtio spec 1.1+,
// 2.8 "Packed Virtqueues", negotiated with VIRTIO_F_RING_PACKED).
//
// The interface and its rules are Virtqueue's (driver/virtqueue.h).
//
// The queue lives in DMA memory from Platform::AllocateDma, laid out with the
// structs of <linux/virtio_ring.h>: a ring of `size` vring_packed_desc that
// both sides write (the driver makes descriptors available in ring order, the
// device overwrites them with used descriptors in completion order), and two
// vring_packed_desc_event areas: the driver's (driver area), telling the
// device when to interrupt, and the device's (device area), telling the driver
// when to notify. Who owns a descriptor is told by its AVAIL and USED flag bits
// against the wrap counter of each side, which flips on every lap of the ring.
//
// A chain is known by a buffer id (0 .. size-1) that is independent of the ring
// slots it occupies; the device returns it in a used descriptor written at the
// driver's next-used position, and the driver then skips over as many ring
// slots as that chain took (one for an indirect chain).
//
// Everything the device writes (used descriptors, its event suppression area)
// is treated as untrusted: a used id that is not a buffer id in flight or a
// used length above the chain's writable bytes marks the queue broken (every
// call then returns EIO) instead of corrupting the driver's bookkeeping, which
// lives in driver memory only and is never read back from the ring. Recovery is
// a device reset, then FreeRings() and Setup() (see VirtioDevice).
#ifndef DRIVER_PACKED_QUEUE_H_
#define DRIVER_PACKED_QUEUE_H_

// The legacy part of <linux/virtio_ring.h> (vring_init) is C that C++ rejects.
#ifndef VIRTIO_RING_NO_LEGACY
#define VIRTIO_RING_NO_LEGACY
#endif
#include <linux/virtio_ring.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/platform.h"
#include "base/result.h"
#include "driver/virtqueue.h"

namespace driver {

class PackedQueue final : public Virtqueue {
 public:
  PackedQueue(base::Platform& platform, uint16_t index);
  // Frees the rings like FreeRings(). The device must no longer use them.
  ~PackedQueue() override;

  // Any size from 1 to kMaxSize: packed rings need no power of two.
  base::Result<void> Setup(uint16_t size, uint64_t features) override;
  bool is_set_up() const override { return ring_.cpu != nullptr; }
  base::RingFormat format() const override { return base::RingFormat::kPacked; }
  // descriptor_table: the descriptor ring; driver_area: the driver event
  // suppression area; device_area: the device event suppression area.
  QueueAddresses addresses() const override;
  // Free ring descriptors (slots), not free buffer ids.
  uint16_t num_free() const override { return num_free_; }
  uint16_t chains_in_flight() const override { return chains_in_flight_; }
  uint16_t chains_made_available() const override {
    return chains_made_available_;
  }
  base::Result<void> Submit(std::span<const Segment> readable,
                            std::span<const Segment> writable,
                            void* token) override;
  bool KickPrepare() override;
  base::Result<std::optional<UsedBuffer>> PopUsed() override;
  bool HasUsed() const override;
  void DisableInterrupts() override;
  bool EnableInterrupts() override;

 private:
  // One buffer id's chain, in driver memory.
  base::Result<uint16_t> AddIndirect(std::span<const Segment> readable,
                                     std::span<const Segment> writable,
                                     uint16_t id);
  uint16_t AddDirect(std::span<const Segment> readable,
                     std::span<const Segment> writable, uint16_t id);
  uint16_t WriteDescriptor(uint64_t addr, uint32_t len, uint16_t id);
  uint16_t TakeId();
  void FreeChain(uint16_t id);
  bool UsedAtNext() const;
  uint16_t NextUsedOffWrap() const;
  void ReleaseRings(AbandonFn abandoned, void* context) override;

  base::DmaRegion ring_;
  vring_packed_desc* desc_ = nullptr;
  vring_packed_desc_event* driver_event_ = nullptr;  // Written by the driver.
  vring_packed_desc_event* device_event_ = nullptr;  // Written by the device.

  // Buffer ids and their chains are kept in driver memory, never read back
  // from the ring the device writes: a free list of ids linked through
  // next_free_id_, and each id's chain.
  std::vector<uint16_t> next_free_id_;
  std::vector<ChainRecord> chains_;  // Indexed by buffer id.
  uint16_t free_id_ = 0;
  uint16_t num_free_ = 0;
  uint16_t chains_in_flight_ = 0;

  // Where the next chain goes, and the driver ring wrap counter there.
  uint16_t next_avail_ = 0;
  uint16_t chains_made_available_ = 0;
  bool avail_wrap_ = true;
  // Ring descriptors made available since the last KickPrepare, capped at a
  // full lap (beyond which every event offset was crossed).
  uint32_t added_since_kick_ = 0;
  // Where the device writes the next used descriptor, and the wrap counter it
  // marks it with.
  uint16_t next_used_ = 0;
  bool used_wrap_ = true;
  bool interrupts_enabled_ = true;
};

}  // namespace driver

#endif  // DRIVER_PACKED_QUEUE_H_
