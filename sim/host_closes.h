// Closing host descriptors together: one close_range per run of consecutive
// numbers, where a close each costs a system call per descriptor (~1 us of
// entry and exit on a VM, beside ~1 us of the close's own work).
#ifndef SIM_HOST_CLOSES_H_
#define SIM_HOST_CLOSES_H_

#include <array>
#include <cstddef>
#include <mutex>
#include <span>

namespace sim {

// Closes every descriptor of `fds` (reordered): a run of consecutive numbers
// in one close_range, a lone one (or every one, on a kernel without
// close_range, before Linux 5.9) in a close.
void CloseTogether(std::span<int> fds);

// Descriptors whose close may wait: those of handles opened read-only that
// the driver released (RELEASE, RELEASEDIR). The host can see a read-only
// descriptor only as open, nothing it wrote is pending, and the device holds
// no host locks with it, so its close waits for others': until
// kDeferredCloses have come (mostly consecutive numbers, as the host gives
// each open the lowest free one: one close_range for them all), or until
// Flush (a device thread or a vhost-user ring going idle, STATFS, the
// session's end; a device run inline, or a kernel FUSE mount's session, never
// goes idle). Thread-safe.
class DeferredCloses {
 public:
  static constexpr size_t kDeferredCloses = 8;

  DeferredCloses() = default;
  ~DeferredCloses() { Flush(); }
  DeferredCloses(const DeferredCloses&) = delete;
  DeferredCloses& operator=(const DeferredCloses&) = delete;

  // Takes `fd` to close, with those before it if it makes kDeferredCloses.
  void Close(int fd);
  // Closes every descriptor waiting.
  void Flush();
  size_t waiting() const;

 private:
  mutable std::mutex mu_;
  std::array<int, kDeferredCloses> fds_;
  size_t count_ = 0;  // fds_[0, count_) wait.
};

}  // namespace sim

#endif  // SIM_HOST_CLOSES_H_
