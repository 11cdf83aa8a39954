// Bytes the virtio-fs device moves on its data path, to show which copies it
// makes.
#ifndef SIM_DATA_PATH_COUNTERS_H_
#define SIM_DATA_PATH_COUNTERS_H_

#include <atomic>
#include <cstdint>

namespace sim {

struct DataPathCounters {
  // Bytes the device copied out of guest memory into private buffers (request
  // side).
  std::atomic<uint64_t> request_bytes_copied{0};
  // Reply bytes the device copied into the guest's writable buffers.
  std::atomic<uint64_t> reply_bytes_copied{0};
  // Reply bytes the host wrote at their destination (READ payloads preadv()'d
  // into the guest's buffers).
  std::atomic<uint64_t> reply_bytes_in_place{0};
  // READ payload bytes read by the host straight into guest memory.
  std::atomic<uint64_t> read_bytes_direct{0};
  // WRITE payload bytes written to the host straight from guest memory.
  std::atomic<uint64_t> write_bytes_direct{0};
  // WRITE payload bytes written to the host from a private copy of the request
  // (a session over /dev/fuse: libfuse's write_buf handler).
  std::atomic<uint64_t> write_bytes_from_copy{0};
};

}  // namespace sim

#endif  // SIM_DATA_PATH_COUNTERS_H_
