#include "vfs/memfs.h"

#include <utility>

#include "vfs/memfs_nodes.h"
#include "vfs/task.h"

namespace vfs {

MemFs::MemFs(base::Platform& platform, const MemFsOptions& options)
    : platform_(platform),
      options_(options),
      tree_lock_(platform.CreateLock()) {}

RefPtr<Node> MemFs::Create(base::Platform& platform,
                           const MemFsOptions& options) {
  RefPtr<MemFs> fs(new MemFs(platform, options));
  uint64_t ino = 0;
  fs->AllocateNode(&ino);
  return MakeRef<memfs::Directory>(
      fs, ino, options.root_mode & base::kPermissionMask, nullptr);
}

bool MemFs::AllocateNode(uint64_t* ino) {
  if (nodes_.fetch_add(1, std::memory_order_relaxed) >= options_.max_nodes) {
    nodes_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  *ino = next_ino_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void MemFs::FreeNode() { nodes_.fetch_sub(1, std::memory_order_relaxed); }

bool MemFs::AllocatePage() {
  uint64_t capacity = options_.capacity_bytes / kPageSize;
  if (pages_.fetch_add(1, std::memory_order_relaxed) >= capacity) {
    pages_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

void MemFs::FreePages(uint64_t count) {
  pages_.fetch_sub(count, std::memory_order_relaxed);
}

StatFs MemFs::GetFsStat() const {
  uint64_t capacity = options_.capacity_bytes / kPageSize;
  uint64_t pages = pages_in_use();
  uint64_t nodes = nodes_in_use();
  StatFs st;
  st.f_type = kMagic;
  st.f_bsize = kPageSize;
  st.f_frsize = kPageSize;
  st.f_blocks = capacity;
  st.f_bfree = pages < capacity ? capacity - pages : 0;
  st.f_bavail = st.f_bfree;
  st.f_files = options_.max_nodes;
  st.f_ffree = nodes < options_.max_nodes ? options_.max_nodes - nodes : 0;
  st.f_namelen = base::kNameMax;
  return st;
}

namespace memfs {

MemNode::MemNode(RefPtr<MemFs> fs, uint64_t ino, uint32_t type, uint32_t mode)
    : Node(type),
      lock_(fs->platform().CreateLock()),
      fs_(std::move(fs)),
      ino_(ino),
      mode_(mode & base::kPermissionMask) {
  atime_ = mtime_ = ctime_ = fs_->Now();
}

MemNode::~MemNode() { fs_->FreeNode(); }

void MemNode::InitOwner(const MemNode& parent) {
  const Task* task = CurrentTask();
  base::LockGuard guard(*lock_);
  if (task != nullptr) {
    uid_ = task->credentials().fsuid;
    gid_ = task->credentials().fsgid;
  }
  // The parent's attributes change only under the tree lock, which the
  // caller holds.
  if (parent.mode_ & base::kSetGid) {
    gid_ = parent.gid_;
    if (is_directory()) mode_ |= base::kSetGid;
  }
}

Result<Stat> MemNode::GetAttr() {
  base::LockGuard guard(*lock_);
  Stat st;
  st.st_ino = ino_;
  st.st_mode = type() | mode_;
  st.st_nlink = nlink_;
  st.st_uid = uid_;
  st.st_gid = gid_;
  st.st_blksize = MemFs::kPageSize;
  st.st_atim = atime_;
  st.st_mtim = mtime_;
  st.st_ctim = ctime_;
  FillSize(st);
  return st;
}

bool MemNode::CachedAttrSince(uint64_t /*arrivals_before*/, Stat* attr) {
  Result<Stat> st = GetAttr();
  if (!st.ok()) return false;
  *attr = st.value();
  return true;
}

Result<Stat> MemNode::SetAttr(const AttrChange& change) {
  {
    base::LockGuard guard(*lock_);
    Timespec now = fs_->Now();
    if (change.valid & AttrChange::kSize) {
      TRY(Resize(change.size));
      mtime_ = now;
    }
    if (change.valid & AttrChange::kMode)
      mode_ = change.mode & base::kPermissionMask;
    if (change.valid & AttrChange::kUid) uid_ = change.uid;
    if (change.valid & AttrChange::kGid) gid_ = change.gid;
    if (change.valid & AttrChange::kAtime) atime_ = change.atime;
    if (change.valid & AttrChange::kAtimeNow) atime_ = now;
    if (change.valid & AttrChange::kMtime) mtime_ = change.mtime;
    if (change.valid & AttrChange::kMtimeNow) mtime_ = now;
    ctime_ = now;
  }
  return GetAttr();
}

void MemNode::AddLinks(int delta) {
  base::LockGuard guard(*lock_);
  nlink_ = static_cast<uint32_t>(static_cast<int>(nlink_) + delta);
  ctime_ = fs_->Now();
}

void MemNode::Touch(bool contents) {
  base::LockGuard guard(*lock_);
  TouchLocked(contents);
}

void MemNode::TouchLocked(bool contents) {
  ctime_ = fs_->Now();
  if (contents) mtime_ = ctime_;
}

Special::Special(RefPtr<MemFs> fs, uint64_t ino, uint32_t mode, uint64_t device)
    : MemNode(std::move(fs), ino, mode & base::kTypeMask, mode),
      device_(device) {
  AddLinks(1);
}

Result<Stat> Special::GetAttr() {
  Stat st = TRY(MemNode::GetAttr());
  st.st_rdev = device_;
  return st;
}

Symlink::Symlink(RefPtr<MemFs> fs, uint64_t ino, std::string_view target)
    : MemNode(std::move(fs), ino, base::kTypeSymlink, 0777), target_(target) {
  AddLinks(1);
}

void Symlink::FillSize(Stat& st) const {
  st.st_size = static_cast<int64_t>(target_.size());
  st.st_blocks = 0;
}

}  // namespace memfs
}  // namespace vfs
