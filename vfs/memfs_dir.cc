// memfs directories: the entry table, namespace operations and directory
// reading.
#include <algorithm>
#include <cstring>
#include <utility>

#include "vfs/memfs_nodes.h"
#include "vfs/name_hash.h"
#include "vfs/walk_section.h"

namespace vfs::memfs {
namespace {

// tmpfs's BOGO_DIRENT_SIZE: what each entry adds to a directory's st_size.
constexpr int64_t kBogoDirentSize = 20;

class OpenDirectory final : public OpenFile {
 public:
  OpenDirectory(RefPtr<Directory> dir, int flags)
      : OpenFile(dir->fs().platform(), dir, flags), dir_(std::move(dir)) {}

 protected:
  Result<void> ReadDirectory(DirentWriter& out, uint64_t position) override {
    return dir_->ReadEntries(out, position);
  }

 private:
  RefPtr<Directory> dir_;
};

}  // namespace

// ---- EntryTable. ----

EntryTable::EntryTable() {
  arrays_.push_back(std::make_unique<Buckets>(16));
  buckets_.store(arrays_.back().get(), std::memory_order_relaxed);
}

EntryTable::~EntryTable() {
  for (Entry* entry : ordered_) {
    RefPtr<MemNode>::Adopt(entry->node_.load(std::memory_order_relaxed));
    delete entry;
  }
}

std::atomic<EntryTable::Entry*>& EntryTable::Head(const Buckets& buckets,
                                                  std::string_view name) {
  return buckets.heads[HashName(name) & (buckets.count - 1)];
}

EntryTable::Entry* EntryTable::Find(std::string_view name) const {
  const Buckets& buckets = *buckets_.load(std::memory_order_acquire);
  for (Entry* e = Head(buckets, name).load(std::memory_order_acquire); e;
       e = e->next_in_bucket_.load(std::memory_order_acquire)) {
    if (e->name == name) return e;
  }
  return nullptr;
}

void EntryTable::Grow() {
  auto grown = std::make_unique<Buckets>(
      buckets_.load(std::memory_order_relaxed)->count * 2);
  // A walk still on an old chain follows links into the new ones, each to an
  // entry moved before: it may miss its name, never loop.
  for (Entry* entry : ordered_) {
    std::atomic<Entry*>& head = Head(*grown, entry->name.view());
    entry->next_in_bucket_.store(head.load(std::memory_order_relaxed),
                                 std::memory_order_release);
    head.store(entry, std::memory_order_relaxed);
  }
  buckets_.store(grown.get(), std::memory_order_release);
  arrays_.push_back(std::move(grown));
}

void EntryTable::Insert(std::string_view name, RefPtr<MemNode> node) {
  if (ordered_.size() + 1 > buckets_.load(std::memory_order_relaxed)->count) {
    Grow();
  }
  auto* entry = new Entry(name, node.Leak(), next_position_++);
  std::atomic<Entry*>& head =
      Head(*buckets_.load(std::memory_order_relaxed), name);
  entry->next_in_bucket_.store(head.load(std::memory_order_relaxed),
                               std::memory_order_relaxed);
  // Release: a walk that finds it finds it whole.
  head.store(entry, std::memory_order_release);
  ordered_.push_back(entry);  // Positions only grow: the order stays sorted.
}

RefPtr<MemNode> EntryTable::Remove(Entry* entry, DroppedNodes& dropped) {
  // Walks that reached it go on from it along its own link, unchanged.
  for (std::atomic<Entry*>* link =
           &Head(*buckets_.load(std::memory_order_relaxed), entry->name.view());
       Entry* e = link->load(std::memory_order_relaxed);
       link = &e->next_in_bucket_) {
    if (e == entry) {
      link->store(entry->next_in_bucket_.load(std::memory_order_relaxed),
                  std::memory_order_release);
      break;
    }
  }
  ordered_.erase(LowerBound(entry->position));
  MemNode* node = entry->node_.exchange(nullptr, std::memory_order_relaxed);
  dropped.Retire(entry);
  return RefPtr<MemNode>::Adopt(node);
}

void EntryTable::SwapNodes(Entry& a, Entry& b) {
  MemNode* first = a.node_.load(std::memory_order_relaxed);
  a.node_.store(b.node_.load(std::memory_order_relaxed),
                std::memory_order_release);
  b.node_.store(first, std::memory_order_release);
}

std::vector<EntryTable::Entry*>::const_iterator EntryTable::LowerBound(
    uint64_t position) const {
  return std::lower_bound(
      ordered_.begin(), ordered_.end(), position,
      [](const Entry* e, uint64_t p) { return e->position < p; });
}

const EntryTable::Entry* EntryTable::FirstFrom(uint64_t position) const {
  auto it = LowerBound(position);
  return it == ordered_.end() ? nullptr : *it;
}

const EntryTable::Entry* EntryTable::After(const Entry* entry) const {
  return FirstFrom(entry->position + 1);
}

// ---- Directory. ----

Directory::Directory(RefPtr<MemFs> fs, uint64_t ino, uint32_t mode,
                     Directory* parent)
    : MemNode(std::move(fs), ino, base::kTypeDirectory, mode), parent_(parent) {
  AddLinks(2);  // Its entry in the parent (or the mount) and its own ".".
}

Directory::~Directory() = default;

void Directory::FillSize(Stat& st) const {
  st.st_size =
      static_cast<int64_t>(entry_count_.load(std::memory_order_relaxed) + 2) *
      kBogoDirentSize;
  st.st_blocks = 0;
}

Result<RefPtr<OpenFile>> Directory::Open(int flags) {
  return RefPtr<OpenFile>(
      MakeRef<OpenDirectory>(RefPtr<Directory>(this), flags));
}

Result<RefPtr<Node>> Directory::Lookup(std::string_view name) {
  base::LockGuard guard(fs().tree_lock());
  EntryTable::Entry* entry = entries_.Find(name);
  if (!entry) return Error{ENOENT};
  return RefPtr<Node>(entry->node());
}

Node* Directory::LookupInSection(std::string_view name) {
  EntryTable::Entry* entry = entries_.Find(name);  // Without the tree lock.
  return entry ? entry->node() : nullptr;
}

Result<void> Directory::CheckCanAdd(std::string_view name) const {
  if (removed_) return Error{ENOENT};
  if (entries_.Find(name)) return Error{EEXIST};
  return {};
}

void Directory::AddEntry(std::string_view name, RefPtr<MemNode> node) {
  entries_.Insert(name, std::move(node));
  entry_count_.store(entries_.size(), std::memory_order_relaxed);
  Touch(/*contents=*/true);
}

RefPtr<MemNode> Directory::DetachEntry(EntryTable::Entry* entry,
                                       DroppedNodes& dropped) {
  RefPtr<MemNode> node = entries_.Remove(entry, dropped);
  entry_count_.store(entries_.size(), std::memory_order_relaxed);
  Touch(/*contents=*/true);
  return node;
}

void Directory::RemoveEntry(EntryTable::Entry* entry, DroppedNodes& dropped) {
  RefPtr<MemNode> node = DetachEntry(entry, dropped);
  if (node->is_directory()) {
    auto* dir = static_cast<Directory*>(node.get());
    dir->removed_ = true;
    dir->parent_ = nullptr;
    dir->AddLinks(-static_cast<int>(dir->links()));
    AddLinks(-1);  // Its ".." no longer names this directory.
  } else {
    node->AddLinks(-1);
  }
}

bool Directory::Contains(const Directory* dir) const {
  for (const Directory* d = dir; d; d = d->parent_) {
    if (d == this) return true;
  }
  return false;
}

Result<RefPtr<OpenFile>> Directory::Create(std::string_view name, uint32_t mode,
                                           int flags) {
  RefPtr<File> file;
  {
    base::LockGuard guard(fs().tree_lock());
    TRY(CheckCanAdd(name));
    uint64_t ino;
    if (!fs().AllocateNode(&ino)) return Error{ENOSPC};
    file = MakeRef<File>(RefPtr<MemFs>(&fs()), ino, mode);
    file->InitOwner(*this);
    AddEntry(name, file);
  }
  return file->Open(flags & ~base::kOpenTruncate);
}

Result<RefPtr<OpenFile>> Directory::CreateUnnamed(uint32_t mode, int flags) {
  RefPtr<File> file;
  {
    base::LockGuard guard(fs().tree_lock());
    if (removed_) return Error{ENOENT};
    uint64_t ino;
    if (!fs().AllocateNode(&ino)) return Error{ENOSPC};
    file = MakeRef<File>(RefPtr<MemFs>(&fs()), ino, mode);
    file->InitOwner(*this);
    file->AddLinks(-1);  // No name yet.
    if (!(flags & base::kOpenExclusive)) file->set_linkable();
  }
  return file->Open(flags & ~base::kOpenExclusive);
}

Result<void> Directory::Mkdir(std::string_view name, uint32_t mode) {
  base::LockGuard guard(fs().tree_lock());
  TRY(CheckCanAdd(name));
  uint64_t ino;
  if (!fs().AllocateNode(&ino)) return Error{ENOSPC};
  auto dir = MakeRef<Directory>(RefPtr<MemFs>(&fs()), ino, mode, this);
  dir->InitOwner(*this);
  AddEntry(name, std::move(dir));
  AddLinks(1);  // The new directory's "..".
  return {};
}

Result<void> Directory::Mknod(std::string_view name, uint32_t mode,
                              uint64_t device) {
  base::LockGuard guard(fs().tree_lock());
  TRY(CheckCanAdd(name));
  uint64_t ino;
  if (!fs().AllocateNode(&ino)) return Error{ENOSPC};
  RefPtr<MemNode> node;
  if ((mode & base::kTypeMask) == base::kTypeRegular) {
    node = MakeRef<File>(RefPtr<MemFs>(&fs()), ino, mode);
  } else {
    node = MakeRef<Special>(RefPtr<MemFs>(&fs()), ino, mode, device);
  }
  node->InitOwner(*this);
  AddEntry(name, std::move(node));
  return {};
}

Result<void> Directory::Symlink(std::string_view name,
                                std::string_view target) {
  base::LockGuard guard(fs().tree_lock());
  TRY(CheckCanAdd(name));
  uint64_t ino;
  if (!fs().AllocateNode(&ino)) return Error{ENOSPC};
  auto link = MakeRef<memfs::Symlink>(RefPtr<MemFs>(&fs()), ino, target);
  link->InitOwner(*this);
  AddEntry(name, std::move(link));
  return {};
}

Result<void> Directory::Link(std::string_view name, Node& target) {
  if (target.is_directory()) return Error{EPERM};
  auto& node = static_cast<MemNode&>(target);
  base::LockGuard guard(fs().tree_lock());
  TRY(CheckCanAdd(name));
  // A file already unlinked everywhere cannot come back (Linux: ENOENT),
  // unless it was made unnamed to be linked (I_LINKABLE).
  if (node.links() == 0 && !node.take_linkable()) return Error{ENOENT};
  node.AddLinks(1);
  AddEntry(name, RefPtr<MemNode>(&node));
  return {};
}

Result<void> Directory::Unlink(std::string_view name) {
  // The last reference may go only after the tree lock, and after the walks
  // that may be passing through the node (LookupInSection).
  DroppedNodes keep(fs().platform());
  base::LockGuard guard(fs().tree_lock());
  EntryTable::Entry* entry = entries_.Find(name);
  if (!entry) return Error{ENOENT};
  if (entry->node()->is_directory()) return Error{EISDIR};
  keep.push_back(RefPtr<Node>(entry->node()));
  RemoveEntry(entry, keep);
  return {};
}

Result<void> Directory::Rmdir(std::string_view name) {
  DroppedNodes keep(fs().platform());  // As Unlink's.
  base::LockGuard guard(fs().tree_lock());
  EntryTable::Entry* entry = entries_.Find(name);
  if (!entry) return Error{ENOENT};
  if (!entry->node()->is_directory()) return Error{ENOTDIR};
  if (static_cast<Directory*>(entry->node())->entries_.size() != 0) {
    return Error{ENOTEMPTY};
  }
  keep.push_back(RefPtr<Node>(entry->node()));
  RemoveEntry(entry, keep);
  return {};
}

// The checks follow Linux's order: lookups, then the ancestry traps of
// lock_rename, then "same inode is a no-op", then the type rules, then
// emptiness.
Result<void> Directory::Rename(std::string_view old_name, Node& new_dir_node,
                               std::string_view new_name, unsigned flags) {
  auto& new_dir = static_cast<Directory&>(new_dir_node);
  // Released after the tree lock (`replaced` as Unlink's node).
  DroppedNodes replaced(fs().platform());
  RefPtr<MemNode> source;
  base::LockGuard guard(fs().tree_lock());
  if (removed_ || new_dir.removed_) return Error{ENOENT};
  EntryTable::Entry* from = entries_.Find(old_name);
  if (!from) return Error{ENOENT};
  source = RefPtr<MemNode>(from->node());
  EntryTable::Entry* to = new_dir.entries_.Find(new_name);
  if (flags & base::kRenameExchange) return Exchange(from, new_dir, to);
  if (to && (flags & base::kRenameNoReplace)) return Error{EEXIST};
  if (this != &new_dir) {
    if (source->is_directory() &&
        static_cast<Directory*>(source.get())->Contains(&new_dir)) {
      return Error{EINVAL};
    }
    if (to && to->node()->is_directory() &&
        static_cast<Directory*>(to->node())->Contains(this)) {
      return Error{ENOTEMPTY};
    }
  }
  if (to && to->node() == source.get()) return {};
  if (to) {
    if (source->is_directory()) {
      if (!to->node()->is_directory()) return Error{ENOTDIR};
      if (static_cast<Directory*>(to->node())->entries_.size() != 0) {
        return Error{ENOTEMPTY};
      }
    } else if (to->node()->is_directory()) {
      return Error{EISDIR};
    }
    replaced.push_back(RefPtr<Node>(to->node()));
    new_dir.RemoveEntry(to, replaced);
  }
  // Move the entry. The node keeps its links; a directory's ".." changes
  // parent.
  DetachEntry(entries_.Find(old_name), replaced);
  source->Touch(/*contents=*/false);
  if (source->is_directory() && this != &new_dir) {
    static_cast<Directory*>(source.get())->parent_ = &new_dir;
    AddLinks(-1);
    new_dir.AddLinks(1);
  }
  new_dir.AddEntry(new_name, source);
  return {};
}

Result<void> Directory::Exchange(EntryTable::Entry* from, Directory& new_dir,
                                 EntryTable::Entry* to) {
  if (!to) return Error{ENOENT};
  RefPtr<MemNode> a(from->node()), b(to->node());
  if (a == b) return {};
  if (this != &new_dir) {
    // Neither may end up inside itself.
    if (a->is_directory() &&
        static_cast<Directory*>(a.get())->Contains(&new_dir))
      return Error{EINVAL};
    if (b->is_directory() && static_cast<Directory*>(b.get())->Contains(this))
      return Error{EINVAL};
  }
  EntryTable::SwapNodes(*from, *to);
  if (this != &new_dir) {
    // A directory that changes parent takes its ".." link along.
    const int a_dir = a->is_directory() ? 1 : 0;
    const int b_dir = b->is_directory() ? 1 : 0;
    if (a_dir) static_cast<Directory*>(a.get())->parent_ = &new_dir;
    if (b_dir) static_cast<Directory*>(b.get())->parent_ = this;
    AddLinks(b_dir - a_dir);
    new_dir.AddLinks(a_dir - b_dir);
  }
  a->Touch(/*contents=*/false);
  b->Touch(/*contents=*/false);
  Touch(/*contents=*/true);
  new_dir.Touch(/*contents=*/true);
  return {};
}

Result<void> Directory::ReadEntries(DirentWriter& out, uint64_t position) {
  base::LockGuard guard(fs().tree_lock());
  if (position == 0) {
    if (!out.Add(ino(), 1, base::DirentTypeOf(base::kTypeDirectory), "."))
      return {};
    position = 1;
  }
  if (position == 1) {
    uint64_t parent_ino = parent_ ? parent_->ino() : ino();
    if (!out.Add(parent_ino, kFirstEntryPosition,
                 base::DirentTypeOf(base::kTypeDirectory), "..")) {
      return {};
    }
    position = kFirstEntryPosition;
  }
  for (const EntryTable::Entry* e =
           entries_.FirstFrom(position - kFirstEntryPosition);
       e; e = entries_.After(e)) {
    uint64_t next = e->position + 1 + kFirstEntryPosition;
    if (!out.Add(e->node()->ino(), next, base::DirentTypeOf(e->node()->type()),
                 e->name.view())) {
      break;
    }
  }
  return {};
}

}  // namespace vfs::memfs
