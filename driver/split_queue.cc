#include "driver/split_queue.h"

#include <linux/virtio_config.h>

#include <cstring>

#include "base/format.h"
#include "driver/shared_fields.h"

namespace driver {
namespace {

constexpr size_t AlignUp(size_t n, size_t alignment) {
  return (n + alignment - 1) / alignment * alignment;
}

// Byte offsets of the three ring parts in one allocation, at the spec's
// alignments (descriptor table 16, available ring 2, used ring 4).
struct RingLayout {
  size_t avail_offset;
  size_t used_offset;
  size_t total;
};

RingLayout LayoutFor(uint16_t size) {
  RingLayout layout;
  layout.avail_offset = sizeof(vring_desc) * size;
  // flags, idx, ring[size], used_event.
  const size_t avail_bytes = sizeof(uint16_t) * (3 + size);
  layout.used_offset =
      AlignUp(layout.avail_offset + avail_bytes, VRING_USED_ALIGN_SIZE);
  // flags, idx, ring[size], avail_event.
  const size_t used_bytes =
      sizeof(uint16_t) * 3 + sizeof(vring_used_elem) * size;
  layout.total = layout.used_offset + used_bytes;
  return layout;
}

// Stores a descriptor unless the table already holds it. A store takes the
// line from the device's cache even when it writes what was there, and a
// caller that reuses its request slot and buffers (one synchronous request at
// a time) would make the device fetch the line back for every chain.
void WriteDescriptor(vring_desc& slot, const vring_desc& value) {
  if (slot.addr != value.addr || slot.len != value.len ||
      slot.flags != value.flags || slot.next != value.next) {
    slot = value;
  }
}

}  // namespace

SplitQueue::SplitQueue(base::Platform& platform, uint16_t index)
    : Virtqueue(platform, index) {}

SplitQueue::~SplitQueue() { FreeRings(); }

base::Result<void> SplitQueue::Setup(uint16_t size, uint64_t features) {
  if (is_set_up() || size == 0 || size > kMaxSize || (size & (size - 1)) != 0) {
    return base::Error{EINVAL};
  }
  const RingLayout layout = LayoutFor(size);
  ring_ = TRY(platform_.AllocateDma(layout.total, kRingAlignment));
  auto* base = static_cast<uint8_t*>(ring_.cpu);
  // Both rings start empty (flags and indices 0), and the descriptor table
  // exposes nothing the driver did not write.
  memset(base, 0, layout.total);
  desc_ = reinterpret_cast<vring_desc*>(base);
  avail_ = reinterpret_cast<vring_avail*>(base + layout.avail_offset);
  used_ = reinterpret_cast<vring_used*>(base + layout.used_offset);
  size_ = size;
  indirect_ = (features & (uint64_t{1} << VIRTIO_RING_F_INDIRECT_DESC)) != 0;
  event_idx_ = (features & (uint64_t{1} << VIRTIO_RING_F_EVENT_IDX)) != 0;

  next_.assign(size, 0);
  for (uint16_t i = 0; i + 1 < size; ++i) next_[i] = i + 1;
  chains_.assign(size, ChainRecord{});
  free_head_ = 0;
  num_free_ = size;
  chains_in_flight_ = 0;
  avail_idx_ = 0;
  added_since_kick_ = 0;
  last_used_idx_ = 0;
  interrupts_enabled_ = true;
  broken_.store(false, std::memory_order_release);
  return {};
}

void SplitQueue::ReleaseRings(AbandonFn abandoned, void* context) {
  if (!is_set_up()) return;
  AbandonChains(chains_, abandoned, context);
  platform_.FreeDma(ring_);
  ring_ = base::DmaRegion{};
  desc_ = nullptr;
  avail_ = nullptr;
  used_ = nullptr;
  size_ = 0;
  num_free_ = 0;
  chains_in_flight_ = 0;
  next_.clear();
}

QueueAddresses SplitQueue::addresses() const {
  const uint64_t base = ring_.bus;
  auto* cpu = static_cast<const uint8_t*>(ring_.cpu);
  return QueueAddresses{
      .descriptor_table = base,
      .driver_area = base + (reinterpret_cast<const uint8_t*>(avail_) - cpu),
      .device_area = base + (reinterpret_cast<const uint8_t*>(used_) - cpu),
  };
}

uint16_t SplitQueue::TakeDescriptor() {
  const uint16_t taken = free_head_;
  free_head_ = next_[taken];
  --num_free_;
  return taken;
}

base::Result<uint16_t> SplitQueue::AddIndirect(
    std::span<const Segment> readable, std::span<const Segment> writable) {
  const size_t count = readable.size() + writable.size();
  const base::DmaRegion table = TRY(
      platform_.AllocateDma(sizeof(vring_desc) * count, VRING_DESC_ALIGN_SIZE));
  auto* entries = static_cast<vring_desc*>(table.cpu);
  for (size_t i = 0; i < count; ++i) {
    const bool is_writable = i >= readable.size();
    const Segment& segment =
        is_writable ? writable[i - readable.size()] : readable[i];
    entries[i].addr = segment.bus;
    entries[i].len = static_cast<uint32_t>(segment.length);
    entries[i].flags = (is_writable ? VRING_DESC_F_WRITE : 0) |
                       (i + 1 < count ? VRING_DESC_F_NEXT : 0);
    entries[i].next = static_cast<uint16_t>(i + 1 < count ? i + 1 : 0);
  }
  const uint16_t head = TakeDescriptor();
  WriteDescriptor(desc_[head],
                  {.addr = table.bus,
                   .len = static_cast<uint32_t>(sizeof(vring_desc) * count),
                   .flags = VRING_DESC_F_INDIRECT,
                   .next = 0});
  chains_[head].indirect_table = table;
  chains_[head].descriptors = 1;
  return head;
}

uint16_t SplitQueue::AddDirect(std::span<const Segment> readable,
                               std::span<const Segment> writable) {
  const size_t count = readable.size() + writable.size();
  const uint16_t head = free_head_;
  for (size_t i = 0; i < count; ++i) {
    const bool is_writable = i >= readable.size();
    const Segment& segment =
        is_writable ? writable[i - readable.size()] : readable[i];
    const uint16_t d = TakeDescriptor();
    const bool has_next = i + 1 < count;
    WriteDescriptor(
        desc_[d],
        {.addr = segment.bus,
         .len = static_cast<uint32_t>(segment.length),
         .flags = static_cast<uint16_t>((is_writable ? VRING_DESC_F_WRITE : 0) |
                                        (has_next ? VRING_DESC_F_NEXT : 0)),
         // The chain takes free descriptors in free-list order, so the next
         // one in the chain is the new free head.
         .next = static_cast<uint16_t>(has_next ? free_head_ : 0)});
  }
  chains_[head].indirect_table = base::DmaRegion{};
  chains_[head].descriptors = static_cast<uint16_t>(count);
  return head;
}

base::Result<void> SplitQueue::Submit(std::span<const Segment> readable,
                                      std::span<const Segment> writable,
                                      void* token) {
  const uint64_t writable_bytes = TRY(CheckChain(readable, writable, token));
  const size_t count = readable.size() + writable.size();

  uint16_t head;
  const bool want_indirect = WantIndirect(count, num_free_);
  if (want_indirect && num_free_ >= 1) {
    base::Result<uint16_t> indirect = AddIndirect(readable, writable);
    if (indirect.ok()) {
      head = indirect.value();
    } else if (num_free_ >= count) {
      head =
          AddDirect(readable, writable);  // No memory for a table: go direct.
    } else {
      return base::Error{indirect.error()};
    }
  } else if (num_free_ >= count) {
    head = AddDirect(readable, writable);
  } else {
    return base::Error{ENOSPC};
  }
  chains_[head].token = token;
  chains_[head].writable_bytes = writable_bytes;
  ++chains_in_flight_;

  // The descriptors must be visible before the ring entry naming them, and the
  // entry before the index that makes it available.
  base::WriteBarrier();
  uint16_t* entry = &avail_->ring[avail_idx_ & (size_ - 1)];
  if (LoadShared(entry) != head) StoreShared(entry, head);  // As descriptors.
  base::WriteBarrier();
  ++avail_idx_;
  StorePublished(&avail_->idx, avail_idx_);
  // KickPrepare compares 16-bit indices: kick before 65536 additions make them
  // equal.
  if (++added_since_kick_ == UINT16_MAX) Kick();
  return {};
}

bool SplitQueue::KickPrepare() {
  if (!is_set_up() || added_since_kick_ == 0) return false;
  // The new avail idx must be visible before reading whether the device wants a
  // notification, or both sides could decide the other will act.
  base::FullBarrier();
  const uint16_t new_idx = avail_idx_;
  const uint16_t old_idx =
      static_cast<uint16_t>(avail_idx_ - added_since_kick_);
  added_since_kick_ = 0;
  if (event_idx_) {
    return vring_need_event(LoadShared(avail_event()), new_idx, old_idx) != 0;
  }
  return (LoadShared(&used_->flags) & VRING_USED_F_NO_NOTIFY) == 0;
}

bool SplitQueue::HasUsed() const {
  // Acquire, as in PopUsed: a caller that sees the index may read the elements.
  return is_set_up() && LoadPublished(&used_->idx) != last_used_idx_;
}

base::Result<std::optional<UsedBuffer>> SplitQueue::PopUsed() {
  if (broken()) return base::Error{EIO};
  if (!is_set_up()) return base::Error{ENODEV};
  const uint16_t used_idx = LoadPublished(&used_->idx);
  if (used_idx == last_used_idx_) return std::optional<UsedBuffer>();
  const uint16_t pending = static_cast<uint16_t>(used_idx - last_used_idx_);
  if (pending > chains_in_flight_) {
    ReportBroken("used index ran ahead of the chains in flight by", pending);
    return base::Error{EIO};
  }
  // The used element must be read only after the index that announced it.
  base::ReadBarrier();
  const vring_used_elem& slot = used_->ring[last_used_idx_ & (size_ - 1)];
  const uint32_t id = __atomic_load_n(&slot.id, __ATOMIC_RELAXED);
  const uint32_t length = __atomic_load_n(&slot.len, __ATOMIC_RELAXED);
  if (id >= size_ || chains_[id].descriptors == 0) {
    ReportBroken("used id is not the head of a chain in flight", id);
    return base::Error{EIO};
  }
  if (length > chains_[id].writable_bytes) {
    ReportBroken("used length exceeds the chain's writable bytes", length);
    return base::Error{EIO};
  }
  const UsedBuffer used{.token = chains_[id].token, .length = length};
  FreeChain(static_cast<uint16_t>(id));
  ++last_used_idx_;
  if (event_idx_ && interrupts_enabled_) {
    // Ask for an interrupt at the next used entry; the barrier makes the
    // request visible before the caller decides to wait.
    StoreShared(used_event(), last_used_idx_);
    base::FullBarrier();
  }
  return std::optional<UsedBuffer>(used);
}

void SplitQueue::FreeChain(uint16_t head) {
  ChainRecord& chain = chains_[head];
  uint16_t last = head;
  for (uint16_t i = 1; i < chain.descriptors; ++i) last = next_[last];
  next_[last] = free_head_;
  free_head_ = head;
  num_free_ += chain.descriptors;
  --chains_in_flight_;
  if (chain.indirect_table.cpu != nullptr)
    platform_.FreeDma(chain.indirect_table);
  chain = ChainRecord{};
}

void SplitQueue::DisableInterrupts() {
  if (!is_set_up()) return;
  interrupts_enabled_ = false;
  if (event_idx_) {
    // With EVENT_IDX the flags must stay 0. An event index just behind what the
    // driver consumed is one the device will not cross for another 65536
    // entries.
    StoreShared(used_event(), static_cast<uint16_t>(last_used_idx_ - 1));
  } else {
    StoreShared(&avail_->flags, VRING_AVAIL_F_NO_INTERRUPT);
  }
}

bool SplitQueue::EnableInterrupts() {
  if (!is_set_up()) return true;
  interrupts_enabled_ = true;
  if (event_idx_) {
    StoreShared(used_event(), last_used_idx_);
  } else {
    StoreShared(&avail_->flags, 0);
  }
  // The device may have returned a chain before it saw the request for
  // interrupts; re-read the used index after making the request visible.
  base::FullBarrier();
  return LoadShared(&used_->idx) == last_used_idx_;
}

}  // namespace driver
