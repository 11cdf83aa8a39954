// vfs::Location and vfs::Mount: where in the namespace a path walk stands.
//
// A Location is a node on a mount plus the way back up: its parent location and
// the name it has there. Locations are made as a walk goes down, and only live
// as long as someone holds them (a walk in progress, the current directory, an
// open file, a mount). ".." follows the parent link, which is how it leaves a
// mounted filesystem's root for the directory it is mounted on; getcwd reads
// the names back up.
#ifndef VFS_LOCATION_H_
#define VFS_LOCATION_H_

#include <cstdint>
#include <string_view>

#include "vfs/kstring.h"
#include "vfs/node.h"
#include "vfs/ref_counted.h"

namespace vfs {

class Location;

// One mounted filesystem: its root node and the location it covers.
class Mount : public RefCounted {
 public:
  // `mountpoint` is null for the namespace's root mount.
  Mount(RefPtr<Node> root, RefPtr<Location> mountpoint, uint64_t device);
  ~Mount() override;

  const RefPtr<Node>& root() const { return root_; }
  const RefPtr<Location>& mountpoint() const { return mountpoint_; }
  // The st_dev of every node on this mount.
  uint64_t device() const { return device_; }

 private:
  RefPtr<Node> root_;
  RefPtr<Location> mountpoint_;
  uint64_t device_;
};

class Location : public RefCounted {
 public:
  // The namespace root.
  Location(RefPtr<Mount> mount, RefPtr<Node> node);
  // `name` in `parent`.
  Location(RefPtr<Location> parent, std::string_view name, RefPtr<Mount> mount,
           RefPtr<Node> node);
  ~Location() override;

  // Null at the namespace root.
  const RefPtr<Location>& parent() const { return parent_; }
  std::string_view name() const { return name_.view(); }
  const RefPtr<Mount>& mount() const { return mount_; }
  const RefPtr<Node>& node() const { return node_; }

 private:
  RefPtr<Location> parent_;
  KString name_;
  RefPtr<Mount> mount_;
  RefPtr<Node> node_;
};

}  // namespace vfs

#endif  // VFS_LOCATION_H_
