// The nodes of vfs::FuseFs (internal to fuse_fs*.cc).
//
// A FuseNode is one FUSE node id of one session: its lookup count (owned by
// FuseFs's table lock) and its cached attributes (own lock). Directories own
// the names cached under them; regular files open into OpenRegularFile (in
// fuse_fs_file.cc), directories into OpenDirectory (fuse_fs_dir.cc).
#ifndef VFS_FUSE_FS_NODES_H_
#define VFS_FUSE_FS_NODES_H_

#include <linux/fuse.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "driver/fuse_client.h"
#include "vfs/fuse_entry_cache.h"
#include "vfs/fuse_fs.h"
#include "vfs/fuse_listing.h"
#include "vfs/kstring.h"
#include "vfs/node.h"
#include "vfs/on_demand_lock.h"
#include "vfs/open_file.h"
#include "vfs/spin_lock.h"
#include "vfs/stat.h"

namespace vfs::fusefs {

// fuse_attr as stat(2) reports it (st_dev is the VFS's).
Stat ToStat(const fuse_attr& attr);
// `now` plus `nanos`, saturating.
uint64_t Deadline(uint64_t now, uint64_t nanos);

class FuseNode : public Node {
 public:
  FuseNode(RefPtr<FuseFs> fs, uint64_t nodeid, uint32_t type, uint64_t session);

  Result<Stat> GetAttr() override { return FetchAttr(std::nullopt); }
  Result<Stat> GetAttrSince(uint64_t arrivals_before) override {
    return FetchAttr(std::nullopt, arrivals_before);
  }
  bool CachedAttrSince(uint64_t arrivals_before, Stat* attr) override {
    return CachedAttr(attr, arrivals_before);
  }
  Result<Stat> SetAttr(const AttrChange& change) override {
    return ChangeAttr(change, std::nullopt);
  }
  Result<StatFs> GetFsStat() override;
  Result<size_t> GetXattr(std::string_view name,
                          std::span<char> value) override;
  Result<void> SetXattr(std::string_view name, std::span<const char> value,
                        int flags) override;
  Result<size_t> ListXattr(std::span<char> list) override;
  Result<void> RemoveXattr(std::string_view name) override;

  FuseFs& fs() const { return *fs_; }
  uint64_t nodeid() const { return nodeid_; }
  // The session the node id belongs to (FuseFs::kAnySession for the root).
  uint64_t session() const { return session_; }
  Result<driver::FuseClient*> Client() const {
    return fs_->ClientFor(session_);
  }

  // Attributes, cached while the device allows or brought by the system call
  // that began at `arrivals_before` (Node::GetAttrSince); else asked through
  // `fh` when given.
  Result<Stat> FetchAttr(std::optional<uint64_t> fh,
                         uint64_t arrivals_before = kNoCallStart);
  // Attributes asked from the device, whatever is cached.
  Result<Stat> FreshAttr(std::optional<uint64_t> fh);
  // SETATTR of `change` (through `fh` when given, FATTR_FH).
  Result<Stat> ChangeAttr(const AttrChange& change, std::optional<uint64_t> fh);
  // Caches `attr` for `valid_ns` unless the node changed after `version`
  // (FuseFs::AttrVersion read before the request that returned it).
  void CacheAttr(const fuse_attr& attr, uint64_t valid_ns, uint64_t version);
  // Forgets the cached attributes: something changed them.
  void InvalidateAttr();
  // FuseFs::NextAttrVersion of the last InvalidateAttr (of a directory: the
  // last change this filesystem made in it).
  uint64_t changed_version() {
    SpinGuard guard(attr_lock_);
    return changed_version_;
  }
  // This filesystem changed the node's data (called once the change is done):
  // read-ahead windows filled before are stale (see Readahead).
  void NoteDataChanged();
  uint64_t data_version() const {
    return data_version_.load(std::memory_order_acquire);
  }

  // A READDIRPLUS brought this node (Linux's FUSE_I_INIT_RDPLUS). The first
  // lookup that then finds it cached takes the mark, and tells the directory
  // that its listings are followed by lookups.
  void MarkListed() { listed_.store(true, std::memory_order_relaxed); }
  bool TakeListed() {
    // Read first: most lookups find no mark and need not write the line.
    return listed_.load(std::memory_order_relaxed) &&
           listed_.exchange(false, std::memory_order_relaxed);
  }

 protected:
  ~FuseNode() override = default;
  void OnLastReference() override { fs_->Retire(this); }

 private:
  friend class vfs::FuseFs;

  // The cached attributes if still valid, or if they arrived after
  // AttrArrivals() was `arrivals_before`.
  bool CachedAttr(Stat* out, uint64_t arrivals_before);

  RefPtr<FuseFs> fs_;
  const uint64_t nodeid_;
  const uint64_t session_;
  // Guarded by FuseFs's table lock.
  uint64_t nlookup_ = 0;
  FuseNode* table_next_ = nullptr;

  // Held while the cached attributes are copied in or out: a few
  // instructions, and a node costs no lock allocation.
  SpinLock attr_lock_;
  Stat attr_;
  uint64_t attr_valid_until_ = 0;
  // NoteAttrArrival's stamp for attr_ when they came with a zero validity
  // (kept all the same: GetAttrSince may use them); 0 otherwise and once
  // invalidated.
  uint64_t attr_arrived_ = 0;
  uint64_t attr_version_ = 0;     // Of the request that returned attr_.
  uint64_t changed_version_ = 0;  // Of the last invalidation.

  std::atomic<bool> listed_{false};
  // FuseFs::NextAttrVersion of the last data change (the largest, whatever
  // order concurrent changes record theirs in).
  std::atomic<uint64_t> data_version_{0};
};

class Symlink final : public FuseNode {
 public:
  Symlink(RefPtr<FuseFs> fs, uint64_t nodeid, uint64_t session)
      : FuseNode(std::move(fs), nodeid, base::kTypeSymlink, session) {}

  Result<KString> ReadLink() override;
};

class File final : public FuseNode {
 public:
  File(RefPtr<FuseFs> fs, uint64_t nodeid, uint64_t session);

  Result<RefPtr<OpenFile>> Open(int flags) override;

  // The open file description of `handle`, opened with `flags` in `session`.
  static RefPtr<OpenFile> MakeOpenFile(RefPtr<File> file, int flags,
                                       const driver::OpenHandle& handle,
                                       uint64_t session);

  // Held across an O_APPEND write: the size asked for and the write at it.
  base::Lock& append_lock() { return append_lock_.Get(); }

 private:
  OnDemandLock append_lock_;
};

class Directory final : public FuseNode {
 public:
  Directory(RefPtr<FuseFs> fs, uint64_t nodeid, uint64_t session)
      : FuseNode(std::move(fs), nodeid, base::kTypeDirectory, session) {}

  Result<RefPtr<OpenFile>> Open(int flags) override;
  Result<RefPtr<Node>> Lookup(std::string_view name) override;
  // The cached answer alone (EntryCache::FindInSection).
  Node* LookupInSection(std::string_view name) override;
  Result<RefPtr<OpenFile>> Create(std::string_view name, uint32_t mode,
                                  int flags) override;
  // No positive entry cached for `name` (none, or a negative one): CREATE
  // alone most likely succeeds, where a LOOKUP would come first.
  bool PrefersCreateFirst(std::string_view name) override;
  Result<void> Mkdir(std::string_view name, uint32_t mode) override;
  Result<void> Mknod(std::string_view name, uint32_t mode,
                     uint64_t device) override;
  Result<void> Symlink(std::string_view name, std::string_view target) override;
  Result<void> Link(std::string_view name, Node& target) override;
  Result<void> Unlink(std::string_view name) override;
  Result<void> Rmdir(std::string_view name) override;
  Result<void> Rename(std::string_view old_name, Node& new_dir,
                      std::string_view new_name, unsigned flags) override;

  // Whether a child was looked up since the last call (Linux's
  // FUSE_I_ADVISE_RDPLUS): a listing then had better bring attributes too.
  bool TakeReadDirPlusAdvice() {
    return advise_plus_.exchange(false, std::memory_order_relaxed);
  }
  // Whether a READDIRPLUS was sent and since then no child was looked up and
  // no name it listed used: the attributes it brought went unused.
  bool ReadDirPlusUnused() const {
    return plus_unused_.load(std::memory_order_relaxed);
  }
  void NoteReadDirPlusSent() {
    plus_unused_.store(true, std::memory_order_relaxed);
  }
  // The records of a READDIRPLUS reply of `session`, sent when the attribute
  // version was `attr_version`: each looked-up one becomes a node with its name
  // cached, as a LOOKUP's entry would (Linux's fuse_direntplus_link), or has
  // its lookup given back; never both, never neither.
  void LinkListed(const driver::DirentList& records, uint64_t session,
                  uint64_t attr_version);

  // The directory as a listing begun now is made against: its attributes
  // (asked again if their validity ran out) and change versions.
  Result<ListingStamp> StampNow();
  // The listing kept here, if it was made against the directory as `now`
  // shows it (fuse_listing.h); else null, and a stale one is dropped.
  RefPtr<Listing> KeptListing(const ListingStamp& now);
  // Keeps `listing` in place of any other, unless this filesystem changed the
  // directory since it began or every node's attributes were invalidated.
  void KeepListing(RefPtr<Listing> listing);

 protected:
  // Drops the names cached here (the root: every name, so no cached
  // reference can outlive the mount).
  ~Directory() override;

 private:
  // The node of a new `entry` for `name` (one lookup counted), cached there.
  // `attr_version` is FuseFs::AttrVersion read before the request; for an
  // entry a LOOKUP `found`, the cache keeps it only if this filesystem has
  // changed no name here since (changed_version): another thread's unlink or
  // rename of the name may have come after the device's answer (Linux keeps
  // the two apart with the directory's lock; StaleSince).
  RefPtr<FuseNode> Adopt(std::string_view name, const driver::Entry& entry,
                         uint64_t session, uint64_t attr_version,
                         bool found = false);
  // Whether this filesystem changed a name here after `attr_version`.
  bool StaleSince(uint64_t attr_version) {
    return changed_version() > attr_version;
  }
  // `name` was removed or renamed away: drops it from the cache and
  // invalidates the attributes of the node it named (its link count or ctime
  // changed). `removed` is the node the name was known to name before the
  // request (null when unknown); when `absent` is true the name certainly no
  // longer exists, and the entry becomes a negative one if it still names
  // `removed`.
  void DropName(std::string_view name, const RefPtr<Node>& removed,
                bool absent);
  // One record of LinkListed; false when its lookup is the caller's to give
  // back (nothing is cached for it).
  bool LinkListedEntry(std::string_view name, const driver::Entry& entry,
                       uint64_t session, uint64_t attr_version);

  // A child was looked up, or a name a READDIRPLUS listed used.
  void AdviseReadDirPlus() {
    advise_plus_.store(true, std::memory_order_relaxed);
    plus_unused_.store(false, std::memory_order_relaxed);
  }

  EntryCache::Children children_;
  SpinLock listing_lock_;
  RefPtr<Listing> listing_;  // Guarded by listing_lock_.
  std::atomic<bool> advise_plus_{false};
  std::atomic<bool> plus_unused_{false};
};

}  // namespace vfs::fusefs

#endif  // VFS_FUSE_FS_NODES_H_
