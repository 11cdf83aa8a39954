#include "vfs/open_file.h"

#include <limits>
#include <utility>

#include "vfs/location.h"

namespace vfs {
namespace {

// Linux caps one read or write at MAX_RW_COUNT (INT_MAX rounded down to a
// page).
constexpr size_t kMaxTransfer = 0x7ffff000;
constexpr uint64_t kMaxOffset = std::numeric_limits<int64_t>::max();

template <typename Span>
Span Clamp(Span span) {
  return span.size() > kMaxTransfer ? span.first(kMaxTransfer) : span;
}

}  // namespace

OpenFile::OpenFile(base::Platform& platform, RefPtr<Node> node, int flags)
    : node_(std::move(node)), flags_(flags), position_lock_(platform) {}

OpenFile::~OpenFile() {
  // flock(2) locks belong to the open file description: they go with it.
  if (FileLocks* locks = node_->existing_locks()) {
    (void)locks->Flock(this, base::kLockUnlock);
  }
}

void OpenFile::SetLocation(RefPtr<Location> location) {
  location_ = std::move(location);
}

void OpenFile::SetStatusFlags(int flags) {
  constexpr int kChangeable = base::kOpenAppend | base::kOpenNonBlock |
                              base::kOpenAsync | base::kOpenDirect |
                              base::kOpenNoAtime;
  int old = flags_.load(std::memory_order_relaxed);
  while (!flags_.compare_exchange_weak(
      old, (old & ~kChangeable) | (flags & kChangeable),
      std::memory_order_relaxed)) {
  }
}

Result<size_t> OpenFile::Read(std::span<std::byte> buffer) {
  if (!readable()) return Error{EBADF};
  if (node_->is_directory()) return Error{EISDIR};
  base::LockGuard guard(position_lock_.Get());
  size_t n = TRY(ReadAt(Clamp(buffer), position_));
  position_ += n;
  return n;
}

Result<size_t> OpenFile::Write(std::span<const std::byte> data) {
  if (!writable()) return Error{EBADF};
  base::LockGuard guard(position_lock_.Get());
  uint64_t offset = position_;
  size_t n =
      TRY(WriteAt(Clamp(data), &offset, (flags() & base::kOpenAppend) != 0));
  if (n > 0) position_ = offset;
  return n;
}

Result<size_t> OpenFile::Pread(std::span<std::byte> buffer, int64_t offset) {
  if (!readable()) return Error{EBADF};
  if (node_->is_directory()) return Error{EISDIR};
  if (offset < 0) return Error{EINVAL};
  return ReadAt(Clamp(buffer), static_cast<uint64_t>(offset));
}

// As on Linux, pwrite on an O_APPEND file appends; the file offset does not
// move.
Result<size_t> OpenFile::Pwrite(std::span<const std::byte> data,
                                int64_t offset) {
  if (!writable()) return Error{EBADF};
  if (offset < 0) return Error{EINVAL};
  uint64_t at = static_cast<uint64_t>(offset);
  return WriteAt(Clamp(data), &at, (flags() & base::kOpenAppend) != 0);
}

Result<uint64_t> OpenFile::Lseek(int64_t offset, int whence) {
  // A pipe has no position (no_llseek).
  if (node_->type() == base::kTypeFifo) return Error{ESPIPE};
  base::LockGuard guard(position_lock_.Get());
  int64_t base;
  switch (whence) {
    case base::kSeekSet:
      base = 0;
      break;
    case base::kSeekCur:
      base = static_cast<int64_t>(position_);
      break;
    case base::kSeekEnd:
      // Directory positions are cookies: there is no end to seek from.
      if (node_->is_directory()) return Error{EINVAL};
      base = TRY(GetAttr()).st_size;
      break;
    case base::kSeekData:
    case base::kSeekHole: {
      if (!node_->is_regular()) return Error{EINVAL};
      if (offset < 0) return Error{ENXIO};
      position_ = TRY(SeekDataOrHole(static_cast<uint64_t>(offset), whence));
      return position_;
    }
    default:
      return Error{EINVAL};
  }
  int64_t target;
  if (__builtin_add_overflow(base, offset, &target)) return Error{EINVAL};
  if (target < 0) return Error{EINVAL};
  position_ = static_cast<uint64_t>(target);
  return position_;
}

Result<Stat> OpenFile::Fstat() {
  Stat st = TRY(GetAttr());
  if (location_) st.st_dev = location_->mount()->device();
  return st;
}

Result<size_t> OpenFile::Getdents64(std::span<std::byte> buffer) {
  if (!node_->is_directory()) return Error{ENOTDIR};
  base::LockGuard guard(position_lock_.Get());
  DirentWriter out(buffer);
  TRY(ReadDirectory(out, position_));
  if (out.entries() == 0) {
    if (out.full()) return Error{EINVAL};
    return size_t{0};
  }
  position_ = out.next_position();
  return out.bytes_written();
}

Result<void> OpenFile::Ftruncate(const AttrChange& change) {
  if (!node_->is_regular() || !writable()) return Error{EINVAL};
  if (change.size > kMaxOffset) return Error{EFBIG};
  TRY(SetAttr(change));
  return {};
}

Result<void> OpenFile::Fsync(bool data_only) { return Sync(data_only); }

Result<uint32_t> OpenFile::Poll(uint32_t events) { return PollReady(events); }

Result<void> OpenFile::Fallocate(int mode, int64_t offset, int64_t length) {
  if (offset < 0 || length <= 0) return Error{EINVAL};
  if (!writable()) return Error{EBADF};
  if (node_->is_directory()) return Error{EISDIR};
  if (!node_->is_regular()) return Error{ENODEV};
  int64_t end;
  if (__builtin_add_overflow(offset, length, &end)) return Error{EFBIG};
  return Allocate(mode, static_cast<uint64_t>(offset),
                  static_cast<uint64_t>(length));
}

Result<size_t> OpenFile::CopyFileRange(int64_t* in_offset, OpenFile& out,
                                       int64_t* out_offset, size_t length) {
  if (!readable() || !out.writable() || (out.flags() & base::kOpenAppend)) {
    return Error{EBADF};
  }
  if (node_->is_directory() || out.node_->is_directory()) return Error{EISDIR};
  if (!node_->is_regular() || !out.node_->is_regular()) return Error{EINVAL};
  if ((in_offset && *in_offset < 0) || (out_offset && *out_offset < 0)) {
    return Error{EINVAL};
  }
  if (length > kMaxTransfer) length = kMaxTransfer;
  // The file offsets used are held for the copy (two in address order).
  base::Lock* held[2] = {
      in_offset ? nullptr : &position_lock_.Get(),
      out_offset || &out == this ? nullptr : &out.position_lock_.Get()};
  if (held[0] && held[1] && held[1] < held[0]) std::swap(held[0], held[1]);
  for (base::Lock* lock : held) {
    if (lock) lock->Acquire();
  }
  struct Unlock {
    base::Lock** held;
    ~Unlock() {
      for (int i = 1; i >= 0; --i) {
        if (held[i]) held[i]->Release();
      }
    }
  } unlock{held};
  // The file offsets move only for what was copied.
  uint64_t in_at = in_offset ? static_cast<uint64_t>(*in_offset) : position_;
  uint64_t out_at =
      out_offset ? static_cast<uint64_t>(*out_offset) : out.position_;
  if (this == &out && in_at < out_at + length && out_at < in_at + length) {
    return Error{EINVAL};  // Overlapping ranges of one file.
  }
  Result<size_t> copied = CopyRange(in_at, out, out_at, length);
  if (!copied.ok() && copied.error() == EXDEV) {
    copied = size_t{0};
    std::byte chunk[4096];
    while (copied.value() < length) {
      const size_t want = length - copied.value() < sizeof(chunk)
                              ? length - copied.value()
                              : sizeof(chunk);
      const size_t got = TRY(ReadAt({chunk, want}, in_at + copied.value()));
      if (got == 0) break;
      uint64_t at = out_at + copied.value();
      const size_t put = TRY(out.WriteAt({chunk, got}, &at, false));
      copied.value() += put;
      if (put < got) break;
    }
  }
  const size_t n = TRY(copied);
  if (in_offset) {
    *in_offset += static_cast<int64_t>(n);
  } else {
    position_ += n;
  }
  if (out_offset) {
    *out_offset += static_cast<int64_t>(n);
  } else {
    out.position_ += n;
  }
  return n;
}

Result<size_t> OpenFile::ReadAt(std::span<std::byte>, uint64_t) {
  return Error{EINVAL};
}

Result<size_t> OpenFile::WriteAt(std::span<const std::byte>, uint64_t*, bool) {
  return Error{EINVAL};
}

Result<void> OpenFile::ReadDirectory(DirentWriter&, uint64_t) {
  return Error{ENOTDIR};
}

Result<Stat> OpenFile::GetAttr() { return node_->GetAttr(); }

Result<Stat> OpenFile::SetAttr(const AttrChange& change) {
  return node_->SetAttr(change);
}

Result<void> OpenFile::Sync(bool) { return {}; }

Result<uint64_t> OpenFile::SeekDataOrHole(uint64_t offset, int whence) {
  const uint64_t size = static_cast<uint64_t>(TRY(GetAttr()).st_size);
  if (offset >= size) return Error{ENXIO};
  return whence == base::kSeekData ? offset : size;
}

Result<void> OpenFile::Allocate(int, uint64_t, uint64_t) {
  return Error{EOPNOTSUPP};
}

Result<size_t> OpenFile::CopyRange(uint64_t, OpenFile&, uint64_t, size_t) {
  return Error{EXDEV};
}

// Regular files and directories never block (POSIX: they always poll ready).
Result<uint32_t> OpenFile::PollReady(uint32_t events) {
  return events & (base::kPollIn | base::kPollOut);
}

}  // namespace vfs
