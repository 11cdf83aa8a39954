// driver::VirtioFs: what runs over all its queues at once: the wait for the
// requests posted to the device, and the queues' counts.
#include <cerrno>

#include "driver/virtio_fs.h"
#include "driver/wait_pacer.h"

namespace driver {

base::Result<void> VirtioFs::WaitForPosted(
    const std::atomic<uint32_t>* in_flight) {
  WaitPacer pacer(platform_, base::Platform::kAnyQueue);
  for (unsigned turn = 1;; ++turn) {
    size_t posted = 0;
    for (uint16_t q = 0; q < queues_.size(); ++q) {
      base::LockGuard guard(*queues_[q].lock);
      if (queues_[q].posted_in_flight == 0) continue;
      Reap(q, /*from_interrupt=*/false);
      if (device_.queue(q).broken() ||
          (turn % kStatusPollInterval == 0 && device_.NeedsReset())) {
        return base::Error{EIO};
      }
      posted += queues_[q].posted_in_flight;
    }
    const bool done = in_flight != nullptr
                          ? in_flight->load(std::memory_order_acquire) == 0
                          : posted == 0;
    if (done) return {};
    pacer.Pause();
  }
}

VirtioFs::CompletionCounts VirtioFs::completion_counts() {
  CompletionCounts counts{device_.used_buffer_interrupts(), 0, 0};
  for (Queue& queue : queues_) {
    base::LockGuard guard(*queue.lock);
    counts.by_interrupt += queue.completed_by_interrupt;
    counts.without_interrupt += queue.completed_without_interrupt;
  }
  return counts;
}

uint64_t VirtioFs::posted_requests() {
  uint64_t total = 0;
  for (Queue& queue : queues_) {
    base::LockGuard guard(*queue.lock);
    total += queue.posted;
  }
  return total;
}

VirtioFs::RoundTrips VirtioFs::round_trips() {
  RoundTrips total;
  for (Queue& queue : queues_) {
    base::LockGuard guard(*queue.lock);
    total.timed += queue.round_trips.timed;
    total.nanos += queue.round_trips.nanos;
  }
  return total;
}

}  // namespace driver
