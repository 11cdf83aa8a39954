// Bytes the virtio-fs device moves on its data path, to show which copies it
// makes.
#ifndef SIM_DATA_PATH_COUNTERS_H_
#define SIM_DATA_PATH_COUNTERS_H_

#include <array>
#include <atomic>
#include <cstdint>

#include "sim/thread_slot.h"

namespace sim {

// A count many threads add to at every request, without sharing a written
// cache line: each thread adds to its own slot (ThreadSlot), and reading sums
// them. One atomic that every queue's thread adds to moves its line between
// CPUs at every request: two threads reading 4 KiB through two queues took
// 1.73-1.84 us per read with an atomic per count, 1.57-1.63 with these
// (fs_bench read_2threads_4KiB sim-inline).
class SpreadCounter {
 public:
  SpreadCounter& operator+=(uint64_t n) {
    slots_[ThreadSlot()].value.fetch_add(n, std::memory_order_relaxed);
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

struct DataPathCounters {
  // Bytes the device copied out of guest memory into private buffers (request
  // side).
  SpreadCounter request_bytes_copied;
  // Reply bytes the device copied into the guest's writable buffers.
  SpreadCounter reply_bytes_copied;
  // Reply bytes the host wrote at their destination (READ payloads preadv()'d
  // into the guest's buffers).
  SpreadCounter reply_bytes_in_place;
  // READ payload bytes read by the host straight into guest memory.
  SpreadCounter read_bytes_direct;
  // WRITE payload bytes written to the host straight from guest memory.
  SpreadCounter write_bytes_direct;
  // WRITE payload bytes written to the host from a private copy of the request
  // (a session over /dev/fuse: libfuse's write_buf handler).
  SpreadCounter write_bytes_from_copy;
};

}  // namespace sim

#endif  // SIM_DATA_PATH_COUNTERS_H_
