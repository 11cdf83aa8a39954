// vfs::PathWalker: turns a path into a Location, one component at a time.
//
// Absolute paths start at the namespace root, relative ones at the current
// directory.
// "." stays, ".." follows the location's parent (so it leaves a mounted root
// for the directory it covers, and stays at the namespace root), runs of
// slashes count as one, a trailing slash demands a directory (and follows a
// final symlink). Symlinks met on the way are followed; a final one only when
// asked. One walker counts every symlink it follows, across calls, and fails
// with ELOOP past kMaxSymlinkFollows, as Linux does.
//
// Every directory a walk looks a name up in must be searchable by the walker's
// credentials (EACCES otherwise), as Linux's may_lookup checks; the directory
// that gets the last component of ResolveParent is checked by the call that
// changes it.
//
// The walker holds no lock: each step is a filesystem Lookup, which may block.
//
// A walk makes a Location only for what its caller keeps: the components it
// goes down through are held as a node, with the mount where it crossed into
// one (a Cursor), until the walk ends, and become Locations, each naming its
// parent, only for a caller that asks for the Location (Resolve). One that only
// needs the node (stat, access, chmod: ResolveNode) pays no allocation per
// component, and, where the filesystems' caches answer every step, takes no
// reference either until the last (a walk in a WalkSection, Linux's RCU-walk):
// otherwise it walks again from the start, holding what it passes through.
#ifndef VFS_PATH_WALK_H_
#define VFS_PATH_WALK_H_

#include <optional>
#include <span>
#include <string_view>

#include "base/result.h"
#include "vfs/credentials.h"
#include "vfs/kstring.h"
#include "vfs/location.h"
#include "vfs/mount_table.h"
#include "vfs/ref_counted.h"

namespace vfs {

// A path resolved up to its last component, for the calls that create, remove
// or rename that component.
struct ParentPath {
  enum class Last {
    kName,    // An ordinary name.
    kDot,     // "."
    kDotDot,  // ".."
    kRoot,    // The path was only slashes.
  };

  RefPtr<Location> dir;  // The directory holding the last component.
  KString name;          // The last component (kName only).
  Last last = Last::kName;
  bool trailing_slash = false;  // The path ended in one or more slashes.
};

// A node and the mount it was reached on: what a walk gives a caller that
// keeps no Location.
struct Placed {
  RefPtr<Mount> mount;
  RefPtr<Node> node;
  // When the walk began (AttrArrivals), for the caller to take what its
  // LOOKUPs brought (Node::GetAttrSince); kNoCallStart when nothing walked.
  uint64_t arrivals_before = kNoCallStart;
};

// Whether `credentials` allow `mask` (kMay* bits) on `node`, with its
// attributes as fresh as the filesystem keeps them, or as the system call that
// noted `arrivals_before` (Node::GetAttrSince) received them (none fetched
// where root's privilege decides). EACCES.
Result<void> CheckNodeAccess(const Credentials& credentials, Node& node,
                             int mask, uint64_t arrivals_before = kNoCallStart);

class PathWalker {
 public:
  // `root` and `credentials` must outlive the walker. `cwd` is where relative
  // paths start: null for a walker given only absolute ones.
  PathWalker(MountTable& mounts, const RefPtr<Location>& root,
             RefPtr<Location> cwd, const Credentials* credentials)
      : mounts_(mounts),
        root_(root),
        cwd_(std::move(cwd)),
        credentials_(credentials) {}

  const Credentials& credentials() const { return *credentials_; }
  // What this system call may take as `node`'s attributes: the cached ones
  // while valid, or those its own requests brought since the walker was made
  // (Node::GetAttrSince), else fresh ones.
  Result<Stat> AttrOf(Node& node) const {
    return node.GetAttrSince(arrivals_at_start_);
  }
  // CheckNodeAccess with the walker's credentials and AttrOf's attributes.
  Result<void> CheckAccess(Node& node, int mask) const {
    return CheckNodeAccess(*credentials_, node, mask, arrivals_at_start_);
  }

  // The location `path` names (relative paths start at the current directory).
  Result<RefPtr<Location>> Resolve(std::string_view path, bool follow_final);
  // The node `path` names and its mount, as Resolve finds them.
  Result<Placed> ResolveNode(std::string_view path, bool follow_final);
  // What ResolveNode then AttrOf give (stat(2)), st_dev filled in; where the
  // caches answer every step and the attributes, with no reference taken at
  // all.
  Result<Stat> StatNode(std::string_view path, bool follow_final);

  // `path` resolved up to its last component.
  Result<ParentPath> ResolveParent(std::string_view path) {
    return ResolveParentFrom(cwd_, path);
  }
  // The same, relative paths starting at `start` (for a symlink's target).
  Result<ParentPath> ResolveParentFrom(const RefPtr<Location>& start,
                                       std::string_view path);

  // The entry `name` (not "." or "..", which ResolveParent reports apart) of
  // the directory `dir`, crossing into whatever is mounted on it. Does not
  // follow a symlink.
  Result<RefPtr<Location>> Step(const RefPtr<Location>& dir,
                                std::string_view name);

  // Counts one more symlink followed: ELOOP past the limit.
  Result<void> CountSymlink();

 private:
  // Where a walk stands: a Location, and the components gone down through
  // since, held as a node (and a mount where the walk crossed into one) in the
  // room the caller gave. Their names point into the path walked, so the
  // Cursor must become a Location (Materialize) while that path lives.
  //
  // It takes no reference it can borrow: the Location it starts from is the
  // caller's (the task's root, the walker's start) until the walk moves away
  // from it, and a component on its parent's mount names no mount. Every step
  // of every walk passed through the same root, mount and start, whose
  // counts, taken and dropped by each, were lines all CPUs wrote.
  class Cursor {
   public:
    struct Below {
      std::string_view name;
      Placed placed;  // No mount: the one of the component above.
    };
    // With no room (a caller that wants the Location), each component becomes
    // a Location at once; with room, when it is full. `base` must outlive the
    // Cursor.
    Cursor(const RefPtr<Location>& base, std::span<Below> room)
        : base_(&base), room_(room) {}
    Cursor(const Cursor&) = delete;
    Cursor& operator=(const Cursor&) = delete;
    const RefPtr<Mount>& mount() const;
    Node& node() const {
      return depth_ ? *room_[depth_ - 1].placed.node : *base()->node();
    }
    // Goes down to `name`, found at `placed` (no mount: on this one's).
    void Down(std::string_view name, Placed&& placed);
    // Stands at `base` instead.
    void Restart(RefPtr<Location> base);
    // "..": back to the parent (the namespace root stays).
    void Up();
    // Makes Locations of the components held below the base (each naming the
    // one above as its parent) and stands at the last.
    const RefPtr<Location>& Materialize();
    // Where it stands, as a node and its mount; the Cursor is spent.
    Placed Take();

   private:
    const RefPtr<Location>& base() const { return *base_; }
    // The mount of the deepest component held that crossed into one; null
    // when all are on the base's.
    RefPtr<Mount>* Crossed() const;
    // The base, as a reference of the caller's own.
    RefPtr<Location> TakeBase();
    void SetBase(RefPtr<Location> base) {
      owned_ = std::move(base);
      base_ = &owned_;
    }

    const RefPtr<Location>* base_;  // Borrowed, or `owned_`.
    RefPtr<Location> owned_;
    std::span<Below> room_;
    size_t depth_ = 0;
  };
  // The room ResolveNode gives its walk: deeper paths make Locations of the
  // components above.
  static constexpr size_t kNodeWalkRoom = 8;

  // Where a walk of `path` starts: the root for an absolute path, else
  // `relative`.
  const RefPtr<Location>& StartOf(std::string_view path,
                                  const RefPtr<Location>& relative) const;
  // Walks `path` from `at`, which stands at StartOf(path, ...).
  Result<void> Walk(Cursor& at, std::string_view path, bool follow_final);
  // ResolveNode with references, from the start: where the caches do not
  // answer a walk in a section.
  Result<Placed> ResolveNodeHolding(std::string_view path, bool follow_final);
  // ResolveNode's walk inside the caller's WalkSection, on answers the
  // filesystems give without asking anyone (Node::LookupInSection,
  // CachedAttrSince): where it ends, valid while the section lasts, in
  // `*mount` and `*node`. False where a step needs more (a name not cached, a
  // symlink to follow, "..", attributes to fetch) or fails: Walk then meets
  // the same.
  bool WalkInSection(std::string_view path, bool follow_final, Mount** mount,
                     Node** node);
  // CheckSearch on the attributes at hand alone: false where it would fail
  // or would have to ask for them.
  bool MaySearchInSection(Node& dir) const;
  // Whether `dir` may be searched: ENOTDIR, EACCES.
  Result<void> CheckSearch(Node& dir);
  // `name` (not "." or "..") in `dir`, reached on `mount`, crossing into
  // whatever is mounted on it: the mount crossed into, none when the node is
  // on `mount`.
  Result<Placed> LookupIn(const RefPtr<Mount>& mount, Node& dir,
                          std::string_view name);
  // Follows the symlink `link`, found in `dir`.
  Result<RefPtr<Location>> FollowSymlink(const RefPtr<Location>& dir,
                                         Node& link);

  MountTable& mounts_;
  const RefPtr<Location>& root_;  // The task's, fixed for its life.
  RefPtr<Location> cwd_;
  const Credentials* credentials_;
  int symlinks_followed_ = 0;
  // The call's checks use the attributes its own requests brought (Linux's
  // fuse_permission and fuse_update_get_attr, within the jiffy).
  const uint64_t arrivals_at_start_ = AttrArrivals();
};

}  // namespace vfs

#endif  // VFS_PATH_WALK_H_
