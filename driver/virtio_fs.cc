#include "driver/virtio_fs.h"

#include <linux/virtio_fs.h>

#include <array>
#include <cstddef>
#include <cstring>
#include <new>

#include "base/format.h"
#include "base/sampler.h"
#include "driver/split_queue.h"
#include "driver/wait_pacer.h"

namespace driver {
namespace {

constexpr uint16_t kHighPriorityQueue = 0;
// Request::home of a record allocated for one request.
constexpr uint16_t kNoHome = 0xFFFF;

}  // namespace

static_assert(base::kMaxUntimedWritableBytes == sizeof(fuse_out_header),
              "neither side times a reply that is only its header");

// One request in flight: a queue's slot, or allocated when the slots are all
// taken. When its queue breaks, the caller returns but the chain (its heads
// and mapped buffers) may still be in the device's hands, so the record then
// belongs to whoever completes or abandons the chain, and only then goes back.
struct VirtioFs::Request {
  // Ready for a new request (the record may have carried one before).
  void Reset(uint16_t on_queue) {
    done.store(false, std::memory_order_relaxed);
    error = 0;
    used_length = 0;
    orphaned = false;
    posted = false;
    posted_in_flight = nullptr;
    sent = false;
    timed = false;
    queue = on_queue;
    request_mappings = 0;
    reply_mappings = 0;
  }

  std::atomic<bool> done{false};
  int error = 0;             // Written before `done`, read after it.
  uint32_t used_length = 0;  // Likewise.
  // Nobody waits for the chain (its caller left, or posted it): its
  // completion recycles the record. Under the queue lock once submitted.
  bool orphaned = false;
  bool posted = false;  // By Post; counted in its queue's posted_in_flight.
  // The poster's count of its requests in flight (Post's `in_flight`), if
  // any: taken down when the device returns the chain.
  std::atomic<uint32_t>* posted_in_flight = nullptr;
  // By Send or Exchange, with a reply head of `reply_head_size` bytes, not
  // yet received.
  bool sent = false;
  size_t reply_head_size = 0;
  // Whether its round trip is timed (see round_trips()), and from when: its
  // chain made available. Written at submission, read by the waiter.
  bool timed = false;
  uint64_t available_at = 0;
  uint16_t queue = 0;  // The queue its chain goes on.
  // The queue whose slot this is, or kNoHome.
  uint16_t home = kNoHome;
  Request* next_free = nullptr;  // In the home queue's free list.
  // The heads: a slot's part of its queue's region, or an allocation. They are
  // not cleared between requests: a request head is sent only as far as the
  // client wrote it, and the reply head holds nothing but the device's own
  // earlier replies.
  base::DmaRegion heads;
  // The payload buffers mapped for the transfer: the request's, then the
  // reply's.
  std::array<base::DmaMapping, kMaxBuffers> mappings;
  size_t request_mappings = 0;
  size_t reply_mappings = 0;
};

VirtioFs::VirtioFs(base::Platform& platform,
                   std::unique_ptr<Transport> transport)
    : platform_(platform), device_(platform, std::move(transport)) {}

VirtioFs::~VirtioFs() {
  device_.Shutdown(&VirtioFs::OnAbandoned, this);
  for (Queue& queue : queues_) {
    const size_t free_count =
        queue.free_count +
        (queue.spare.load(std::memory_order_relaxed) ? 1 : 0);
    if (queue.slots != nullptr && free_count != kSlotsPerQueue) {
      // A device that could not be reset still holds some slot's chain and
      // may write its heads: keep that memory, as the chain's other buffers
      // are kept.
      continue;
    }
    delete[] queue.slots;
    if (queue.slot_heads.cpu) platform_.FreeDma(queue.slot_heads);
  }
}

base::Result<std::unique_ptr<VirtioFs>> VirtioFs::Create(
    base::Platform& platform, std::unique_ptr<Transport> transport,
    const Options& options) {
  if (!transport) return base::Error{EINVAL};
  if (transport->device_id() != kVirtioFsDeviceId) {
    base::Logf(platform, base::LogLevel::kError,
               "virtio-fs: device type %u is not a file system",
               transport->device_id());
    return base::Error{ENODEV};
  }
  std::unique_ptr<VirtioFs> fs(new (std::nothrow)
                                   VirtioFs(platform, std::move(transport)));
  if (!fs) return base::Error{ENOMEM};
  TRY(fs->Start(options));
  return fs;
}

base::Result<void> VirtioFs::Start(const Options& options) {
  // virtio-fs has no device-type feature bits this driver uses; of the ring
  // features it takes what a kernel does: event indices (notifications only
  // when the other side asked for them), indirect tables (used only when the
  // ring is full), and packed rings when asked. The configuration is read
  // after FEATURES_OK, as the spec orders, because it decides how many queues
  // to set up.
  TRY(device_.BeginInitialize(FeatureBit(VIRTIO_RING_F_EVENT_IDX) |
                              FeatureBit(VIRTIO_RING_F_INDIRECT_DESC) |
                              (options.ring == base::RingFormat::kPacked
                                   ? FeatureBit(VIRTIO_F_RING_PACKED)
                                   : 0)));
  Transport& transport = device_.transport();
  uint32_t offered_queues = 0;
  TRY(transport.ReadConfigConsistent([&]() -> base::Result<void> {
    TRY(transport.ReadConfigBytes(offsetof(virtio_fs_config, tag), tag_,
                                  sizeof(virtio_fs_config::tag)));
    offered_queues = TRY(
        transport.ReadConfig32(offsetof(virtio_fs_config, num_request_queues)));
    return {};
  }));
  // The device need not terminate the tag.
  tag_[sizeof(virtio_fs_config::tag)] = '\0';
  if (offered_queues == 0 || options.max_request_queues == 0) {
    base::Logf(platform_, base::LogLevel::kError,
               "virtio-fs: no request queue (device offers %u)",
               offered_queues);
    return base::Error{ENODEV};
  }
  request_queues_ = static_cast<uint16_t>(
      offered_queues < options.max_request_queues ? offered_queues
                                                  : options.max_request_queues);

  const size_t total = 1 + request_queues_;
  queue_storage_.reset(new (std::nothrow) Queue[total]);
  if (queue_storage_ == nullptr) return base::Error{ENOMEM};
  queues_ = {queue_storage_.get(), total};
  std::vector<VirtioDevice::QueueSpec> specs(total);
  for (size_t i = 0; i < total; ++i) {
    queues_[i].lock = platform_.CreateLock();
    TRY(AllocateSlots(queues_[i], static_cast<uint16_t>(i)));
    specs[i] = {options.queue_size, &VirtioFs::OnUsedBuffer, this};
  }
  interrupt_driven_ = platform_.delivers_interrupts();
  TRY(device_.FinishInitialize(specs));
  for (size_t i = 0; i < total; ++i) {
    base::LockGuard guard(*queues_[i].lock);
    Virtqueue& ring = device_.queue(static_cast<uint16_t>(i));
    // A request's few buffers cost fewer descriptor writes in the ring than
    // in an indirect table that must be allocated first; a table is used only
    // when the ring has no room for the chain.
    ring.set_indirect_threshold(Virtqueue::kIndirectOnlyWhenFull);
    // A caller that polls for its own chain gains nothing from a used-buffer
    // interrupt but an interrupt-status read and a second reap. Suppressing
    // them is a hint the device may ignore; configuration interrupts
    // (DEVICE_NEEDS_RESET) still come. A caller that sleeps asks for one each
    // time it waits (Wait).
    if (!interrupt_driven_) ring.DisableInterrupts();
  }
  base::Logf(platform_, base::LogLevel::kInfo,
             "virtio-fs: tag '%s' over %s, %u %s request queue(s)", tag_,
             transport.name(), request_queues_,
             device_.packed_ring() ? "packed" : "split");
  return {};
}

base::Result<void> VirtioFs::AllocateSlots(Queue& queue, uint16_t index) {
  queue.slot_heads =
      TRY(platform_.AllocateDma(kSlotsPerQueue * kSlotBytes, 64));
  queue.slots = new (std::nothrow) Request[kSlotsPerQueue];
  if (queue.slots == nullptr) return base::Error{ENOMEM};
  for (size_t i = kSlotsPerQueue; i-- > 0;) {
    Request& slot = queue.slots[i];
    slot.home = index;
    slot.heads = {static_cast<char*>(queue.slot_heads.cpu) + i * kSlotBytes,
                  queue.slot_heads.bus + i * kSlotBytes, kSlotBytes};
    slot.next_free = queue.free_slots;
    queue.free_slots = &slot;
  }
  queue.free_count = kSlotsPerQueue;
  return {};
}

base::Result<VirtioFs::Request*> VirtioFs::Acquire(uint16_t queue) {
  {
    Queue& q = queues_[queue];
    if (Request* slot = q.spare.exchange(nullptr, std::memory_order_acquire)) {
      return slot;
    }
    base::LockGuard guard(*q.lock);
    if (q.free_slots != nullptr) {
      Request* slot = q.free_slots;
      q.free_slots = slot->next_free;
      q.free_count--;
      return slot;
    }
  }
  auto* request = new (std::nothrow) Request;
  if (request == nullptr) return base::Error{ENOMEM};
  base::Result<base::DmaRegion> heads = platform_.AllocateDma(kSlotBytes, 64);
  if (!heads.ok()) {
    delete request;
    return base::Error{heads.error()};
  }
  request->heads = heads.value();
  return request;
}

void VirtioFs::RecycleLocked(Request* request) {
  UnmapPayload(*request, 0, 0);
  if (request->home == kNoHome) {
    platform_.FreeDma(request->heads);
    delete request;
    return;
  }
  PushFreeLocked(queues_[request->home], request);
}

void VirtioFs::PushFreeLocked(Queue& home, Request* slot) {
  slot->next_free = home.free_slots;
  home.free_slots = slot;
  home.free_count++;
}

void VirtioFs::Recycle(Request* request) {
  if (request->home == kNoHome) return RecycleLocked(request);
  UnmapPayload(*request, 0, 0);
  Queue& home = queues_[request->home];
  Request* displaced = home.spare.exchange(request, std::memory_order_acq_rel);
  if (displaced == nullptr) return;
  base::LockGuard guard(*home.lock);
  PushFreeLocked(home, displaced);
}

uint16_t VirtioFs::PickQueue(FuseLane lane) {
  if (lane == FuseLane::kHighPriority) return kHighPriorityQueue;
  // A queue per CPU, as Linux maps them: threads on different CPUs never
  // meet on a queue's lock or ring. With one queue, no need to ask the CPU.
  if (request_queues_ == 1) return 1;
  return static_cast<uint16_t>(1 + platform_.CurrentCpu() % request_queues_);
}

base::Result<void> VirtioFs::Begin(FuseLane lane, FuseMessage& message) {
  if (!device_.is_live()) return base::Error{EIO};
  const uint16_t queue = PickQueue(lane);
  Request* request = TRY(Acquire(queue));
  request->Reset(queue);
  auto* heads = static_cast<uint8_t*>(request->heads.cpu);
  message.request_head = {heads, kRequestHeadCapacity};
  message.reply_head = {heads + kReplyHeadOffset, kReplyHeadCapacity};
  message.channel_state = request;
  return {};
}

void VirtioFs::End(FuseMessage& message) {
  auto* request = static_cast<Request*>(message.channel_state);
  message = FuseMessage{};
  if (request != nullptr) Recycle(request);
}

base::Result<uint32_t> VirtioFs::Exchange(
    FuseMessage& message, size_t request_head_size,
    std::span<const ConstBuffer> request_data, size_t reply_head_size,
    std::span<const MutableBuffer> reply_data) {
  TRY(Start(message, request_head_size, request_data, reply_head_size,
            reply_data, /*waited=*/true));
  return Receive(message);
}

base::Result<void> VirtioFs::Send(FuseMessage& message,
                                  size_t request_head_size,
                                  std::span<const ConstBuffer> request_data,
                                  size_t reply_head_size,
                                  std::span<const MutableBuffer> reply_data) {
  return Start(message, request_head_size, request_data, reply_head_size,
               reply_data, /*waited=*/false);
}

base::Result<void> VirtioFs::Start(FuseMessage& message,
                                   size_t request_head_size,
                                   std::span<const ConstBuffer> request_data,
                                   size_t reply_head_size,
                                   std::span<const MutableBuffer> reply_data,
                                   bool waited) {
  auto* request = static_cast<Request*>(message.channel_state);
  if (request == nullptr || request->sent || request_head_size == 0 ||
      request_head_size > kRequestHeadCapacity ||
      reply_head_size > kReplyHeadCapacity ||
      2 + request_data.size() + reply_data.size() > kMaxBuffers) {
    return base::Error{EINVAL};
  }
  if (!device_.is_live()) return base::Error{EIO};
  TRY(MapPayload(*request, request_data, reply_data));
  if (base::Result<void> submitted =
          Submit(*request, request_head_size, reply_head_size, waited);
      !submitted.ok()) {
    UnmapPayload(*request, reply_head_size, 0);
    return base::Error{submitted.error()};
  }
  request->sent = true;
  request->reply_head_size = reply_head_size;
  return {};
}

base::Result<uint32_t> VirtioFs::Receive(FuseMessage& message) {
  auto* request = static_cast<Request*>(message.channel_state);
  if (request == nullptr || !request->sent) return base::Error{EINVAL};
  request->sent = false;
  bool orphaned = false;
  base::Result<uint32_t> used = Wait(*request, &orphaned);
  if (orphaned) {
    // The record now belongs to the chain's completion, which releases it.
    message.channel_state = nullptr;
    return used;
  }
  UnmapPayload(*request, request->reply_head_size,
               used.ok() ? used.value() : 0);
  return used;
}

base::Result<std::optional<uint32_t>> VirtioFs::Post(
    FuseMessage& message, size_t request_head_size, size_t reply_head_size,
    std::atomic<uint32_t>* in_flight) {
  auto* request = static_cast<Request*>(message.channel_state);
  if (request == nullptr || request_head_size == 0 ||
      request_head_size > kRequestHeadCapacity ||
      reply_head_size > kReplyHeadCapacity) {
    return base::Error{EINVAL};
  }
  if (!device_.is_live()) return base::Error{EIO};
  Queue& queue = queues_[request->queue];
  {
    base::LockGuard guard(*queue.lock);
    // Only waiters reap without interrupts, and nobody waits for a posted
    // request: take back the ones the device has finished with.
    if (!interrupt_driven_) Reap(request->queue, /*from_interrupt=*/false);
    queue.posted_in_flight++;
    queue.posted++;
  }
  if (in_flight != nullptr) in_flight->fetch_add(1, std::memory_order_relaxed);
  // Left with the device from the start: its completion recycles the record
  // (Finish), even one that comes before Submit returns.
  request->orphaned = true;
  request->posted = true;
  request->posted_in_flight = in_flight;
  if (base::Result<void> submitted =
          Submit(*request, request_head_size, reply_head_size,
                 /*waited=*/false);
      !submitted.ok()) {
    // Never made available: still the caller's.
    request->orphaned = request->posted = false;
    request->posted_in_flight = nullptr;
    if (in_flight != nullptr) {
      in_flight->fetch_sub(1, std::memory_order_relaxed);
    }
    base::LockGuard guard(*queue.lock);
    queue.posted_in_flight--;
    queue.posted--;
    return base::Error{submitted.error()};
  }
  message.channel_state = nullptr;
  return std::optional<uint32_t>();
}

base::Result<void> VirtioFs::MapPayload(
    Request& request, std::span<const ConstBuffer> request_data,
    std::span<const MutableBuffer> reply_data) {
  auto map = [&](void* buffer, size_t size,
                 base::DmaDirection direction) -> base::Result<void> {
    if (size == 0) return {};
    base::Result<base::DmaMapping> mapped =
        platform_.MapDma(buffer, size, direction);
    if (!mapped.ok()) {
      UnmapPayload(request, 0, 0);
      return base::Error{mapped.error()};
    }
    const size_t at = request.request_mappings + request.reply_mappings;
    request.mappings[at] = mapped.value();
    (direction == base::DmaDirection::kToDevice ? request.request_mappings
                                                : request.reply_mappings)++;
    return {};
  };
  for (const ConstBuffer& piece : request_data) {
    // The device only reads a kToDevice mapping.
    TRY(map(const_cast<void*>(piece.data), piece.size,
            base::DmaDirection::kToDevice));
  }
  for (const MutableBuffer& piece : reply_data) {
    TRY(map(piece.data, piece.size, base::DmaDirection::kFromDevice));
  }
  return {};
}

void VirtioFs::UnmapPayload(Request& request, size_t reply_head_size,
                            uint32_t used_length) {
  size_t i = 0;
  for (; i < request.request_mappings; ++i) {
    platform_.UnmapDma(request.mappings[i], 0);
  }
  // The device's bytes fill the writable part in chain order.
  size_t before = reply_head_size;
  for (; i < request.request_mappings + request.reply_mappings; ++i) {
    const base::DmaMapping& mapping = request.mappings[i];
    size_t wrote = used_length > before ? used_length - before : 0;
    if (wrote > mapping.size) wrote = mapping.size;
    platform_.UnmapDma(mapping, wrote);
    before += mapping.size;
  }
  request.request_mappings = request.reply_mappings = 0;
}

base::Result<void> VirtioFs::Submit(Request& request, size_t request_head_size,
                                    size_t reply_head_size, bool waited) {
  // Readable then writable; Start checked that they fit.
  std::array<Segment, kMaxBuffers> segments;
  size_t count = 0;
  segments[count++] = {request.heads.bus, request_head_size};
  const size_t mapped = request.request_mappings + request.reply_mappings;
  size_t i = 0;
  for (; i < request.request_mappings; ++i) {
    segments[count++] = {request.mappings[i].bus, request.mappings[i].size};
  }
  const size_t readable_count = count;
  if (reply_head_size != 0) {
    segments[count++] = {request.heads.bus + kReplyHeadOffset, reply_head_size};
  }
  for (; i < mapped; ++i) {
    segments[count++] = {request.mappings[i].bus, request.mappings[i].size};
  }
  const std::span<const Segment> readable(segments.data(), readable_count);
  const std::span<const Segment> writable(segments.data() + readable_count,
                                          count - readable_count);
  // Summed only for a chain at a sampled place: one in kRoundTripSampling.
  const auto has_reply_body = [&writable] {
    uint64_t bytes = 0;
    for (const Segment& segment : writable) bytes += segment.length;
    return bytes > base::kMaxUntimedWritableBytes;
  };

  const uint16_t queue = request.queue;
  Virtqueue& ring = device_.queue(queue);
  bool notify = false;
  {
    base::LockGuard guard(*queues_[queue].lock);
    for (;;) {
      // Only a request its caller waits for is timed: a posted one's record
      // may be recycled as soon as it is available, and a sent one's caller
      // does other work before it receives the reply. The device times the
      // chains at the same places, and neither side those with a bare reply
      // header (base/sampler.h).
      request.timed = waited &&
                      base::IsSampledPlace<kRoundTripSampling>(
                          ring.chains_made_available()) &&
                      has_reply_body();
      if (request.timed) request.available_at = platform_.MonotonicNanos();
      base::Result<void> added = ring.Submit(readable, writable, &request);
      if (added.ok()) break;
      if (added.error() != ENOSPC) return added;
      // The ring is full: make room from what the device has returned, else
      // wait for it without the lock (the interrupt handler that returns the
      // device's buffers takes it). Room for a shorter chain is not enough:
      // only what reaping frees tells whether to try again at once.
      const uint16_t free_before = ring.num_free();
      Reap(queue, /*from_interrupt=*/false);
      if (ring.num_free() == free_before || ring.broken()) {
        queues_[queue].lock->Release();
        platform_.Relax();
        queues_[queue].lock->Acquire();
      }
    }
    notify = ring.KickPrepare();
  }
  // Outside the lock: a device that processes notifications inline completes
  // the chain inside this call, and its interrupt takes the queue lock to reap
  // it.
  if (notify) device_.transport().NotifyQueue(queue);
  return {};
}

base::Result<uint32_t> VirtioFs::Wait(Request& request, bool* orphaned) {
  const uint16_t queue = request.queue;
  WaitPacer pacer(platform_, queue);
  for (unsigned turn = 1;; ++turn) {
    bool sleep = false;
    if (!request.done.load(std::memory_order_acquire)) {
      base::LockGuard guard(*queues_[queue].lock);
      Reap(queue, /*from_interrupt=*/false);
      if (!request.done.load(std::memory_order_acquire)) {
        bool broken = device_.queue(queue).broken() ||
                      (turn % kStatusPollInterval == 0 && device_.NeedsReset());
        if (broken) {
          // The chain stays with the device until a reset returns it
          // (OnAbandoned); so do its heads and mappings.
          request.orphaned = true;
          *orphaned = true;
          return base::Error{EIO};
        }
        // Ask for an interrupt; when the device returned chains before it
        // could see the request, reap them now instead of sleeping through
        // an interrupt that will not come.
        sleep = interrupt_driven_ && device_.queue(queue).EnableInterrupts();
      }
    }
    if (request.done.load(std::memory_order_acquire)) break;
    if (sleep) {
      platform_.WaitForInterrupt();
    } else {
      pacer.Pause();
    }
  }
  if (request.timed) {
    const uint64_t nanos = platform_.MonotonicNanos() - request.available_at;
    base::LockGuard guard(*queues_[queue].lock);
    queues_[queue].round_trips.timed++;
    queues_[queue].round_trips.nanos += nanos;
  }
  if (request.error) return base::Error{request.error};
  return request.used_length;
}

void VirtioFs::Reap(uint16_t queue, bool from_interrupt) {
  Virtqueue& ring = device_.queue(queue);
  std::array<UsedBuffer, 32> used;
  for (;;) {
    base::Result<size_t> popped = ring.PollUsed(used);
    if (!popped.ok() || popped.value() == 0) {
      return;  // A broken ring is seen by waiters.
    }
    for (size_t i = 0; i < popped.value(); ++i) {
      Finish(static_cast<Request*>(used[i].token), 0, used[i].length);
    }
    Queue& counted = queues_[queue];
    (from_interrupt ? counted.completed_by_interrupt
                    : counted.completed_without_interrupt) += popped.value();
    // Fewer than asked: the ring was seen empty. A chain used since is
    // signalled like any other (interrupt, or the waiter's next poll).
    if (popped.value() < used.size()) return;
  }
}

void VirtioFs::Finish(Request* request, int error, uint32_t used_length) {
  if (request->orphaned) {
    if (request->posted) queues_[request->queue].posted_in_flight--;
    if (request->posted_in_flight != nullptr) {
      request->posted_in_flight->fetch_sub(1, std::memory_order_release);
    }
    RecycleLocked(request);
    return;
  }
  request->error = error;
  request->used_length = used_length;
  request->done.store(true, std::memory_order_release);
}

base::Result<void> VirtioFs::Recover() {
  base::Logf(platform_, base::LogLevel::kWarning,
             "virtio-fs: resetting the device");
  return device_.Reinitialize(&VirtioFs::OnAbandoned, this);
}

void VirtioFs::OnUsedBuffer(void* context, uint16_t queue) {
  auto* fs = static_cast<VirtioFs*>(context);
  if (queue >= fs->queues_.size()) return;
  base::LockGuard guard(*fs->queues_[queue].lock);
  fs->Reap(queue, /*from_interrupt=*/true);
}

void VirtioFs::OnAbandoned(void* context, void* token) {
  // Called while the device is stopped (Recover, the destructor), with no
  // queue lock held.
  auto* fs = static_cast<VirtioFs*>(context);
  auto* request = static_cast<Request*>(token);
  base::LockGuard guard(*fs->queues_[request->queue].lock);
  fs->Finish(request, EIO, 0);
}

}  // namespace driver
