#include "sim/reply_router.h"

#include <linux/fuse.h>
#include <sched.h>

#include <cerrno>
#include <cstring>

namespace sim {

uint32_t WriteErrorReply(ChainWriter& reply, uint64_t unique, int error) {
  const fuse_out_header out{sizeof(fuse_out_header), -error, unique};
  return reply.WriteAt(0, &out, sizeof(out)) ? sizeof(out) : 0;
}

uint32_t WriteReply(ChainWriter& reply, std::span<const iovec> pieces) {
  if (reply.WriteAt(0, pieces)) {
    uint64_t total = 0;
    for (const iovec& piece : pieces) total += piece.iov_len;
    return static_cast<uint32_t>(total);
  }
  fuse_out_header out;
  memcpy(&out, pieces[0].iov_base, sizeof(out));
  return WriteErrorReply(reply, out.unique, ERANGE);
}

size_t ReplyRouter::HomeSlot(pthread_t thread) {
  const auto bits = static_cast<uint64_t>(thread);
  return (bits ^ (bits >> 12) ^ (bits >> 24)) % kSlots;
}

ReplyRouter::Route::Route(ReplyRouter& router, Target* target)
    : owner_([&]() -> std::atomic<pthread_t>& {
        const pthread_t self = pthread_self();
        for (size_t i = HomeSlot(self);; i = (i + 1) % kSlots) {
          Slot& slot = router.slots_[i];
          pthread_t none = 0;
          if (slot.owner.load(std::memory_order_relaxed) == 0 &&
              slot.owner.compare_exchange_strong(none, self,
                                                 std::memory_order_acquire)) {
            slot.target = target;
            return slot.owner;
          }
          if (i + 1 == kSlots) sched_yield();  // Every slot taken: wait.
        }
      }()) {}

ReplyRouter::Route::~Route() { owner_.store(0, std::memory_order_release); }

void ReplyRouter::Deliver(const iovec* iov, int count) {
  if (count < 1 || iov[0].iov_len < sizeof(fuse_out_header)) return;
  fuse_out_header out;
  memcpy(&out, iov[0].iov_base, sizeof(out));
  // The calling thread's slot: where it hashes to, or after. Only the owner
  // reads a slot's target, so finding its own id there is enough.
  const pthread_t self = pthread_self();
  Target* target = nullptr;
  for (size_t n = 0, i = HomeSlot(self); n < kSlots;
       ++n, i = (i + 1) % kSlots) {
    if (slots_[i].owner.load(std::memory_order_relaxed) == self) {
      target = slots_[i].target;
      break;
    }
  }
  if (target == nullptr || target->unique != out.unique || target->replied) {
    return;
  }
  target->replied = true;
  target->used_length =
      WriteReply(*target->reply, {iov, static_cast<size_t>(count)});
  counters_.reply_bytes_copied += target->used_length;
}

}  // namespace sim
