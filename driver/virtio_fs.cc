#include "driver/virtio_fs.h"

#include <linux/virtio_fs.h>

#include <array>
#include <cstddef>
#include <cstring>
#include <new>

#include "base/format.h"
#include "driver/split_queue.h"

namespace driver {
namespace {

constexpr uint16_t kHighPriorityQueue = 0;
// How many polling turns pass between reads of the device status: without
// interrupts a waiter would otherwise never learn that the device needs a
// reset.
constexpr unsigned kStatusPollInterval = 1024;
// The bus address recorded for a buffer the device cannot reach where it is:
// it goes through the bounce area.
constexpr uint64_t kBounced = ~uint64_t{0};
// Pending::home of a record allocated for one request.
constexpr uint16_t kNoHome = 0xFFFF;

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

}  // namespace

// One request in flight: a queue's slot, or heap-allocated when the slots are
// all taken. When its queue breaks, the caller returns but the chain (and its
// bounce area) may still be in the device's hands, so the record then belongs
// to whoever completes or abandons the chain, and only then goes back.
struct VirtioFs::Pending {
  // Where the device's reply bytes go once the chain is back.
  struct ReplyPiece {
    MutableBuffer destination;
    size_t bounce_offset = 0;
    bool bounced = false;
  };

  // Ready for a new request (the record may have carried one before).
  void Reset() {
    done.store(false, std::memory_order_relaxed);
    error = 0;
    used_length = 0;
    orphaned = false;
    bounce = base::DmaRegion{};
    owns_bounce = false;
    reply_count = 0;
  }

  std::atomic<bool> done{false};
  int error = 0;             // Written before `done`, read after it.
  uint32_t used_length = 0;  // Likewise.
  bool orphaned = false;     // The caller left; under the queue lock.
  uint16_t queue = 0;        // The queue its chain went on.
  // The queue whose slot this is, or kNoHome.
  uint16_t home = kNoHome;
  Pending* next_free = nullptr;  // In the home queue's free list.
  base::DmaRegion slot_area;     // A slot's own bounce area.
  base::DmaRegion bounce;        // slot_area, or an allocation (owns_bounce).
  bool owns_bounce = false;
  std::array<ReplyPiece, kMaxBuffers> reply;
  size_t reply_count = 0;
};

VirtioFs::VirtioFs(base::Platform& platform,
                   std::unique_ptr<Transport> transport)
    : platform_(platform), device_(platform, std::move(transport)) {}

VirtioFs::~VirtioFs() {
  device_.Shutdown(&VirtioFs::OnAbandoned, this);
  for (Queue& queue : queues_) {
    if (queue.slots != nullptr && queue.free_count != kSlotsPerQueue) {
      // A device that could not be reset still holds some slot's chain and
      // may write its bounce area: keep that memory, as the chain's other
      // buffers are kept.
      continue;
    }
    delete[] queue.slots;
    if (queue.slot_bounce.cpu) platform_.FreeDma(queue.slot_bounce);
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
  // virtio-fs has no device-type feature bits this driver uses. The
  // configuration is read after FEATURES_OK, as the spec orders, because it
  // decides how many queues to set up.
  TRY(device_.BeginInitialize(/*wanted_features=*/0));
  Transport& transport = device_.transport();
  uint32_t offered_queues = 0;
  TRY(transport.ReadConfigConsistent([&]() -> base::Result<void> {
    TRY(transport.ReadConfigBytes(offsetof(virtio_fs_config, tag), tag_,
                                  sizeof(virtio_fs_config::tag)));
    offered_queues = TRY(
        transport.ReadConfig32(offsetof(virtio_fs_config, num_request_queues)));
    return {};
  }));
  tag_[sizeof(virtio_fs_config::tag)] =
      '\0';  // The device need not terminate it.
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
  queues_.resize(total);
  std::vector<VirtioDevice::QueueSpec> specs(total);
  for (size_t i = 0; i < total; ++i) {
    queues_[i].lock = platform_.CreateLock();
    TRY(AllocateSlots(queues_[i], static_cast<uint16_t>(i)));
    specs[i] = {options.queue_size, &VirtioFs::OnUsedBuffer, this};
  }
  TRY(device_.FinishInitialize(specs));
  // Every caller polls for its own chain, so a used-buffer interrupt would only
  // add an interrupt-status read and a second reap to each request. Suppressing
  // them is a hint the device may ignore; configuration interrupts
  // (DEVICE_NEEDS_RESET) still come.
  for (size_t i = 0; i < total; ++i) {
    base::LockGuard guard(*queues_[i].lock);
    device_.queue(static_cast<uint16_t>(i)).DisableInterrupts();
  }
  base::Logf(platform_, base::LogLevel::kInfo,
             "virtio-fs: tag '%s' over %s, %u request queue(s)", tag_,
             transport.name(), request_queues_);
  return {};
}

base::Result<void> VirtioFs::AllocateSlots(Queue& queue, uint16_t index) {
  queue.slot_bounce =
      TRY(platform_.AllocateDma(kSlotsPerQueue * kSlotBounceBytes, 64));
  queue.slots = new (std::nothrow) Pending[kSlotsPerQueue];
  if (queue.slots == nullptr) return base::Error{ENOMEM};
  for (size_t i = kSlotsPerQueue; i-- > 0;) {
    Pending& slot = queue.slots[i];
    slot.home = index;
    slot.slot_area = {
        static_cast<char*>(queue.slot_bounce.cpu) + i * kSlotBounceBytes,
        queue.slot_bounce.bus + i * kSlotBounceBytes, kSlotBounceBytes};
    slot.next_free = queue.free_slots;
    queue.free_slots = &slot;
  }
  queue.free_count = kSlotsPerQueue;
  return {};
}

base::Result<VirtioFs::Pending*> VirtioFs::Acquire(uint16_t queue,
                                                   size_t bounce_bytes) {
  Pending* pending = nullptr;
  {
    Queue& q = queues_[queue];
    base::LockGuard guard(*q.lock);
    if (q.free_slots != nullptr) {
      pending = q.free_slots;
      q.free_slots = pending->next_free;
      q.free_count--;
    }
  }
  if (pending == nullptr) {
    pending = new (std::nothrow) Pending;
    if (pending == nullptr) return base::Error{ENOMEM};
  }
  pending->Reset();
  if (bounce_bytes <= pending->slot_area.size) {
    pending->bounce = pending->slot_area;
    return pending;
  }
  base::Result<base::DmaRegion> region =
      platform_.AllocateDma(bounce_bytes, 64);
  if (!region.ok()) {
    Release(pending);
    return base::Error{region.error()};
  }
  pending->bounce = region.value();
  pending->owns_bounce = true;
  return pending;
}

void VirtioFs::ReleaseLocked(Pending* pending) {
  if (pending->owns_bounce) {
    platform_.FreeDma(pending->bounce);
    pending->owns_bounce = false;
  }
  if (pending->home == kNoHome) {
    delete pending;
    return;
  }
  Queue& home = queues_[pending->home];
  pending->next_free = home.free_slots;
  home.free_slots = pending;
  home.free_count++;
}

void VirtioFs::Release(Pending* pending) {
  if (pending->home == kNoHome) return ReleaseLocked(pending);
  base::LockGuard guard(*queues_[pending->home].lock);
  ReleaseLocked(pending);
}

uint16_t VirtioFs::PickQueue(FuseLane lane) {
  if (lane == FuseLane::kHighPriority) return kHighPriorityQueue;
  uint32_t n = next_request_queue_.fetch_add(1, std::memory_order_relaxed);
  return static_cast<uint16_t>(1 + n % request_queues_);
}

base::Result<uint32_t> VirtioFs::Exchange(
    FuseLane lane, std::span<const ConstBuffer> request,
    std::span<const MutableBuffer> reply) {
  if (request.empty() || request.size() + reply.size() > kMaxBuffers)
    return base::Error{EINVAL};
  if (!device_.is_live()) return base::Error{EIO};
  // Where the device finds each buffer: its bus address, or kBounced for a
  // piece copied through the bounce area (which holds them all).
  std::array<uint64_t, kMaxBuffers> request_bus;
  std::array<uint64_t, kMaxBuffers> reply_bus;
  size_t bounce_bytes = 0;
  const auto locate = [&](const void* data, size_t size, uint64_t* bus) {
    if (size != 0 && !platform_.BusAddressOf(data, size, bus)) {
      *bus = kBounced;
      bounce_bytes += RoundUp(size, 8);
    }
  };
  for (size_t i = 0; i < request.size(); ++i)
    locate(request[i].data, request[i].size, &request_bus[i]);
  for (size_t i = 0; i < reply.size(); ++i)
    locate(reply[i].data, reply[i].size, &reply_bus[i]);

  const uint16_t queue = PickQueue(lane);
  Pending* pending = TRY(Acquire(queue, bounce_bytes));
  base::Result<void> submitted = Submit(queue, *pending, request, reply,
                                        {request_bus.data(), request.size()},
                                        {reply_bus.data(), reply.size()});
  if (!submitted.ok()) {
    Release(pending);
    return base::Error{submitted.error()};
  }
  return Wait(queue, *pending);
}

base::Result<void> VirtioFs::Submit(uint16_t queue, Pending& pending,
                                    std::span<const ConstBuffer> request,
                                    std::span<const MutableBuffer> reply,
                                    std::span<const uint64_t> request_bus,
                                    std::span<const uint64_t> reply_bus) {
  pending.queue = queue;
  std::array<Segment, kMaxBuffers> readable;
  std::array<Segment, kMaxBuffers> writable;
  size_t readable_count = 0, writable_count = 0, offset = 0;
  for (size_t i = 0; i < request.size(); ++i) {
    const ConstBuffer& b = request[i];
    if (!b.size) continue;
    if (request_bus[i] != kBounced) {
      readable[readable_count++] = {request_bus[i], b.size};
      continue;
    }
    std::memcpy(static_cast<char*>(pending.bounce.cpu) + offset, b.data,
                b.size);
    readable[readable_count++] = {pending.bounce.bus + offset, b.size};
    offset += RoundUp(b.size, 8);
  }
  if (readable_count == 0) return base::Error{EINVAL};
  for (size_t i = 0; i < reply.size(); ++i) {
    const MutableBuffer& b = reply[i];
    if (!b.size) continue;
    Pending::ReplyPiece& piece = pending.reply[pending.reply_count++];
    piece = {};
    piece.destination = b;
    if (reply_bus[i] != kBounced) {
      writable[writable_count++] = {reply_bus[i], b.size};
      continue;
    }
    piece.bounced = true;
    piece.bounce_offset = offset;
    writable[writable_count++] = {pending.bounce.bus + offset, b.size};
    offset += RoundUp(b.size, 8);
  }

  SplitQueue& ring = device_.queue(queue);
  bool notify = false;
  {
    base::LockGuard guard(*queues_[queue].lock);
    for (;;) {
      base::Result<void> added =
          ring.Submit({readable.data(), readable_count},
                      {writable.data(), writable_count}, &pending);
      if (added.ok()) break;
      if (added.error() != ENOSPC) return added;
      // The ring is full: make room from what the device has returned, else
      // wait for it without the lock (the interrupt handler that returns the
      // device's buffers takes it). Room for a shorter chain is not enough:
      // only what reaping frees tells whether to try again at once.
      const uint16_t free_before = ring.num_free();
      Reap(queue);
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

base::Result<uint32_t> VirtioFs::Wait(uint16_t queue, Pending& pending) {
  for (unsigned turn = 1;; ++turn) {
    if (!pending.done.load(std::memory_order_acquire)) {
      base::LockGuard guard(*queues_[queue].lock);
      Reap(queue);
      if (!pending.done.load(std::memory_order_acquire)) {
        bool broken = device_.queue(queue).broken() ||
                      (turn % kStatusPollInterval == 0 && device_.NeedsReset());
        if (broken) {
          // The chain stays with the device until a reset returns it
          // (OnAbandoned).
          pending.orphaned = true;
          return base::Error{EIO};
        }
      }
    }
    if (pending.done.load(std::memory_order_acquire)) break;
    platform_.Relax();
  }

  base::Result<uint32_t> result = pending.used_length;
  if (pending.error) {
    result = base::Error{pending.error};
  } else {
    // Copy back what the device wrote into bounced pieces, in chain order.
    size_t before = 0;
    for (size_t i = 0; i < pending.reply_count; ++i) {
      const Pending::ReplyPiece& piece = pending.reply[i];
      size_t size = piece.destination.size;
      size_t written =
          pending.used_length > before ? pending.used_length - before : 0;
      if (written > size) written = size;
      if (piece.bounced && written) {
        std::memcpy(
            piece.destination.data,
            static_cast<char*>(pending.bounce.cpu) + piece.bounce_offset,
            written);
      }
      before += size;
    }
  }
  Release(&pending);
  return result;
}

void VirtioFs::Reap(uint16_t queue) {
  SplitQueue& ring = device_.queue(queue);
  std::array<UsedBuffer, 32> used;
  for (;;) {
    base::Result<size_t> popped = ring.PollUsed(used);
    if (!popped.ok() || popped.value() == 0)
      return;  // A broken ring is seen by waiters.
    for (size_t i = 0; i < popped.value(); ++i) {
      Finish(static_cast<Pending*>(used[i].token), 0, used[i].length);
    }
  }
}

void VirtioFs::Finish(Pending* pending, int error, uint32_t used_length) {
  if (pending->orphaned) {
    ReleaseLocked(pending);
    return;
  }
  pending->error = error;
  pending->used_length = used_length;
  pending->done.store(true, std::memory_order_release);
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
  fs->Reap(queue);
}

void VirtioFs::OnAbandoned(void* context, void* token) {
  // Called while the device is stopped (Recover, the destructor), with no
  // queue lock held.
  auto* fs = static_cast<VirtioFs*>(context);
  auto* pending = static_cast<Pending*>(token);
  base::LockGuard guard(*fs->queues_[pending->queue].lock);
  fs->Finish(pending, EIO, 0);
}

}  // namespace driver
