#include "sim/chain_io.h"

#include <algorithm>
#include <cstring>

namespace sim {
namespace {

uint64_t TotalSize(std::span<const GuestBuffer> buffers) {
  uint64_t total = 0;
  for (const GuestBuffer& b : buffers) total += b.size;
  return total;
}

}  // namespace

ChainReader::ChainReader(std::span<const GuestBuffer> buffers)
    : buffers_(buffers), size_(TotalSize(buffers)) {}

template <typename Visit>
size_t ChainReader::Consume(size_t n, Visit visit) {
  size_t done = 0;
  while (done < n && index_ < buffers_.size()) {
    const GuestBuffer& b = buffers_[index_];
    const size_t take = std::min<uint64_t>(b.size - offset_, n - done);
    if (take > 0) visit(b.data + offset_, take);
    done += take;
    offset_ += static_cast<uint32_t>(take);
    if (offset_ == b.size) {
      ++index_;
      offset_ = 0;
    }
  }
  consumed_ += done;
  return done;
}

bool ChainReader::ReadAcross(void* out, size_t n) {
  if (n > remaining()) return false;
  ReadUpTo(out, n);
  return true;
}

size_t ChainReader::ReadUpTo(void* out, size_t n) {
  auto* to = static_cast<uint8_t*>(out);
  return Consume(n, [&to](const uint8_t* p, size_t length) {
    memcpy(to, p, length);
    to += length;
  });
}

bool ChainReader::Slice(size_t n, IoVecs* out) {
  if (n > remaining()) return false;
  Consume(n, [out](uint8_t* p, size_t length) { out->push_back({p, length}); });
  return true;
}

ChainWriter::ChainWriter(std::span<const GuestBuffer> buffers)
    : buffers_(buffers), capacity_(TotalSize(buffers)) {}

bool ChainWriter::Views(uint64_t offset, size_t n, IoVecs* out) const {
  if (offset > capacity_ || n > capacity_ - offset) return false;
  for (const GuestBuffer& b : buffers_) {
    if (n == 0) break;
    if (offset >= b.size) {
      offset -= b.size;
      continue;
    }
    const size_t take = std::min<uint64_t>(b.size - offset, n);
    out->push_back({b.data + offset, take});
    n -= take;
    offset = 0;
  }
  return true;
}

bool ChainWriter::WriteAt(uint64_t offset, std::span<const iovec> data) {
  uint64_t total = 0;
  for (const iovec& piece : data) total += piece.iov_len;
  if (offset > capacity_ || total > capacity_ - offset) return false;
  // The buffer `offset` falls in, then each piece copied across the buffers
  // from there.
  size_t index = 0;
  while (offset >= buffers_[index].size && total != 0) {
    offset -= buffers_[index].size;
    ++index;
  }
  for (const iovec& piece : data) {
    const auto* from = static_cast<const uint8_t*>(piece.iov_base);
    size_t left = piece.iov_len;
    while (left > 0) {
      const GuestBuffer& to = buffers_[index];
      const size_t n = std::min<uint64_t>(to.size - offset, left);
      memcpy(to.data + offset, from, n);
      from += n;
      left -= n;
      offset += n;
      if (offset == to.size) {
        ++index;
        offset = 0;
      }
    }
  }
  return true;
}

}  // namespace sim
