// Extended attribute handlers. The *xattr calls have no form taking an O_PATH
// descriptor, so they go through /proc/self/fd/N, which is only done for inodes
// that are not symlinks (the path would otherwise resolve the symlink's
// target): on symlinks they answer EOPNOTSUPP.
#include <sys/stat.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "sim/passthrough_ops.h"

namespace sim {
namespace {

// Largest value or list the device reads for a driver (the kernel's
// XATTR_SIZE_MAX).
constexpr size_t kMaxXattrSize = 65536;

}  // namespace

void PassthroughOps::Setxattr(fuse_req_t req, fuse_ino_t ino, const char* name,
                              const char* value, size_t size, int flags) {
  std::shared_ptr<Inode> inode;
  if (!GetInode(req, ino, &inode)) return;
  if (S_ISLNK(inode->type)) return ReplyErrno(req, EOPNOTSUPP);
  const int res =
      host::setxattr(ProcPath(inode->fd).c_str(), name, value, size, flags);
  fuse_reply_err(req, res == 0 ? 0 : errno);
}

void PassthroughOps::Getxattr(fuse_req_t req, fuse_ino_t ino, const char* name,
                              size_t size) {
  std::shared_ptr<Inode> inode;
  if (!GetInode(req, ino, &inode)) return;
  if (S_ISLNK(inode->type)) return ReplyErrno(req, EOPNOTSUPP);
  const std::string path = ProcPath(inode->fd);
  if (size == 0) {
    const ssize_t n = host::getxattr(path.c_str(), name, nullptr, 0);
    if (n < 0) return ReplyErrno(req, errno);
    fuse_reply_xattr(req, n);
    return;
  }
  std::vector<char> buf(std::min(size, kMaxXattrSize));
  const ssize_t n = host::getxattr(path.c_str(), name, buf.data(), buf.size());
  if (n < 0) return ReplyErrno(req, errno);
  fuse_reply_buf(req, buf.data(), n);
}

void PassthroughOps::Listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  std::shared_ptr<Inode> inode;
  if (!GetInode(req, ino, &inode)) return;
  if (S_ISLNK(inode->type)) return ReplyErrno(req, EOPNOTSUPP);
  const std::string path = ProcPath(inode->fd);
  if (size == 0) {
    const ssize_t n = host::listxattr(path.c_str(), nullptr, 0);
    if (n < 0) return ReplyErrno(req, errno);
    fuse_reply_xattr(req, n);
    return;
  }
  std::vector<char> buf(std::min(size, kMaxXattrSize));
  const ssize_t n = host::listxattr(path.c_str(), buf.data(), buf.size());
  if (n < 0) return ReplyErrno(req, errno);
  fuse_reply_buf(req, buf.data(), n);
}

void PassthroughOps::Removexattr(fuse_req_t req, fuse_ino_t ino,
                                 const char* name) {
  std::shared_ptr<Inode> inode;
  if (!GetInode(req, ino, &inode)) return;
  if (S_ISLNK(inode->type)) return ReplyErrno(req, EOPNOTSUPP);
  const int res = host::removexattr(ProcPath(inode->fd).c_str(), name);
  fuse_reply_err(req, res == 0 ? 0 : errno);
}

}  // namespace sim
