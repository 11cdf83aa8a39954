#include "vfs/mount_table.h"

#include <utility>

#include "vfs/walk_section.h"

namespace vfs {

MountTable::MountTable(base::Platform& platform)
    : platform_(platform), lock_(platform.CreateLock()) {}

MountTable::~MountTable() { Clear(); }

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
  base::LockGuard guard(*lock_);
  auto mount =
      MakeRef<Mount>(std::move(root), std::move(where), next_device_++);
  entries_.push_back({mount, parent, covered});
  covered->mounts_.fetch_add(1, std::memory_order_release);
  return mount;
}

const RefPtr<Mount>* MountTable::FindLocked(const Mount& mount,
                                            const Node& node) const {
  for (size_t i = entries_.size(); i-- > 0;) {
    if (entries_[i].parent == &mount && entries_[i].mountpoint == &node) {
      return &entries_[i].mount;
    }
  }
  return nullptr;
}

RefPtr<Mount> MountTable::FindMountedOn(const Mount& mount, const Node& node) {
  base::LockGuard guard(*lock_);
  const RefPtr<Mount>* found = FindLocked(mount, node);
  return found ? *found : nullptr;
}

Mount* MountTable::FindMountedOnInSection(const Mount& mount,
                                          const Node& node) {
  base::LockGuard guard(*lock_);
  const RefPtr<Mount>* found = FindLocked(mount, node);
  return found ? found->get() : nullptr;
}

Result<void> MountTable::Remove(RefPtr<Mount> mount) {
  RefPtr<Mount>
      removed;  // Released after the lock, so no filesystem runs under it.
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
  }
  WaitForWalks(platform_);  // Walks that crossed into it without a reference.
  return {};
}

void MountTable::Clear() {
  std::vector<Entry> entries;
  RefPtr<Mount> root;
  {
    base::LockGuard guard(*lock_);
    entries.swap(entries_);
    root = std::move(root_);
    for (Entry& entry : entries) {
      entry.mountpoint->mounts_.fetch_sub(1, std::memory_order_release);
    }
  }
  WaitForWalks(platform_);
  while (!entries.empty()) entries.pop_back();
}

}  // namespace vfs
