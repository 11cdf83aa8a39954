// The calling thread's slot among kThreadSlots, for state spread over cache
// lines so that threads do not write each other's (SpreadCounter,
// HandleShards). A live thread holds a slot of its own (exclusive: no other
// thread writes there while it lives, so a count in it needs no atomic add)
// until it exits; a thread that finds kThreadSlots - 1 held by others shares
// the last slot for its life.
#ifndef SIM_THREAD_SLOT_H_
#define SIM_THREAD_SLOT_H_

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace sim {

inline constexpr size_t kThreadSlots = 16;

struct ThreadSlotRef {
  size_t index;
  bool exclusive;
};

namespace thread_slot_internal {

inline constexpr size_t kSharedSlot = kThreadSlots - 1;
inline constexpr size_t kUnassigned = kThreadSlots;
inline constexpr uint32_t kExclusiveSlots = (1u << kSharedSlot) - 1;

// Bit i: slot i is held by a live thread. Taking a bit (acquire) sees every
// write its last holder made before giving it back (release).
inline std::atomic<uint32_t> held{0};

// Trivially destructible, so still readable while other thread-local objects
// are destroyed at thread exit, after the Holder gave the slot back.
inline thread_local size_t slot_index = kUnassigned;

struct Holder {
  ~Holder() {
    const size_t index = slot_index;
    // Whatever this thread still adds on its way out goes to the shared slot.
    slot_index = kSharedSlot;
    if (index != kSharedSlot) {
      held.fetch_and(~(uint32_t{1} << index), std::memory_order_release);
    }
  }
};

inline size_t Take() {
  uint32_t bits = held.load(std::memory_order_relaxed);
  for (;;) {
    const uint32_t free = ~bits & kExclusiveSlots;
    if (free == 0) return kSharedSlot;
    const size_t index = static_cast<size_t>(std::countr_zero(free));
    if (held.compare_exchange_weak(bits, bits | (uint32_t{1} << index),
                                   std::memory_order_acquire,
                                   std::memory_order_relaxed)) {
      return index;
    }
  }
}

}  // namespace thread_slot_internal

inline ThreadSlotRef ThreadSlot() {
  namespace internal = thread_slot_internal;
  size_t& index = internal::slot_index;
  if (index == internal::kUnassigned) [[unlikely]] {
    index = internal::Take();
    // Constructed here, at the thread's first call: its destructor, at the
    // thread's exit, gives the slot back.
    static thread_local internal::Holder holder;
    (void)holder;
  }
  return {index, index != internal::kSharedSlot};
}

}  // namespace sim

#endif  // SIM_THREAD_SLOT_H_
