// VirtioFs: the virtio-fs driver (virtio spec 5.11). It brings a virtio-fs
// device up over a transport and carries FUSE requests on its queues, as the
// FuseChannel the FUSE client talks through.
//
// Queue 0 is the high-priority queue (FORGET, BATCH_FORGET); queues 1..N are
// request queues, and requests are spread over them round-robin. Each request
// is one chain: its head and payload device-readable, its reply head and
// payload device-writable. The heads live in the request's slot, DMA memory
// the client writes and reads in place; each payload buffer is mapped for the
// transfer (Platform::MapDma decides whether in place or through a bounce
// buffer) and unmapped when the chain is back. A chain that fits in the free
// descriptors goes in directly; only a longer one takes an indirect table.
//
// Any number of threads may exchange messages at once; each waits only for its
// own chain. Completions are reaped by whoever gets there first: a waiting
// caller polling the used ring, or the used-buffer interrupt.
#ifndef DRIVER_VIRTIO_FS_H_
#define DRIVER_VIRTIO_FS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/platform.h"
#include "base/result.h"
#include "driver/fuse_channel.h"
#include "driver/transport.h"
#include "driver/virtio_device.h"

namespace driver {

// VIRTIO_ID_FS; <linux/virtio_ids.h> has it too, but as a macro of the whole id
// table.
inline constexpr uint32_t kVirtioFsDeviceId = 26;

class VirtioFs final : public FuseChannel {
 public:
  struct Options {
    uint16_t queue_size = 256;
    // Request queues used, at most what the device offers (num_request_queues).
    uint16_t max_request_queues = 1;
    // kPacked: packed rings when the device offers them, else split ones.
    base::RingFormat ring = base::RingFormat::kSplit;
  };

  // Probes `transport` as a virtio-fs device, reads its configuration and
  // brings it up. ENODEV when it is not a virtio-fs device or offers no request
  // queue.
  static base::Result<std::unique_ptr<VirtioFs>> Create(
      base::Platform& platform, std::unique_ptr<Transport> transport,
      const Options& options);
  ~VirtioFs() override;

  // The file system's tag from the device configuration (NUL-terminated).
  const char* tag() const { return tag_; }
  uint16_t request_queues() const { return request_queues_; }
  VirtioDevice& device() { return device_; }

  // How completions were found: by the used-buffer interrupt's handler, or by
  // the waiter itself (polling, or looking once more after asking for an
  // interrupt). Waiters sleep for interrupts only on a platform that delivers
  // them (Platform::delivers_interrupts); elsewhere they poll.
  struct CompletionCounts {
    uint64_t interrupts = 0;  // Used-buffer interrupts taken.
    uint64_t by_interrupt = 0;
    uint64_t without_interrupt = 0;
  };
  CompletionCounts completion_counts();
  // Requests posted so far (Post): sent without anyone waiting for them.
  uint64_t posted_requests();

  // Round trips of exchanged requests (not those sent to be received later),
  // sampled: of every kRoundTripSampling chains on a queue one, when it is an
  // exchange with more reply than a bare header, is timed
  // (Platform::MonotonicNanos) from just before its chain is made available to
  // the device until its waiter sees it complete: the device's work on the
  // request and the hand-off both ways. A device model that times its own work
  // on the same chains (sim::ModelCounters; which chains: base/sampler.h)
  // leaves the hand-off. Two clock reads per sampled request, none for the
  // others.
  static constexpr uint64_t kRoundTripSampling = 16;
  struct RoundTrips {
    uint64_t timed = 0;  // Requests timed so far.
    uint64_t nanos = 0;  // Their round trips together.
  };
  RoundTrips round_trips();

  base::Result<void> Begin(FuseLane lane, FuseMessage& message) override;
  base::Result<uint32_t> Exchange(
      FuseMessage& message, size_t request_head_size,
      std::span<const ConstBuffer> request_data, size_t reply_head_size,
      std::span<const MutableBuffer> reply_data) override;
  base::Result<void> Send(FuseMessage& message, size_t request_head_size,
                          std::span<const ConstBuffer> request_data,
                          size_t reply_head_size,
                          std::span<const MutableBuffer> reply_data) override;
  base::Result<uint32_t> Receive(FuseMessage& message) override;
  base::Result<std::optional<uint32_t>> Post(
      FuseMessage& message, size_t request_head_size, size_t reply_head_size,
      std::atomic<uint32_t>* in_flight) override;
  void End(FuseMessage& message) override;
  // Waits until the device has returned the posted requests `in_flight`
  // counts (the client's ordering: a FORGET after its node's RELEASE), or
  // every request posted so far (a caller that needs the device to have seen
  // them: a test of its state, a count of FORGETs). EIO when the device breaks
  // first.
  base::Result<void> WaitForPosted(
      const std::atomic<uint32_t>* in_flight = nullptr) override;

  // Whether the device has reported DEVICE_NEEDS_RESET: every Exchange fails
  // with EIO until Recover().
  bool NeedsReset() { return device_.NeedsReset(); }
  // Resets the device and brings it up again; chains in flight fail with EIO
  // (a message sent and not yet received: its Receive() returns EIO). No
  // Exchange may run concurrently. The device's FUSE session is gone after a
  // reset: the caller starts a new one with FUSE_INIT.
  base::Result<void> Recover();

  // Most buffers one request may have, heads and payload pieces together.
  static constexpr size_t kMaxBuffers = 16;

  // Requests of one queue that can be in flight without an allocation: each
  // has its record and its heads in a slot. More allocate.
  static constexpr size_t kSlotsPerQueue = 16;
  // A slot's heads: the request head, then the reply head at
  // kReplyHeadOffset.
  static constexpr size_t kReplyHeadOffset =
      (kRequestHeadCapacity + 63) / 64 * 64;
  static constexpr size_t kSlotBytes =
      (kReplyHeadOffset + kReplyHeadCapacity + 63) / 64 * 64;

 private:
  // How many polling turns pass between reads of the device status: without
  // interrupts a waiter would otherwise never learn that the device needs a
  // reset.
  static constexpr unsigned kStatusPollInterval = 1024;
  struct Request;
  // Each on cache lines of its own: threads on different queues share
  // nothing on the request path.
  struct alignas(64) Queue {
    std::unique_ptr<base::Lock> lock;
    // kSlotsPerQueue records and their heads (one DMA region), and the free
    // ones, linked through Request::next_free; under `lock`.
    Request* slots = nullptr;
    base::DmaRegion slot_heads;
    Request* free_slots = nullptr;
    size_t free_count = 0;
    // One more free slot, outside the list: taken and given back with an
    // atomic exchange each instead of a lock held twice, it is the one a
    // caller that waits for each reply takes again for its next request.
    std::atomic<Request*> spare{nullptr};
    // Completions reaped by the interrupt handler, and by waiters; under
    // `lock`.
    uint64_t completed_by_interrupt = 0;
    uint64_t completed_without_interrupt = 0;
    // Posted requests the device has not returned yet; under `lock`.
    size_t posted_in_flight = 0;
    uint64_t posted = 0;  // Ever; under `lock`.
    // The round trips timed (see round_trips()); under `lock`.
    RoundTrips round_trips;
  };

  VirtioFs(base::Platform& platform, std::unique_ptr<Transport> transport);
  base::Result<void> Start(const Options& options);
  base::Result<void> AllocateSlots(Queue& queue, uint16_t index);
  uint16_t PickQueue(FuseLane lane);
  // A record for a request on `queue`: a free slot, else an allocation.
  base::Result<Request*> Acquire(uint16_t queue);
  // Gives back a record whose chain the device no longer holds, with its
  // mappings (the caller wants none of their bytes): a slot to its queue's
  // free list (holding that queue's lock), an allocation to the platform.
  void RecycleLocked(Request* request);
  void PushFreeLocked(Queue& home, Request* slot);
  // As RecycleLocked, for a caller that holds no lock: a slot becomes the
  // queue's spare.
  void Recycle(Request* request);
  // Maps the payload buffers; on failure nothing stays mapped.
  base::Result<void> MapPayload(Request& request,
                                std::span<const ConstBuffer> request_data,
                                std::span<const MutableBuffer> reply_data);
  // Unmaps them, handing the device's bytes (the first `used_length` of the
  // writable part, after `reply_head_size` bytes of head) to the caller.
  void UnmapPayload(Request& request, size_t reply_head_size,
                    uint32_t used_length);
  // Send, for a caller that waits for the reply at once (`waited`: Exchange)
  // or later.
  base::Result<void> Start(FuseMessage& message, size_t request_head_size,
                           std::span<const ConstBuffer> request_data,
                           size_t reply_head_size,
                           std::span<const MutableBuffer> reply_data,
                           bool waited);
  // Makes the request's chain available; `waited`: its caller waits for the
  // reply at once, so its round trip may be timed (see round_trips()).
  base::Result<void> Submit(Request& request, size_t request_head_size,
                            size_t reply_head_size, bool waited);
  // Sets `orphaned` when it gives up on a chain the device still holds: the
  // record is then no longer the caller's.
  base::Result<uint32_t> Wait(Request& request, bool* orphaned);
  // Pops every returned chain of `queue` and completes its request, counting
  // the completions as found by the interrupt handler or not. Holds the lock.
  void Reap(uint16_t queue, bool from_interrupt);
  // Holds the lock of the record's queue.
  void Finish(Request* request, int error, uint32_t used_length);

  static void OnUsedBuffer(void* context, uint16_t queue);
  static void OnAbandoned(void* context, void* token);

  base::Platform& platform_;
  VirtioDevice device_;
  char tag_[37] = {};
  uint16_t request_queues_ = 0;
  std::unique_ptr<Queue[]> queue_storage_;  // Queue holds an atomic: no vector.
  std::span<Queue> queues_;
  // Whether waiters sleep until an interrupt (see completion_counts()).
  bool interrupt_driven_ = false;
};

}  // namespace driver

#endif  // DRIVER_VIRTIO_FS_H_
