// Extended-attribute system calls, with the namespace rules of Linux's
// fs/xattr.c (xattr_permission): "user." only on regular files and
// directories (and a sticky directory's only for its owner), "trusted." only
// for root, "security." and "system." as the filesystem decides, anything
// else EOPNOTSUPP. Then read (get) or write (set, remove) permission.
#include <span>

#include "vfs/posix.h"
#include "vfs/syscall.h"

namespace vfs {
namespace {

using syscall::AsInt;
using syscall::CurrentTaskOrError;
using syscall::Return;

bool HasPrefix(std::string_view name, std::string_view prefix) {
  return name.substr(0, prefix.size()) == prefix;
}

// setxattr's name argument: ERANGE when empty or longer than kXattrNameMax.
Result<std::string_view> XattrName(const char* name) {
  if (!name) return Error{EFAULT};
  size_t length = 0;
  while (name[length] != '\0') {
    if (++length > base::kXattrNameMax) return Error{ERANGE};
  }
  if (length == 0) return Error{ERANGE};
  return std::string_view(name, length);
}

// xattr_permission for `mask` (kMayRead or kMayWrite).
Result<void> CheckXattrAccess(const Credentials& creds, Node& node,
                              std::string_view name, int mask) {
  const bool write = (mask & kMayWrite) != 0;
  if (HasPrefix(name, "trusted.")) {
    if (!creds.fs_privileged()) return Error{write ? EPERM : ENODATA};
  } else if (HasPrefix(name, "user.")) {
    if (!node.is_regular() && !node.is_directory()) {
      return Error{write ? EPERM : ENODATA};
    }
    if (node.is_directory() && write && !creds.fs_privileged()) {
      const Stat st = TRY(node.GetAttr());
      if ((st.st_mode & base::kSticky) && !CheckOwner(creds, st).ok()) {
        return Error{EPERM};
      }
    }
  } else if (!HasPrefix(name, "security.") && !HasPrefix(name, "system.")) {
    return Error{EOPNOTSUPP};
  }
  return CheckNodeAccess(creds, node, mask);
}

// The node a path form names (following a final symlink unless `nofollow`)
// or a descriptor form's file.
Result<RefPtr<Node>> XattrNode(Task& task, const char* path, bool nofollow) {
  return TRY(syscall::ResolveNodeAt(task, base::kAtFdCwd, path,
                                    nofollow ? base::kAtSymlinkNoFollow : 0,
                                    base::kAtSymlinkNoFollow))
      .node;
}

Result<RefPtr<Node>> XattrNodeOf(Task& task, int fd) {
  RefPtr<OpenFile> file = TRY(syscall::FileOf(task, fd));
  return RefPtr<Node>(&file->node());
}

Result<size_t> GetXattr(Task& task, Node& node, const char* user_name,
                        void* value, size_t size) {
  std::string_view name = TRY(XattrName(user_name));
  if (size > base::kXattrSizeMax) size = base::kXattrSizeMax;
  if (size != 0 && !value) return Error{EFAULT};
  TRY(CheckXattrAccess(task.credentials(), node, name, kMayRead));
  return node.GetXattr(name, std::span<char>(static_cast<char*>(value), size));
}

Result<void> SetXattr(Task& task, Node& node, const char* user_name,
                      const void* value, size_t size, int flags) {
  if (flags & ~(base::kXattrCreate | base::kXattrReplace)) {
    return Error{EINVAL};
  }
  std::string_view name = TRY(XattrName(user_name));
  if (size > base::kXattrSizeMax) return Error{E2BIG};
  if (size != 0 && !value) return Error{EFAULT};
  TRY(CheckXattrAccess(task.credentials(), node, name, kMayWrite));
  return node.SetXattr(
      name, std::span<const char>(static_cast<const char*>(value), size),
      flags);
}

Result<size_t> ListXattr(Node& node, char* list, size_t size) {
  if (size > base::kXattrSizeMax) size = base::kXattrSizeMax;
  if (size != 0 && !list) return Error{EFAULT};
  return node.ListXattr(std::span<char>(list, size));
}

Result<void> RemoveXattr(Task& task, Node& node, const char* user_name) {
  std::string_view name = TRY(XattrName(user_name));
  TRY(CheckXattrAccess(task.credentials(), node, name, kMayWrite));
  return node.RemoveXattr(name);
}

// Runs `call(task, node)` on the node a path (or descriptor) form names.
template <typename Call>
auto OnPath(const char* path, bool nofollow, Call call)
    -> decltype(call(std::declval<Task&>(), std::declval<Node&>())) {
  Task* task = TRY(CurrentTaskOrError());
  RefPtr<Node> node = TRY(XattrNode(*task, path, nofollow));
  return call(*task, *node);
}
template <typename Call>
auto OnFd(int fd, Call call)
    -> decltype(call(std::declval<Task&>(), std::declval<Node&>())) {
  Task* task = TRY(CurrentTaskOrError());
  RefPtr<Node> node = TRY(XattrNodeOf(*task, fd));
  return call(*task, *node);
}

}  // namespace

int64_t getxattr(const char* path, const char* name, void* value, size_t size) {
  return Return(OnPath(path, false, [&](Task& task, Node& node) {
    return GetXattr(task, node, name, value, size);
  }));
}
int64_t lgetxattr(const char* path, const char* name, void* value,
                  size_t size) {
  return Return(OnPath(path, true, [&](Task& task, Node& node) {
    return GetXattr(task, node, name, value, size);
  }));
}
int64_t fgetxattr(int fd, const char* name, void* value, size_t size) {
  return Return(OnFd(fd, [&](Task& task, Node& node) {
    return GetXattr(task, node, name, value, size);
  }));
}

int setxattr(const char* path, const char* name, const void* value, size_t size,
             int flags) {
  return AsInt(OnPath(path, false, [&](Task& task, Node& node) {
    return SetXattr(task, node, name, value, size, flags);
  }));
}
int lsetxattr(const char* path, const char* name, const void* value,
              size_t size, int flags) {
  return AsInt(OnPath(path, true, [&](Task& task, Node& node) {
    return SetXattr(task, node, name, value, size, flags);
  }));
}
int fsetxattr(int fd, const char* name, const void* value, size_t size,
              int flags) {
  return AsInt(OnFd(fd, [&](Task& task, Node& node) {
    return SetXattr(task, node, name, value, size, flags);
  }));
}

int64_t listxattr(const char* path, char* list, size_t size) {
  return Return(OnPath(path, false, [&](Task&, Node& node) {
    return ListXattr(node, list, size);
  }));
}
int64_t llistxattr(const char* path, char* list, size_t size) {
  return Return(OnPath(path, true, [&](Task&, Node& node) {
    return ListXattr(node, list, size);
  }));
}
int64_t flistxattr(int fd, char* list, size_t size) {
  return Return(
      OnFd(fd, [&](Task&, Node& node) { return ListXattr(node, list, size); }));
}

int removexattr(const char* path, const char* name) {
  return AsInt(OnPath(path, false, [&](Task& task, Node& node) {
    return RemoveXattr(task, node, name);
  }));
}
int lremovexattr(const char* path, const char* name) {
  return AsInt(OnPath(path, true, [&](Task& task, Node& node) {
    return RemoveXattr(task, node, name);
  }));
}
int fremovexattr(int fd, const char* name) {
  return AsInt(OnFd(fd, [&](Task& task, Node& node) {
    return RemoveXattr(task, node, name);
  }));
}

}  // namespace vfs
