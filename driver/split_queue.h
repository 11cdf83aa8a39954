// SplitQueue: the driver side of one split virtqueue (virtio spec 2.7).
//
// The rings live in DMA memory from Platform::AllocateDma: a descriptor table,
// the available ring (driver area) and the used ring (device area), laid out
// with the structs of <linux/virtio_ring.h>. The driver offers a request as a
// chain of segments, device-readable ones first, then device-writable ones, and
// gets back the caller's token with the number of bytes the device wrote once
// the device returns the chain. Chains complete in any order; many may be in
// flight.
//
// Everything the device writes (used ring entries, its event index) is treated
// as untrusted: a used id that is not the head of an in-flight chain, a used
// length above the chain's writable bytes or a used index that runs ahead of
// the chains in flight marks the queue broken (every call then returns EIO)
// instead of corrupting the free list. Recovery is a device reset, then
// FreeRings() and Setup() (see VirtioDevice).
//
// Thread safety: none. The caller serialises every call on one queue with a
// lock, also against a used-buffer callback running on an interrupt thread.
// Only MarkBroken() and broken() may be called without it.
#ifndef DRIVER_SPLIT_QUEUE_H_
#define DRIVER_SPLIT_QUEUE_H_

// The legacy part of <linux/virtio_ring.h> (vring_init) is C that C++ rejects.
#ifndef VIRTIO_RING_NO_LEGACY
#define VIRTIO_RING_NO_LEGACY
#endif
#include <linux/virtio_ring.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/platform.h"
#include "base/result.h"
#include "driver/transport.h"

namespace driver {

// One buffer of a chain, by bus address.
struct Segment {
  uint64_t bus = 0;
  size_t length = 0;  // 1 .. UINT32_MAX bytes.
};

// A chain the device has returned.
struct UsedBuffer {
  void* token = nullptr;  // As given to Submit.
  uint32_t length =
      0;  // Bytes the device wrote, at most the chain's writable bytes.
};

class SplitQueue {
 public:
  // Rings the doorbell of queue `queue_index` (Transport::NotifyQueue, in
  // practice).
  using NotifyFn = void (*)(void* context, uint16_t queue_index);
  // Receives the token of a chain that was in flight when the queue was
  // released.
  using AbandonFn = void (*)(void* context, void* token);

  static constexpr uint16_t kMaxSize =
      32768;  // The spec's limit for split queues.
  // Chains of at least this many segments go through an indirect table when
  // VIRTIO_RING_F_INDIRECT_DESC is negotiated.
  static constexpr uint16_t kDefaultIndirectThreshold = 2;
  // A threshold no chain reaches: chains go in directly, and through an
  // indirect table only when the ring has too few free descriptors for them.
  static constexpr uint16_t kIndirectOnlyWhenFull = UINT16_MAX;

  SplitQueue(base::Platform& platform, uint16_t index);
  // Frees the rings like FreeRings(). The device must no longer use them.
  ~SplitQueue();
  SplitQueue(const SplitQueue&) = delete;
  SplitQueue& operator=(const SplitQueue&) = delete;

  // Allocates rings (cleared) for `size` descriptors (a power of two, 1 ..
  // kMaxSize) and takes the ring features out of the negotiated `features`.
  // EINVAL for a bad size or when already set up, ENOMEM.
  base::Result<void> Setup(uint16_t size, uint64_t features);
  // Frees the rings and every indirect table and forgets all chains, handing
  // the token of each chain still in flight to `abandoned` (when not null).
  // Only once the device was reset: it must not touch the rings any more.
  void FreeRings(AbandonFn abandoned = nullptr, void* context = nullptr);
  bool is_set_up() const { return ring_.cpu != nullptr; }

  uint16_t index() const { return index_; }
  uint16_t size() const { return size_; }
  QueueAddresses addresses() const;
  bool indirect_enabled() const { return indirect_; }
  bool event_idx_enabled() const { return event_idx_; }
  uint16_t num_free() const { return num_free_; }
  uint16_t chains_in_flight() const { return chains_in_flight_; }
  void set_indirect_threshold(uint16_t segments) {
    indirect_threshold_ = segments;
  }

  void SetNotifier(NotifyFn notify, void* context);

  // Offers a chain of `readable` then `writable` segments, identified by
  // `token` (not null) when it comes back: through an indirect table when it
  // has at least the threshold's segments, or does not fit in the free
  // descriptors (and indirect descriptors were negotiated); otherwise
  // directly. Does not notify the device: call Kick() after one or more
  // Submit()s. ENOSPC when not enough descriptors are free now (retry after
  // completions); EINVAL for no segments, a null token, a
  // segment of length 0 or above UINT32_MAX, or more segments than the queue
  // size; EIO when broken.
  base::Result<void> Submit(std::span<const Segment> readable,
                            std::span<const Segment> writable, void* token);

  // Whether the device asked to be notified of the chains submitted since the
  // last kick (VRING_USED_F_NO_NOTIFY, or avail_event with EVENT_IDX).
  bool KickPrepare();
  // KickPrepare() and, when needed, the notifier. Returns whether it notified.
  bool Kick();

  // The next chain the device returned, or std::nullopt when there is none yet.
  // EIO when the queue is broken or the device wrote an invalid used element.
  base::Result<std::optional<UsedBuffer>> PopUsed();
  // Pops up to out.size() chains; returns how many.
  base::Result<size_t> PollUsed(std::span<UsedBuffer> out);
  // Whether PopUsed() has something to return (without popping it).
  bool HasUsed() const;

  // Asks the device not to send used-buffer notifications (a hint it may
  // ignore).
  void DisableInterrupts();
  // Asks for used-buffer notifications again. Returns false when chains were
  // returned meanwhile: the caller must poll again rather than wait for an
  // interrupt that may never come. The usual wait loop:
  //   while (!done) { drain PopUsed(); if (EnableInterrupts()) wait;
  //   DisableInterrupts(); }
  bool EnableInterrupts();

  // After this every call fails with EIO until FreeRings() and Setup(). Safe
  // from any thread (the interrupt handler calls it when the device needs a
  // reset).
  void MarkBroken() { broken_.store(true, std::memory_order_release); }
  bool broken() const { return broken_.load(std::memory_order_acquire); }

 private:
  struct Chain {
    void* token = nullptr;
    uint64_t writable_bytes = 0;
    base::DmaRegion indirect_table;  // cpu == nullptr for a direct chain.
    uint16_t descriptors =
        0;  // Ring descriptors it holds; 0 when not in flight.
  };

  base::Result<uint16_t> AddIndirect(std::span<const Segment> readable,
                                     std::span<const Segment> writable);
  uint16_t AddDirect(std::span<const Segment> readable,
                     std::span<const Segment> writable);
  uint16_t TakeDescriptor();
  void FreeChain(uint16_t head);
  void ReportBroken(const char* what, uint32_t value);

  // Driver-written fields the device reads, and device-written ones the driver
  // reads: single accesses that the compiler may neither tear nor merge.
  uint16_t* used_event() { return &avail_->ring[size_]; }
  uint16_t* avail_event() const {
    return reinterpret_cast<uint16_t*>(&used_->ring[size_]);
  }

  base::Platform& platform_;
  const uint16_t index_;
  NotifyFn notify_ = nullptr;
  void* notify_context_ = nullptr;

  base::DmaRegion ring_;
  uint16_t size_ = 0;
  vring_desc* desc_ = nullptr;
  vring_avail* avail_ = nullptr;
  vring_used* used_ = nullptr;
  bool indirect_ = false;
  bool event_idx_ = false;
  uint16_t indirect_threshold_ = kDefaultIndirectThreshold;

  // The free list and chain links are kept in driver memory, never read back
  // from the descriptor table the device can write.
  std::vector<uint16_t> next_;
  std::vector<Chain> chains_;  // Indexed by head descriptor.
  uint16_t free_head_ = 0;
  uint16_t num_free_ = 0;
  uint16_t chains_in_flight_ = 0;

  uint16_t avail_idx_ = 0;  // Shadow of avail->idx.
  uint32_t added_since_kick_ = 0;
  uint16_t last_used_idx_ = 0;  // Next used ring entry to read.
  bool interrupts_enabled_ = true;

  std::atomic<bool> broken_{false};
};

}  // namespace driver

#endif  // DRIVER_SPLIT_QUEUE_H_
