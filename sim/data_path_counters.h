// Bytes the virtio-fs device moves on its data path, to show which copies it
// makes.
#ifndef SIM_DATA_PATH_COUNTERS_H_
#define SIM_DATA_PATH_COUNTERS_H_

#include "sim/spread_counter.h"

namespace sim {

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
