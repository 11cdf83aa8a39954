// Handlers of open files and the data path.
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "sim/chain_io.h"
#include "sim/host_faults.h"
#include "sim/passthrough_ops.h"

namespace sim {
namespace {

// Open flags a driver may pass. O_CREAT/O_EXCL/O_NOCTTY/O_NOFOLLOW/O_CLOEXEC
// are dropped (the device decides how it opens). O_DIRECT reaches the host, as
// with virtiofsd: the guest's buffers must then be aligned as the host's
// filesystem wants them (EINVAL otherwise).
constexpr int kPassedOpenFlags = O_ACCMODE | O_APPEND | O_TRUNC | O_NONBLOCK |
                                 O_SYNC | O_DSYNC | O_NOATIME | O_LARGEFILE |
                                 O_DIRECT;

// 0 and the flags to open with, or the errno refusing `flags`.
int FilterOpenFlags(int flags, int* out) {
  if ((flags & O_ACCMODE) == O_ACCMODE) return EINVAL;
  if ((flags & O_PATH) || (flags & __O_TMPFILE) == __O_TMPFILE) return EINVAL;
  if (flags & O_DIRECTORY)
    return ENOTDIR;  // OPEN is for files; OPENDIR for directories
  *out = (flags & kPassedOpenFlags) | O_CLOEXEC;
  return 0;
}

// One host read or write at `off`: pread/pwrite for a single buffer, which
// the host does faster than the vector calls (no iovec to copy in).
ssize_t ReadAt(int fd, const iovec* v, int count, off_t off) {
  return count == 1 ? host::pread(fd, v->iov_base, v->iov_len, off)
                    : host::preadv(fd, v, count, off);
}
ssize_t WriteAt(int fd, const iovec* v, int count, off_t off) {
  return count == 1 ? host::pwrite(fd, v->iov_base, v->iov_len, off)
                    : host::pwritev(fd, v, count, off);
}

// ReadAt/WriteAt until `iov` is done, EOF or an error: the byte count or
// -errno. The iovecs are copied (to advance one) only when a call ends inside
// one: a READ or WRITE of a chain's buffers nearly always moves them all at
// once.
template <typename Op>
ssize_t TransferAll(Op op, std::span<const iovec> iov, off_t off) {
  if (HostCallFails()) return -errno;
  IoVecs advanced;  // What `iov` views once a call ended inside an iovec.
  size_t done = 0;
  while (!iov.empty()) {
    const ssize_t n =
        op(iov.data(), static_cast<int>(std::min<size_t>(iov.size(), IOV_MAX)),
           off + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return done > 0 ? static_cast<ssize_t>(done) : -errno;
    }
    if (n == 0) break;
    done += n;
    size_t left = n;
    while (!iov.empty() && left >= iov.front().iov_len) {
      left -= iov.front().iov_len;
      iov = iov.subspan(1);
    }
    if (left > 0) {
      // A new vector: `iov` may already view `advanced`.
      IoVecs rest(iov.begin(), iov.end());
      rest[0].iov_base = static_cast<char*>(rest[0].iov_base) + left;
      rest[0].iov_len -= left;
      advanced = std::move(rest);
      iov = advanced;
    }
  }
  return static_cast<ssize_t>(done);
}

// What the driver is told of a file just opened: how it may cache the file's
// data (PassthroughOptions::data_caching), and FOPEN_NOFLUSH where a FLUSH
// would do nothing. The device holds no host locks, so FLUSH only reports
// delayed write errors, which a file not open for writing, or on a filesystem
// whose close reports nothing, never has (PassthroughFs::FlushCanFail).
void SetOpenFlags(const PassthroughOptions& options, bool flush_can_fail,
                  fuse_file_info* fi) {
  fi->keep_cache = options.data_caching == DataCaching::kAlways;
  fi->direct_io = options.data_caching == DataCaching::kNever;
  fi->noflush = !flush_can_fail;
}

}  // namespace

int PassthroughFs::Open(uint64_t nodeid, fuse_file_info* fi) {
  std::shared_ptr<Inode> inode;
  if (int err = inodes_.Get(nodeid, &inode); err != 0) return err;
  int flags;
  if (int err = FilterOpenFlags(fi->flags, &flags); err != 0) return err;
  switch (inode->type) {
    case S_IFREG:
      break;
    case S_IFIFO:
      flags |=
          O_NONBLOCK;  // a device thread never waits for a fifo's other end
      break;
    case S_IFDIR:
      return EISDIR;
    case S_IFLNK:
      return ELOOP;  // as open(O_NOFOLLOW) would
    case S_IFSOCK:
      return ENXIO;
    default:
      return EPERM;  // device nodes are not opened for the driver
  }
  const int fd = reopener().Open(*inode, flags);
  if (fd < 0) return errno;
  const bool flush_can_fail = FlushCanFail(inode->dev, flags);
  fi->fh = AddFile(std::make_shared<OpenHostFile>(
      fd, nodeid, /*is_dir=*/false, flush_can_fail,
      CloseLater(inode->type, flags)));
  SetOpenFlags(options_, flush_can_fail, fi);
  return 0;
}

void PassthroughOps::Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  if (int err = Fs(req).Open(ino, fi); err != 0) return ReplyErrno(req, err);
  fuse_reply_open(req, fi);
}

int PassthroughFs::Create(const fuse_ctx& requester, uint64_t parent_id,
                          const char* name, mode_t mode, fuse_file_info* fi,
                          fuse_entry_param* e) {
  std::shared_ptr<Inode> parent;
  if (int err = PassthroughOps::PrepareNewName(*this, requester, parent_id,
                                               name, &parent);
      err != 0) {
    return err;
  }
  if ((mode & S_IFMT) != 0 && (mode & S_IFMT) != S_IFREG) return EINVAL;
  int flags;
  if (int err = FilterOpenFlags(fi->flags, &flags); err != 0) return err;
  flags |= O_NOFOLLOW | O_NONBLOCK;
  const mode_t permissions = PassthroughOps::RequestedMode(requester, mode);
  RequesterIds ids(requester);
  // O_EXCL first, to know whether the file is new: only a new file is given
  // the requested permission bits.
  int fd = HostCallFails()
               ? -1
               : host::openat(parent->fd, name, flags | O_CREAT | O_EXCL,
                              permissions);
  const bool created = fd >= 0;
  if (!created && errno == EEXIST && !(fi->flags & O_EXCL)) {
    fd = host::openat(parent->fd, name, flags);
  }
  if (fd < 0) return errno;
  struct stat st;
  int err = host::fstat(fd, &st) == 0 ? 0 : errno;
  // An existing non-regular file (fifo, device node) is not opened through
  // CREATE.
  if (err == 0 && !S_ISREG(st.st_mode)) err = EEXIST;
  if (err == 0 && created && (st.st_mode & 07777) != permissions) {
    err = host::fchmod(fd, permissions) == 0 && host::fstat(fd, &st) == 0
              ? 0
              : errno;
  }
  if (err != 0) {
    host::close(fd);
    return err;
  }
  const int path_fd = reopener().OpenPath(*parent, name, fd, st);
  if (path_fd < 0) {
    err = errno;
    host::close(fd);
    return err;
  }
  const uint64_t nodeid = inodes_.Ref(path_fd, st);
  PassthroughOps::FillEntry(*this, nodeid, st, e);
  const bool flush_can_fail = FlushCanFail(st.st_dev, flags);
  fi->fh = AddFile(std::make_shared<OpenHostFile>(fd, nodeid, /*is_dir=*/false,
                                                  flush_can_fail,
                                                  CloseLater(S_IFREG, flags)));
  SetOpenFlags(options_, flush_can_fail, fi);
  return 0;
}

void PassthroughOps::Create(fuse_req_t req, fuse_ino_t parent_id,
                            const char* name, mode_t mode, fuse_file_info* fi) {
  fuse_entry_param e;
  if (int err =
          Fs(req).Create(*fuse_req_ctx(req), parent_id, name, mode, fi, &e);
      err != 0) {
    return ReplyErrno(req, err);
  }
  fuse_reply_create(req, &e, fi);
}

void PassthroughOps::Read(fuse_req_t req, fuse_ino_t ino, size_t size,
                          off_t off, fuse_file_info* fi) {
  // Reached on a session over /dev/fuse; FuseServer runs READ itself
  // (PassthroughFs::ReadInto).
  std::shared_ptr<OpenHostFile> file;
  if (!GetOpenFile(req, ino, fi, /*want_dir=*/false, &file)) return;
  if (size > Fs(req).options().max_write || off < 0)
    return ReplyErrno(req, EINVAL);
  // Left uninitialised: only the `n` bytes read are replied.
  std::unique_ptr<char[]> buf = std::make_unique_for_overwrite<char[]>(size);
  const iovec whole{buf.get(), size};
  const ssize_t n = TransferAll(
      [&](const iovec* v, int c, off_t o) { return ReadAt(file->fd, v, c, o); },
      {&whole, 1}, off);
  if (n < 0) return ReplyErrno(req, static_cast<int>(-n));
  fuse_reply_buf(req, buf.get(), n);
}

void PassthroughOps::WriteBuf(fuse_req_t req, fuse_ino_t ino, fuse_bufvec* bufv,
                              off_t off, fuse_file_info* fi) {
  std::shared_ptr<OpenHostFile> file;
  if (!GetOpenFile(req, ino, fi, /*want_dir=*/false, &file)) return;
  if (off < 0) return ReplyErrno(req, EINVAL);
  // The payload is in memory (the device never splices): written with the
  // counted host calls, as a direct WRITE's is.
  IoVecs from;
  for (size_t i = bufv->idx; i < bufv->count; ++i) {
    const fuse_buf& buf = bufv->buf[i];
    if (buf.flags & FUSE_BUF_IS_FD) return ReplyErrno(req, EIO);
    const size_t skip = i == bufv->idx ? bufv->off : 0;
    if (buf.size > skip) {
      from.push_back({static_cast<char*>(buf.mem) + skip, buf.size - skip});
    }
  }
  const ssize_t n =
      TransferAll([&](const iovec* v, int c,
                      off_t o) { return WriteAt(file->fd, v, c, o); },
                  from, off);
  if (n < 0) return ReplyErrno(req, static_cast<int>(-n));
  Fs(req).data_path_.write_bytes_from_copy += n;
  fuse_reply_write(req, n);
}

void PassthroughOps::Flush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  std::shared_ptr<OpenHostFile> file;
  if (!GetOpenFile(req, ino, fi, /*want_dir=*/false, &file)) return;
  // Closing a duplicate reports delayed write errors without closing the
  // handle. A handle not open for writing has none (NFS skips the flush of
  // one too), nor has one on a filesystem whose close reports nothing; and
  // the device holds no host locks for a close to release.
  if (!file->flush_can_fail) {
    fuse_reply_err(req, 0);
    return;
  }
  const int dup_fd = host::dup(file->fd);
  if (dup_fd < 0) return ReplyErrno(req, errno);
  fuse_reply_err(req, host::close(dup_fd) == 0 ? 0 : errno);
}

int PassthroughFs::Release(uint64_t nodeid, uint64_t fh) {
  std::shared_ptr<OpenHostFile> file;
  if (ResolveFile(nodeid, fh, /*want_dir=*/false, &file) != 0) return EBADF;
  RemoveFile(fh);
  return 0;
}

void PassthroughOps::Release(fuse_req_t req, fuse_ino_t ino,
                             fuse_file_info* fi) {
  fuse_reply_err(req, Fs(req).Release(ino, fi->fh));
}

void PassthroughOps::Fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
                           fuse_file_info* fi) {
  std::shared_ptr<OpenHostFile> file;
  if (!GetOpenFile(req, ino, fi, /*want_dir=*/false, &file)) return;
  const int res = HostCallFails() ? -1
                  : datasync      ? host::fdatasync(file->fd)
                                  : host::fsync(file->fd);
  fuse_reply_err(req, res == 0 ? 0 : errno);
}

void PassthroughOps::Lseek(fuse_req_t req, fuse_ino_t ino, off_t off,
                           int whence, fuse_file_info* fi) {
  std::shared_ptr<OpenHostFile> file;
  if (!GetOpenFile(req, ino, fi, /*want_dir=*/false, &file)) return;
  const off_t res = host::lseek(file->fd, off, whence);
  if (res < 0) return ReplyErrno(req, errno);
  fuse_reply_lseek(req, res);
}

void PassthroughOps::Fallocate(fuse_req_t req, fuse_ino_t ino, int mode,
                               off_t offset, off_t length, fuse_file_info* fi) {
  std::shared_ptr<OpenHostFile> file;
  if (!GetOpenFile(req, ino, fi, /*want_dir=*/false, &file)) return;
  fuse_reply_err(
      req, host::fallocate(file->fd, mode, offset, length) == 0 ? 0 : errno);
}

void PassthroughOps::CopyFileRange(fuse_req_t req, fuse_ino_t ino_in,
                                   off_t off_in, fuse_file_info* fi_in,
                                   fuse_ino_t ino_out, off_t off_out,
                                   fuse_file_info* fi_out, size_t len,
                                   int flags) {
  std::shared_ptr<OpenHostFile> in;
  if (!GetOpenFile(req, ino_in, fi_in, /*want_dir=*/false, &in)) return;
  std::shared_ptr<OpenHostFile> out;
  if (!GetOpenFile(req, ino_out, fi_out, /*want_dir=*/false, &out)) return;
  loff_t in_pos = off_in;
  loff_t out_pos = off_out;
  const ssize_t n =
      host::copy_file_range(in->fd, &in_pos, out->fd, &out_pos, len, flags);
  if (n < 0) return ReplyErrno(req, errno);
  fuse_reply_write(req, n);
}

void PassthroughOps::Poll(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi,
                          fuse_pollhandle* ph) {
  // The device never sends poll notifications: it answers the current
  // readiness.
  if (ph != nullptr) fuse_pollhandle_destroy(ph);
  std::shared_ptr<OpenHostFile> file;
  if (!GetOpenFile(req, ino, fi, /*want_dir=*/false, &file)) return;
  pollfd p{file->fd,
           static_cast<short>(fi->poll_events ? fi->poll_events
                                              : (POLLIN | POLLOUT)),
           0};
  if (host::poll(&p, 1, 0) < 0) return ReplyErrno(req, errno);
  fuse_reply_poll(req, p.revents);
}

ssize_t PassthroughFs::ReadInto(uint64_t nodeid, uint64_t fh, int64_t offset,
                                uint32_t size, std::span<const iovec> into) {
  std::shared_ptr<OpenHostFile> file;
  if (ResolveFile(nodeid, fh, /*want_dir=*/false, &file) != 0) return -EBADF;
  if (size > options_.max_write || offset < 0) return -EINVAL;
  const ssize_t n = TransferAll(
      [&](const iovec* v, int c, off_t o) { return ReadAt(file->fd, v, c, o); },
      into, offset);
  if (n > 0) data_path_.read_bytes_direct += n;
  return n;
}

ssize_t PassthroughFs::WriteFrom(uint64_t nodeid, uint64_t fh, int64_t offset,
                                 std::span<const iovec> from) {
  std::shared_ptr<OpenHostFile> file;
  if (ResolveFile(nodeid, fh, /*want_dir=*/false, &file) != 0) return -EBADF;
  if (offset < 0) return -EINVAL;
  const ssize_t n =
      TransferAll([&](const iovec* v, int c,
                      off_t o) { return WriteAt(file->fd, v, c, o); },
                  from, offset);
  if (n > 0) data_path_.write_bytes_direct += n;
  return n;
}

}  // namespace sim
