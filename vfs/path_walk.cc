#include "vfs/path_walk.h"

#include <utility>

#include "base/abi.h"
#include "vfs/permission.h"
#include "vfs/walk_section.h"

namespace vfs {
namespace {

size_t SkipSlashes(std::string_view path, size_t i) {
  while (i < path.size() && path[i] == '/') ++i;
  return i;
}

// One component of a path, as both walks take them.
struct Component {
  std::string_view name;
  bool slash_after;  // A slash follows: it must be a directory.
  bool last;         // Only slashes follow.
};

// The component at `*at` (past leading slashes), moving `*at` past it and the
// slashes after; false at the end of `path`.
bool NextComponent(std::string_view path, size_t* at, Component* out) {
  if (*at >= path.size()) return false;
  size_t end = path.find('/', *at);
  if (end == std::string_view::npos) end = path.size();
  const size_t next = SkipSlashes(path, end);
  *out = {path.substr(*at, end - *at), end < path.size(), next == path.size()};
  *at = next;
  return true;
}

// Whether a walk follows `node`, met as `component`: a symlink, unless it is
// the last component, with no slash after, of a walk that does not follow it.
bool Follows(const Node& node, const Component& component, bool follow_final) {
  return node.is_symlink() &&
         (!component.last || follow_final || component.slash_after);
}

}  // namespace

Result<void> CheckNodeAccess(const Credentials& credentials, Node& node,
                             int mask, uint64_t arrivals_before) {
  if (PrivilegedAccess(credentials, node.type(), mask)) return {};
  const Stat st = TRY(node.GetAttrSince(arrivals_before));
  return CheckAccess(credentials, st, mask);
}

Result<void> PathWalker::CheckSearch(Node& dir) {
  if (!dir.is_directory()) return Error{ENOTDIR};
  return CheckAccess(dir, kMayExec);
}

Result<Placed> PathWalker::LookupIn(const RefPtr<Mount>& mount, Node& dir,
                                    std::string_view name) {
  if (name.size() > base::kNameMax) return Error{ENAMETOOLONG};
  RefPtr<Node> node = TRY(dir.Lookup(name));
  Placed found{nullptr, std::move(node)};
  const Mount* on = mount.get();
  while (RefPtr<Mount> covering = mounts_.MountedOn(*on, *found.node)) {
    found.node = covering->root();
    found.mount = std::move(covering);
    on = found.mount.get();
  }
  return found;
}

Result<RefPtr<Location>> PathWalker::Step(const RefPtr<Location>& dir,
                                          std::string_view name) {
  TRY(CheckSearch(*dir->node()));
  Placed found = TRY(LookupIn(dir->mount(), *dir->node(), name));
  return MakeRef<Location>(dir, name,
                           found.mount ? std::move(found.mount) : dir->mount(),
                           std::move(found.node));
}

RefPtr<Mount>* PathWalker::Cursor::Crossed() const {
  for (size_t i = depth_; i-- > 0;) {
    if (room_[i].placed.mount) return &room_[i].placed.mount;
  }
  return nullptr;
}

const RefPtr<Mount>& PathWalker::Cursor::mount() const {
  const RefPtr<Mount>* crossed = Crossed();
  return crossed ? *crossed : base()->mount();
}

RefPtr<Location> PathWalker::Cursor::TakeBase() {
  return base_ == &owned_ ? std::move(owned_) : *base_;
}

void PathWalker::Cursor::Down(std::string_view name, Placed&& placed) {
  if (room_.empty()) {
    RefPtr<Mount> on = placed.mount ? std::move(placed.mount) : mount();
    SetBase(MakeRef<Location>(TakeBase(), name, std::move(on),
                              std::move(placed.node)));
    return;
  }
  if (depth_ == room_.size()) Materialize();
  room_[depth_++] = {name, std::move(placed)};
}

void PathWalker::Cursor::Restart(RefPtr<Location> base) {
  while (depth_ > 0) room_[--depth_] = {};
  SetBase(std::move(base));
}

void PathWalker::Cursor::Up() {
  if (depth_ > 0) {
    room_[--depth_] = {};
  } else if (RefPtr<Location> parent = base()->parent()) {
    SetBase(std::move(parent));
  }
}

const RefPtr<Location>& PathWalker::Cursor::Materialize() {
  for (size_t i = 0; i < depth_; ++i) {
    Placed& placed = room_[i].placed;
    // A component on its parent's mount: the mount of the Location made last.
    RefPtr<Mount> on = placed.mount ? std::move(placed.mount) : base()->mount();
    SetBase(MakeRef<Location>(TakeBase(), room_[i].name, std::move(on),
                              std::move(placed.node)));
  }
  depth_ = 0;
  return base();
}

Placed PathWalker::Cursor::Take() {
  if (depth_ == 0) return {base()->mount(), base()->node()};
  Placed placed = std::move(room_[--depth_].placed);
  if (!placed.mount) {
    // Spent, the Cursor gives up the reference it holds.
    RefPtr<Mount>* crossed = Crossed();
    placed.mount = crossed ? std::move(*crossed) : base()->mount();
  }
  return placed;
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
  // Made a Location while `target`, which its names point into, lives.
  Cursor at(StartOf(target.view(), dir), {});
  TRY(Walk(at, target.view(), /*follow_final=*/true));
  return at.Materialize();
}

const RefPtr<Location>& PathWalker::StartOf(
    std::string_view path, const RefPtr<Location>& relative) const {
  return !path.empty() && path[0] == '/' ? root_ : relative;
}

Result<void> PathWalker::Walk(Cursor& at, std::string_view path,
                              bool follow_final) {
  if (path.empty()) return Error{ENOENT};
  size_t i = SkipSlashes(path, 0);
  Component step;
  while (NextComponent(path, &i, &step)) {
    TRY(CheckSearch(at.node()));
    if (step.name == "..") {
      at.Up();
    } else if (step.name != ".") {
      Placed found = TRY(LookupIn(at.mount(), at.node(), step.name));
      if (Follows(*found.node, step, follow_final)) {
        RefPtr<Location> target =
            TRY(FollowSymlink(at.Materialize(), *found.node));
        at.Restart(std::move(target));
      } else {
        at.Down(step.name, std::move(found));
      }
    }
    if (step.slash_after && !at.node().is_directory()) return Error{ENOTDIR};
  }
  return {};
}

bool PathWalker::MaySearchInSection(Node& dir) const {
  if (!dir.is_directory()) return false;
  if (PrivilegedAccess(*credentials_, dir.type(), kMayExec)) return true;
  Stat attr;
  return dir.CachedAttrSince(arrivals_at_start_, &attr) &&
         vfs::CheckAccess(*credentials_, attr, kMayExec).ok();
}

bool PathWalker::WalkInSection(std::string_view path, bool follow_final,
                               Mount** mount_out, Node** node_out) {
  const RefPtr<Location>& start = StartOf(path, cwd_);
  if (path.empty() || !start) return false;
  // The walk's own references (the start's) keep where it begins; the
  // section keeps every node and mount it reaches from there (WalkSection).
  Mount* mount = start->mount().get();
  Node* node = start->node().get();
  size_t i = SkipSlashes(path, 0);
  Component step;
  while (NextComponent(path, &i, &step)) {
    if (!MaySearchInSection(*node) || step.name == "..") return false;
    if (step.name != ".") {
      if (step.name.size() > base::kNameMax) return false;
      Node* child = node->LookupInSection(step.name);
      if (child == nullptr) return false;
      // As LookupIn: into whatever is mounted on it.
      while (Mount* covering = mounts_.MountedOnInSection(*mount, *child)) {
        mount = covering;
        child = covering->root().get();
      }
      if (Follows(*child, step, follow_final)) return false;
      node = child;
    }
    if (step.slash_after && !node->is_directory()) return false;
  }
  *mount_out = mount;
  *node_out = node;
  return true;
}

Result<Stat> PathWalker::StatNode(std::string_view path, bool follow_final) {
  {
    WalkSection section(mounts_.platform());
    Mount* mount;
    Node* node;
    Stat attr;
    if (WalkInSection(path, follow_final, &mount, &node) &&
        node->CachedAttrSince(arrivals_at_start_, &attr)) {
      attr.st_dev = mount->device();
      return attr;
    }
  }
  const Placed found = TRY(ResolveNodeHolding(path, follow_final));
  Stat attr = TRY(AttrOf(*found.node));
  attr.st_dev = found.mount->device();
  return attr;
}

Result<RefPtr<Location>> PathWalker::Resolve(std::string_view path,
                                             bool follow_final) {
  Cursor at(StartOf(path, cwd_), {});
  TRY(Walk(at, path, follow_final));
  return at.Materialize();
}

Result<Placed> PathWalker::ResolveNode(std::string_view path,
                                       bool follow_final) {
  {
    WalkSection section(mounts_.platform());
    Mount* mount;
    Node* node;
    if (WalkInSection(path, follow_final, &mount, &node)) {
      // The caller's references, taken while the section keeps both.
      return Placed{RefPtr<Mount>(mount), RefPtr<Node>(node),
                    arrivals_at_start_};
    }
  }
  return ResolveNodeHolding(path, follow_final);
}

Result<Placed> PathWalker::ResolveNodeHolding(std::string_view path,
                                              bool follow_final) {
  Cursor::Below room[kNodeWalkRoom];
  Cursor at(StartOf(path, cwd_), room);
  TRY(Walk(at, path, follow_final));
  Placed placed = at.Take();
  placed.arrivals_before = arrivals_at_start_;
  return placed;
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
  if (begin == 0) {
    result.dir = start;
  } else {
    Cursor at(StartOf(path, start), {});
    TRY(Walk(at, path.substr(0, begin), /*follow_final=*/true));
    result.dir = at.Materialize();
  }
  // The last component is looked up in it (by the caller): it must be
  // searchable, as for every other component.
  TRY(CheckSearch(*result.dir->node()));
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
