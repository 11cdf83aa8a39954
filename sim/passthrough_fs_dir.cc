// Handlers of directory handles.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

#include "sim/passthrough_ops.h"

namespace sim {
namespace {

bool IsDotOrDotDot(const char* name) {
  return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

// One directory entry as the reply loop sees it; `name` points into the
// stream's buffer or into the handle's pending entry.
struct DirEntryView {
  ino_t ino;
  off_t next_offset;
  unsigned char type;
  const char* name;
};

}  // namespace

int PassthroughFs::ReadDir(uint64_t nodeid, uint64_t fh, std::span<char> out,
                           int64_t offset, bool plus, DirentEncoder encode,
                           size_t* used) {
  *used = 0;
  std::shared_ptr<OpenHostFile> file;
  if (ResolveFile(nodeid, fh, /*want_dir=*/true, &file) != 0) return EBADF;
  std::shared_ptr<Inode> dir_inode;
  if (int err = inodes_.Get(nodeid, &dir_inode); err != 0) return err;
  const size_t size = out.size();
  int err = 0;
  {
    std::lock_guard<std::mutex> lock(file->mu);
    if (offset != file->offset) {
      file->dir.Seek(file->fd, offset);
      file->offset = offset;
      file->pending.reset();
    }
    // Taken out of the handle for this reply; put back if it does not fit.
    std::optional<OpenHostFile::PendingDirEntry> resumed =
        std::move(file->pending);
    file->pending.reset();
    while (true) {
      DirEntryView entry;
      if (resumed.has_value()) {
        entry = {resumed->ino, resumed->next_offset, resumed->type,
                 resumed->name.c_str()};
      } else {
        const dirent64* next = file->dir.Next(file->fd);
        if (next == nullptr) {
          err = errno;
          break;
        }
        entry = {next->d_ino, next->d_off, next->d_type, next->d_name};
      }
      // Keeps the entry for the next READDIR at file->offset.
      auto keep_pending = [&] {
        if (resumed.has_value()) {
          file->pending = std::move(resumed);
        } else {
          file->pending = OpenHostFile::PendingDirEntry{
              entry.ino, entry.next_offset, entry.type, entry.name};
        }
      };
      // A plain record reads only the inode number and the type
      // (DirentEncoder); the rest of a READDIRPLUS entry is zero unless a
      // lookup fills it.
      fuse_entry_param e;
      if (plus) memset(&e, 0, sizeof(e));
      e.attr.st_ino = entry.ino;
      e.attr.st_mode = DTTOIF(entry.type);
      // The root's ".." lies outside the share: describe it as the root itself.
      if (nodeid == InodeTable::kRootId && strcmp(entry.name, "..") == 0) {
        e.attr.st_ino = inodes_.root()->ino;
      }
      // Every entry but "." and ".." is looked up (the driver will FORGET
      // it), once its record is known to fit; any other record is written at
      // once, or nothing when it does not fit.
      const bool lookup = plus && !IsDotOrDotDot(entry.name);
      const size_t len = lookup ? encode(nullptr, 0, entry.name, e, 0)
                                : encode(out.data() + *used, size - *used,
                                         entry.name, e, entry.next_offset);
      if (*used + len > size) {  // this entry goes in the next reply
        keep_pending();
        break;
      }
      if (lookup) {
        const int lookup_err =
            PassthroughOps::DoLookup(*this, nodeid, *dir_inode, entry.name, &e);
        if (lookup_err == ENOENT) {  // removed since readdir saw it
          file->offset = entry.next_offset;
          resumed.reset();
          continue;
        }
        if (lookup_err != 0) {  // the next READDIR tries this entry again
          err = lookup_err;
          keep_pending();
          break;
        }
        encode(out.data() + *used, size - *used, entry.name, e,
               entry.next_offset);
      }
      *used += len;
      file->offset = entry.next_offset;
      resumed.reset();
    }
  }
  // An error after some entries still returns those entries.
  return *used == 0 ? err : 0;
}

const dirent64* HostDirStream::Next(int fd) {
  if (position_ == end_) {
    if (at_end_) {
      errno = 0;
      return nullptr;
    }
    // Left uninitialised: only what getdents64 wrote is read.
    if (buffer_ == nullptr) {
      buffer_ = std::make_unique_for_overwrite<char[]>(kBufferBytes);
    }
    const ssize_t n = host::getdents64(fd, buffer_.get(), kBufferBytes);
    if (n <= 0) {
      at_end_ = n == 0;
      errno = n == 0 ? 0 : errno;
      return nullptr;
    }
    position_ = 0;
    end_ = static_cast<size_t>(n);
  }
  const auto* entry =
      reinterpret_cast<const dirent64*>(buffer_.get() + position_);
  position_ += entry->d_reclen;
  return entry;
}

void HostDirStream::Seek(int fd, off_t offset) {
  // An error shows at the next read: getdents64 fails on a bad position.
  host::lseek(fd, offset, SEEK_SET);
  position_ = end_ = 0;
  at_end_ = false;
}

int PassthroughFs::Opendir(uint64_t nodeid, fuse_file_info* fi) {
  std::shared_ptr<Inode> inode;
  if (int err = inodes_.Get(nodeid, &inode); err != 0) return err;
  if (!S_ISDIR(inode->type)) return ENOTDIR;
  const int fd =
      host::openat(inode->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  fi->fh = AddFile(std::make_shared<OpenHostFile>(
      fd, nodeid, /*is_dir=*/true, /*flush_can_fail=*/false,
      CloseLater(S_IFDIR, O_RDONLY)));
  fi->cache_readdir = options_.data_caching == DataCaching::kAlways;
  return 0;
}

void PassthroughOps::Opendir(fuse_req_t req, fuse_ino_t ino,
                             fuse_file_info* fi) {
  if (int err = Fs(req).Opendir(ino, fi); err != 0) return ReplyErrno(req, err);
  fuse_reply_open(req, fi);
}

namespace {

// READDIR(PLUS) through libfuse, records encoded by libfuse.
void ReadDirectory(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                   fuse_file_info* fi, bool plus) {
  auto encode = [req, plus](char* buf, size_t room, const char* name,
                            const fuse_entry_param& e, off_t next) {
    return plus ? fuse_add_direntry_plus(req, buf, room, name, &e, next)
                : fuse_add_direntry(req, buf, room, name, &e.attr, next);
  };
  PassthroughFs& fs = PassthroughOps::Fs(req);
  size = fs.ReadDirBytes(size);
  // Left uninitialised: the entries fill it from the start, padding included,
  // and only those `used` bytes are replied.
  auto buf = std::make_unique_for_overwrite<char[]>(size);
  size_t used;
  if (int err =
          fs.ReadDir(ino, fi->fh, {buf.get(), size}, off, plus, encode, &used);
      err != 0) {
    fuse_reply_err(req, err);
    return;
  }
  fuse_reply_buf(req, buf.get(), used);
}

}  // namespace

void PassthroughOps::Readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
                             off_t off, fuse_file_info* fi) {
  ReadDirectory(req, ino, size, off, fi, /*plus=*/false);
}

void PassthroughOps::Readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
                                 off_t off, fuse_file_info* fi) {
  ReadDirectory(req, ino, size, off, fi, /*plus=*/true);
}

int PassthroughFs::Releasedir(uint64_t nodeid, uint64_t fh) {
  std::shared_ptr<OpenHostFile> file;
  if (ResolveFile(nodeid, fh, /*want_dir=*/true, &file) != 0) return EBADF;
  RemoveFile(fh);
  return 0;
}

void PassthroughOps::Releasedir(fuse_req_t req, fuse_ino_t ino,
                                fuse_file_info* fi) {
  fuse_reply_err(req, Fs(req).Releasedir(ino, fi->fh));
}

void PassthroughOps::Fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
                              fuse_file_info* fi) {
  std::shared_ptr<OpenHostFile> file;
  if (!GetOpenFile(req, ino, fi, /*want_dir=*/true, &file)) return;
  const int res = datasync ? host::fdatasync(file->fd) : host::fsync(file->fd);
  fuse_reply_err(req, res == 0 ? 0 : errno);
}

}  // namespace sim
