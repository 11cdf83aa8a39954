// vfs::FuseFs: a filesystem served by a FUSE device (virtio-fs) through
// driver::FuseClient, as the VFS sees it: the share's root directory is a
// vfs::Node to mount, and every VFS call on it or below becomes FUSE requests.
//
//   RefPtr<FuseFs> fs = FuseFs::Create(platform, client);
//   vfs::mkdir("/root", 0755);
//   vfs::mount("/root", fs->Root());
//
// Node identity: one node object per FUSE node id while anything references
// it (the VFS recognises mount points by node, and the device's lookup counts
// are kept per node). Every entry the device returns (LOOKUP, CREATE, MKNOD,
// MKDIR, SYMLINK, LINK, each READDIRPLUS record) counts one lookup on its
// node; when the node's last reference goes, FORGET gives them all back
// (BATCH_FORGET when many nodes go at once, e.g. at unmount). The root
// (FUSE_ROOT_ID) is never forgotten.
//
// Caches, as Linux's FUSE client keeps them: names in an EntryCache for the
// entry_valid the device gave, attributes per node for attr_valid (zero: ask
// every time). Changes made through this filesystem invalidate what they
// touch; changes made behind its back show once the validity runs out. A name
// this filesystem removed (UNLINK, RMDIR, RENAME away) is cached as absent for
// the entry_valid it had (a negative dentry; never with zero timeouts), and
// open(O_CREAT) of a name not known to exist sends CREATE without a LOOKUP
// first (Node::PrefersCreateFirst, Linux's atomic_open).
//
// Listings: when the session has FUSE_DO_READDIRPLUS, a listing request may be
// a READDIRPLUS, whose records also fill both caches as LOOKUPs would, so that
// the stat of each name after `ls -l` asks nothing. With READDIRPLUS_AUTO it
// is used only when that is likely to pay (vfs/fuse_fs_dir.cc). Where the
// device answers OPENDIR with FOPEN_CACHE_DIR, a directory's whole listing is
// kept and listed again without READDIR (vfs/fuse_listing.h).
//
// Sessions: Disconnect() ends the FUSE session (a device reset): every node and
// open file of it becomes stale (ESTALE, nothing more is sent for it, no FORGET
// or RELEASE), the caches are emptied; the root node stays usable and, after
// Connect() with the client of the new session, paths resolve again.
#ifndef VFS_FUSE_FS_H_
#define VFS_FUSE_FS_H_

#include <linux/fuse.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/platform.h"
#include "base/result.h"
#include "driver/fuse_client.h"
#include "vfs/fuse_entry_cache.h"
#include "vfs/fuse_listing.h"
#include "vfs/fuse_readahead.h"
#include "vfs/node.h"
#include "vfs/ref_counted.h"

namespace vfs {

namespace fusefs {
class FuseNode;
}  // namespace fusefs

struct FuseFsOptions {
  // Names cached at most (least recently used dropped first).
  size_t max_cached_entries = 4096;
  // Lookups of retired nodes are given back to the device this many at a
  // time, in one BATCH_FORGET: sooner at statfs and when the last node goes
  // (at unmount), more when one retirement releases more; 1 sends each FORGET
  // as its node goes, as Linux's virtio-fs does. Every unlinked file's node
  // retires, and a FORGET is a request of its own (under a VM, a queue kick:
  // an exit); batched, they cost create+close+unlink a tenth fewer
  // instructions. The price: up to `forget_batch` - 1 inodes stay referenced
  // on the device (a deleted file's blocks stay allocated) until the batch
  // fills or a statfs asks for free space.
  size_t forget_batch = 16;
};

class FuseFs : public RefCounted {
 public:
  // FUSE's statfs f_type (FUSE_SUPER_MAGIC).
  static constexpr uint64_t kMagic = 0x65735546;
  // Node ids of other sessions than the current one are stale.
  static constexpr uint64_t kAnySession = ~uint64_t{0};

  // A filesystem on the session `client` serves (Init done).
  static RefPtr<FuseFs> Create(base::Platform& platform,
                               driver::FuseClient& client,
                               const FuseFsOptions& options = {});

  // The root directory, to mount. The same object while it is referenced.
  RefPtr<Node> Root();

  // Ends the session (see above). Not concurrent with other calls.
  void Disconnect();
  // Serves the new session of `client` (Init done). Not concurrent with other
  // calls.
  void Connect(driver::FuseClient& client);

  // Nodes alive, names cached (for tests and statistics).
  size_t live_nodes() const;
  size_t cached_entries() const { return entries_.size(); }

  // ---- For the nodes and open files (vfs/fuse_fs_*.cc). ----
  base::Platform& platform() const { return platform_; }
  EntryCache& entries() { return entries_; }
  uint64_t session() const { return session_.load(std::memory_order_acquire); }
  // The client to reach the device for something of `session`: ESTALE when
  // that session has ended, EIO while disconnected.
  Result<driver::FuseClient*> ClientFor(uint64_t session) const;
  // The node of `entry` (one lookup the device counted, now owned by the node),
  // created or found; its attributes are refreshed from the entry when no
  // change since `attr_version` (see AttrVersion) makes them stale.
  RefPtr<fusefs::FuseNode> Instantiate(const driver::Entry& entry,
                                       uint64_t session, uint64_t attr_version);
  // Attribute versions: read one before a request whose reply carries
  // attributes; a change recorded after it makes that reply too old to cache.
  uint64_t AttrVersion() const {
    return attr_version_.load(std::memory_order_acquire);
  }
  uint64_t NextAttrVersion() {
    return attr_version_.fetch_add(1, std::memory_order_acq_rel) + 1;
  }
  // Invalidates the cached attributes of every node.
  void InvalidateAllAttributes() {
    all_invalid_before_.store(NextAttrVersion(), std::memory_order_release);
  }
  uint64_t all_invalid_before() const {
    return all_invalid_before_.load(std::memory_order_acquire);
  }
  // The memory every open file's read-ahead window takes from.
  fusefs::ReadaheadBudget& readahead_budget() { return readahead_budget_; }
  // The memory the directories' cached listings take from.
  fusefs::ListingBudget& listing_budget() { return listing_budget_; }
  // The device answered FLUSH with ENOSYS in this session: no more FLUSH.
  bool no_flush() const { return no_flush_.load(std::memory_order_acquire); }
  void set_no_flush(uint64_t session) {
    if (session == this->session()) {
      no_flush_.store(true, std::memory_order_release);
    }
  }
  // Called by a node whose last reference went: unregisters it, gives its
  // lookups back and deletes it.
  void Retire(fusefs::FuseNode* node);
  // Gives `forgets` back to the device (FORGET, or BATCH_FORGET for several)
  // while `session` is the current one: an ended session forgot them all.
  void Forget(std::span<const fuse_forget_one> forgets, uint64_t session);
  // Gives back at once the lookups retired nodes hold back (see
  // FuseFsOptions::forget_batch).
  void FlushForgets();

 protected:
  ~FuseFs() override;

 private:
  FuseFs(base::Platform& platform, driver::FuseClient& client,
         const FuseFsOptions& options);

  // Node table (table_lock_ held).
  fusefs::FuseNode* FindLocked(uint64_t nodeid) const;
  void InsertLocked(fusefs::FuseNode* node);
  void RemoveLocked(fusefs::FuseNode* node);
  void GrowLocked();

  base::Platform& platform_;
  std::atomic<driver::FuseClient*> client_;
  std::atomic<uint64_t> session_{1};
  EntryCache entries_;
  std::atomic<uint64_t> attr_version_{1};
  std::atomic<uint64_t> all_invalid_before_{0};
  std::atomic<bool> no_flush_{false};
  fusefs::ReadaheadBudget readahead_budget_;
  fusefs::ListingBudget listing_budget_;

  // Guards the node table, each node's lookup count and the forget queue.
  std::unique_ptr<base::Lock> table_lock_;
  std::vector<fusefs::FuseNode*> buckets_;  // Chained through the nodes.
  size_t nodes_ = 0;
  // Forgets of retired nodes of the current session, not yet sent: sent
  // together when the outermost retirement in progress (a directory's cached
  // children go with it) ends with at least forget_batch_ of them, or with no
  // node left.
  std::vector<fuse_forget_one> pending_forgets_;
  int retiring_ = 0;
  const size_t forget_batch_;
};

}  // namespace vfs

#endif  // VFS_FUSE_FS_H_
