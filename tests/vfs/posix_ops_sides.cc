// The two sides PosixOps runs on: the VFS (vfs::) and the host kernel.
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

#include "tests/vfs/posix_ops.h"
#include "vfs/dirent.h"
#include "vfs/posix.h"

namespace vfs_test {

std::string PosixOps::Path(std::string_view relative) const {
  if (relative.empty()) return root_;
  return root_ + "/" + std::string(relative);
}

// ---- The VFS. ----

int64_t VfsOps::Open(const std::string& p, int flags, uint32_t mode) {
  return vfs::open(p.c_str(), flags, mode);
}
int64_t VfsOps::Close(int fd) { return vfs::close(fd); }
int64_t VfsOps::Read(int fd, void* b, size_t n) { return vfs::read(fd, b, n); }
int64_t VfsOps::Write(int fd, const void* b, size_t n) {
  return vfs::write(fd, b, n);
}
int64_t VfsOps::Pread(int fd, void* b, size_t n, int64_t o) {
  return vfs::pread(fd, b, n, o);
}
int64_t VfsOps::Pwrite(int fd, const void* b, size_t n, int64_t o) {
  return vfs::pwrite(fd, b, n, o);
}
int64_t VfsOps::Lseek(int fd, int64_t o, int w) { return vfs::lseek(fd, o, w); }
int64_t VfsOps::Stat(const std::string& p, vfs::Stat* st) {
  return vfs::stat(p.c_str(), st);
}
int64_t VfsOps::Lstat(const std::string& p, vfs::Stat* st) {
  return vfs::lstat(p.c_str(), st);
}
int64_t VfsOps::Fstat(int fd, vfs::Stat* st) { return vfs::fstat(fd, st); }
int64_t VfsOps::Mkdir(const std::string& p, uint32_t m) {
  return vfs::mkdir(p.c_str(), m);
}
int64_t VfsOps::Rmdir(const std::string& p) { return vfs::rmdir(p.c_str()); }
int64_t VfsOps::Unlink(const std::string& p) { return vfs::unlink(p.c_str()); }
int64_t VfsOps::Rename(const std::string& a, const std::string& b) {
  return vfs::rename(a.c_str(), b.c_str());
}
int64_t VfsOps::Link(const std::string& a, const std::string& b) {
  return vfs::link(a.c_str(), b.c_str());
}
int64_t VfsOps::Symlink(const std::string& t, const std::string& p) {
  return vfs::symlink(t.c_str(), p.c_str());
}
int64_t VfsOps::Readlink(const std::string& p, char* b, size_t n) {
  return vfs::readlink(p.c_str(), b, n);
}
int64_t VfsOps::Truncate(const std::string& p, int64_t l) {
  return vfs::truncate(p.c_str(), l);
}
int64_t VfsOps::Ftruncate(int fd, int64_t l) { return vfs::ftruncate(fd, l); }
int64_t VfsOps::Fsync(int fd) { return vfs::fsync(fd); }
int64_t VfsOps::Getdents64(int fd, void* b, size_t n) {
  return vfs::getdents64(fd, b, n);
}
int64_t VfsOps::Dup(int fd) { return vfs::dup(fd); }
int64_t VfsOps::Dup2(int a, int b) { return vfs::dup2(a, b); }
int64_t VfsOps::Chmod(const std::string& p, uint32_t m) {
  return vfs::chmod(p.c_str(), m);
}
int64_t VfsOps::Access(const std::string& p, int m) {
  return vfs::access(p.c_str(), m);
}

// ---- The host. ----

namespace {

int64_t Sys(int64_t r) { return r < 0 ? -errno : r; }

void Convert(const struct stat& in, vfs::Stat* out) {
  out->st_dev = in.st_dev;
  out->st_ino = in.st_ino;
  out->st_mode = in.st_mode;
  out->st_nlink = static_cast<uint32_t>(in.st_nlink);
  out->st_uid = in.st_uid;
  out->st_gid = in.st_gid;
  out->st_rdev = in.st_rdev;
  out->st_size = in.st_size;
  out->st_blksize = in.st_blksize;
  out->st_blocks = in.st_blocks;
  out->st_atim = {in.st_atim.tv_sec, in.st_atim.tv_nsec};
  out->st_mtim = {in.st_mtim.tv_sec, in.st_mtim.tv_nsec};
  out->st_ctim = {in.st_ctim.tv_sec, in.st_ctim.tv_nsec};
}

template <typename Call>
int64_t HostStat(Call call, vfs::Stat* out) {
  struct stat st;
  int64_t r = Sys(call(&st));
  if (r == 0) Convert(st, out);
  return r;
}

}  // namespace

int64_t HostOps::Open(const std::string& p, int flags, uint32_t mode) {
  return Sys(::open(p.c_str(), flags, mode));
}
int64_t HostOps::Close(int fd) { return Sys(::close(fd)); }
int64_t HostOps::Read(int fd, void* b, size_t n) {
  return Sys(::read(fd, b, n));
}
int64_t HostOps::Write(int fd, const void* b, size_t n) {
  return Sys(::write(fd, b, n));
}
int64_t HostOps::Pread(int fd, void* b, size_t n, int64_t o) {
  return Sys(::pread(fd, b, n, o));
}
int64_t HostOps::Pwrite(int fd, const void* b, size_t n, int64_t o) {
  return Sys(::pwrite(fd, b, n, o));
}
int64_t HostOps::Lseek(int fd, int64_t o, int w) {
  return Sys(::lseek(fd, o, w));
}
int64_t HostOps::Stat(const std::string& p, vfs::Stat* out) {
  return HostStat([&](struct stat* st) { return ::stat(p.c_str(), st); }, out);
}
int64_t HostOps::Lstat(const std::string& p, vfs::Stat* out) {
  return HostStat([&](struct stat* st) { return ::lstat(p.c_str(), st); }, out);
}
int64_t HostOps::Fstat(int fd, vfs::Stat* out) {
  return HostStat([&](struct stat* st) { return ::fstat(fd, st); }, out);
}
int64_t HostOps::Mkdir(const std::string& p, uint32_t m) {
  return Sys(::mkdir(p.c_str(), m));
}
int64_t HostOps::Rmdir(const std::string& p) { return Sys(::rmdir(p.c_str())); }
int64_t HostOps::Unlink(const std::string& p) {
  return Sys(::unlink(p.c_str()));
}
int64_t HostOps::Rename(const std::string& a, const std::string& b) {
  return Sys(::rename(a.c_str(), b.c_str()));
}
int64_t HostOps::Link(const std::string& a, const std::string& b) {
  return Sys(::link(a.c_str(), b.c_str()));
}
int64_t HostOps::Symlink(const std::string& t, const std::string& p) {
  return Sys(::symlink(t.c_str(), p.c_str()));
}
int64_t HostOps::Readlink(const std::string& p, char* b, size_t n) {
  return Sys(::readlink(p.c_str(), b, n));
}
int64_t HostOps::Truncate(const std::string& p, int64_t l) {
  return Sys(::truncate(p.c_str(), l));
}
int64_t HostOps::Ftruncate(int fd, int64_t l) {
  return Sys(::ftruncate(fd, l));
}
int64_t HostOps::Fsync(int fd) { return Sys(::fsync(fd)); }
int64_t HostOps::Getdents64(int fd, void* b, size_t n) {
  return Sys(::syscall(SYS_getdents64, fd, b, n));
}
int64_t HostOps::Dup(int fd) { return Sys(::dup(fd)); }
int64_t HostOps::Dup2(int a, int b) { return Sys(::dup2(a, b)); }
int64_t HostOps::Chmod(const std::string& p, uint32_t m) {
  return Sys(::chmod(p.c_str(), m));
}
int64_t HostOps::Access(const std::string& p, int m) {
  return Sys(::access(p.c_str(), m));
}

}  // namespace vfs_test
