// SplitQueue: the driver side of one split virtqueue (virtio spec 2.7); the
// interface and its rules are Virtqueue's (driver/virtqueue.h).
//
// The rings live in DMA memory from Platform::AllocateDma: a descriptor table,
// the available ring (driver area) and the used ring (device area), laid out
// with the structs of <linux/virtio_ring.h>. A used id that is not the head of
// an in-flight chain, a used length above the chain's writable bytes or a used
// index that runs ahead of the chains in flight marks the queue broken.
#ifndef DRIVER_SPLIT_QUEUE_H_
#define DRIVER_SPLIT_QUEUE_H_

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

class SplitQueue final : public Virtqueue {
 public:
  SplitQueue(base::Platform& platform, uint16_t index);
  // Frees the rings like FreeRings(). The device must no longer use them.
  ~SplitQueue() override;

  base::Result<void> Setup(uint16_t size, uint64_t features) override;
  bool is_set_up() const override { return ring_.cpu != nullptr; }
  base::RingFormat format() const override { return base::RingFormat::kSplit; }
  QueueAddresses addresses() const override;
  uint16_t num_free() const override { return num_free_; }
  uint16_t chains_in_flight() const override { return chains_in_flight_; }
  uint16_t chains_made_available() const override { return avail_idx_; }
  base::Result<void> Submit(std::span<const Segment> readable,
                            std::span<const Segment> writable,
                            void* token) override;
  bool KickPrepare() override;
  base::Result<std::optional<UsedBuffer>> PopUsed() override;
  bool HasUsed() const override;
  void DisableInterrupts() override;
  bool EnableInterrupts() override;

 private:
  base::Result<uint16_t> AddIndirect(std::span<const Segment> readable,
                                     std::span<const Segment> writable);
  uint16_t AddDirect(std::span<const Segment> readable,
                     std::span<const Segment> writable);
  uint16_t TakeDescriptor();
  void FreeChain(uint16_t head);
  void ReleaseRings(AbandonFn abandoned, void* context) override;

  // Driver-written fields the device reads, and device-written ones the driver
  // reads: single accesses that the compiler may neither tear nor merge.
  uint16_t* used_event() { return &avail_->ring[size_]; }
  uint16_t* avail_event() const {
    return reinterpret_cast<uint16_t*>(&used_->ring[size_]);
  }

  base::DmaRegion ring_;
  vring_desc* desc_ = nullptr;
  vring_avail* avail_ = nullptr;
  vring_used* used_ = nullptr;

  // The free list and chain links are kept in driver memory, never read back
  // from the descriptor table the device can write (Submit reads the table
  // only to skip storing an entry that already holds its value).
  std::vector<uint16_t> next_;
  std::vector<ChainRecord> chains_;  // Indexed by head descriptor.
  uint16_t free_head_ = 0;
  uint16_t num_free_ = 0;
  uint16_t chains_in_flight_ = 0;

  uint16_t avail_idx_ = 0;  // Shadow of avail->idx.
  uint32_t added_since_kick_ = 0;
  uint16_t last_used_idx_ = 0;  // Next used ring entry to read.
  bool interrupts_enabled_ = true;
};

}  // namespace driver

#endif  // DRIVER_SPLIT_QUEUE_H_
