#include "vfs/node.h"

#include "vfs/open_file.h"

namespace vfs {

// Without an operation Linux answers EPERM for a change of the namespace,
// ENOTDIR when the node is no directory, EINVAL for readlink of a non-symlink.
namespace {
Error DirectoryOnly(const Node& node, int otherwise) {
  return Error{node.is_directory() ? otherwise : ENOTDIR};
}
}  // namespace

Result<Stat> Node::SetAttr(const AttrChange&) { return Error{EPERM}; }
Result<RefPtr<OpenFile>> Node::Open(int) { return Error{ENXIO}; }
Result<StatFs> Node::GetFsStat() { return Error{ENOSYS}; }
Result<KString> Node::ReadLink() { return Error{EINVAL}; }

Result<RefPtr<Node>> Node::Lookup(std::string_view) {
  return DirectoryOnly(*this, ENOENT);
}
Result<RefPtr<OpenFile>> Node::Create(std::string_view, uint32_t, int) {
  return DirectoryOnly(*this, EPERM);
}
Result<void> Node::Mkdir(std::string_view, uint32_t) {
  return DirectoryOnly(*this, EPERM);
}
Result<void> Node::Symlink(std::string_view, std::string_view) {
  return DirectoryOnly(*this, EPERM);
}
Result<void> Node::Link(std::string_view, Node&) {
  return DirectoryOnly(*this, EPERM);
}
Result<void> Node::Unlink(std::string_view) {
  return DirectoryOnly(*this, EPERM);
}
Result<void> Node::Rmdir(std::string_view) {
  return DirectoryOnly(*this, EPERM);
}
Result<void> Node::Rename(std::string_view, Node&, std::string_view) {
  return DirectoryOnly(*this, EPERM);
}

}  // namespace vfs
