// vfs::FuseFs nodes: attributes (cached for attr_valid), SETATTR, STATFS,
// READLINK.
#include <limits>
#include <memory>
#include <utility>

#include "base/dma_buffer.h"
#include "vfs/fuse_fs_nodes.h"

namespace vfs::fusefs {
namespace {

constexpr int64_t kDefaultBlockSize = 4096;

driver::FuseTime ToFuseTime(const Timespec& t) {
  return {static_cast<uint64_t>(t.tv_sec), static_cast<uint32_t>(t.tv_nsec)};
}

driver::SetAttrRequest ToSetAttr(const AttrChange& change) {
  driver::SetAttrRequest request;
  if (change.valid & AttrChange::kMode) {
    request.mode = change.mode & base::kPermissionMask;
  }
  if (change.valid & AttrChange::kUid) request.uid = change.uid;
  if (change.valid & AttrChange::kGid) request.gid = change.gid;
  if (change.valid & AttrChange::kSize) request.size = change.size;
  if (change.valid & AttrChange::kAtime) {
    request.atime = ToFuseTime(change.atime);
  } else if (change.valid & AttrChange::kAtimeNow) {
    request.atime_now = true;
  }
  if (change.valid & AttrChange::kMtime) {
    request.mtime = ToFuseTime(change.mtime);
  } else if (change.valid & AttrChange::kMtimeNow) {
    request.mtime_now = true;
  }
  return request;
}

}  // namespace

Stat ToStat(const fuse_attr& attr) {
  Stat st;
  st.st_ino = attr.ino;
  st.st_mode = attr.mode;
  st.st_nlink = attr.nlink;
  st.st_uid = attr.uid;
  st.st_gid = attr.gid;
  st.st_rdev = attr.rdev;
  st.st_size = static_cast<int64_t>(attr.size);
  st.st_blocks = static_cast<int64_t>(attr.blocks);
  st.st_blksize = attr.blksize ? attr.blksize : kDefaultBlockSize;
  st.st_atim = {static_cast<int64_t>(attr.atime), attr.atimensec};
  st.st_mtim = {static_cast<int64_t>(attr.mtime), attr.mtimensec};
  st.st_ctim = {static_cast<int64_t>(attr.ctime), attr.ctimensec};
  return st;
}

uint64_t Deadline(uint64_t now, uint64_t nanos) {
  uint64_t until;
  if (__builtin_add_overflow(now, nanos, &until)) {
    return std::numeric_limits<uint64_t>::max();
  }
  return until;
}

FuseNode::FuseNode(RefPtr<FuseFs> fs, uint64_t nodeid, uint32_t type,
                   uint64_t session)
    : Node(type), fs_(std::move(fs)), nodeid_(nodeid), session_(session) {}

bool FuseNode::CachedAttr(Stat* out, uint64_t arrivals_before) {
  const uint64_t now = fs_->platform().CoarseMonotonicNanos();
  SpinGuard guard(attr_lock_);
  const bool valid =
      now < attr_valid_until_ || ArrivedSince(attr_arrived_, arrivals_before);
  if (!valid || attr_version_ < fs_->all_invalid_before()) return false;
  *out = attr_;
  return true;
}

void FuseNode::CacheAttr(const fuse_attr& attr, uint64_t valid_ns,
                         uint64_t version) {
  const uint64_t now = fs_->platform().CoarseMonotonicNanos();
  // Only attributes the device said not to keep need the stamp: the others
  // are good for the whole call by their validity.
  const uint64_t stamp = valid_ns == 0 ? NoteAttrArrival() : 0;
  SpinGuard guard(attr_lock_);
  // A change recorded after the request was sent: its reply may predate it.
  if (version < changed_version_) return;
  attr_ = ToStat(attr);
  // A zero timeout (ask every time) has run out already.
  attr_valid_until_ = Deadline(now, valid_ns);
  attr_arrived_ = stamp;
  attr_version_ = version;
}

void FuseNode::InvalidateAttr() {
  const uint64_t version = fs_->NextAttrVersion();
  SpinGuard guard(attr_lock_);
  changed_version_ = version;
  attr_valid_until_ = 0;
  attr_arrived_ = 0;
}

void FuseNode::NoteDataChanged() {
  const uint64_t version = fs_->NextAttrVersion();
  uint64_t seen = data_version_.load(std::memory_order_relaxed);
  while (seen < version && !data_version_.compare_exchange_weak(
                               seen, version, std::memory_order_acq_rel)) {
  }
}

Result<Stat> FuseNode::FetchAttr(std::optional<uint64_t> fh,
                                 uint64_t arrivals_before) {
  Stat st;
  if (CachedAttr(&st, arrivals_before)) return st;
  return FreshAttr(fh);
}

Result<Stat> FuseNode::FreshAttr(std::optional<uint64_t> fh) {
  driver::FuseClient* client = TRY(Client());
  const uint64_t version = fs_->AttrVersion();
  driver::Attributes attributes = TRY(client->GetAttr(nodeid_, fh));
  // A node's type never changes; another one means the id was reused behind
  // our back (Linux marks such an inode bad).
  if ((attributes.attr.mode & base::kTypeMask) != type()) return Error{EIO};
  CacheAttr(attributes.attr, attributes.valid_ns, version);
  return ToStat(attributes.attr);
}

Result<Stat> FuseNode::ChangeAttr(const AttrChange& change,
                                  std::optional<uint64_t> fh) {
  driver::FuseClient* client = TRY(Client());
  driver::SetAttrRequest request = ToSetAttr(change);
  request.fh = fh;
  // Whatever GETATTR is in flight now predates the change.
  InvalidateAttr();
  const uint64_t version = fs_->AttrVersion();
  Result<driver::Attributes> changed = client->SetAttr(nodeid_, request);
  // Even a failed truncation may have changed the data.
  if (change.valid & AttrChange::kSize) NoteDataChanged();
  if (!changed.ok()) return Error{changed.error()};
  const driver::Attributes& attributes = changed.value();
  if ((attributes.attr.mode & base::kTypeMask) != type()) return Error{EIO};
  CacheAttr(attributes.attr, attributes.valid_ns, version);
  return ToStat(attributes.attr);
}

Result<StatFs> FuseNode::GetFsStat() {
  driver::FuseClient* client = TRY(Client());
  // Deleted files whose forgets are held back still take space on the host.
  fs().FlushForgets();
  fuse_kstatfs kst = TRY(client->StatFs(nodeid_));
  StatFs st;
  st.f_type = FuseFs::kMagic;
  st.f_bsize = kst.bsize;
  st.f_frsize = kst.frsize ? kst.frsize : kst.bsize;
  st.f_blocks = kst.blocks;
  st.f_bfree = kst.bfree;
  st.f_bavail = kst.bavail;
  st.f_files = kst.files;
  st.f_ffree = kst.ffree;
  st.f_namelen = kst.namelen;
  return st;
}

// ---- Extended attributes. A device without them answers ENOSYS, which Linux
// reports as EOPNOTSUPP. A change moves ctime. ----

namespace {

template <typename T>
Result<T> XattrResult(Result<T> result) {
  if (!result.ok() && result.error() == ENOSYS) return Error{EOPNOTSUPP};
  return result;
}

}  // namespace

Result<size_t> FuseNode::GetXattr(std::string_view name,
                                  std::span<char> value) {
  driver::FuseClient* client = TRY(Client());
  return XattrResult(client->GetXattr(
      nodeid_, name,
      std::span<uint8_t>(reinterpret_cast<uint8_t*>(value.data()),
                         value.size())));
}

Result<void> FuseNode::SetXattr(std::string_view name,
                                std::span<const char> value, int flags) {
  driver::FuseClient* client = TRY(Client());
  Result<void> set = client->SetXattr(
      nodeid_, name,
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(value.data()),
                               value.size()),
      static_cast<uint32_t>(flags));
  InvalidateAttr();
  return XattrResult(std::move(set));
}

Result<size_t> FuseNode::ListXattr(std::span<char> list) {
  driver::FuseClient* client = TRY(Client());
  return XattrResult(client->ListXattr(nodeid_, list));
}

Result<void> FuseNode::RemoveXattr(std::string_view name) {
  driver::FuseClient* client = TRY(Client());
  Result<void> removed = client->RemoveXattr(nodeid_, name);
  InvalidateAttr();
  return XattrResult(std::move(removed));
}

Result<KString> Symlink::ReadLink() {
  driver::FuseClient* client = TRY(Client());
  // DMA memory: the device writes the target into it in place.
  base::DmaBuffer buffer =
      TRY(base::DmaBuffer::Allocate(fs().platform(), base::kPathMax));
  auto* target = reinterpret_cast<char*>(buffer.data());
  size_t length =
      TRY(client->ReadLink(nodeid(), std::span<char>(target, base::kPathMax)));
  return KString(std::string_view(target, length));
}

}  // namespace vfs::fusefs
