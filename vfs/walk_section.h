// vfs::WalkSection: lets a path walk pass through nodes without taking a
// reference on each, as Linux's RCU-walk does.
//
// A walk that finds every component in the filesystems' caches reads them
// inside a section (PathWalker's cached walk). Whoever unpins a node such a
// walk may have found (takes its name out of a directory or out of a name
// cache, a mount out of the table) drops its reference only after
// WaitForWalks: once every section that had begun has ended, no walk can still
// be looking at the node. So the walk writes nothing other CPUs read: a
// section is two locked adds on a line of its CPU's own, where a reference
// taken and dropped on each component was two on the component's, shared by
// every thread that walks through it. The structures it reads (a name cache,
// the mount table) are read without their locks the same way: what a change
// unlinks is freed after the walks (DroppedNodes::Retire).
//
// WaitForWalks starts a new phase and waits for the sections of the one
// before; it is rare (an unlink, a rename, an eviction), and must not be
// called inside a section (it would wait for itself) nor while holding a lock
// a section may take (each filesystem's notes say which).
#ifndef VFS_WALK_SECTION_H_
#define VFS_WALK_SECTION_H_

#include <cstdint>
#include <vector>

#include "base/platform.h"
#include "vfs/node.h"
#include "vfs/ref_counted.h"

namespace vfs {

class WalkSection {
 public:
  // Begins a section on the calling thread's CPU. It must not block.
  explicit WalkSection(const base::Platform& platform);
  ~WalkSection();
  WalkSection(const WalkSection&) = delete;
  WalkSection& operator=(const WalkSection&) = delete;

 private:
  uint32_t slot_;   // Where the section is counted: the CPU it began on.
  uint32_t phase_;  // In which of the slot's two counters.
};

// Returns once every WalkSection that had begun when it was called has
// ended; later ones are not waited for.
void WaitForWalks(base::Platform& platform);

// A structure's record that walks read without its lock (a name cache's
// entry, a mount table's snapshot): freed by DroppedNodes, after the walks.
class Retired {
 public:
  virtual ~Retired() = default;

 private:
  friend class DroppedNodes;
  Retired* next_retired_ = nullptr;
};

// References to nodes a call unpinned under a lock (took out of a directory or
// a name cache), released when this object is destroyed: after the lock, as
// releasing the last reference to a node runs its filesystem's teardown,
// which may take that lock again; and after WaitForWalks, as a walk may still
// be passing through one of them. So are the records a walk may be reading
// (Retire). Most calls let go of none or one, which takes no allocation and,
// for none, no wait.
class DroppedNodes {
 public:
  explicit DroppedNodes(base::Platform& platform) : platform_(platform) {}
  ~DroppedNodes() { clear(); }
  DroppedNodes(const DroppedNodes&) = delete;
  DroppedNodes& operator=(const DroppedNodes&) = delete;

  void push_back(RefPtr<Node> node) {
    if (!first_) {
      first_ = std::move(node);
    } else {
      more_.push_back(std::move(node));
    }
  }
  // Frees `record` with the nodes.
  void Retire(Retired* record) {
    record->next_retired_ = retired_;
    retired_ = record;
  }
  // The nodes.
  size_t size() const { return (first_ ? 1 : 0) + more_.size(); }
  bool empty() const { return !first_; }
  // Releases them (and frees the records) now.
  void clear() {
    if (empty() && retired_ == nullptr) return;
    WaitForWalks(platform_);
    while (Retired* record = retired_) {
      retired_ = record->next_retired_;
      delete record;
    }
    first_.reset();
    more_.clear();
  }

 private:
  base::Platform& platform_;
  Retired* retired_ = nullptr;
  RefPtr<Node> first_;  // Filled first: `more_` is empty while it is null.
  std::vector<RefPtr<Node>> more_;
};

}  // namespace vfs

#endif  // VFS_WALK_SECTION_H_
