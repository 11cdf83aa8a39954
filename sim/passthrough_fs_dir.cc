// Handlers of directory handles.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "sim/passthrough_ops.h"

namespace sim {
namespace {

bool IsDotOrDotDot(const char* name) {
  return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

// Fills one READDIR(PLUS) reply from the handle's stream, starting at `off`.
void ReadDirectory(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                   fuse_file_info* fi, bool plus) {
  std::shared_ptr<OpenFile> file;
  if (!PassthroughOps::GetOpenFile(req, ino, fi, /*want_dir=*/true, &file))
    return;
  std::shared_ptr<Inode> dir_inode;
  if (!PassthroughOps::GetInode(req, ino, &dir_inode)) return;
  PassthroughFs& fs = PassthroughOps::Fs(req);
  size = std::min<size_t>(size, fs.options().max_write);
  std::vector<char> buf(size);
  size_t used = 0;
  int err = 0;
  {
    std::lock_guard<std::mutex> lock(file->mu);
    if (off != file->offset) {
      seekdir(file->dir, off);
      file->offset = off;
    }
    while (true) {
      errno = 0;
      const dirent* entry = readdir(file->dir);
      if (entry == nullptr) {
        err = errno;
        break;
      }
      struct stat st;
      memset(&st, 0, sizeof(st));
      st.st_ino = entry->d_ino;
      st.st_mode = DTTOIF(entry->d_type);
      // The root's ".." lies outside the share: describe it as the root itself.
      if (ino == InodeTable::kRootId && strcmp(entry->d_name, "..") == 0) {
        st.st_ino = fs.inodes().root()->ino;
      }
      size_t len;
      if (plus) {
        fuse_entry_param e;
        memset(&e, 0, sizeof(e));
        e.attr = st;
        len = fuse_add_direntry_plus(req, nullptr, 0, entry->d_name, &e, 0);
        if (used + len > size) {
          seekdir(file->dir,
                  file->offset);  // this entry goes in the next reply
          break;
        }
        // Every entry but "." and ".." is looked up: the driver will FORGET it.
        if (!IsDotOrDotDot(entry->d_name)) {
          const int lookup_err =
              PassthroughOps::DoLookup(fs, ino, *dir_inode, entry->d_name, &e);
          if (lookup_err == ENOENT) {  // removed since readdir saw it
            file->offset = entry->d_off;
            continue;
          }
          if (lookup_err != 0) {
            err = lookup_err;
            seekdir(file->dir, file->offset);
            break;
          }
        }
        fuse_add_direntry_plus(req, buf.data() + used, size - used,
                               entry->d_name, &e, entry->d_off);
      } else {
        len = fuse_add_direntry(req, nullptr, 0, entry->d_name, &st, 0);
        if (used + len > size) {
          seekdir(file->dir, file->offset);
          break;
        }
        fuse_add_direntry(req, buf.data() + used, size - used, entry->d_name,
                          &st, entry->d_off);
      }
      used += len;
      file->offset = entry->d_off;
    }
  }
  // An error after some entries still returns those entries.
  if (err != 0 && used == 0) {
    fuse_reply_err(req, err);
    return;
  }
  fuse_reply_buf(req, buf.data(), used);
}

}  // namespace

void PassthroughOps::Opendir(fuse_req_t req, fuse_ino_t ino,
                             fuse_file_info* fi) {
  std::shared_ptr<Inode> inode;
  if (!GetInode(req, ino, &inode)) return;
  if (!S_ISDIR(inode->type)) return ReplyErrno(req, ENOTDIR);
  const int fd = openat(inode->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ReplyErrno(req, errno);
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) {
    const int err = errno;
    close(fd);
    return ReplyErrno(req, err);
  }
  auto file = std::make_shared<OpenFile>(fd, ino, /*is_dir=*/true);
  {
    std::lock_guard<std::mutex> lock(file->mu);
    file->dir = dir;
  }
  fi->fh = Fs(req).AddFile(std::move(file));
  fuse_reply_open(req, fi);
}

void PassthroughOps::Readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
                             off_t off, fuse_file_info* fi) {
  ReadDirectory(req, ino, size, off, fi, /*plus=*/false);
}

void PassthroughOps::Readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
                                 off_t off, fuse_file_info* fi) {
  ReadDirectory(req, ino, size, off, fi, /*plus=*/true);
}

void PassthroughOps::Releasedir(fuse_req_t req, fuse_ino_t ino,
                                fuse_file_info* fi) {
  std::shared_ptr<OpenFile> file;
  if (!GetOpenFile(req, ino, fi, /*want_dir=*/true, &file)) return;
  Fs(req).RemoveFile(fi->fh);
  fuse_reply_err(req, 0);
}

void PassthroughOps::Fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
                              fuse_file_info* fi) {
  std::shared_ptr<OpenFile> file;
  if (!GetOpenFile(req, ino, fi, /*want_dir=*/true, &file)) return;
  const int res = datasync ? fdatasync(file->fd) : fsync(file->fd);
  fuse_reply_err(req, res == 0 ? 0 : errno);
}

}  // namespace sim
