// vfs::fusefs::Readahead: the read-ahead window of one open regular file.
//
// A small read that continues where the previous one on the description
// ended asks the device for a whole window (the session's max_readahead), and
// the small reads that follow are copied from it, as Linux's page cache reads
// ahead for a FUSE file opened without FOPEN_DIRECT_IO. A request costs the
// simulated machine ~0.5 us of its own besides the host's pread; copying
// 4 KiB out of the window ~0.1 us. Reads larger than a window's eighth go to
// the device as they are: the copy would cost more than the request it saves.
//
// Coherence is Linux's with cache=auto: the window is valid while the node's
// data is unchanged by this filesystem (FuseNode::data_version: a write,
// truncation, fallocate or copy into the file, or an O_TRUNC open, through any
// descriptor); changes made elsewhere (the host, another machine) are seen by
// reads past the window and by the next open (close-to-open).
#ifndef VFS_FUSE_READAHEAD_H_
#define VFS_FUSE_READAHEAD_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include "base/dma_buffer.h"
#include "base/platform.h"
#include "base/result.h"
#include "vfs/spin_lock.h"

namespace vfs::fusefs {

// Window memory of one filesystem's open files together: bounded, so that
// many sequential readers cannot take the DMA memory other transfers need.
class ReadaheadBudget {
 public:
  static constexpr size_t kMaxBytes = 8u << 20;

  bool Take(size_t bytes) {
    size_t used = used_.load(std::memory_order_relaxed);
    do {
      if (used + bytes > kMaxBytes) return false;
    } while (!used_.compare_exchange_weak(used, used + bytes,
                                          std::memory_order_relaxed));
    return true;
  }
  void Give(size_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }

 private:
  std::atomic<size_t> used_{0};
};

class Readahead {
 public:
  // `window_bytes` 0: never reads ahead.
  Readahead(base::Platform& platform, ReadaheadBudget& budget,
            uint32_t window_bytes)
      : platform_(platform), budget_(budget), window_bytes_(window_bytes) {}
  ~Readahead() {
    if (window_.has_value()) budget_.Give(window_bytes_);
  }
  Readahead(const Readahead&) = delete;
  Readahead& operator=(const Readahead&) = delete;

  // Reads `buffer` at `offset`: from the window when it holds the whole range
  // and the node's data is not newer (`data_version` now) than it; otherwise
  // through `read(offset, destination)` (the device, `destination` a
  // std::span<std::byte>), into a new window for a small read that continues
  // the previous one, straight into `buffer` for any other. `version` is
  // FuseFs::AttrVersion, read before this call.
  template <typename ReadFn>
  base::Result<size_t> Read(std::span<std::byte> buffer, uint64_t offset,
                            uint64_t data_version, uint64_t version,
                            ReadFn read) {
    if (window_bytes_ == 0) return read(offset, buffer);
    const size_t size = buffer.size();
    const bool small = size > 0 && size <= window_bytes_ / 8;
    bool fill = false;
    {
      SpinGuard guard(lock_);
      const bool sequential = offset == next_offset_;
      next_offset_ = offset + size;
      if (small && valid_ && version_ >= data_version && offset >= start_ &&
          offset + size <= start_ + length_) {
        memcpy(buffer.data(), window_->data() + (offset - start_), size);
        return size;
      }
      fill = small && sequential && !filling_;
      if (fill) {
        filling_ = true;  // The window is this call's until it is filled.
        valid_ = false;
      }
    }
    if (!fill) return read(offset, buffer);
    if (!window_.has_value() && !Allocate()) {
      Filled(std::nullopt, 0, 0);
      return read(offset, buffer);
    }
    base::Result<size_t> got =
        read(offset,
             std::span<std::byte>(reinterpret_cast<std::byte*>(window_->data()),
                                  window_bytes_));
    if (!got.ok()) {
      Filled(std::nullopt, 0, 0);
      return got;
    }
    const size_t length = got.value();
    const size_t copied = length < size ? length : size;
    memcpy(buffer.data(), window_->data(), copied);
    Filled(offset, length, version);
    return copied;
  }

 private:
  bool Allocate() {
    if (!budget_.Take(window_bytes_)) return false;
    base::Result<base::DmaBuffer> buffer =
        base::DmaBuffer::Allocate(platform_, window_bytes_);
    if (!buffer.ok()) {
      budget_.Give(window_bytes_);
      return false;
    }
    window_.emplace(std::move(buffer.value()));
    return true;
  }

  // Ends a fill: the window now holds `length` bytes at `start` as of
  // `version`, or nothing.
  void Filled(std::optional<uint64_t> start, size_t length, uint64_t version) {
    SpinGuard guard(lock_);
    filling_ = false;
    valid_ = start.has_value();
    start_ = start.value_or(0);
    length_ = length;
    version_ = version;
  }

  base::Platform& platform_;
  ReadaheadBudget& budget_;
  const uint32_t window_bytes_;
  // Allocated at the first fill; written only by the filling call.
  std::optional<base::DmaBuffer> window_;

  SpinLock lock_;  // Guards what follows (and the window's bytes when valid).
  // Where a read continuing the last one starts (none has been made yet).
  uint64_t next_offset_ = ~uint64_t{0};
  bool filling_ = false;
  bool valid_ = false;
  uint64_t start_ = 0;
  size_t length_ = 0;
  uint64_t version_ = 0;
};

}  // namespace vfs::fusefs

#endif  // VFS_FUSE_READAHEAD_H_
