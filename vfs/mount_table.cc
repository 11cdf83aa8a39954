#include "vfs/mount_table.h"

#include <utility>

#include "vfs/walk_section.h"

namespace vfs {
namespace {

// The newest entry on the pair (mount, node) in `entries` (the mount on
// top); null when none.
template <typename Entry>
const Entry* FindNewest(const std::vector<Entry>& entries, const Mount& mount,
                        const Node& node) {
  for (size_t i = entries.size(); i-- > 0;) {
    if (entries[i].parent == &mount && entries[i].mountpoint == &node) {
      return &entries[i];
    }
  }
  return nullptr;
}

}  // namespace

MountTable::MountTable(base::Platform& platform)
    : platform_(platform), lock_(platform.CreateLock()) {}

MountTable::~MountTable() {
  Clear();
  delete snapshot_.load(std::memory_order_relaxed);
}

void MountTable::PublishLocked(DroppedNodes& dropped) {
  auto* next = new Snapshot;
  next->entries.reserve(entries_.size());
  for (const Entry& entry : entries_) {
    next->entries.push_back(
        {entry.mount.get(), entry.parent, entry.mountpoint});
  }
  // Release: a walk that reads the new one reads it whole.
  if (Snapshot* old = snapshot_.exchange(next, std::memory_order_acq_rel)) {
    dropped.Retire(old);
  }
}

RefPtr<Mount> MountTable::MountRoot(RefPtr<Node> root) {
  base::LockGuard guard(*lock_);
  root_ = MakeRef<Mount>(std::move(root), nullptr, next_device_++);
  return root_;
}

Result<RefPtr<Mount>> MountTable::Add(RefPtr<Location> where,
                                      RefPtr<Node> root) {
  if (!where->node()->is_directory() || !root->is_directory())
    return Error{ENOTDIR};
  if (!where->parent()) return Error{EBUSY};
  Mount* parent = where->mount().get();
  Node* covered = where->node().get();
  DroppedNodes dropped(platform_);  // The snapshot replaced.
  base::LockGuard guard(*lock_);
  auto mount =
      MakeRef<Mount>(std::move(root), std::move(where), next_device_++);
  entries_.push_back({mount, parent, covered});
  PublishLocked(dropped);
  // After: a walk that sees the mark finds the mount.
  covered->mounts_.fetch_add(1, std::memory_order_release);
  return mount;
}

RefPtr<Mount> MountTable::FindMountedOn(const Mount& mount, const Node& node) {
  base::LockGuard guard(*lock_);
  const Entry* found = FindNewest(entries_, mount, node);
  return found ? found->mount : nullptr;
}

Mount* MountTable::FindMountedOnInSection(const Mount& mount,
                                          const Node& node) {
  const Snapshot* snapshot = snapshot_.load(std::memory_order_acquire);
  if (snapshot == nullptr) return nullptr;
  const Snapshot::Covered* found = FindNewest(snapshot->entries, mount, node);
  return found ? found->mount : nullptr;
}

Result<void> MountTable::Remove(RefPtr<Mount> mount) {
  // Released after the lock, so no filesystem runs under it, and after the
  // walks that crossed into it without a reference (`dropped` goes first).
  RefPtr<Mount> removed;
  DroppedNodes dropped(platform_);
  {
    base::LockGuard guard(*lock_);
    size_t i = 0;
    while (i < entries_.size() && entries_[i].mount != mount) ++i;
    if (i == entries_.size()) return Error{EINVAL};
    // References: this table's entry and the caller's `mount`.
    if (mount->ref_count() != 2) return Error{EBUSY};
    entries_[i].mountpoint->mounts_.fetch_sub(1, std::memory_order_release);
    removed = std::move(entries_[i].mount);
    entries_.erase(entries_.begin() + static_cast<ptrdiff_t>(i));
    PublishLocked(dropped);
  }
  return {};
}

void MountTable::Clear() {
  std::vector<Entry> entries;
  RefPtr<Mount> root;
  DroppedNodes dropped(platform_);
  {
    base::LockGuard guard(*lock_);
    entries.swap(entries_);
    root = std::move(root_);
    for (Entry& entry : entries) {
      entry.mountpoint->mounts_.fetch_sub(1, std::memory_order_release);
    }
    PublishLocked(dropped);
  }
  dropped.clear();  // The walks that crossed into them, first.
  while (!entries.empty()) entries.pop_back();
}

}  // namespace vfs
