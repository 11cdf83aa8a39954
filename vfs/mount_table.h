// vfs::MountTable: which filesystem is mounted on which directory.
//
// A mount covers a directory node as seen through one mount (the pair mount,
// node); a path walk that reaches that pair continues at the mounted root
// instead. Mounts stack: mounting on a mount's root covers it in turn.
#ifndef VFS_MOUNT_TABLE_H_
#define VFS_MOUNT_TABLE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "base/platform.h"
#include "base/result.h"
#include "vfs/location.h"
#include "vfs/node.h"
#include "vfs/ref_counted.h"
#include "vfs/walk_section.h"

namespace vfs {

class MountTable {
 public:
  explicit MountTable(base::Platform& platform);
  ~MountTable();

  // Mounts `root` as the namespace root. Once, first.
  RefPtr<Mount> MountRoot(RefPtr<Node> root);

  // Mounts `root` on the directory at `where`. ENOTDIR when `where` is no
  // directory, EBUSY when it is the namespace root.
  Result<RefPtr<Mount>> Add(RefPtr<Location> where, RefPtr<Node> root);

  // What is mounted on `node` seen through `mount`; null when nothing is.
  // Asked at every step of every walk: the answer for a node with nothing
  // mounted on it takes no call.
  RefPtr<Mount> MountedOn(const Mount& mount, const Node& node) {
    if (!node.has_mounts()) return nullptr;
    return FindMountedOn(mount, node);
  }
  // The same for a walk inside a WalkSection, which takes no reference and no
  // lock: the mount stays valid until the section ends (Remove waits for
  // walks before it lets go of a mount).
  Mount* MountedOnInSection(const Mount& mount, const Node& node) {
    return node.has_mounts() ? FindMountedOnInSection(mount, node) : nullptr;
  }

  // Unmounts `mount`. EINVAL when it is not mounted (or is the root), EBUSY
  // while anything but the table and the caller's `mount` holds it: open files,
  // current directories, locations of walks in progress and mounts below it all
  // hold a reference (a cached walk holds none: Remove waits for it instead).
  Result<void> Remove(RefPtr<Mount> mount);

  // Drops every mount, innermost first, busy or not (shutdown).
  void Clear();

  base::Platform& platform() const { return platform_; }

 private:
  struct Entry {
    RefPtr<Mount> mount;
    Mount* parent;     // The mount the covered node belongs to.
    Node* mountpoint;  // The covered node, held by mount->mountpoint().
  };
  // The entries as MountedOnInSection reads them, without the lock: made
  // anew at every change (PublishLocked), the one replaced freed after the
  // walks. Holding no references: entries_ does.
  struct Snapshot : Retired {
    struct Covered {
      Mount* mount;
      const Mount* parent;
      const Node* mountpoint;
    };
    std::vector<Covered> entries;  // In mount order.
  };

  // MountedOn and MountedOnInSection for a node something is mounted on
  // (through some mount).
  RefPtr<Mount> FindMountedOn(const Mount& mount, const Node& node);
  Mount* FindMountedOnInSection(const Mount& mount, const Node& node);
  // With the lock held: entries_ changed; the snapshot it replaces goes to
  // `dropped`.
  void PublishLocked(DroppedNodes& dropped);

  base::Platform& platform_;
  std::unique_ptr<base::Lock> lock_;
  RefPtr<Mount> root_;
  std::vector<Entry> entries_;  // In mount order.
  std::atomic<Snapshot*> snapshot_{nullptr};
  uint64_t next_device_ = 1;
};

}  // namespace vfs

#endif  // VFS_MOUNT_TABLE_H_
