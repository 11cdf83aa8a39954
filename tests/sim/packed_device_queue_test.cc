#include "sim/packed_device_queue.h"

#define VIRTIO_RING_NO_LEGACY
#include <gtest/gtest.h>
#include <linux/virtio_ring.h>

#include <atomic>
#include <cstddef>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "sim/guest_memory.h"

namespace sim {
namespace {

constexpr uint16_t kAvail = 1u << VRING_PACKED_DESC_F_AVAIL;
constexpr uint16_t kUsed = 1u << VRING_PACKED_DESC_F_USED;
constexpr uint16_t kNext = VRING_DESC_F_NEXT;
constexpr uint16_t kWrite = VRING_DESC_F_WRITE;
constexpr uint16_t kIndirect = VRING_DESC_F_INDIRECT;
constexpr uint16_t kQueueIndex = 3;
constexpr Enforcement kStrict = Enforcement::kStrict;
using Status = PackedDeviceQueue::PopStatus;

// Plays the driver: lays out one packed ring at a time by hand in guest
// memory (Start), writes descriptors and the driver event area as a driver
// does, and reads what the device wrote.
class PackedDeviceQueueTest : public ::testing::Test {
 protected:
  struct Desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;  // NEXT, WRITE, INDIRECT; the wrap bits are added.
  };
  struct Options {
    bool event_idx = false;
    bool strict = true;
    bool indirect = true;
    uint16_t next_avail = kPackedQueueStart;
    uint16_t used = kPackedQueueStart;
  };

  // A new ring of `size` and its queue; the driver starts at position 0 of
  // the pass with wrap counter 1.
  void Start(uint16_t size) { Start(size, Options{}); }
  void Start(uint16_t size, Options options) {
    layout_ = {.size = size, .desc = Alloc(16ull * size)};
    layout_.driver = Alloc(4);
    layout_.device = Alloc(4);
    driver_pos_ = 0;
    driver_wrap_ = true;
    ASSERT_FALSE(CheckPackedQueueLayout(*memory_, layout_).has_value());
    queue_.emplace(*memory_, kQueueIndex, layout_,
                   QueueFeatures{.indirect_desc = options.indirect,
                                 .event_idx = options.event_idx,
                                 .strict = options.strict},
                   options.next_avail, options.used);
  }

  uint64_t Alloc(uint64_t bytes) {
    next_free_ = (next_free_ + 15) / 16 * 16;
    const uint64_t bus = next_free_;
    next_free_ += bytes == 0 ? 1 : bytes;
    return bus;
  }
  uint8_t* Host(uint64_t bus, uint64_t size = 1) const {
    return memory_->HostPointer(bus, size);
  }
  uint64_t BufferWith(const std::string& bytes) {
    const uint64_t bus = Alloc(bytes.size());
    std::memcpy(Host(bus, bytes.size()), bytes.data(), bytes.size());
    return bus;
  }
  uint64_t IndirectTable(const std::vector<Desc>& entries) {
    const uint64_t bus = Alloc(16 * entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      const vring_packed_desc desc{entries[i].addr, entries[i].len, 0,
                                   entries[i].flags};
      std::memcpy(Host(bus + 16 * i, 16), &desc, 16);
    }
    return bus;
  }

  // The AVAIL/USED bits that make a descriptor available in the pass with
  // wrap counter `wrap`.
  static uint16_t AvailBits(bool wrap) { return wrap ? kAvail : kUsed; }
  // Writes a whole descriptor, flags last with release, as a driver does.
  void SetDesc(uint16_t pos, uint64_t addr, uint32_t len, uint16_t id,
               uint16_t flags) {
    const vring_packed_desc desc{addr, len, id, 0};
    uint8_t* slot = Host(layout_.desc + 16ull * pos, 16);
    std::memcpy(slot, &desc, offsetof(vring_packed_desc, flags));
    std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(slot + 14))
        .store(flags, std::memory_order_release);
  }
  vring_packed_desc Read(uint16_t pos) const {
    vring_packed_desc desc;
    std::memcpy(&desc, Host(layout_.desc + 16ull * pos, 16), 16);
    return desc;
  }
  // Makes `descs` available as one chain at the driver's cursor, NEXT on all
  // but the last, buffer id `id` on the last (0x7777 on the others, which the
  // device must ignore), the head's flags written last. Returns its length.
  uint16_t AddChain(const std::vector<Desc>& descs, uint16_t id) {
    const uint16_t head = driver_pos_;
    const uint16_t head_wrap_bits = AvailBits(driver_wrap_);
    for (size_t i = 0; i < descs.size(); ++i) {
      const bool last = i + 1 == descs.size();
      if (i != 0) {
        SetDesc(driver_pos_, descs[i].addr, descs[i].len, last ? id : 0x7777,
                descs[i].flags | (last ? 0 : kNext) | AvailBits(driver_wrap_));
      }
      if (++driver_pos_ == layout_.size) {
        driver_pos_ = 0;
        driver_wrap_ = !driver_wrap_;
      }
    }
    const bool alone = descs.size() == 1;
    SetDesc(head, descs[0].addr, descs[0].len, alone ? id : 0x7777,
            descs[0].flags | (alone ? 0 : kNext) | head_wrap_bits);
    return static_cast<uint16_t>(descs.size());
  }
  void SetDriverEvent(uint16_t flags, uint16_t off_wrap = 0) {
    const vring_packed_desc_event event{off_wrap, flags};
    std::memcpy(Host(layout_.driver, 4), &event, 4);
  }
  // id, len and flags of the descriptor at `pos`.
  std::tuple<uint16_t, uint32_t, uint16_t> Used(uint16_t pos) const {
    const vring_packed_desc desc = Read(pos);
    return {desc.id, desc.len, desc.flags};
  }
  vring_packed_desc_event DeviceEvent() const {
    vring_packed_desc_event event;
    std::memcpy(&event, Host(layout_.device, 4), 4);
    return event;
  }

  Status Pop() { return queue_->Pop(&chain_, &violation_); }
  ::testing::AssertionResult PopChain() {
    const Status status = Pop();
    if (status == Status::kChain) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << (status == Status::kEmpty ? "empty" : ToString(violation_));
  }
  // Pops and marks used one chain of `length` writable descriptors.
  void Complete(uint16_t id, size_t length = 1) {
    AddChain(std::vector<Desc>(length, {Alloc(4), 4, kWrite}), id);
    ASSERT_TRUE(PopChain());
    ASSERT_TRUE(queue_->PushUsed(id, 4));
  }
  static std::string Text(const GuestBuffer& buffer) {
    return std::string(reinterpret_cast<const char*>(buffer.data), buffer.size);
  }
  // Pop reports `expected` by name, with a message and the queue number.
  void ExpectViolation(Violation expected, const char* name,
                       Enforcement enforcement = Enforcement::kAlways) {
    ASSERT_EQ(Pop(), Status::kViolation);
    EXPECT_EQ(violation_.violation, expected) << ToString(violation_);
    EXPECT_STREQ(violation_.name(), name);
    EXPECT_EQ(EnforcementOf(expected), enforcement);
    EXPECT_FALSE(violation_.message.empty());
    EXPECT_EQ(violation_.queue, kQueueIndex);
  }

  std::unique_ptr<GuestMemory> memory_ = GuestMemory::Create(1 << 20);
  uint64_t next_free_ = memory_->base();  // Shared by the rings of a test.
  QueueLayout layout_;
  uint16_t driver_pos_ = 0;  // The driver's next descriptor.
  bool driver_wrap_ = true;
  std::optional<PackedDeviceQueue> queue_;
  DescriptorChain chain_;
  ViolationRecord violation_;
};

TEST_F(PackedDeviceQueueTest, QueueSizeCursorAndLayoutRules) {
  EXPECT_TRUE(IsValidPackedQueueSize(1, 1024));
  EXPECT_TRUE(IsValidPackedQueueSize(96, 1024));  // Not a power of two.
  EXPECT_TRUE(IsValidPackedQueueSize(32768, 65535));
  EXPECT_FALSE(IsValidPackedQueueSize(0, 1024));
  EXPECT_FALSE(IsValidPackedQueueSize(512, 256));
  EXPECT_FALSE(IsValidPackedQueueSize(32769, 65535));
  EXPECT_TRUE(IsValidPackedQueueCursor(kPackedQueueStart, 1));
  EXPECT_TRUE(IsValidPackedQueueCursor(5, 6));
  EXPECT_FALSE(IsValidPackedQueueCursor(0x8006, 6));

  const uint64_t base = memory_->base();
  const QueueLayout good{
      .size = 6, .desc = base, .driver = base + 0x100, .device = base + 0x104};
  EXPECT_FALSE(CheckPackedQueueLayout(*memory_, good).has_value());
  using Case = std::tuple<uint64_t QueueLayout::*, uint64_t, Violation>;
  constexpr Violation kMisaligned = Violation::kQueueAddressMisaligned;
  constexpr Violation kOutside = Violation::kQueueAddressOutOfBounds;
  for (const Case& c : {Case{&QueueLayout::desc, base + 8, kMisaligned},
                        Case{&QueueLayout::driver, base + 0x102, kMisaligned},
                        Case{&QueueLayout::device, base + 0x105, kMisaligned},
                        // 16 * 6 bytes of ring, or 4 of an area, do not fit.
                        Case{&QueueLayout::desc, memory_->end() - 80, kOutside},
                        Case{&QueueLayout::device, memory_->end(), kOutside},
                        Case{&QueueLayout::driver, 0x1000, kOutside}}) {
    const auto [area, address, expected] = c;
    QueueLayout layout = good;
    layout.*area = address;
    EXPECT_EQ(CheckPackedQueueLayout(*memory_, layout)->violation, expected)
        << std::hex << address;
  }
}

TEST_F(PackedDeviceQueueTest, PopsSingleDescriptorChainAndIndirectChain) {
  Start(6);  // Not a power of two.
  EXPECT_EQ(Pop(), Status::kEmpty);
  AddChain({{BufferWith("hello"), 5, 0}}, 5);
  ASSERT_TRUE(PopChain());
  EXPECT_EQ(chain_.queue, kQueueIndex);
  EXPECT_EQ(chain_.head, 5);
  ASSERT_EQ(chain_.readable.size(), 1u);
  EXPECT_EQ(Text(chain_.readable[0]), "hello");
  EXPECT_EQ(queue_->last_avail_idx(), 0x8001);
  EXPECT_EQ(Pop(), Status::kEmpty);

  const uint64_t reply = Alloc(32);
  AddChain({{BufferWith("head"), 4, 0},
            {BufferWith("er and body"), 11, 0},
            {reply, 32, kWrite}},
           2);
  ASSERT_TRUE(PopChain());
  EXPECT_EQ(chain_.head, 2);  // Not the 0x7777 of the first two.
  ASSERT_EQ(chain_.readable.size(), 2u);
  EXPECT_EQ(Text(chain_.readable[0]) + Text(chain_.readable[1]),
            "header and body");
  ASSERT_EQ(chain_.writable.size(), 1u);
  EXPECT_EQ(chain_.writable[0].data, Host(reply));
  EXPECT_EQ(chain_.readable_bytes, 15u);
  EXPECT_EQ(chain_.writable_bytes, 32u);
  EXPECT_EQ(queue_->last_avail_idx(), 0x8004);
  EXPECT_EQ(queue_->in_flight(), 2u);

  // An indirect chain takes one ring descriptor.
  const uint64_t out = Alloc(16);
  // NEXT inside a table is reserved and ignored: entries are read in order.
  const uint64_t table = IndirectTable({{BufferWith("abc"), 3, kNext},
                                        {BufferWith("defg"), 4, 0},
                                        {out, 16, kWrite}});
  AddChain({{table, 48, kIndirect}}, 1);
  ASSERT_TRUE(PopChain());
  EXPECT_EQ(chain_.head, 1);
  ASSERT_EQ(chain_.readable.size(), 2u);
  EXPECT_EQ(Text(chain_.readable[0]), "abc");
  EXPECT_EQ(Text(chain_.readable[1]), "defg");
  ASSERT_EQ(chain_.writable.size(), 1u);
  EXPECT_EQ(chain_.writable[0].data, Host(out));
  EXPECT_EQ(chain_.writable_bytes, 16u);
  EXPECT_EQ(queue_->last_avail_idx(), 0x8005);
  ASSERT_TRUE(queue_->PushUsed(1, 7));
  EXPECT_EQ(queue_->used_idx(), 0x8001);
}

TEST_F(PackedDeviceQueueTest, PushUsedWritesIdLenFlagsAndSkipsTheChain) {
  Start(8);
  AddChain(
      {{BufferWith("in"), 2, 0}, {Alloc(6), 6, kWrite}, {Alloc(4), 4, kWrite}},
      2);
  AddChain({{BufferWith("x"), 1, 0}}, 0);
  ASSERT_TRUE(PopChain());
  ASSERT_TRUE(PopChain());
  ASSERT_TRUE(queue_->PushUsed(2, 1000));  // Clamped to the 10 writable bytes.
  EXPECT_EQ(Used(0), std::tuple(2, 10u, kAvail | kUsed | kWrite));
  EXPECT_EQ(queue_->used_idx(), 0x8003);  // Moved by the chain's 3.
  ASSERT_TRUE(queue_->PushUsed(0, 0));
  EXPECT_EQ(Used(3), std::tuple(0, 0u, kAvail | kUsed));  // No WRITE: len 0.
  EXPECT_EQ(queue_->used_idx(), 0x8004);
  EXPECT_EQ(queue_->in_flight(), 0u);
}

TEST_F(PackedDeviceQueueTest, PushUsedOfIdNotInFlightWritesNothing) {
  Start(4);
  AddChain({{Alloc(4), 4, kWrite}}, 1);
  ASSERT_TRUE(PopChain());
  const vring_packed_desc before = Read(0);
  EXPECT_FALSE(queue_->PushUsed(2, 4));  // Never popped.
  EXPECT_FALSE(queue_->PushUsed(4, 4));  // Not an id of this ring.
  EXPECT_EQ(std::memcmp(&before, Host(layout_.desc, 16), 16), 0);
  EXPECT_EQ(queue_->used_idx(), kPackedQueueStart);
  EXPECT_TRUE(queue_->PushUsed(1, 4));
  EXPECT_FALSE(queue_->PushUsed(1, 4));  // Already used.
  EXPECT_EQ(queue_->used_idx(), 0x8001);
}

TEST_F(PackedDeviceQueueTest, WrapCountersOverSeveralLaps) {
  constexpr uint16_t kSize = 5;  // Chains of 1-3 straddle the ring's end.
  Start(kSize);
  const uint64_t in = BufferWith("q");
  const uint64_t out = Alloc(8);
  uint16_t used_pos = 0;
  bool used_wrap = true;
  for (int i = 0; i < 40; ++i) {  // 80 descriptors: 16 laps.
    std::vector<Desc> descs(1 + i % 3, {out, 8, kWrite});
    descs[0] = {in, 1, 0};
    const uint16_t id = static_cast<uint16_t>(i % kSize);
    const uint16_t length = AddChain(descs, id);
    ASSERT_TRUE(PopChain()) << i;
    ASSERT_EQ(chain_.head, id);
    ASSERT_TRUE(queue_->PushUsed(id, 8));
    // As a driver finds it: used in this pass at its used cursor.
    const int flags = (used_wrap ? kAvail | kUsed : 0) | (i % 3 ? kWrite : 0);
    ASSERT_EQ(Used(used_pos), std::tuple(id, i % 3 ? 8u : 0u, flags)) << i;
    used_pos += length;
    if (used_pos >= kSize) {
      used_pos -= kSize;
      used_wrap = !used_wrap;
    }
    const uint16_t cursor = used_pos | (used_wrap ? kPackedWrapBit : 0);
    ASSERT_EQ(queue_->used_idx(), cursor) << i;
    ASSERT_EQ(queue_->last_avail_idx(), cursor) << i;
  }
  EXPECT_EQ(queue_->in_flight(), 0u);
}

TEST_F(PackedDeviceQueueTest, OutOfOrderCompletion) {
  Start(8);
  const uint64_t in = BufferWith("r");
  const uint64_t out = Alloc(4);
  AddChain({{in, 1, 0}, {out, 4, kWrite}}, 0);              // 0-1
  AddChain({{out, 4, kWrite}}, 1);                          // 2
  AddChain({{in, 1, 0}, {in, 1, 0}, {out, 4, kWrite}}, 2);  // 3-5
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(PopChain());
  ASSERT_TRUE(queue_->PushUsed(2, 4));  // The last popped, used first: slot 0.
  ASSERT_TRUE(queue_->PushUsed(0, 3));  // Then slot 3 (2 was 3 long).
  ASSERT_TRUE(queue_->PushUsed(1, 1));  // Then slot 5.
  EXPECT_EQ(Used(0), std::tuple(2, 4u, kAvail | kUsed | kWrite));
  EXPECT_EQ(Used(3), std::tuple(0, 3u, kAvail | kUsed | kWrite));
  EXPECT_EQ(Used(5), std::tuple(1, 1u, kAvail | kUsed | kWrite));
  EXPECT_EQ(queue_->used_idx(), 0x8006);
  EXPECT_EQ(queue_->in_flight(), 0u);
  AddChain({{out, 4, kWrite}}, 2);  // The ids are free again.
  ASSERT_TRUE(PopChain());
  EXPECT_EQ(chain_.head, 2);
}

TEST_F(PackedDeviceQueueTest, ResumesAtGivenPositionAndWrap) {
  // Taken over at position 3 of a pass with wrap counter 0.
  Start(4, {.next_avail = 3, .used = 3});
  EXPECT_EQ(queue_->last_avail_idx(), 3);
  EXPECT_EQ(queue_->used_idx(), 3);
  const uint64_t out = Alloc(4);
  // Available for wrap 1 only: not in this pass.
  SetDesc(3, out, 4, 0, kWrite | AvailBits(true));
  EXPECT_EQ(Pop(), Status::kEmpty);
  SetDesc(3, out, 4, 0, kWrite);  // AVAIL = USED = 0: used in this pass.
  EXPECT_EQ(Pop(), Status::kEmpty);
  // A chain across the ring's end: 3 in pass 0, then 0 in pass 1.
  driver_pos_ = 3;
  driver_wrap_ = false;
  AddChain({{BufferWith("z"), 1, 0}, {out, 4, kWrite}}, 3);
  ASSERT_TRUE(PopChain());
  EXPECT_EQ(chain_.head, 3);
  EXPECT_EQ(queue_->last_avail_idx(), 0x8001);
  ASSERT_TRUE(queue_->PushUsed(3, 4));
  EXPECT_EQ(Read(3).flags, kWrite);  // AVAIL = USED = 0.
  EXPECT_EQ(queue_->used_idx(), 0x8001);
}

TEST_F(PackedDeviceQueueTest, DeviceEventAreaPublished) {
  Start(4);
  EXPECT_EQ(DeviceEvent().flags, VRING_PACKED_EVENT_FLAG_ENABLE);
  EXPECT_EQ(Pop(), Status::kEmpty);
  EXPECT_EQ(DeviceEvent().flags, VRING_PACKED_EVENT_FLAG_ENABLE);

  Start(4, {.event_idx = true});
  EXPECT_EQ(DeviceEvent().flags, VRING_PACKED_EVENT_FLAG_DESC);
  EXPECT_EQ(DeviceEvent().off_wrap, 0x8000);
  const uint64_t out = Alloc(4);
  for (uint16_t id = 0; id < 3; ++id) AddChain({{out, 4, kWrite}}, id);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(PopChain());
  EXPECT_EQ(DeviceEvent().off_wrap, 0x8000);  // Not empty until now.
  EXPECT_EQ(Pop(), Status::kEmpty);
  EXPECT_EQ(DeviceEvent().off_wrap, 0x8003);
  for (uint16_t id = 0; id < 3; ++id) ASSERT_TRUE(queue_->PushUsed(id, 0));
  AddChain({{out, 4, kWrite}}, 0);  // Position 3.
  AddChain({{out, 4, kWrite}}, 1);  // Position 0 of the next pass.
  ASSERT_TRUE(PopChain());
  ASSERT_TRUE(PopChain());
  EXPECT_EQ(Pop(), Status::kEmpty);
  EXPECT_EQ(DeviceEvent().off_wrap, 0x0001);  // Wrap counter 0.
}

TEST_F(PackedDeviceQueueTest, InterruptPerEnableDisableAndDescEvent) {
  Start(4);
  EXPECT_FALSE(queue_->TakeInterruptDue());  // Nothing pushed.
  Complete(0);
  EXPECT_TRUE(queue_->TakeInterruptDue());
  EXPECT_FALSE(queue_->TakeInterruptDue());  // Already decided.
  SetDriverEvent(VRING_PACKED_EVENT_FLAG_DISABLE);
  Complete(0);
  EXPECT_FALSE(queue_->TakeInterruptDue());
  SetDriverEvent(VRING_PACKED_EVENT_FLAG_ENABLE);
  Complete(0);
  EXPECT_TRUE(queue_->TakeInterruptDue());

  Start(8, {.event_idx = true});
  // "Notify me when the descriptor at position 2 of pass 1 is used."
  SetDriverEvent(VRING_PACKED_EVENT_FLAG_DESC, 0x8002);
  std::vector<bool> due;
  for (uint16_t id = 0; id < 5; ++id) {
    Complete(id);
    due.push_back(queue_->TakeInterruptDue());
  }
  EXPECT_EQ(due, (std::vector<bool>{false, false, true, false, false}));
  // Position 1 of the next pass (wrap counter 0): the used cursor, at 5,
  // reaches position 0 of that pass without crossing it...
  SetDriverEvent(VRING_PACKED_EVENT_FLAG_DESC, 0x0001);
  for (uint16_t id = 0; id < 3; ++id) Complete(id);
  EXPECT_FALSE(queue_->TakeInterruptDue());
  EXPECT_EQ(queue_->used_idx(), 0x0000);
  // ...then a 3-descriptor chain skips over position 1: crossed.
  Complete(3, 3);
  EXPECT_TRUE(queue_->TakeInterruptDue());
  // An offset of an earlier pass is not crossed again.
  SetDriverEvent(VRING_PACKED_EVENT_FLAG_DESC, 0x8006);
  Complete(4);
  EXPECT_FALSE(queue_->TakeInterruptDue());
}

// --- Violations new with packed rings: one test each.

TEST_F(PackedDeviceQueueTest, BufferIdOutOfRange) {
  Start(6);
  AddChain({{Alloc(4), 4, kWrite}}, 6);
  ExpectViolation(Violation::kBufferIdOutOfRange, "buffer id out of range");
  EXPECT_NE(violation_.message.find("buffer id 6"), std::string::npos)
      << violation_.message;
  EXPECT_EQ(queue_->in_flight(), 0u);
}

TEST_F(PackedDeviceQueueTest, BufferIdInFlight) {
  Start(6);
  const uint64_t out = Alloc(4);
  AddChain({{out, 4, kWrite}}, 3);
  AddChain({{out, 4, kWrite}}, 3);
  ASSERT_TRUE(PopChain());
  ExpectViolation(Violation::kBufferIdInFlight, "buffer id already in flight");
  EXPECT_EQ(queue_->in_flight(), 1u);
}

TEST_F(PackedDeviceQueueTest, RingOverrun) {
  Start(4);
  const uint64_t out = Alloc(4);
  AddChain({{out, 4, kWrite}, {out, 4, kWrite}}, 0);
  AddChain({{out, 4, kWrite}, {out, 4, kWrite}}, 1);
  ASSERT_TRUE(PopChain());
  ASSERT_TRUE(PopChain());
  // Slot 0 is rewritten for the next pass before the device used it.
  AddChain({{out, 4, kWrite}}, 2);
  ExpectViolation(Violation::kRingOverrun, "descriptor ring overrun");
}

TEST_F(PackedDeviceQueueTest, ChainDescriptorNotAvailable) {
  for (bool strict : {true, false}) {
    Start(4, {.strict = strict});
    const uint64_t out = Alloc(4);
    // Position 1 is marked for pass 0 while the head is in pass 1.
    SetDesc(1, out, 4, 1, kWrite | AvailBits(false));
    SetDesc(0, out, 4, 0, kNext | AvailBits(true));
    if (strict) {
      ExpectViolation(Violation::kChainDescriptorNotAvailable,
                      "chain descriptor not available", kStrict);
    } else {  // Read as written.
      ASSERT_TRUE(PopChain());
      EXPECT_EQ(chain_.head, 1);
      EXPECT_EQ(queue_->last_avail_idx(), 0x8002);
    }
  }
}

TEST_F(PackedDeviceQueueTest, IndirectInChain) {
  for (bool strict : {true, false}) {
    Start(4, {.strict = strict});
    const uint64_t table = IndirectTable({{Alloc(4), 4, kWrite}});
    AddChain({{BufferWith("h"), 1, 0}, {table, 16, kIndirect}}, 2);
    if (strict) {
      ExpectViolation(Violation::kIndirectInChain,
                      "indirect descriptor in chain", kStrict);
    } else {  // The table is followed.
      ASSERT_TRUE(PopChain());
      EXPECT_EQ(chain_.readable_bytes, 1u);
      EXPECT_EQ(chain_.writable_bytes, 4u);
    }
  }
}

TEST_F(PackedDeviceQueueTest, EventSuppressionInvalid) {
  using Case = std::tuple<uint16_t, uint16_t, bool>;
  for (const auto& [flags, off_wrap, event_idx] :
       {Case{3, 0, true},         // Reserved flags.
        Case{2, 0x8004, true},    // Offset >= size 4.
        Case{2, 0x8001, false}})  // DESC without EVENT_IDX.
  {
    Start(4, {.event_idx = event_idx});
    SetDriverEvent(flags, off_wrap);
    ExpectViolation(Violation::kEventSuppressionInvalid,
                    "event suppression invalid", kStrict);
  }
  // Written after a Pop: the interrupt decision notifies, the next Pop
  // reports it.
  Start(4);
  AddChain({{Alloc(4), 4, kWrite}}, 0);
  ASSERT_TRUE(PopChain());
  SetDriverEvent(3);
  ASSERT_TRUE(queue_->PushUsed(0, 4));
  EXPECT_TRUE(queue_->TakeInterruptDue());
  SetDriverEvent(VRING_PACKED_EVENT_FLAG_DISABLE);
  ExpectViolation(Violation::kEventSuppressionInvalid,
                  "event suppression invalid", kStrict);
  // Lenient: no violation, a notification as for ENABLE.
  Start(4, {.strict = false});
  SetDriverEvent(3);
  Complete(0);
  EXPECT_TRUE(queue_->TakeInterruptDue());
}

// --- Violations shared with split rings.

TEST_F(PackedDeviceQueueTest, ChainLongerThanTheRing) {
  Start(4);
  const uint64_t out = Alloc(4);
  // NEXT on every descriptor: the walk stops after one lap.
  for (uint16_t pos : {1, 2, 3, 0}) {
    SetDesc(pos, out, 4, 0, kNext | kWrite | AvailBits(true));
  }
  ExpectViolation(Violation::kChainTooLong, "descriptor chain too long");
  // An indirect table of more entries than the queue size.
  Start(2);
  const uint64_t table = IndirectTable(std::vector<Desc>(3, {out, 4, kWrite}));
  AddChain({{table, 48, kIndirect}}, 0);
  ExpectViolation(Violation::kChainTooLong, "descriptor chain too long");
}

TEST_F(PackedDeviceQueueTest, IndirectRules) {
  // Descriptor 0: `flags`, a table of `entries` of `len` bytes (0: 16 each).
  const auto check = [&](std::vector<Desc> entries, uint32_t len,
                         uint16_t flags, bool negotiated, Violation expected,
                         const char* name) {
    SCOPED_TRACE(name);
    Start(4, {.indirect = negotiated});
    const uint64_t table = IndirectTable(entries);
    if (len == 0) len = static_cast<uint32_t>(16 * entries.size());
    SetDesc(0, table, len, 0, flags | AvailBits(true));
    // Only the negotiation rule is a strict one.
    ExpectViolation(expected, name,
                    negotiated ? Enforcement::kAlways : kStrict);
  };
  const uint64_t out = memory_->base() + (512 << 10);
  check({{out, 4, kWrite}}, 0, kIndirect | kNext, true,
        Violation::kIndirectWithNext, "indirect descriptor with next");
  check({{out, 4, kIndirect}}, 0, kIndirect, true,
        Violation::kIndirectInIndirect,
        "indirect descriptor in indirect table");
  check({{out, 4, kWrite}}, 24, kIndirect, true,
        Violation::kIndirectTableLengthInvalid,
        "indirect table length invalid");
  check({{out, 4, kWrite}}, 0, kIndirect, false,
        Violation::kIndirectNotNegotiated,
        "indirect descriptor not negotiated");
}

TEST_F(PackedDeviceQueueTest, DescriptorOutsideGuestMemory) {
  const uint64_t bad_table = IndirectTable({{~uint64_t{0} - 1, 4, kWrite}});
  for (const Desc& desc : {Desc{memory_->end() - 8, 16, kWrite},  // A buffer,
                           Desc{0x1000, 32, kIndirect},  // an indirect table,
                           Desc{bad_table, 16, kIndirect}}) {  // an entry.
    Start(4);
    AddChain({desc}, 0);
    ExpectViolation(Violation::kDescriptorOutOfBounds,
                    "descriptor outside guest memory");
  }
}

TEST_F(PackedDeviceQueueTest, ReadableAfterWritable) {
  for (bool strict : {true, false}) {
    Start(4, {.strict = strict});
    AddChain({{Alloc(4), 4, kWrite}, {BufferWith("r"), 1, 0}}, 0);
    if (strict) {
      ExpectViolation(Violation::kReadableAfterWritable,
                      "readable descriptor after writable", kStrict);
    } else {  // Sorted by their flag.
      ASSERT_TRUE(PopChain());
      EXPECT_EQ(chain_.readable.size(), 1u);
      EXPECT_EQ(chain_.writable.size(), 1u);
    }
  }
}

}  // namespace
}  // namespace sim
