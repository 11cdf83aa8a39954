#include "driver/packed_queue.h"

#include <linux/virtio_config.h>

#include <cstring>

#include "base/format.h"
#include "driver/shared_fields.h"

namespace driver {
namespace {

constexpr uint16_t kAvailBit = 1 << VRING_PACKED_DESC_F_AVAIL;
constexpr uint16_t kUsedBit = 1 << VRING_PACKED_DESC_F_USED;
constexpr uint16_t kEventWrapBit = 1 << VRING_PACKED_EVENT_F_WRAP_CTR;

// An available descriptor has AVAIL equal to the driver's wrap counter and USED
// its inverse.
constexpr uint16_t AvailableBits(bool wrap) {
  return wrap ? kAvailBit : kUsedBit;
}

// A used descriptor has AVAIL and USED both equal to the device's wrap counter,
// which the driver tracks as its used wrap counter.
constexpr bool IsUsed(uint16_t flags, bool used_wrap) {
  const bool avail = (flags & kAvailBit) != 0;
  const bool used = (flags & kUsedBit) != 0;
  return avail == used && used == used_wrap;
}

// The descriptor ring, then the driver and the device event suppression areas
// (4 bytes each) in one allocation: 16 * size keeps both 4-byte aligned.
constexpr size_t kEventSize = sizeof(vring_packed_desc_event);
static_assert(sizeof(vring_packed_desc) == 16 && kEventSize == 4);

}  // namespace

PackedQueue::PackedQueue(base::Platform& platform, uint16_t index)
    : Virtqueue(platform, index) {}

PackedQueue::~PackedQueue() { FreeRings(); }

base::Result<void> PackedQueue::Setup(uint16_t size, uint64_t features) {
  if (is_set_up() || size == 0 || size > kMaxSize) return base::Error{EINVAL};
  const size_t ring_bytes = sizeof(vring_packed_desc) * size;
  const size_t total = ring_bytes + 2 * kEventSize;
  ring_ = TRY(platform_.AllocateDma(total, kRingAlignment));
  auto* base = static_cast<uint8_t*>(ring_.cpu);
  // The spec requires a zeroed descriptor ring: flags 0 are neither available
  // nor used for wrap counters that start at 1. Both event areas start at
  // ENABLE (0).
  memset(base, 0, total);
  desc_ = reinterpret_cast<vring_packed_desc*>(base);
  driver_event_ = reinterpret_cast<vring_packed_desc_event*>(base + ring_bytes);
  device_event_ = reinterpret_cast<vring_packed_desc_event*>(base + ring_bytes +
                                                             kEventSize);
  size_ = size;
  indirect_ = (features & (uint64_t{1} << VIRTIO_RING_F_INDIRECT_DESC)) != 0;
  event_idx_ = (features & (uint64_t{1} << VIRTIO_RING_F_EVENT_IDX)) != 0;

  next_free_id_.assign(size, 0);
  for (uint16_t i = 0; i + 1 < size; ++i) next_free_id_[i] = i + 1;
  chains_.assign(size, ChainRecord{});
  free_id_ = 0;
  num_free_ = size;
  chains_in_flight_ = 0;
  next_avail_ = 0;
  chains_made_available_ = 0;
  avail_wrap_ = true;
  added_since_kick_ = 0;
  next_used_ = 0;
  used_wrap_ = true;
  interrupts_enabled_ = true;
  if (event_idx_) {
    // Interrupts on, the EVENT_IDX way: at the first used descriptor. The
    // device does not run yet, so no ordering is needed.
    StoreShared(&driver_event_->off_wrap, NextUsedOffWrap());
    StoreShared(&driver_event_->flags, VRING_PACKED_EVENT_FLAG_DESC);
  }
  broken_.store(false, std::memory_order_release);
  return {};
}

void PackedQueue::ReleaseRings(AbandonFn abandoned, void* context) {
  if (!is_set_up()) return;
  AbandonChains(chains_, abandoned, context);
  platform_.FreeDma(ring_);
  ring_ = base::DmaRegion{};
  desc_ = nullptr;
  driver_event_ = nullptr;
  device_event_ = nullptr;
  size_ = 0;
  num_free_ = 0;
  chains_in_flight_ = 0;
  next_free_id_.clear();
}

QueueAddresses PackedQueue::addresses() const {
  const uint64_t base = ring_.bus;
  const uint64_t ring_bytes = sizeof(vring_packed_desc) * size_;
  return QueueAddresses{
      .descriptor_table = base,
      .driver_area = base + ring_bytes,
      .device_area = base + ring_bytes + kEventSize,
  };
}

uint16_t PackedQueue::TakeId() {
  const uint16_t id = free_id_;
  free_id_ = next_free_id_[id];
  return id;
}

// Fills the descriptor at next_avail_ but its flags, and moves past it,
// flipping the wrap counter at the end of the ring. Returns its slot. The
// caller writes the flags: the head's only once the whole chain is written.
uint16_t PackedQueue::WriteDescriptor(uint64_t addr, uint32_t len,
                                      uint16_t id) {
  const uint16_t slot = next_avail_;
  vring_packed_desc& d = desc_[slot];
  d.addr = addr;
  d.len = len;
  d.id = id;
  if (++next_avail_ == size_) {
    next_avail_ = 0;
    avail_wrap_ = !avail_wrap_;
  }
  return slot;
}

base::Result<uint16_t> PackedQueue::AddIndirect(
    std::span<const Segment> readable, std::span<const Segment> writable,
    uint16_t id) {
  const size_t count = readable.size() + writable.size();
  const base::DmaRegion table = TRY(platform_.AllocateDma(
      sizeof(vring_packed_desc) * count, alignof(vring_packed_desc)));
  // The table is sequential: no NEXT, and WRITE is the only flag it may carry;
  // its buffer ids are reserved.
  auto* entries = static_cast<vring_packed_desc*>(table.cpu);
  for (size_t i = 0; i < count; ++i) {
    const bool is_writable = i >= readable.size();
    const Segment& segment =
        is_writable ? writable[i - readable.size()] : readable[i];
    entries[i].addr = segment.bus;
    entries[i].len = static_cast<uint32_t>(segment.length);
    entries[i].id = 0;
    entries[i].flags = is_writable ? VRING_DESC_F_WRITE : 0;
  }
  const uint16_t head_flags =
      VRING_DESC_F_INDIRECT | AvailableBits(avail_wrap_);
  WriteDescriptor(table.bus,
                  static_cast<uint32_t>(sizeof(vring_packed_desc) * count), id);
  chains_[id].indirect_table = table;
  chains_[id].descriptors = 1;
  return head_flags;
}

uint16_t PackedQueue::AddDirect(std::span<const Segment> readable,
                                std::span<const Segment> writable,
                                uint16_t id) {
  const size_t count = readable.size() + writable.size();
  uint16_t head_flags = 0;
  for (size_t i = 0; i < count; ++i) {
    const bool is_writable = i >= readable.size();
    const Segment& segment =
        is_writable ? writable[i - readable.size()] : readable[i];
    // Every descriptor carries the wrap counter of its own slot: a chain that
    // runs past the end of the ring flips it midway.
    const uint16_t flags = (is_writable ? VRING_DESC_F_WRITE : 0) |
                           (i + 1 < count ? VRING_DESC_F_NEXT : 0) |
                           AvailableBits(avail_wrap_);
    if (i == 0) head_flags = flags;
    // The id belongs in the last descriptor; every one carries it, as in
    // Linux, which costs nothing and helps a device that reads the head only.
    const uint16_t slot =
        WriteDescriptor(segment.bus, static_cast<uint32_t>(segment.length), id);
    if (i > 0) StoreShared(&desc_[slot].flags, flags);
  }
  chains_[id].indirect_table = base::DmaRegion{};
  chains_[id].descriptors = static_cast<uint16_t>(count);
  return head_flags;
}

base::Result<void> PackedQueue::Submit(std::span<const Segment> readable,
                                       std::span<const Segment> writable,
                                       void* token) {
  const uint64_t writable_bytes = TRY(CheckChain(readable, writable, token));
  const size_t count = readable.size() + writable.size();

  // Every chain in flight holds at least one ring descriptor, so a free
  // descriptor implies a free buffer id.
  const uint16_t head = next_avail_;
  uint16_t head_flags;
  uint16_t id;
  const bool want_indirect = WantIndirect(count, num_free_);
  if (want_indirect && num_free_ >= 1) {
    id = free_id_;
    base::Result<uint16_t> indirect = AddIndirect(readable, writable, id);
    if (indirect.ok()) {
      head_flags = indirect.value();
    } else if (num_free_ >= count) {
      // No memory for a table: go direct.
      head_flags = AddDirect(readable, writable, id);
    } else {
      return base::Error{indirect.error()};
    }
  } else if (num_free_ >= count) {
    id = free_id_;
    head_flags = AddDirect(readable, writable, id);
  } else {
    return base::Error{ENOSPC};
  }
  TakeId();
  const uint16_t descriptors = chains_[id].descriptors;
  chains_[id].token = token;
  chains_[id].writable_bytes = writable_bytes;
  num_free_ -= descriptors;
  ++chains_in_flight_;
  ++chains_made_available_;

  // The whole chain must be visible before its head's flags make it available,
  // so that the device never sees part of a chain.
  base::WriteBarrier();
  StorePublished(&desc_[head].flags, head_flags);
  added_since_kick_ += descriptors;
  if (added_since_kick_ > size_) added_since_kick_ = size_;
  return {};
}

bool PackedQueue::KickPrepare() {
  if (!is_set_up() || added_since_kick_ == 0) return false;
  // The new flags must be visible before reading whether the device wants a
  // notification, or both sides could decide the other will act.
  base::FullBarrier();
  const uint32_t added = added_since_kick_;
  added_since_kick_ = 0;
  // Flags first, then the offset: a device writes the offset before it
  // switches its flags to DESC.
  const uint16_t flags = LoadPublished(&device_event_->flags);
  if (!event_idx_ || flags != VRING_PACKED_EVENT_FLAG_DESC) {
    // DESC without EVENT_IDX and the reserved value are the device's mistake;
    // a notification too many is harmless, one too few hangs it.
    return flags != VRING_PACKED_EVENT_FLAG_DISABLE;
  }
  if (added >= size_) return true;  // A whole lap: every slot was crossed.
  const uint16_t off_wrap = LoadShared(&device_event_->off_wrap);
  // Positions on a line where the current lap starts at 0 and the previous one
  // at -size: the chains just added took [old, new), and the device wants a
  // notification once the descriptor at its event offset is made available.
  const int32_t new_position = next_avail_;
  const int32_t old_position = new_position - static_cast<int32_t>(added);
  int32_t event = off_wrap & ~kEventWrapBit;
  const bool event_wrap = (off_wrap & kEventWrapBit) != 0;
  if (event_wrap != avail_wrap_) event -= size_;
  return old_position <= event && event < new_position;
}

bool PackedQueue::UsedAtNext() const {
  // Acquire, as in PopUsed: a caller that sees the flags may read the rest.
  return IsUsed(LoadPublished(&desc_[next_used_].flags), used_wrap_);
}

uint16_t PackedQueue::NextUsedOffWrap() const {
  return static_cast<uint16_t>(next_used_ | (used_wrap_ ? kEventWrapBit : 0));
}

bool PackedQueue::HasUsed() const { return is_set_up() && UsedAtNext(); }

base::Result<std::optional<UsedBuffer>> PackedQueue::PopUsed() {
  if (broken()) return base::Error{EIO};
  if (!is_set_up()) return base::Error{ENODEV};
  // The acquire load of the flags orders the reads of id and len after it.
  if (!UsedAtNext()) return std::optional<UsedBuffer>();
  const vring_packed_desc& slot = desc_[next_used_];
  const uint16_t id = __atomic_load_n(&slot.id, __ATOMIC_RELAXED);
  // Read even without VRING_DESC_F_WRITE in the used flags, as Linux does:
  // devices (QEMU's among them) set the length without that flag.
  const uint32_t length = __atomic_load_n(&slot.len, __ATOMIC_RELAXED);
  if (id >= size_ || chains_[id].descriptors == 0) {
    ReportBroken("used id is not a buffer id in flight", id);
    return base::Error{EIO};
  }
  if (length > chains_[id].writable_bytes) {
    ReportBroken("used length exceeds the chain's writable bytes", length);
    return base::Error{EIO};
  }
  const UsedBuffer used{.token = chains_[id].token, .length = length};
  // The device skips the rest of the chain's slots before its next used
  // descriptor; the count comes from driver memory, never from the ring.
  const uint32_t next = uint32_t{next_used_} + chains_[id].descriptors;
  if (next >= size_) {
    next_used_ = static_cast<uint16_t>(next - size_);
    used_wrap_ = !used_wrap_;
  } else {
    next_used_ = static_cast<uint16_t>(next);
  }
  FreeChain(id);
  if (event_idx_ && interrupts_enabled_) {
    // Ask for an interrupt at the next used descriptor; the barrier makes the
    // request visible before the caller decides to wait.
    StoreShared(&driver_event_->off_wrap, NextUsedOffWrap());
    base::FullBarrier();
  }
  return std::optional<UsedBuffer>(used);
}

void PackedQueue::FreeChain(uint16_t id) {
  ChainRecord& chain = chains_[id];
  num_free_ += chain.descriptors;
  --chains_in_flight_;
  if (chain.indirect_table.cpu != nullptr)
    platform_.FreeDma(chain.indirect_table);
  chain = ChainRecord{};
  next_free_id_[id] = free_id_;
  free_id_ = id;
}

void PackedQueue::DisableInterrupts() {
  if (!is_set_up()) return;
  interrupts_enabled_ = false;
  // Unlike the split ring's, DISABLE means the same with or without EVENT_IDX.
  StoreShared(&driver_event_->flags, VRING_PACKED_EVENT_FLAG_DISABLE);
}

bool PackedQueue::EnableInterrupts() {
  if (!is_set_up()) return true;
  interrupts_enabled_ = true;
  if (event_idx_) {
    // The offset must be in place before the flags tell the device to use it.
    StoreShared(&driver_event_->off_wrap, NextUsedOffWrap());
    base::WriteBarrier();
    StoreShared(&driver_event_->flags, VRING_PACKED_EVENT_FLAG_DESC);
  } else {
    StoreShared(&driver_event_->flags, VRING_PACKED_EVENT_FLAG_ENABLE);
  }
  // The device may have returned a chain before it saw the request for
  // interrupts; look at the next used position after making the request
  // visible.
  base::FullBarrier();
  return !IsUsed(LoadShared(&desc_[next_used_].flags), used_wrap_);
}

}  // namespace driver
