// Reading and writing a descriptor chain's buffers: the one place the device
// walks scatter-gather (rust-vmm's Reader and Writer are the model).
//
// ChainReader consumes the device-readable buffers front to back; ChainWriter
// places bytes at offsets of the device-writable ones. Both work on host views
// the device model already checked against guest memory, and every access is
// bounded by those views: a length the driver claims never takes them past a
// buffer. The driver may change readable bytes while they are read: callers
// copy what must stay stable (headers) once, and use the copy.
#ifndef SIM_CHAIN_IO_H_
#define SIM_CHAIN_IO_H_

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "absl/container/inlined_vector.h"
#include "sim/device_backend.h"

namespace sim {

// Host views of guest bytes, for preadv/pwritev straight to or from them.
using IoVecs = absl::InlinedVector<iovec, 8>;

class ChainReader {
 public:
  explicit ChainReader(std::span<const GuestBuffer> buffers);

  // All bytes of the buffers, and those not consumed yet.
  uint64_t size() const { return size_; }
  uint64_t remaining() const { return size_ - consumed_; }

  // Copies the next `n` bytes to `out` and consumes them. False, and nothing
  // consumed, when fewer remain.
  bool Read(void* out, size_t n) {
    // Most reads (a header, an argument struct) lie in the current buffer.
    if (index_ < buffers_.size() && n < buffers_[index_].size - offset_) {
      memcpy(out, buffers_[index_].data + offset_, n);
      offset_ += static_cast<uint32_t>(n);
      consumed_ += n;
      return true;
    }
    return ReadAcross(out, n);
  }
  // Copies and consumes up to `n` bytes; returns how many.
  size_t ReadUpTo(void* out, size_t n);
  // Consumes the next `n` bytes, appending their host views to `out` instead
  // of copying them. False, and nothing consumed, when fewer remain.
  bool Slice(size_t n, IoVecs* out);

 private:
  bool ReadAcross(void* out, size_t n);
  // Consumes `n` bytes (at most what remains), calling visit(pointer, length)
  // for each piece. Returns the bytes consumed.
  template <typename Visit>
  size_t Consume(size_t n, Visit visit);

  std::span<const GuestBuffer> buffers_;
  uint64_t size_ = 0;
  uint64_t consumed_ = 0;
  size_t index_ = 0;     // The buffer the next byte is in.
  uint32_t offset_ = 0;  // Its offset there.
};

class ChainWriter {
 public:
  explicit ChainWriter(std::span<const GuestBuffer> buffers);

  uint64_t capacity() const { return capacity_; }

  // Copies `n` bytes to `offset`. False, and nothing written, when they do not
  // all fit.
  bool WriteAt(uint64_t offset, const void* data, size_t n) {
    // A reply header lands in the first buffer.
    if (!buffers_.empty() && offset <= buffers_[0].size &&
        n <= buffers_[0].size - offset) {
      memcpy(buffers_[0].data + offset, data, n);
      return true;
    }
    const iovec piece{const_cast<void*>(data), n};
    return WriteAt(offset, std::span<const iovec>(&piece, 1));
  }
  // Copies the pieces of `data`, back to back, from `offset`. False, and
  // nothing written, when they do not all fit.
  bool WriteAt(uint64_t offset, std::span<const iovec> data);
  // Appends to `out` the host views of [offset, offset + n), for a host call
  // to fill in place. False (and `out` unchanged) when the range does not fit.
  bool Views(uint64_t offset, size_t n, IoVecs* out) const;

 private:
  std::span<const GuestBuffer> buffers_;
  uint64_t capacity_ = 0;
};

}  // namespace sim

#endif  // SIM_CHAIN_IO_H_
