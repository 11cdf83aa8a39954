// The calling thread's slot among kThreadSlots, for state spread over cache
// lines so that threads do not write each other's (SpreadCounter,
// HandleShards): threads take slots in the order they first ask, and the
// threads past kThreadSlots share them.
#ifndef SIM_THREAD_SLOT_H_
#define SIM_THREAD_SLOT_H_

#include <atomic>
#include <cstddef>

namespace sim {

inline constexpr size_t kThreadSlots = 16;

inline size_t ThreadSlot() {
  static std::atomic<size_t> next{0};
  thread_local const size_t slot =
      next.fetch_add(1, std::memory_order_relaxed) % kThreadSlots;
  return slot;
}

}  // namespace sim

#endif  // SIM_THREAD_SLOT_H_
