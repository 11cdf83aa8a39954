#include "vfs/path_walk.h"

#include <utility>

#include "base/abi.h"
#include "vfs/permission.h"

namespace vfs {
namespace {

size_t SkipSlashes(std::string_view path, size_t i) {
  while (i < path.size() && path[i] == '/') ++i;
  return i;
}

}  // namespace

Result<void> CheckNodeAccess(const Credentials& credentials, Node& node,
                             int mask) {
  if (PrivilegedAccess(credentials, node.type(), mask)) return {};
  const Stat st = TRY(node.GetAttr());
  return CheckAccess(credentials, st, mask);
}

Result<RefPtr<Location>> PathWalker::Step(const RefPtr<Location>& dir,
                                          std::string_view name) {
  if (!dir->node()->is_directory()) return Error{ENOTDIR};
  TRY(CheckNodeAccess(*credentials_, *dir->node(), kMayExec));
  if (name == ".") return dir;
  if (name == "..") return dir->parent() ? dir->parent() : dir;
  if (name.size() > base::kNameMax) return Error{ENAMETOOLONG};
  RefPtr<Node> node = TRY(dir->node()->Lookup(name));
  RefPtr<Mount> mount = dir->mount();
  while (RefPtr<Mount> covering = mounts_.MountedOn(*mount, *node)) {
    node = covering->root();
    mount = std::move(covering);
  }
  return MakeRef<Location>(dir, name, std::move(mount), std::move(node));
}

Result<void> PathWalker::CountSymlink() {
  if (++symlinks_followed_ > base::kMaxSymlinkFollows) return Error{ELOOP};
  return {};
}

Result<RefPtr<Location>> PathWalker::FollowSymlink(const RefPtr<Location>& dir,
                                                   Node& link) {
  TRY(CountSymlink());
  KString target = TRY(link.ReadLink());
  if (target.empty()) return Error{ENOENT};
  return Walk(dir, target.view(), /*follow_final=*/true);
}

Result<RefPtr<Location>> PathWalker::Walk(RefPtr<Location> start,
                                          std::string_view path,
                                          bool follow_final) {
  if (path.empty()) return Error{ENOENT};
  RefPtr<Location> current = path[0] == '/' ? root_ : std::move(start);
  size_t i = SkipSlashes(path, 0);
  while (i < path.size()) {
    size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    std::string_view name = path.substr(i, end - i);
    size_t next = SkipSlashes(path, end);
    bool slash_after = end < path.size();
    bool last = next == path.size();

    RefPtr<Location> found = TRY(Step(current, name));
    if (found->node()->is_symlink() && (!last || follow_final || slash_after)) {
      found = TRY(FollowSymlink(current, *found->node()));
    }
    if (slash_after && !found->node()->is_directory()) return Error{ENOTDIR};
    current = std::move(found);
    i = next;
  }
  return current;
}

Result<ParentPath> PathWalker::ResolveParentFrom(const RefPtr<Location>& start,
                                                 std::string_view path) {
  if (path.empty()) return Error{ENOENT};
  ParentPath result;
  size_t end = path.size();
  while (end > 0 && path[end - 1] == '/') --end;
  result.trailing_slash = end < path.size();
  if (end == 0) {
    result.dir = root_;
    result.last = ParentPath::Last::kRoot;
    return result;
  }
  size_t begin = path.rfind('/', end - 1);
  begin = begin == std::string_view::npos ? 0 : begin + 1;
  std::string_view name = path.substr(begin, end - begin);
  // The prefix keeps its slash, so the walk insists that it names a directory.
  result.dir =
      begin == 0 ? start : TRY(Walk(start, path.substr(0, begin), true));
  // The last component is looked up in it (by the caller): it must be
  // searchable, as for every other component.
  if (!result.dir->node()->is_directory()) return Error{ENOTDIR};
  TRY(CheckNodeAccess(*credentials_, *result.dir->node(), kMayExec));
  if (name == ".") {
    result.last = ParentPath::Last::kDot;
  } else if (name == "..") {
    result.last = ParentPath::Last::kDotDot;
  } else {
    if (name.size() > base::kNameMax) return Error{ENAMETOOLONG};
    result.name = KString(name);
  }
  return result;
}

}  // namespace vfs
