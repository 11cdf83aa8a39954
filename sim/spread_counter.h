// A count many threads add to at every request, without writing a cache line
// another thread writes.
#ifndef SIM_SPREAD_COUNTER_H_
#define SIM_SPREAD_COUNTER_H_

#include <array>
#include <atomic>
#include <cstdint>

#include "sim/thread_slot.h"

namespace sim {

// Each thread adds to its own slot (ThreadSlot), and reading sums them. One
// atomic that every queue's thread adds to moves its line between CPUs at
// every request: two threads reading 4 KiB through two queues took 1.73-1.84
// us per read with an atomic per count, 1.57-1.63 with these (fs_bench
// read_2threads_4KiB sim-inline). A thread that holds its slot alone adds with
// a plain load and store, no locked instruction.
class SpreadCounter {
 public:
  SpreadCounter& operator+=(uint64_t n) {
    const ThreadSlotRef slot = ThreadSlot();
    std::atomic<uint64_t>& value = slots_[slot.index].value;
    if (slot.exclusive) {
      value.store(value.load(std::memory_order_relaxed) + n,
                  std::memory_order_relaxed);
    } else {
      value.fetch_add(n, std::memory_order_relaxed);
    }
    return *this;
  }
  operator uint64_t() const {  // NOLINT(google-explicit-constructor): a count.
    uint64_t total = 0;
    for (const Slot& slot : slots_) {
      total += slot.value.load(std::memory_order_relaxed);
    }
    return total;
  }

 private:
  struct alignas(64) Slot {
    std::atomic<uint64_t> value{0};
  };
  std::array<Slot, kThreadSlots> slots_{};
};

}  // namespace sim

#endif  // SIM_SPREAD_COUNTER_H_
