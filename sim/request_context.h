// What the request being processed on this thread lets the passthrough handlers
// see.
//
// libfuse's fuse_session_process_buf dispatches a request and sends its reply
// synchronously in the calling thread, so FuseServer publishes the chain's
// buffers in a thread_local context for the duration of the call. The data path
// uses it to avoid copies: READ preadv()s straight into the guest's writable
// buffers, and a large WRITE's payload is pwritev()'d straight from the guest's
// readable buffers.
#ifndef SIM_REQUEST_CONTEXT_H_
#define SIM_REQUEST_CONTEXT_H_

#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <span>

#include "sim/device_backend.h"

namespace sim {

// Bytes moved on the data path, to show which copies the device makes.
struct DataPathCounters {
  // Bytes the device copied out of guest memory into private buffers (request
  // side).
  std::atomic<uint64_t> request_bytes_copied{0};
  // Reply bytes the device copied into the guest's writable buffers.
  std::atomic<uint64_t> reply_bytes_copied{0};
  // Reply bytes that were already at their destination (READ payloads
  // preadv()'d there).
  std::atomic<uint64_t> reply_bytes_in_place{0};
  // READ payload bytes read by the host straight into guest memory.
  std::atomic<uint64_t> read_bytes_direct{0};
  // WRITE payload bytes written to the host straight from guest memory.
  std::atomic<uint64_t> write_bytes_direct{0};
  // WRITE payload bytes written to the host from a private copy of the request.
  std::atomic<uint64_t> write_bytes_from_copy{0};
};

struct RequestContext {
  uint64_t unique = 0;
  // Where the reply goes.
  std::span<const GuestBuffer> reply_buffers;
  uint64_t reply_capacity = 0;
  // A WRITE whose payload stayed in guest memory: the pipe libfuse was handed
  // (holding only the copied headers) and the payload's location.
  int write_payload_fd = -1;
  std::span<const iovec> write_payload;
  DataPathCounters* counters = nullptr;
  // Set by the reply capture.
  bool replied = false;
  uint32_t used_length = 0;
};

// The request being processed by this thread, or null.
inline RequestContext*& CurrentRequest() {
  static thread_local RequestContext* current = nullptr;
  return current;
}

}  // namespace sim

#endif  // SIM_REQUEST_CONTEXT_H_
