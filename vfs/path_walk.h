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
#ifndef VFS_PATH_WALK_H_
#define VFS_PATH_WALK_H_

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

// Whether `credentials` allow `mask` (kMay* bits) on `node`, with its
// attributes as fresh as the filesystem keeps them (none fetched where root's
// privilege decides). EACCES.
Result<void> CheckNodeAccess(const Credentials& credentials, Node& node,
                             int mask);

class PathWalker {
 public:
  // `credentials` must outlive the walker.
  PathWalker(MountTable& mounts, RefPtr<Location> root, RefPtr<Location> cwd,
             const Credentials* credentials)
      : mounts_(mounts),
        root_(std::move(root)),
        cwd_(std::move(cwd)),
        credentials_(credentials) {}

  const Credentials& credentials() const { return *credentials_; }

  // The location `path` names (relative paths start at the current directory).
  Result<RefPtr<Location>> Resolve(std::string_view path, bool follow_final) {
    return Walk(cwd_, path, follow_final);
  }

  // `path` resolved up to its last component.
  Result<ParentPath> ResolveParent(std::string_view path) {
    return ResolveParentFrom(cwd_, path);
  }
  // The same, relative paths starting at `start` (for a symlink's target).
  Result<ParentPath> ResolveParentFrom(const RefPtr<Location>& start,
                                       std::string_view path);

  // One component `name` (may be "." or "..") of the directory `dir`, crossing
  // into whatever is mounted on the result. Does not follow a symlink.
  Result<RefPtr<Location>> Step(const RefPtr<Location>& dir,
                                std::string_view name);

  // Counts one more symlink followed: ELOOP past the limit.
  Result<void> CountSymlink();

 private:
  Result<RefPtr<Location>> Walk(RefPtr<Location> start, std::string_view path,
                                bool follow_final);
  // Follows the symlink `link`, found in `dir`.
  Result<RefPtr<Location>> FollowSymlink(const RefPtr<Location>& dir,
                                         Node& link);

  MountTable& mounts_;
  RefPtr<Location> root_;
  RefPtr<Location> cwd_;
  const Credentials* credentials_;
  int symlinks_followed_ = 0;
};

}  // namespace vfs

#endif  // VFS_PATH_WALK_H_
