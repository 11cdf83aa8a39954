#include "vfs/location.h"

#include <utility>

namespace vfs {

Mount::Mount(RefPtr<Node> root, RefPtr<Location> mountpoint, uint64_t device)
    : root_(std::move(root)),
      mountpoint_(std::move(mountpoint)),
      device_(device) {}

Mount::~Mount() = default;

Location::Location(RefPtr<Mount> mount, RefPtr<Node> node)
    : mount_(std::move(mount)), node_(std::move(node)) {}

Location::Location(RefPtr<Location> parent, std::string_view name,
                   RefPtr<Mount> mount, RefPtr<Node> node)
    : parent_(std::move(parent)),
      name_(name),
      mount_(std::move(mount)),
      node_(std::move(node)) {}

// Releasing a long chain of parents recursively could use a lot of stack;
// unlink the chain iteratively while this location held the last reference to
// its parent.
Location::~Location() {
  RefPtr<Location> up = std::move(parent_);
  while (up && up->ref_count() == 1) {
    RefPtr<Location> next = std::move(up->parent_);
    up = std::move(next);
  }
}

}  // namespace vfs
