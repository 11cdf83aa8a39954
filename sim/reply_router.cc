#include "sim/reply_router.h"

#include <linux/fuse.h>

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

void ReplyRouter::Add(Target* target) {
  std::lock_guard<std::mutex> lock(mutex_);
  targets_[std::this_thread::get_id()] = target;
}

void ReplyRouter::Remove() {
  std::lock_guard<std::mutex> lock(mutex_);
  targets_.erase(std::this_thread::get_id());
}

void ReplyRouter::Deliver(const iovec* iov, int count) {
  if (count < 1 || iov[0].iov_len < sizeof(fuse_out_header)) return;
  fuse_out_header out;
  memcpy(&out, iov[0].iov_base, sizeof(out));
  Target* target;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = targets_.find(std::this_thread::get_id());
    if (it == targets_.end()) return;
    target = it->second;
  }
  // The target belongs to the request this thread is processing: no other
  // thread touches it.
  if (target->unique != out.unique || target->replied) return;
  target->replied = true;
  target->used_length =
      WriteReply(*target->reply, {iov, static_cast<size_t>(count)});
  counters_.reply_bytes_copied += target->used_length;
}

}  // namespace sim
