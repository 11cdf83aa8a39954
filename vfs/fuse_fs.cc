// vfs::FuseFs: the node table, lookup counting and FORGET, and sessions.
#include "vfs/fuse_fs.h"

#include <utility>

#include "vfs/fuse_fs_nodes.h"
#include "vfs/task.h"

namespace vfs {
namespace {

using fusefs::FuseNode;

RefPtr<FuseNode> MakeNode(RefPtr<FuseFs> fs, uint64_t nodeid, uint32_t type,
                          uint64_t session) {
  switch (type) {
    case base::kTypeDirectory:
      return MakeRef<fusefs::Directory>(std::move(fs), nodeid, session);
    case base::kTypeRegular:
      return MakeRef<fusefs::File>(std::move(fs), nodeid, session);
    case base::kTypeSymlink:
      return MakeRef<fusefs::Symlink>(std::move(fs), nodeid, session);
    default:  // Devices, FIFOs, sockets: attributes only.
      return MakeRef<FuseNode>(std::move(fs), nodeid, type, session);
  }
}

// Requests carry the calling task's filesystem ids and process id, as Linux's
// FUSE client sends current_fsuid(), current_fsgid() and the tgid.
driver::Credentials CallerCredentials(const void*) {
  driver::Credentials credentials;
  if (const Task* task = CurrentTask()) {
    const Credentials& ids = task->credentials();
    credentials.uid = ids.fsuid;
    credentials.gid = ids.fsgid;
    credentials.pid = task->pid();
  }
  return credentials;
}

size_t BucketOf(uint64_t nodeid, size_t buckets) {
  return static_cast<size_t>((nodeid * 0x9e3779b97f4a7c15ull) >> 20) &
         (buckets - 1);
}

}  // namespace

FuseFs::FuseFs(base::Platform& platform, driver::FuseClient& client,
               const FuseFsOptions& options)
    : platform_(platform),
      client_(&client),
      entries_(platform, options.max_cached_entries),
      table_lock_(platform.CreateLock()),
      buckets_(64, nullptr),
      forget_batch_(options.forget_batch) {
  client.SetCredentialsSource(&CallerCredentials, nullptr);
}

FuseFs::~FuseFs() = default;

RefPtr<FuseFs> FuseFs::Create(base::Platform& platform,
                              driver::FuseClient& client,
                              const FuseFsOptions& options) {
  return RefPtr<FuseFs>(new FuseFs(platform, client, options));
}

Result<driver::FuseClient*> FuseFs::ClientFor(uint64_t session) const {
  if (session != kAnySession && session != this->session()) {
    return Error{ESTALE};
  }
  driver::FuseClient* client = client_.load(std::memory_order_acquire);
  if (!client) return Error{EIO};
  return client;
}

// ---- Node table. ----

FuseNode* FuseFs::FindLocked(uint64_t nodeid) const {
  for (FuseNode* n = buckets_[BucketOf(nodeid, buckets_.size())]; n;
       n = n->table_next_) {
    if (n->nodeid() == nodeid) return n;
  }
  return nullptr;
}

void FuseFs::GrowLocked() {
  std::vector<FuseNode*> old(buckets_.size() * 2, nullptr);
  old.swap(buckets_);
  for (FuseNode* head : old) {
    while (head) {
      FuseNode* next = head->table_next_;
      size_t b = BucketOf(head->nodeid(), buckets_.size());
      head->table_next_ = buckets_[b];
      buckets_[b] = head;
      head = next;
    }
  }
}

void FuseFs::InsertLocked(FuseNode* node) {
  if (nodes_ + 1 > buckets_.size()) GrowLocked();
  size_t b = BucketOf(node->nodeid(), buckets_.size());
  node->table_next_ = buckets_[b];
  buckets_[b] = node;
  ++nodes_;
}

void FuseFs::RemoveLocked(FuseNode* node) {
  for (FuseNode** link = &buckets_[BucketOf(node->nodeid(), buckets_.size())];
       *link; link = &(*link)->table_next_) {
    if (*link == node) {
      *link = node->table_next_;
      node->table_next_ = nullptr;
      --nodes_;
      return;
    }
  }
}

size_t FuseFs::live_nodes() const {
  base::LockGuard guard(*table_lock_);
  return nodes_;
}

// ---- Nodes come and go. ----

RefPtr<Node> FuseFs::Root() {
  base::LockGuard guard(*table_lock_);
  FuseNode* found = FindLocked(FUSE_ROOT_ID);
  if (found && found->TryAddRef()) {
    return RefPtr<Node>(RefPtr<FuseNode>::Adopt(found));
  }
  // A root on its way out (its last reference just went) is replaced.
  if (found) RemoveLocked(found);
  RefPtr<FuseNode> root = MakeNode(RefPtr<FuseFs>(this), FUSE_ROOT_ID,
                                   base::kTypeDirectory, kAnySession);
  InsertLocked(root.get());
  return RefPtr<Node>(std::move(root));
}

RefPtr<FuseNode> FuseFs::Instantiate(const driver::Entry& entry,
                                     uint64_t session, uint64_t attr_version) {
  const uint32_t type = entry.attr.mode & base::kTypeMask;
  RefPtr<FuseNode> node;
  {
    base::LockGuard guard(*table_lock_);
    FuseNode* found = FindLocked(entry.nodeid);
    // A node whose type differs is another file that reused the id (as Linux's
    // fuse_iget, the old node is left to its holders); one whose last
    // reference just went is being retired and will forget its own lookups.
    if (found && found->type() == type && found->TryAddRef()) {
      node = RefPtr<FuseNode>::Adopt(found);
    } else {
      if (found) RemoveLocked(found);
      node = MakeNode(RefPtr<FuseFs>(this), entry.nodeid, type,
                      entry.nodeid == FUSE_ROOT_ID ? kAnySession : session);
      InsertLocked(node.get());
    }
    ++node->nlookup_;
  }
  node->CacheAttr(entry.attr, entry.attr_valid_ns, attr_version);
  return node;
}

void FuseFs::Retire(FuseNode* node) {
  RefPtr<FuseFs> self(this);  // The node's reference goes with it.
  {
    base::LockGuard guard(*table_lock_);
    RemoveLocked(node);
    ++retiring_;
    if (node->nlookup_ > 0 && node->nodeid() != FUSE_ROOT_ID &&
        node->session() == session()) {
      pending_forgets_.push_back(
          fuse_forget_one{node->nodeid(), node->nlookup_});
    }
  }
  // A directory's destructor releases the names cached under it: those nodes
  // retire in turn (nested), adding their forgets to the same batch.
  delete node;
  bool due;
  {
    base::LockGuard guard(*table_lock_);
    // With no node left (the share was unmounted) no more retirements will
    // come to fill the batch.
    due = --retiring_ == 0 &&
          (pending_forgets_.size() >= forget_batch_ || nodes_ == 0);
  }
  if (due) FlushForgets();
}

void FuseFs::FlushForgets() {
  std::vector<fuse_forget_one> forgets;
  {
    base::LockGuard guard(*table_lock_);
    forgets.swap(pending_forgets_);
  }
  // Only nodes of the current session were queued (see Retire).
  Forget(forgets, kAnySession);
}

void FuseFs::Forget(std::span<const fuse_forget_one> forgets,
                    uint64_t session) {
  if (forgets.empty()) return;
  Result<driver::FuseClient*> client = ClientFor(session);
  // Disconnected, or another session: that one forgot everything.
  if (!client.ok()) return;
  // FORGET has no reply; a failure means the transport is gone, and the
  // device's session (and its lookup counts) with it.
  Result<void> sent = client.value()->ForgetMany(forgets);
  (void)sent;
}

// ---- Sessions. ----

void FuseFs::Disconnect() {
  {
    base::LockGuard guard(*table_lock_);
    session_.fetch_add(1, std::memory_order_acq_rel);
    client_.store(nullptr, std::memory_order_release);
    // Only the root outlives its session: node ids of the next one may name
    // other files.
    FuseNode* root = FindLocked(FUSE_ROOT_ID);
    for (FuseNode*& head : buckets_) head = nullptr;
    nodes_ = 0;
    if (root) InsertLocked(root);
    pending_forgets_.clear();
  }
  InvalidateAllAttributes();
  // Released after the cache's lock, stale: no FORGET.
  DroppedNodes dropped(platform());
  entries_.Clear(dropped);
}

void FuseFs::Connect(driver::FuseClient& client) {
  no_flush_.store(false, std::memory_order_release);  // A new device session.
  client.SetCredentialsSource(&CallerCredentials, nullptr);
  client_.store(&client, std::memory_order_release);
}

}  // namespace vfs
