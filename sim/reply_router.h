// ReplyRouter: where libfuse's replies go.
//
// libfuse sends a request's reply from inside fuse_session_process_buf, on the
// thread that processes the request, through the session's custom io, which is
// told nothing of the request but what the reply header says. The device
// registers, for the time a request is processed, where its reply goes under
// the processing thread; a reply is delivered there when it comes from that
// thread and carries the request's `unique` (as FUSE matches replies). Two
// requests with one `unique` (from two drivers, or a careless one) on two
// queues therefore still get their own replies. A reply nobody waits for (a
// second one, or one for another unique) is dropped.
//
// Thread-safe and without a lock: requests on several queues are processed at
// once, each thread claiming a slot of a small table (where its thread id
// hashes to, or the next free one). The routes belong to the router, not to the
// threads: a router may be destroyed on any thread.
#ifndef SIM_REPLY_ROUTER_H_
#define SIM_REPLY_ROUTER_H_

#include <pthread.h>
#include <sys/uio.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <span>

#include "sim/chain_io.h"
#include "sim/data_path_counters.h"

namespace sim {

class ReplyRouter {
 public:
  // Where the reply to one request goes, and what became of it.
  struct Target {
    uint64_t unique = 0;
    ChainWriter* reply = nullptr;
    bool replied = false;
    uint32_t used_length = 0;
  };

  // Sends the calling thread's replies carrying target->unique to `target`
  // while it lives.
  class Route {
   public:
    Route(ReplyRouter& router, Target* target);
    ~Route();
    Route(const Route&) = delete;
    Route& operator=(const Route&) = delete;

   private:
    std::atomic<pthread_t>& owner_;
  };

  explicit ReplyRouter(DataPathCounters& counters) : counters_(counters) {}

  // Delivers one reply (the header first, in iov[0]) sent by the calling
  // thread into its target's chain (WriteReply).
  void Deliver(const iovec* iov, int count);

 private:
  // More threads than this processing requests at once wait for a slot.
  static constexpr size_t kSlots = 64;
  // A cache line each: a thread claims and releases its slot per request,
  // which would otherwise take the line from the threads of its neighbours.
  struct alignas(64) Slot {
    std::atomic<pthread_t> owner{0};  // 0: free.
    Target* target = nullptr;         // Written and read by the owner only.
  };

  static size_t HomeSlot(pthread_t thread);

  DataPathCounters& counters_;
  std::array<Slot, kSlots> slots_;
};

// Writes a reply into `reply`: `pieces` back to back (a fuse_out_header
// first), or, when they do not fit, a bare header carrying ERANGE. Returns the
// used length.
uint32_t WriteReply(ChainWriter& reply, std::span<const iovec> pieces);
// Writes a bare reply header carrying `error` (a positive errno, or 0: a
// success with no arguments); returns the used length (0 when even the header
// does not fit).
uint32_t WriteErrorReply(ChainWriter& reply, uint64_t unique, int error);

}  // namespace sim

#endif  // SIM_REPLY_ROUTER_H_
