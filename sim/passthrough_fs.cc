#include "sim/passthrough_fs.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "sim/host_faults.h"
#include "sim/passthrough_ops.h"

namespace sim {
namespace {

// The LOOKUPs in a row that found new inodes after which a directory's names
// are opened first (PassthroughOps::DoLookup, Inode::new_lookups_in_a_row).
constexpr uint8_t kNewLookupsToOpenFirst = 2;

// Walks ".." from a directory until the share root (inside) or the host's "/"
// (outside).
bool IsInsideShare(int dir_fd, const Inode& root) {
  int cur = host::dup(dir_fd);
  if (cur < 0) return false;
  for (int depth = 0; depth < 4096; ++depth) {
    struct stat st;
    if (host::fstatat(cur, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
      break;
    if (st.st_dev == root.dev && st.st_ino == root.ino) {
      host::close(cur);
      return true;
    }
    const int up = host::openat(cur, "..", O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (up < 0) break;
    struct stat up_st;
    const bool at_top = host::fstatat(up, "", &up_st, AT_EMPTY_PATH) == 0 &&
                        up_st.st_dev == st.st_dev && up_st.st_ino == st.st_ino;
    host::close(cur);
    cur = up;
    if (at_top) break;
  }
  host::close(cur);
  return false;
}

int StatFd(int fd, struct stat* st) {
  return host::fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0
             ? 0
             : errno;
}

}  // namespace

OpenHostFile::~OpenHostFile() {
  if (close_later != nullptr) {
    close_later->Close(fd);
  } else {
    host::close(fd);
  }
}

absl::StatusOr<std::unique_ptr<PassthroughFs>> PassthroughFs::Create(
    const PassthroughOptions& options) {
  const int fd =
      host::open(options.share_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("open share ", options.share_dir));
  }
  struct stat st;
  if (StatFd(fd, &st) != 0) {
    const int err = errno;
    host::close(fd);
    return absl::ErrnoToStatus(err, "stat share");
  }
  struct statfs root_fs;
  const bool root_close_reports_nothing =
      host::fstatfs(fd, &root_fs) == 0 && CloseReportsNothing(root_fs.f_type);
  absl::StatusOr<std::unique_ptr<InodeReopener>> reopener =
      InodeReopener::Create(fd);
  if (!reopener.ok()) {
    host::close(fd);
    return reopener.status();
  }
  return std::unique_ptr<PassthroughFs>(
      new PassthroughFs(options, fd, st, root_close_reports_nothing,
                        std::move(reopener).value()));
}

PassthroughFs::PassthroughFs(const PassthroughOptions& options, int root_fd,
                             const struct stat& root_stat,
                             bool root_close_reports_nothing,
                             std::unique_ptr<InodeReopener> reopener)
    : options_(options),
      inodes_(root_fd, root_stat),
      root_dev_(root_stat.st_dev),
      root_close_reports_nothing_(root_close_reports_nothing),
      reopener_(std::move(reopener)) {}

bool PassthroughFs::CloseReportsNothing(int64_t statfs_type) {
  switch (statfs_type) {
    case TMPFS_MAGIC:
    case EXT4_SUPER_MAGIC:  // ext2 and ext3 too
      return true;
    default:
      return false;
  }
}

PassthroughFs::~PassthroughFs() = default;

size_t PassthroughFs::open_file_count() const { return files_.size(); }

void PassthroughFs::ReleaseAll() {
  files_.RemoveAll();  // Closed here, once the tables' locks are released.
  deferred_closes_.Flush();
  inodes_.Clear();
}

int PassthroughFs::GetFile(uint64_t fh,
                           std::shared_ptr<OpenHostFile>* out) const {
  return files_.Get(fh, out) == 0 ? 0 : EBADF;
}

int PassthroughFs::ResolveFile(uint64_t nodeid, uint64_t fh, bool want_dir,
                               std::shared_ptr<OpenHostFile>* out) const {
  if (GetFile(fh, out) != 0 || (*out)->nodeid != nodeid ||
      (*out)->is_dir != want_dir) {
    return EBADF;
  }
  return 0;
}

uint64_t PassthroughFs::AddFile(std::shared_ptr<OpenHostFile> file) {
  return files_.Insert(std::move(file));
}

std::shared_ptr<OpenHostFile> PassthroughFs::RemoveFile(uint64_t fh) {
  return files_.Remove(fh);
}

const struct fuse_lowlevel_ops& PassthroughFs::Ops() {
  static const struct fuse_lowlevel_ops ops = [] {
    struct fuse_lowlevel_ops o;
    memset(&o, 0, sizeof(o));
    o.init = PassthroughOps::Init;
    o.destroy = PassthroughOps::Destroy;
    o.lookup = PassthroughOps::Lookup;
    o.forget = PassthroughOps::Forget;
    o.forget_multi = PassthroughOps::ForgetMulti;
    o.getattr = PassthroughOps::Getattr;
    o.setattr = PassthroughOps::Setattr;
    o.readlink = PassthroughOps::Readlink;
    o.mknod = PassthroughOps::Mknod;
    o.mkdir = PassthroughOps::Mkdir;
    o.symlink = PassthroughOps::Symlink;
    o.link = PassthroughOps::Link;
    o.unlink = PassthroughOps::Unlink;
    o.rmdir = PassthroughOps::Rmdir;
    o.rename = PassthroughOps::Rename;
    o.statfs = PassthroughOps::Statfs;
    o.access = PassthroughOps::Access;
    o.open = PassthroughOps::Open;
    o.create = PassthroughOps::Create;
    o.read = PassthroughOps::Read;
    o.write_buf = PassthroughOps::WriteBuf;
    o.flush = PassthroughOps::Flush;
    o.release = PassthroughOps::Release;
    o.fsync = PassthroughOps::Fsync;
    o.lseek = PassthroughOps::Lseek;
    o.fallocate = PassthroughOps::Fallocate;
    o.copy_file_range = PassthroughOps::CopyFileRange;
    o.poll = PassthroughOps::Poll;
    o.opendir = PassthroughOps::Opendir;
    o.readdir = PassthroughOps::Readdir;
    o.readdirplus = PassthroughOps::Readdirplus;
    o.releasedir = PassthroughOps::Releasedir;
    o.fsyncdir = PassthroughOps::Fsyncdir;
    o.setxattr = PassthroughOps::Setxattr;
    o.getxattr = PassthroughOps::Getxattr;
    o.listxattr = PassthroughOps::Listxattr;
    o.removexattr = PassthroughOps::Removexattr;
    return o;
  }();
  return ops;
}

// ---- helpers ----

RequesterIds::RequesterIds(const fuse_ctx& requester) {
  // Only a device running as root can take other ids; a root requester needs
  // none.
  static const bool can_switch = geteuid() == 0;
  if (!can_switch || (requester.uid == 0 && requester.gid == 0)) return;
  old_gid_ = static_cast<gid_t>(setfsgid(requester.gid));
  old_uid_ = static_cast<uid_t>(setfsuid(requester.uid));
  switched_ = true;
}

RequesterIds::~RequesterIds() {
  if (!switched_) return;
  // The uid first: back at 0 the thread has its capabilities again.
  setfsuid(old_uid_);
  setfsgid(old_gid_);
}

int PassthroughOps::SetCreatedMode(int fd, mode_t mode) {
  struct stat st;
  if (host::fstat(fd, &st) != 0) return errno;
  mode_t want = mode & 07777;
  if (S_ISDIR(st.st_mode)) want |= st.st_mode & S_ISGID;
  if ((st.st_mode & 07777) == want) return 0;
  return host::chmod(ProcPath(fd).c_str(), want) == 0 ? 0 : errno;
}

int PassthroughOps::CheckRequester(const fuse_ctx& requester) {
  constexpr uid_t kNoUid = static_cast<uid_t>(-1);
  constexpr gid_t kNoGid = static_cast<gid_t>(-1);
  return requester.uid == kNoUid || requester.gid == kNoGid ? EINVAL : 0;
}

int PassthroughOps::PrepareNewName(PassthroughFs& fs, const fuse_ctx& requester,
                                   fuse_ino_t parent_id, const char* name,
                                   std::shared_ptr<Inode>* parent) {
  if (int err = fs.inodes().Get(parent_id, parent); err != 0) return err;
  if (int err = CheckNewName(name); err != 0) return err;
  return CheckRequester(requester);
}

int PassthroughOps::CheckNewName(const char* name) {
  const size_t len = strnlen(name, NAME_MAX + 1);
  if (len == 0 || strchr(name, '/') != nullptr) return EINVAL;
  if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return EINVAL;
  if (len > NAME_MAX) return ENAMETOOLONG;
  return 0;
}

std::string PassthroughOps::ProcPath(int fd) {
  return absl::StrCat("/proc/self/fd/", fd);
}

bool PassthroughOps::GetInode(fuse_req_t req, fuse_ino_t ino,
                              std::shared_ptr<Inode>* out) {
  if (int err = Fs(req).inodes().Get(ino, out); err != 0) {
    fuse_reply_err(req, err);
    return false;
  }
  return true;
}

bool PassthroughOps::GetOpenFile(fuse_req_t req, fuse_ino_t ino,
                                 const fuse_file_info* fi, bool want_dir,
                                 std::shared_ptr<OpenHostFile>* out) {
  if (fi == nullptr || Fs(req).ResolveFile(ino, fi->fh, want_dir, out) != 0) {
    fuse_reply_err(req, EBADF);
    return false;
  }
  return true;
}

void PassthroughOps::FillEntry(PassthroughFs& fs, uint64_t nodeid,
                               const struct stat& st, fuse_entry_param* e) {
  memset(e, 0, sizeof(*e));
  e->ino = nodeid;
  e->generation = nodeid >> 32;
  e->attr = st;
  e->attr_timeout = fs.options().attr_timeout;
  e->entry_timeout = fs.options().entry_timeout;
}

int PassthroughOps::DoLookup(PassthroughFs& fs, fuse_ino_t parent_id,
                             const Inode& parent, const char* name,
                             fuse_entry_param* e) {
  const bool dot = strcmp(name, ".") == 0;
  const bool dotdot = strcmp(name, "..") == 0;
  if (!dot && !dotdot) {
    if (int err = CheckNewName(name); err != 0) return err;
  }
  if (!S_ISDIR(parent.type)) return ENOTDIR;
  const Inode& root = *fs.inodes().root();
  if (dot || (dotdot && parent_id == InodeTable::kRootId)) {
    // The directory itself (".." of the root stays at the root).
    const uint64_t id = dot ? parent_id : InodeTable::kRootId;
    const Inode& self = dot ? parent : root;
    struct stat st;
    if (int err = StatFd(self.fd, &st); err != 0) return err;
    if (int err = fs.inodes().RefExisting(id); err != 0) return err;
    FillEntry(fs, id, st, e);
    return 0;
  }
  struct stat st;
  // Most names asked for are of inodes the table holds already (a READDIRPLUS
  // listing, a lookup after the driver's cache expired): a stat by name finds
  // those without opening a descriptor only to close it. A new inode needs
  // its descriptor, and after a stat by name three calls (fstatat, openat,
  // fstat of the descriptor: what it opened may not be what was stat'ed): in
  // a directory whose last two lookups found new inodes (a first walk through
  // a tree), the name is opened first, two calls for a new inode and three
  // for a known one.
  const uint8_t new_in_a_row =
      parent.new_lookups_in_a_row.load(std::memory_order_relaxed);
  const bool open_first = dotdot || new_in_a_row >= kNewLookupsToOpenFirst;
  // Counts what this lookup found (".." is not counted).
  auto note_found = [&](bool found_new) {
    const uint8_t now =
        found_new ? std::min<int>(new_in_a_row + 1, kNewLookupsToOpenFirst) : 0;
    if (now != new_in_a_row) {
      parent.new_lookups_in_a_row.store(now, std::memory_order_relaxed);
    }
  };
  if (!open_first) {
    if (host::fstatat(parent.fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return errno;
    }
    if (const uint64_t known = fs.inodes().RefKnown(st); known != 0) {
      note_found(false);
      FillEntry(fs, known, st, e);
      return 0;
    }
  }
  const int fd = host::openat(parent.fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errno;
  if (dotdot && !IsInsideShare(fd, root)) {
    host::close(fd);
    return EACCES;
  }
  if (int err = StatFd(fd, &st); err != 0) {
    host::close(fd);
    return err;
  }
  bool added = false;
  FillEntry(fs, fs.inodes().Ref(fd, st, &added), st, e);
  if (!dotdot) note_found(added);
  return 0;
}

// ---- handlers ----

void PassthroughOps::Init(void* userdata, fuse_conn_info* conn) {
  auto* fs = static_cast<PassthroughFs*>(userdata);
  fs->proto_minor_.store(conn->proto_minor, std::memory_order_release);
  conn->max_write = fs->options().max_write;
  // Replies and requests move through guest memory, never through splice pipes,
  // and the device does not implement writeback caching.
  conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
                  FUSE_CAP_SPLICE_MOVE | FUSE_CAP_WRITEBACK_CACHE);
  // A client that offers it leaves the umask to the device
  // (PassthroughOps::RequestedMode).
  if (conn->capable & FUSE_CAP_DONT_MASK) conn->want |= FUSE_CAP_DONT_MASK;
}

void PassthroughOps::Destroy(void* userdata) {
  auto* fs = static_cast<PassthroughFs*>(userdata);
  fs->proto_minor_.store(0, std::memory_order_release);
  fs->ReleaseAll();
}

int PassthroughFs::Lookup(uint64_t parent_id, const char* name,
                          fuse_entry_param* e) {
  std::shared_ptr<Inode> parent;
  if (int err = inodes_.Get(parent_id, &parent); err != 0) return err;
  return PassthroughOps::DoLookup(*this, parent_id, *parent, name, e);
}

void PassthroughOps::Lookup(fuse_req_t req, fuse_ino_t parent_id,
                            const char* name) {
  fuse_entry_param e;
  if (int err = Fs(req).Lookup(parent_id, name, &e); err != 0) {
    fuse_reply_err(req, err);
    return;
  }
  fuse_reply_entry(req, &e);
}

void PassthroughFs::Forget(std::span<const fuse_forget_one> forgets) {
  InodeTable::FreedInodes freed;
  for (const fuse_forget_one& forget : forgets) {
    inodes_.Forget(forget.nodeid, forget.nlookup, &freed);
  }
}

void PassthroughOps::Forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  const fuse_forget_one forget{ino, nlookup};
  Fs(req).Forget({&forget, 1});
  fuse_reply_none(req);
}

void PassthroughOps::ForgetMulti(fuse_req_t req, size_t count,
                                 fuse_forget_data* forgets) {
  // libfuse hands the request's fuse_forget_one array over as it is.
  static_assert(sizeof(fuse_forget_data) == sizeof(fuse_forget_one));
  Fs(req).Forget({reinterpret_cast<const fuse_forget_one*>(forgets), count});
  fuse_reply_none(req);
}

int PassthroughFs::Getattr(uint64_t nodeid, const uint64_t* fh,
                           struct stat* st) {
  std::shared_ptr<Inode> inode;
  if (int err = inodes_.Get(nodeid, &inode); err != 0) return err;
  int fd = inode->fd;
  std::shared_ptr<OpenHostFile> file;
  if (fh != nullptr) {
    if (ResolveFile(nodeid, *fh, S_ISDIR(inode->type), &file) != 0) {
      return EBADF;
    }
    fd = file->fd;
  }
  return StatFd(fd, st);
}

void PassthroughOps::Getattr(fuse_req_t req, fuse_ino_t ino,
                             fuse_file_info* fi) {
  struct stat st;
  if (int err = Fs(req).Getattr(ino, fi != nullptr ? &fi->fh : nullptr, &st);
      err != 0) {
    fuse_reply_err(req, err);
    return;
  }
  fuse_reply_attr(req, &st, Fs(req).options().attr_timeout);
}

void PassthroughOps::Setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr,
                             int valid, fuse_file_info* fi) {
  std::shared_ptr<Inode> inode;
  if (!GetInode(req, ino, &inode)) return;
  std::shared_ptr<OpenHostFile> file;
  if (fi != nullptr && !GetOpenFile(req, ino, fi, S_ISDIR(inode->type), &file))
    return;
  const bool is_link = S_ISLNK(inode->type);
  int res = 0;
  if (valid & FUSE_SET_ATTR_MODE) {
    if (file != nullptr) {
      res = host::fchmod(file->fd, attr->st_mode & 07777);
    } else if (is_link) {
      errno = EOPNOTSUPP;  // Linux has no mode on symlinks
      res = -1;
    } else {
      res = host::chmod(ProcPath(inode->fd).c_str(), attr->st_mode & 07777);
    }
    if (res != 0) return ReplyErrno(req, errno);
  }
  if (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
    const uid_t uid =
        (valid & FUSE_SET_ATTR_UID) ? attr->st_uid : static_cast<uid_t>(-1);
    const gid_t gid =
        (valid & FUSE_SET_ATTR_GID) ? attr->st_gid : static_cast<gid_t>(-1);
    if (host::fchownat(inode->fd, "", uid, gid,
                       AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
      return ReplyErrno(req, errno);
    }
  }
  if (valid & FUSE_SET_ATTR_SIZE) {
    if (file != nullptr) {
      res = HostCallFails() ? -1 : host::ftruncate(file->fd, attr->st_size);
    } else if (!S_ISREG(inode->type)) {
      errno = S_ISDIR(inode->type) ? EISDIR : EINVAL;
      res = -1;
    } else {
      res = HostCallFails()
                ? -1
                : host::truncate(ProcPath(inode->fd).c_str(), attr->st_size);
    }
    if (res != 0) return ReplyErrno(req, errno);
  }
  if (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
    struct timespec tv[2];
    tv[0].tv_sec = 0;
    tv[0].tv_nsec = UTIME_OMIT;
    tv[1] = tv[0];
    if (valid & FUSE_SET_ATTR_ATIME_NOW) {
      tv[0].tv_nsec = UTIME_NOW;
    } else if (valid & FUSE_SET_ATTR_ATIME) {
      tv[0] = attr->st_atim;
    }
    if (valid & FUSE_SET_ATTR_MTIME_NOW) {
      tv[1].tv_nsec = UTIME_NOW;
    } else if (valid & FUSE_SET_ATTR_MTIME) {
      tv[1] = attr->st_mtim;
    }
    res = file != nullptr
              ? host::futimens(file->fd, tv)
              : host::utimensat(inode->fd, "", tv,
                                AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
    if (res != 0) return ReplyErrno(req, errno);
  }
  struct stat st;
  if (int err = StatFd(inode->fd, &st); err != 0) return ReplyErrno(req, err);
  fuse_reply_attr(req, &st, Fs(req).options().attr_timeout);
}

void PassthroughOps::Readlink(fuse_req_t req, fuse_ino_t ino) {
  std::shared_ptr<Inode> inode;
  if (!GetInode(req, ino, &inode)) return;
  // readlinkat(fd, "") answers ENOENT for a non-symlink; readlink(2) answers
  // EINVAL.
  if (!S_ISLNK(inode->type)) return ReplyErrno(req, EINVAL);
  char buf[PATH_MAX + 1];
  const ssize_t n = host::readlinkat(inode->fd, "", buf, sizeof(buf));
  if (n < 0) return ReplyErrno(req, errno);
  if (static_cast<size_t>(n) == sizeof(buf))
    return ReplyErrno(req, ENAMETOOLONG);
  buf[n] = '\0';
  fuse_reply_readlink(req, buf);
}

void PassthroughOps::Statfs(fuse_req_t req, fuse_ino_t ino) {
  std::shared_ptr<Inode> inode;
  if (!GetInode(req, ino, &inode)) return;
  // A released descriptor of a deleted file still holds its blocks.
  Fs(req).FlushDeferredCloses();
  struct statvfs sv;
  if (host::fstatvfs(inode->fd, &sv) != 0) return ReplyErrno(req, errno);
  fuse_reply_statfs(req, &sv);
}

void PassthroughOps::Access(fuse_req_t req, fuse_ino_t ino, int mask) {
  std::shared_ptr<Inode> inode;
  if (!GetInode(req, ino, &inode)) return;
  const int res =
      host::faccessat(inode->fd, "", mask, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
  fuse_reply_err(req, res == 0 ? 0 : errno);
}

}  // namespace sim
