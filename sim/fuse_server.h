// The FUSE protocol end of the device: one libfuse session over the passthrough
// handlers, attached with fuse_session_custom_io (no /dev/fuse, no mount), fed
// one request at a time from guest buffers.
//
// Process() copies the request header out of guest memory before looking at it,
// checks it (header present, in.len equal to the bytes provided, arguments
// shaped as libfuse will read them), copies the request into a private buffer
// (except a large WRITE's payload, see below) and hands it to
// fuse_session_process_buf. libfuse replies synchronously in the calling thread
// through the custom writev, which routes the reply to the chain being
// processed (a thread_local RequestContext) and scatters it into the writable
// buffers. The used length is the number of bytes written:
//   - no reply (FORGET, BATCH_FORGET) or fewer than sizeof(fuse_in_header)
//   request
//     bytes: 0;
//   - a request the device refuses before libfuse sees it (in.len mismatch,
//   request
//     larger than max_write + 4 KiB, short arguments, unterminated names:
//     EINVAL; opcodes libfuse 3.14 does not dispatch, FUSE_INTERRUPT,
//     FUSE_NOTIFY_REPLY, CUSE_INIT: ENOSYS): a bare fuse_out_header with that
//     error;
//   - a reply larger than the writable space: a bare header with -ERANGE; if
//   even that
//     does not fit, 0.
//
// Data path: a READ reply's payload is preadv()'d by the handler straight into
// the writable buffers and the capture copies only the header (one copy, by the
// host kernel, from its page cache). A WRITE of at least
// kZeroCopyWriteThreshold payload bytes is not copied: its two headers go
// through a pipe (libfuse reads only those from a FUSE_BUF_IS_FD buffer when
// write_buf is set) and the handler pwritev()s the payload straight from guest
// memory. DataPathCounters show both.
//
// Thread-safe: Process may run on several threads at once; Reset waits for
// them.
#ifndef SIM_FUSE_SERVER_H_
#define SIM_FUSE_SERVER_H_

#include <fuse3/fuse_lowlevel.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sim/device_backend.h"
#include "sim/passthrough_fs.h"
#include "sim/request_context.h"

namespace sim {

class FuseServer {
 public:
  // WRITE payloads at least this large stay in guest memory until pwritev.
  static constexpr size_t kZeroCopyWriteThreshold = 64 * 1024;
  // Opcodes below this have their own counter; the others share the last one.
  static constexpr uint32_t kCountedOpcodes = 64;

  static absl::StatusOr<std::unique_ptr<FuseServer>> Create(
      const PassthroughOptions& options);
  ~FuseServer();
  FuseServer(const FuseServer&) = delete;
  FuseServer& operator=(const FuseServer&) = delete;

  // Handles one request read from `request` (device-readable buffers, in order)
  // and writes its reply into `reply` (device-writable buffers). Returns the
  // bytes written.
  uint32_t Process(std::span<const GuestBuffer> request,
                   std::span<const GuestBuffer> reply);

  // Tears the session down (every node id but the root and every file handle is
  // released, so the old ids become stale) and starts a fresh one awaiting
  // FUSE_INIT.
  absl::Status Reset();

  // Requests with a complete header seen with `opcode` (opcodes >=
  // kCountedOpcodes share one counter), since creation.
  uint64_t requests_processed(uint32_t opcode) const;
  const DataPathCounters& data_path() const { return counters_; }
  PassthroughFs& fs() { return *fs_; }

 private:
  FuseServer(std::unique_ptr<PassthroughFs> fs, uint32_t max_request);
  absl::Status StartSession();
  // With session_mu_ held exclusively.
  absl::Status StartSessionLocked();

  const std::unique_ptr<PassthroughFs> fs_;
  const uint32_t max_request_;
  // Shared by Process, exclusive for Reset. std:: mutexes (not absl::Mutex,
  // whose system build is not instrumented) keep ThreadSanitizer runs
  // meaningful.
  mutable std::shared_mutex session_mu_;
  fuse_session* session_ = nullptr;
  DataPathCounters counters_;
  std::array<std::atomic<uint64_t>, kCountedOpcodes + 1> opcode_counts_{};
};

}  // namespace sim

#endif  // SIM_FUSE_SERVER_H_
