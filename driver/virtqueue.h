// Virtqueue: the driver side of one virtqueue, whichever ring format the
// device and the driver negotiated: split (virtio spec 2.7, SplitQueue) or
// packed (2.8, PackedQueue, with VIRTIO_F_RING_PACKED). What sits above it
// (VirtioDevice, the virtio-fs glue) offers chains and reaps completions
// through this interface alone and never knows the format.
//
// The driver offers a request as a chain of segments, device-readable ones
// first, then device-writable ones, and gets back the caller's token with the
// number of bytes the device wrote once the device returns the chain. Chains
// complete in any order; many may be in flight.
//
// Everything the device writes is untrusted: a completion that names no chain
// in flight, a used length above the chain's writable bytes, or ring state that
// runs ahead of the chains in flight marks the queue broken (every call then
// returns EIO) instead of corrupting the driver's own bookkeeping. Recovery is
// a device reset, then FreeRings() and Setup() (see VirtioDevice).
//
// Thread safety: none. The caller serialises every call on one queue with a
// lock, also against a used-buffer callback running on an interrupt thread.
// Only MarkBroken() and broken() may be called without it.
#ifndef DRIVER_VIRTQUEUE_H_
#define DRIVER_VIRTQUEUE_H_

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

// The two below have no member initializers on purpose: a request builds its
// chain in, and reaps completions into, arrays on the stack that would
// otherwise be zeroed whole on every request. Initialize them when declared.

// One buffer of a chain, by bus address.
struct Segment {
  uint64_t bus;
  size_t length;  // 1 .. UINT32_MAX bytes.
};

// A chain the device has returned.
struct UsedBuffer {
  void* token;  // As given to Submit.
  // Bytes the device wrote, at most the chain's writable bytes.
  uint32_t length;
};

class Virtqueue {
 public:
  // Rings the doorbell of queue `queue_index` (Transport::NotifyQueue, in
  // practice).
  using NotifyFn = void (*)(void* context, uint16_t queue_index);
  // Receives the token of a chain that was in flight when the queue was
  // released.
  using AbandonFn = void (*)(void* context, void* token);

  // The spec's limit for both formats.
  static constexpr uint16_t kMaxSize = 32768;
  // Chains of at least this many segments go through an indirect table when
  // VIRTIO_RING_F_INDIRECT_DESC is negotiated.
  static constexpr uint16_t kDefaultIndirectThreshold = 2;
  // A threshold no chain reaches: chains go in directly, and through an
  // indirect table only when the ring has too few free descriptors for them.
  static constexpr uint16_t kIndirectOnlyWhenFull = UINT16_MAX;

  virtual ~Virtqueue() = default;
  Virtqueue(const Virtqueue&) = delete;
  Virtqueue& operator=(const Virtqueue&) = delete;

  // Allocates rings (cleared) for `size` descriptors (1 .. kMaxSize; a split
  // ring also needs a power of two) and takes the ring features out of the
  // negotiated `features`. EINVAL for a bad size or when already set up,
  // ENOMEM.
  virtual base::Result<void> Setup(uint16_t size, uint64_t features) = 0;
  // Frees the rings and every indirect table and forgets all chains, handing
  // the token of each chain still in flight to `abandoned` (when not null).
  // Only once the device was reset: it must not touch the rings any more.
  void FreeRings(AbandonFn abandoned = nullptr, void* context = nullptr) {
    ReleaseRings(abandoned, context);
  }
  virtual bool is_set_up() const = 0;
  virtual base::RingFormat format() const = 0;
  // The three areas to give the transport: descriptor table or ring, driver
  // area, device area.
  virtual QueueAddresses addresses() const = 0;
  // Ring descriptors free now, and chains in flight.
  virtual uint16_t num_free() const = 0;
  virtual uint16_t chains_in_flight() const = 0;
  // The next chain's place, modulo 2^16, in the order the device takes chains:
  // a split ring's avail index; on a packed ring, the chains made available
  // since Setup.
  virtual uint16_t chains_made_available() const = 0;

  // Offers a chain of `readable` then `writable` segments, identified by
  // `token` (not null) when it comes back: through an indirect table when it
  // has at least the threshold's segments, or does not fit in the free
  // descriptors (and indirect descriptors were negotiated); otherwise
  // directly. Does not notify the device: call Kick() after one or more
  // Submit()s. ENOSPC when not enough descriptors are free now (retry after
  // completions); EINVAL for no segments, a null token, a segment of length 0
  // or above UINT32_MAX, or more segments than the queue size; EIO when broken.
  virtual base::Result<void> Submit(std::span<const Segment> readable,
                                    std::span<const Segment> writable,
                                    void* token) = 0;
  // Whether the device asked to be notified of the chains submitted since the
  // last kick (its suppression flags, or its event index with EVENT_IDX).
  virtual bool KickPrepare() = 0;
  // KickPrepare() and, when needed, the notifier. Returns whether it notified.
  bool Kick() {
    if (broken() || !KickPrepare()) return false;
    if (notify_ != nullptr) notify_(notify_context_, index_);
    return true;
  }

  // The next chain the device returned, or std::nullopt when there is none yet.
  // EIO when the queue is broken or the device wrote an invalid completion.
  virtual base::Result<std::optional<UsedBuffer>> PopUsed() = 0;
  // Pops up to out.size() chains; returns how many.
  base::Result<size_t> PollUsed(std::span<UsedBuffer> out);
  // Whether PopUsed() has something to return (without popping it). Loads what
  // the device published with acquire ordering: a caller that sees it may read
  // the completion.
  virtual bool HasUsed() const = 0;

  // Asks the device not to send used-buffer notifications (a hint it may
  // ignore).
  virtual void DisableInterrupts() = 0;
  // Asks for used-buffer notifications again. Returns false when chains were
  // returned meanwhile: the caller must poll again rather than wait for an
  // interrupt that may never come. The usual wait loop:
  //   while (!done) { drain PopUsed(); if (EnableInterrupts()) wait;
  //   DisableInterrupts(); }
  virtual bool EnableInterrupts() = 0;

  uint16_t index() const { return index_; }
  uint16_t size() const { return size_; }
  bool indirect_enabled() const { return indirect_; }
  bool event_idx_enabled() const { return event_idx_; }
  void set_indirect_threshold(uint16_t segments) {
    indirect_threshold_ = segments;
  }
  void SetNotifier(NotifyFn notify, void* context) {
    notify_ = notify;
    notify_context_ = context;
  }

  // After this every call fails with EIO until FreeRings() and Setup(). Safe
  // from any thread (the interrupt handler calls it when the device needs a
  // reset).
  void MarkBroken() { broken_.store(true, std::memory_order_release); }
  bool broken() const { return broken_.load(std::memory_order_acquire); }

 protected:
  Virtqueue(base::Platform& platform, uint16_t index)
      : platform_(platform), index_(index) {}

  // What the driver keeps of a chain, in its own memory (never read back from
  // rings the device can write).
  struct ChainRecord {
    void* token = nullptr;
    uint64_t writable_bytes = 0;
    base::DmaRegion indirect_table;  // cpu == nullptr for a direct chain.
    // Ring descriptors it holds; 0 when not in flight.
    uint16_t descriptors = 0;
  };

  virtual void ReleaseRings(AbandonFn abandoned, void* context) = 0;
  // The checks of Submit every format shares (see there): EIO, ENODEV,
  // EINVAL. Returns the chain's writable bytes.
  base::Result<uint64_t> CheckChain(std::span<const Segment> readable,
                                    std::span<const Segment> writable,
                                    void* token) const;
  // Whether a chain of `count` segments goes through an indirect table when
  // `free_descriptors` ring descriptors are free (see Submit).
  bool WantIndirect(size_t count, uint16_t free_descriptors) const {
    return indirect_ && count > 1 &&
           (count >= indirect_threshold_ || count > free_descriptors);
  }
  // Frees the indirect table of every chain in flight, hands its token to
  // `abandoned` (when not null) and forgets all chains.
  void AbandonChains(std::vector<ChainRecord>& chains, AbandonFn abandoned,
                     void* context);
  // Logs what the device did wrong and marks the queue broken.
  void ReportBroken(const char* what, uint32_t value);

  base::Platform& platform_;
  const uint16_t index_;
  uint16_t size_ = 0;
  bool indirect_ = false;
  bool event_idx_ = false;
  uint16_t indirect_threshold_ = kDefaultIndirectThreshold;
  std::atomic<bool> broken_{false};

 private:
  NotifyFn notify_ = nullptr;
  void* notify_context_ = nullptr;
};

}  // namespace driver

#endif  // DRIVER_VIRTQUEUE_H_
