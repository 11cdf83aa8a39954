// The FUSE protocol end of the device: libfuse sessions over the passthrough
// handlers, attached with fuse_session_custom_io (no /dev/fuse, no mount), fed
// one request at a time from a chain's buffers.
//
// One session per lane (a virtqueue: the device's queues are served at once
// by threads of their own): a libfuse session takes a plain mutex twice per
// request it dispatches (its request list), and two queues' threads sharing
// one slept on it, ~12 us per wake-up on a small VM. The sessions share the
// handlers and their state; INIT, whichever lane it comes on, goes to every
// session (the reply is the lane's own), so that all speak the protocol
// version negotiated.
//
// Process() reads the request through a ChainReader: the fuse_in_header comes
// out of guest memory exactly once, into the device's private copy, and is
// checked there (header present, in.len equal to the bytes provided, arguments
// shaped as libfuse will read them: sim/fuse_request_check.h). Then:
//   - the data path is the device's own, once the session is up (INIT done, no
//     DESTROY since): a READ's payload is preadv()'d by the host straight into
//     the chain's writable buffers after the reply header, and a WRITE's
//     payload is pwritev()'d straight from its readable buffers, whatever
//     their size (through libfuse, a 4 KiB WRITE cost 40% more instructions
//     than a 4 KiB READ: its dispatch, and the copy). Only headers are copied;
//     DataPathCounters show it.
//   - every other request is copied whole into the private buffer and
//     checked there. The commonest of a file's and a directory's life
//     (LOOKUP, FORGET, BATCH_FORGET, GETATTR, OPEN, CREATE, RELEASE, UNLINK,
//     OPENDIR, READDIR, READDIRPLUS, RELEASEDIR) are then answered by the
//     device itself, once the session speaks 7.12 or later: the handling is
//     PassthroughFs's, the reply encoded as libfuse encodes it, without
//     libfuse's per-request allocation, locks and reply routing
//     (sim/fuse_server_direct.cc). The rest go to fuse_session_process_buf;
//     libfuse replies synchronously, through the custom writev, which the
//     ReplyRouter sends to this chain.
// The used length is the number of bytes written:
//   - no reply (FORGET, BATCH_FORGET) or fewer than sizeof(fuse_in_header)
//     request bytes: 0;
//   - a request the device refuses before libfuse sees it (in.len mismatch,
//     request larger than max_write + 4 KiB, short arguments, unterminated
//     names: EINVAL; opcodes libfuse 3.14 does not dispatch, FUSE_INTERRUPT,
//     FUSE_NOTIFY_REPLY, CUSE_INIT: ENOSYS): a bare fuse_out_header with that
//     error;
//   - a reply larger than the writable space: a bare header with -ERANGE; if
//     even that does not fit, 0.
//
// Thread-safe: Process may run on several threads at once; Reset waits for
// them. No state lives in thread-local storage: a server may be destroyed on
// any thread, at any time after its last Process returned.
#ifndef SIM_FUSE_SERVER_H_
#define SIM_FUSE_SERVER_H_

#include <fuse3/fuse_lowlevel.h>
#include <linux/fuse.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sim/adaptive_mutex.h"
#include "sim/chain_io.h"
#include "sim/data_path_counters.h"
#include "sim/device_backend.h"
#include "sim/passthrough_fs.h"
#include "sim/reply_router.h"

namespace sim {

class FuseServer {
 public:
  // Opcodes below this have their own counter; the others share the last one.
  static constexpr uint32_t kCountedOpcodes = 64;

  static absl::StatusOr<std::unique_ptr<FuseServer>> Create(
      const PassthroughOptions& options, uint16_t lanes = 1);
  ~FuseServer();
  FuseServer(const FuseServer&) = delete;
  FuseServer& operator=(const FuseServer&) = delete;

  // Handles one request read from `request` (device-readable buffers, in order)
  // and writes its reply into `reply` (device-writable buffers), in the session
  // of `lane` (modulo the lanes). Returns the bytes written.
  uint32_t Process(std::span<const GuestBuffer> request,
                   std::span<const GuestBuffer> reply, uint16_t lane = 0);

  // Tears the sessions down (every node id but the root and every file handle
  // is released, so the old ids become stale) and starts fresh ones awaiting
  // FUSE_INIT.
  absl::Status Reset();

  // Requests with a complete header seen with `opcode` (opcodes >=
  // kCountedOpcodes share one counter), since creation.
  uint64_t requests_processed(uint32_t opcode) const;
  // Requests answered without libfuse (see above), since creation.
  uint64_t requests_answered_directly() const;
  const DataPathCounters& data_path() const { return fs_->data_path(); }
  // Whether the requests listed above are answered without libfuse (the
  // default). Off, libfuse answers everything but READ and WRITE: the
  // cross-check of the device's own reply encoding.
  void set_answer_directly(bool on) {
    answer_directly_.store(on, std::memory_order_relaxed);
  }
  PassthroughFs& fs() { return *fs_; }

 private:
  FuseServer(std::unique_ptr<PassthroughFs> fs, uint32_t max_request,
             uint16_t lanes);
  absl::Status StartSessions();
  // With every lane's mutex held.
  absl::Status StartSessionsLocked();
  void DestroySessionsLocked();
  void LockAllLanes();
  void UnlockAllLanes();
  // Adds one to a counter of a lane whose mutex the caller holds.
  static void Count(std::atomic<uint64_t>& counter);
  // The device's own data path (see above); `in` is the checked header.
  uint32_t ProcessRead(const fuse_in_header& in, ChainReader& request,
                       ChainWriter& reply);
  uint32_t ProcessWrite(const fuse_in_header& in, ChainReader& request,
                        ChainWriter& reply);
  // Answers the request whose checked arguments are `arg` when it is one the
  // device answers itself (sim/fuse_server_direct.cc): the used length;
  // nullopt for any other.
  std::optional<uint32_t> AnswerDirectly(const fuse_in_header& in,
                                         const uint8_t* arg,
                                         ChainWriter& reply);
  // Hands the request in `copy` (in.len bytes, zero padded) to libfuse.
  uint32_t Dispatch(const fuse_in_header& in, uint8_t* copy, ChainWriter& reply,
                    fuse_session* session);

  const std::unique_ptr<PassthroughFs> fs_;
  const uint32_t max_request_;
  const uint16_t lanes_;
  std::atomic<bool> answer_directly_{true};
  ReplyRouter router_;
  // What one lane's requests touch, on lines of its own: lanes served by
  // different threads share no written cache line. A lane's mutex is held
  // by Process; Reset holds them all (std::shared_mutex would cost two
  // atomic writes to one shared line per request).
  struct alignas(64) Lane {
    AdaptiveMutex mutex;
    std::array<std::atomic<uint64_t>, kCountedOpcodes + 1> opcode_counts{};
    std::atomic<uint64_t> direct_answers{0};
  };
  const std::unique_ptr<Lane[]> lane_state_;
  std::vector<fuse_session*> sessions_;  // One per lane; empty if none started.
};

}  // namespace sim

#endif  // SIM_FUSE_SERVER_H_
