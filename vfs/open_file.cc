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
    : node_(std::move(node)),
      flags_(flags),
      position_lock_(platform.CreateLock()) {}

OpenFile::~OpenFile() = default;

void OpenFile::SetLocation(RefPtr<Location> location) {
  location_ = std::move(location);
}

Result<size_t> OpenFile::Read(std::span<std::byte> buffer) {
  if (!readable()) return Error{EBADF};
  if (node_->is_directory()) return Error{EISDIR};
  base::LockGuard guard(*position_lock_);
  size_t n = TRY(ReadAt(Clamp(buffer), position_));
  position_ += n;
  return n;
}

Result<size_t> OpenFile::Write(std::span<const std::byte> data) {
  if (!writable()) return Error{EBADF};
  base::LockGuard guard(*position_lock_);
  uint64_t offset = position_;
  size_t n =
      TRY(WriteAt(Clamp(data), &offset, (flags_ & base::kOpenAppend) != 0));
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
  return WriteAt(Clamp(data), &at, (flags_ & base::kOpenAppend) != 0);
}

Result<uint64_t> OpenFile::Lseek(int64_t offset, int whence) {
  base::LockGuard guard(*position_lock_);
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
  base::LockGuard guard(*position_lock_);
  DirentWriter out(buffer);
  TRY(ReadDirectory(out, position_));
  if (out.entries() == 0) {
    if (out.full()) return Error{EINVAL};
    return size_t{0};
  }
  position_ = out.next_position();
  return out.bytes_written();
}

Result<void> OpenFile::Ftruncate(int64_t length) {
  if (length < 0) return Error{EINVAL};
  if (!node_->is_regular() || !writable()) return Error{EINVAL};
  if (static_cast<uint64_t>(length) > kMaxOffset) return Error{EFBIG};
  AttrChange change;
  change.valid = AttrChange::kSize;
  change.size = static_cast<uint64_t>(length);
  TRY(SetAttr(change));
  return {};
}

Result<void> OpenFile::Fsync(bool data_only) { return Sync(data_only); }

Result<void> OpenFile::Fchmod(uint32_t mode) {
  AttrChange change;
  change.valid = AttrChange::kMode;
  change.mode = mode & base::kPermissionMask;
  TRY(SetAttr(change));
  return {};
}

Result<uint32_t> OpenFile::Poll(uint32_t events) { return PollReady(events); }

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

// Regular files and directories never block (POSIX: they always poll ready).
Result<uint32_t> OpenFile::PollReady(uint32_t events) {
  return events & (base::kPollIn | base::kPollOut);
}

}  // namespace vfs
