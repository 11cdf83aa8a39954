#include "sim/host_closes.h"

#include <algorithm>

#include "sim/host_calls.h"

namespace sim {

void CloseTogether(std::span<int> fds) {
  std::sort(fds.begin(), fds.end());
  for (size_t first = 0, end; first < fds.size(); first = end) {
    for (end = first + 1; end < fds.size() && fds[end] == fds[end - 1] + 1;) {
      ++end;
    }
    if (end - first > 1 &&
        host::close_range(fds[first], fds[end - 1], /*flags=*/0) == 0) {
      continue;
    }
    for (size_t i = first; i < end; ++i) host::close(fds[i]);
  }
}

void DeferredCloses::Close(int fd) {
  std::array<int, kDeferredCloses> full;
  {
    std::lock_guard lock(mu_);
    fds_[count_++] = fd;
    if (count_ < kDeferredCloses) return;
    full = fds_;
    count_ = 0;
  }
  CloseTogether(full);  // Outside the lock: other releases need not wait.
}

void DeferredCloses::Flush() {
  std::array<int, kDeferredCloses> waiting;
  size_t count;
  {
    std::lock_guard lock(mu_);
    // Mostly nothing waits: a vhost-user ring flushes before each poll.
    if (count_ == 0) return;
    count = count_;
    std::copy_n(fds_.begin(), count, waiting.begin());
    count_ = 0;
  }
  CloseTogether(std::span<int>(waiting.data(), count));
}

size_t DeferredCloses::waiting() const {
  std::lock_guard lock(mu_);
  return count_;
}

}  // namespace sim
