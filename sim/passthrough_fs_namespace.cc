// Handlers that create, link, rename and remove names in the share.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "sim/host_faults.h"
#include "sim/passthrough_ops.h"

namespace sim {
namespace {

// PassthroughOps::PrepareNewName for a handler: replies with the error and
// returns false when it fails.
bool PrepareNewNameOrReply(fuse_req_t req, fuse_ino_t parent_id,
                           const char* name, std::shared_ptr<Inode>* parent) {
  if (int err = PassthroughOps::PrepareNewName(
          PassthroughOps::Fs(req), *fuse_req_ctx(req), parent_id, name, parent);
      err != 0) {
    fuse_reply_err(req, err);
    return false;
  }
  return true;
}

// Replies with the entry of the name just created under `parent`, giving the
// new object the permission bits `mode` first unless it is a symlink.
void ReplyCreated(fuse_req_t req, fuse_ino_t parent_id, const Inode& parent,
                  const char* name, std::optional<mode_t> mode) {
  PassthroughFs& fs = PassthroughOps::Fs(req);
  fuse_entry_param e;
  if (int err = PassthroughOps::DoLookup(fs, parent_id, parent, name, &e);
      err != 0) {
    fuse_reply_err(req, err);
    return;
  }
  if (mode.has_value() && (e.attr.st_mode & 07777) != *mode) {
    std::shared_ptr<Inode> created;
    int err = fs.inodes().Get(e.ino, &created);
    if (err == 0) err = PassthroughOps::SetCreatedMode(created->fd, *mode);
    if (err == 0 && host::fstat(created->fd, &e.attr) != 0) err = errno;
    if (err != 0) {
      fs.inodes().Forget(e.ino, 1);  // The lookup is not handed out.
      fuse_reply_err(req, err);
      return;
    }
  }
  fuse_reply_entry(req, &e);
}

}  // namespace

void PassthroughOps::Mknod(fuse_req_t req, fuse_ino_t parent_id,
                           const char* name, mode_t mode, dev_t rdev) {
  std::shared_ptr<Inode> parent;
  if (!PrepareNewNameOrReply(req, parent_id, name, &parent)) return;
  const mode_t type = mode & S_IFMT;
  if ((type == S_IFCHR || type == S_IFBLK) &&
      Fs(req).options().refuse_device_nodes) {
    return ReplyErrno(req, EPERM);
  }
  if (type != 0 && type != S_IFREG && type != S_IFIFO && type != S_IFSOCK &&
      type != S_IFCHR && type != S_IFBLK) {
    return ReplyErrno(req, EINVAL);
  }
  const mode_t permissions = RequestedMode(*fuse_req_ctx(req), mode);
  RequesterIds ids(req);
  const dev_t device = (type == S_IFCHR || type == S_IFBLK) ? rdev : 0;
  if (HostCallFails() ||
      host::mknodat(parent->fd, name, type | permissions, device) != 0) {
    return ReplyErrno(req, errno);
  }
  ReplyCreated(req, parent_id, *parent, name, permissions);
}

void PassthroughOps::Mkdir(fuse_req_t req, fuse_ino_t parent_id,
                           const char* name, mode_t mode) {
  std::shared_ptr<Inode> parent;
  if (!PrepareNewNameOrReply(req, parent_id, name, &parent)) return;
  const mode_t permissions = RequestedMode(*fuse_req_ctx(req), mode);
  RequesterIds ids(req);
  if (HostCallFails() || host::mkdirat(parent->fd, name, permissions) != 0) {
    return ReplyErrno(req, errno);
  }
  ReplyCreated(req, parent_id, *parent, name, permissions);
}

void PassthroughOps::Symlink(fuse_req_t req, const char* link,
                             fuse_ino_t parent_id, const char* name) {
  std::shared_ptr<Inode> parent;
  if (!PrepareNewNameOrReply(req, parent_id, name, &parent)) return;
  RequesterIds ids(req);
  // The target is stored as text and never resolved by the device.
  if (HostCallFails() || host::symlinkat(link, parent->fd, name) != 0) {
    return ReplyErrno(req, errno);
  }
  ReplyCreated(req, parent_id, *parent, name, std::nullopt);
}

void PassthroughOps::Link(fuse_req_t req, fuse_ino_t ino,
                          fuse_ino_t newparent_id, const char* newname) {
  std::shared_ptr<Inode> inode;
  if (!GetInode(req, ino, &inode)) return;
  std::shared_ptr<Inode> newparent;
  if (!PrepareNewNameOrReply(req, newparent_id, newname, &newparent)) return;
  if (host::linkat(inode->fd, "", newparent->fd, newname, AT_EMPTY_PATH) != 0) {
    // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; without it, link through the
    // descriptor's /proc entry, which is safe for an inode that is not a
    // symlink.
    if (errno != ENOENT || S_ISLNK(inode->type) ||
        host::linkat(AT_FDCWD, ProcPath(inode->fd).c_str(), newparent->fd,
                     newname, AT_SYMLINK_FOLLOW) != 0) {
      return ReplyErrno(req, errno);
    }
  }
  ReplyCreated(req, newparent_id, *newparent, newname, std::nullopt);
}

int PassthroughFs::Unlink(const fuse_ctx& requester, uint64_t parent_id,
                          const char* name) {
  std::shared_ptr<Inode> parent;
  if (int err = PassthroughOps::PrepareNewName(*this, requester, parent_id,
                                               name, &parent);
      err != 0) {
    return err;
  }
  return !HostCallFails() && host::unlinkat(parent->fd, name, 0) == 0 ? 0
                                                                      : errno;
}

void PassthroughOps::Unlink(fuse_req_t req, fuse_ino_t parent_id,
                            const char* name) {
  fuse_reply_err(req, Fs(req).Unlink(*fuse_req_ctx(req), parent_id, name));
}

void PassthroughOps::Rmdir(fuse_req_t req, fuse_ino_t parent_id,
                           const char* name) {
  std::shared_ptr<Inode> parent;
  if (!PrepareNewNameOrReply(req, parent_id, name, &parent)) return;
  fuse_reply_err(
      req, host::unlinkat(parent->fd, name, AT_REMOVEDIR) == 0 ? 0 : errno);
}

void PassthroughOps::Rename(fuse_req_t req, fuse_ino_t parent_id,
                            const char* name, fuse_ino_t newparent_id,
                            const char* newname, unsigned int flags) {
  std::shared_ptr<Inode> parent;
  if (!PrepareNewNameOrReply(req, parent_id, name, &parent)) return;
  std::shared_ptr<Inode> newparent;
  if (!PrepareNewNameOrReply(req, newparent_id, newname, &newparent)) return;
  // RENAME_WHITEOUT would create a device node; only the two portable flags
  // pass.
  if (flags & ~static_cast<unsigned int>(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
    return ReplyErrno(req, EINVAL);
  }
  const int res =
      HostCallFails()
          ? -1
          : host::renameat2(parent->fd, name, newparent->fd, newname, flags);
  fuse_reply_err(req, res == 0 ? 0 : errno);
}

}  // namespace sim
