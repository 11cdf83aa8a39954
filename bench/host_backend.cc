#include "bench/host_backend.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace bench {
namespace {

// The negative errno of a failed call, or its result.
int64_t Result(int64_t r) { return r < 0 ? -errno : r; }

}  // namespace

bool DropHostCaches() {
  const int fd = ::open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool dropped = ::write(fd, "2", 1) == 1;
  ::close(fd);
  return dropped;
}

int HostBackend::Open(const char* path, int flags, uint32_t mode) {
  return static_cast<int>(Result(::open(path, flags | O_CLOEXEC, mode)));
}

int HostBackend::Close(int fd) { return static_cast<int>(Result(::close(fd))); }

int64_t HostBackend::Read(int fd, void* buffer, size_t count) {
  return Result(::read(fd, buffer, count));
}

int64_t HostBackend::Write(int fd, const void* buffer, size_t count) {
  return Result(::write(fd, buffer, count));
}

int64_t HostBackend::Pread(int fd, void* buffer, size_t count, int64_t offset) {
  return Result(::pread(fd, buffer, count, offset));
}

int64_t HostBackend::Lseek(int fd, int64_t offset, int whence) {
  return Result(::lseek(fd, offset, whence));
}

int HostBackend::Stat(const char* path, int64_t* size) {
  struct stat st;
  if (::stat(path, &st) != 0) return -errno;
  if (size != nullptr) *size = st.st_size;
  return 0;
}

int HostBackend::Lstat(const char* path, FileInfo* info) {
  struct stat st;
  if (::lstat(path, &st) != 0) return -errno;
  info->size = st.st_size;
  info->is_dir = S_ISDIR(st.st_mode);
  return 0;
}

int HostBackend::Unlink(const char* path) {
  return static_cast<int>(Result(::unlink(path)));
}

int64_t HostBackend::Getdents64(int fd, void* buffer, size_t count) {
  return Result(::syscall(SYS_getdents64, fd, buffer, count));
}

void* HostBackend::AllocateBuffer(size_t size) {
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

void HostBackend::FreeBuffer(void* buffer, size_t size) {
  if (buffer != nullptr) ::munmap(buffer, size);
}

}  // namespace bench
