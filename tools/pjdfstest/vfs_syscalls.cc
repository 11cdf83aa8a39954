// The system calls of pjdfstest's command, served by vfs:: on a simulated
// machine: tools/pjdfstest/run.sh renames each call in pjdfstest's code to
// pjd_<call> (objcopy --redefine-sym) and builds it into the library that
// suite_main.cc loads, so the unchanged command runs its calls through the VFS,
// the driver and the simulated device.
//
// Each run of the command is one machine, booted before main() on the host
// directory PJDFSTEST_VFS_SHARE over PJDFSTEST_VFS_TRANSPORT ("pci" or "mmio"),
// the share mounted at "/root"; the host directory carries the state from one
// run to the next. The command's working directory (inside the share) becomes
// the task's. A rule of the virtio spec the driver breaks is appended to the
// file PJDFSTEST_VFS_VIOLATIONS (when set), for the runner to fail on.
//
// The command's pointers are user memory to the VFS: a path that cannot be
// read is EFAULT, as the kernel's strncpy_from_user finds (pjdfstest passes
// 0xdeadc0de), checked here with process_vm_readv before vfs:: sees it.
//
// What a VFS in one process cannot have is mapped to the nearest equivalent:
// bind(2) of a UNIX socket makes a socket node (mknod S_IFSOCK, as the kernel's
// unix_bind does), connect(2) checks the node as unix_find_other does and then
// finds no listener (ECONNREFUSED).
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>

#include "sim/machine.h"
#include "vfs/posix.h"

namespace {

std::unique_ptr<sim::Machine>& TheMachine() {
  static auto* machine = new std::unique_ptr<sim::Machine>;
  return *machine;
}

[[noreturn]] void Fail(const std::string& message) {
  fprintf(stderr, "pjdfstest-vfs: %s\n", message.c_str());
  exit(2);
}

void RecordViolation(const sim::ViolationRecord& record) {
  const char* path = getenv("PJDFSTEST_VFS_VIOLATIONS");
  if (!path) return;
  if (FILE* out = fopen(path, "a")) {
    fprintf(out, "%s\n", sim::ToString(record).c_str());
    fclose(out);
  }
}

// Boots the machine and enters the host working directory's place in it.
__attribute__((constructor)) void BootMachine() {
  const char* share = getenv("PJDFSTEST_VFS_SHARE");
  const char* transport = getenv("PJDFSTEST_VFS_TRANSPORT");
  if (!share) Fail("PJDFSTEST_VFS_SHARE is not set");
  sim::MachineOptions options;
  options.share_dir = share;
  options.guest_memory_bytes = 32ull << 20;
  options.on_violation = RecordViolation;
  options.log_sink = [](base::LogLevel level, const char* line) {
    if (level >= base::LogLevel::kWarning) {
      fprintf(stderr, "pjdfstest-vfs: %s\n", line);
    }
  };
  absl::StatusOr<base::TransportKind> kind =
      sim::ParseTransport(transport ? transport : "pci");
  if (!kind.ok()) Fail(std::string(kind.status().message()));
  options.transport = *kind;
  absl::StatusOr<std::unique_ptr<sim::Machine>> machine =
      sim::Machine::Create(options);
  if (!machine.ok()) Fail(std::string(machine.status().message()));
  TheMachine() = std::move(*machine);

  char cwd[PATH_MAX];
  char root[PATH_MAX];
  if (!getcwd(cwd, sizeof(cwd)) || !realpath(share, root)) {
    Fail("cannot resolve the working directory or the share");
  }
  const std::string inside = cwd;
  const std::string prefix = root;
  if (inside.compare(0, prefix.size(), prefix) != 0 ||
      (inside.size() > prefix.size() && inside[prefix.size()] != '/')) {
    Fail("the working directory " + inside + " is not inside the share " +
         prefix);
  }
  const std::string at =
      TheMachine()->mount_point() + inside.substr(prefix.size());
  if (int rc = vfs::chdir(at.c_str()); rc < 0) {
    Fail("chdir " + at + ": " + strerror(-rc));
  }
}

__attribute__((destructor)) void ShutDown() { TheMachine().reset(); }

// Whether the NUL-terminated string at `user` can be read (up to PATH_MAX
// bytes): copy_from_user's verdict, without a fault.
bool Readable(const char* user) {
  if (!user) return true;  // vfs:: answers EFAULT itself.
  char chunk[256];
  size_t at = 0;
  while (at < PATH_MAX) {
    // Never across a page boundary the string may not reach.
    const uintptr_t address = reinterpret_cast<uintptr_t>(user) + at;
    const size_t to_page_end = 4096 - (address & 4095);
    const size_t want =
        to_page_end < sizeof(chunk) ? to_page_end : sizeof(chunk);
    iovec local{chunk, want};
    iovec remote{const_cast<char*>(user) + at, want};
    if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) !=
        static_cast<ssize_t>(want)) {
      return false;
    }
    if (memchr(chunk, '\0', want)) return true;
    at += want;
  }
  return true;
}

// EFAULT unless every string in `paths` is readable.
bool Fault(std::initializer_list<const char*> paths) {
  for (const char* path : paths) {
    if (!Readable(path)) {
      errno = EFAULT;
      return true;
    }
  }
  return false;
}

// A vfs:: result as libc returns it: -1 with errno for a negative errno.
template <typename T>
T Libc(T result) {
  if (result < 0) {
    errno = static_cast<int>(-result);
    return -1;
  }
  return result;
}

void ToHost(const vfs::Stat& in, struct stat* out) {
  memset(out, 0, sizeof(*out));
  out->st_dev = in.st_dev;
  out->st_ino = in.st_ino;
  out->st_mode = in.st_mode;
  out->st_nlink = in.st_nlink;
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

int StatResult(int rc, const vfs::Stat& st, struct stat* out) {
  if (rc == 0) ToHost(st, out);
  return Libc(rc);
}

// The descriptors socket(2) handed out: they only carry bind and connect.
constexpr int kFirstSocket = 1 << 20;
int next_socket = kFirstSocket;

// The path a bind or connect on the socket `fd` names; null with errno set
// (EBADF, EINVAL) when there is none.
const char* SocketPath(int fd, const struct sockaddr* address,
                       socklen_t length) {
  if (fd < kFirstSocket || fd >= next_socket) {
    errno = EBADF;
    return nullptr;
  }
  if (!address || length <= sizeof(sa_family_t) ||
      address->sa_family != AF_UNIX) {
    errno = EINVAL;
    return nullptr;
  }
  return reinterpret_cast<const struct sockaddr_un*>(address)->sun_path;
}

}  // namespace

extern "C" {

int pjd_open(const char* path, int flags, ...) {
  if (Fault({path})) return -1;
  mode_t mode = 0;
  if (flags & (O_CREAT | __O_TMPFILE)) {
    va_list args;
    va_start(args, flags);
    mode = va_arg(args, mode_t);
    va_end(args);
  }
  return Libc(vfs::open(path, flags, mode));
}
int pjd_openat(int dirfd, const char* path, int flags, ...) {
  if (Fault({path})) return -1;
  mode_t mode = 0;
  if (flags & (O_CREAT | __O_TMPFILE)) {
    va_list args;
    va_start(args, flags);
    mode = va_arg(args, mode_t);
    va_end(args);
  }
  return Libc(vfs::openat(dirfd, path, flags, mode));
}
int pjd_close(int fd) {
  if (fd >= kFirstSocket) return 0;
  return Libc(vfs::close(fd));
}
ssize_t pjd_write(int fd, const void* buffer, size_t count) {
  return Libc(vfs::write(fd, buffer, count));
}
ssize_t pjd_pread(int fd, void* buffer, size_t count, off_t offset) {
  return Libc(vfs::pread(fd, buffer, count, offset));
}
ssize_t pjd_pwrite(int fd, const void* buffer, size_t count, off_t offset) {
  return Libc(vfs::pwrite(fd, buffer, count, offset));
}
int pjd_ftruncate(int fd, off_t length) {
  return Libc(vfs::ftruncate(fd, length));
}
int pjd_truncate(const char* path, off_t length) {
  if (Fault({path})) return -1;
  return Libc(vfs::truncate(path, length));
}
// posix_fallocate returns the error number; glibc writes zeros where the
// filesystem cannot allocate, which a guest's libc would do too.
int pjd_posix_fallocate(int fd, off_t offset, off_t length) {
  if (offset < 0 || length <= 0) return EINVAL;
  int rc = vfs::fallocate(fd, 0, offset, length);
  if (rc != -EOPNOTSUPP) return -rc;
  vfs::Stat st;
  if ((rc = vfs::fstat(fd, &st)) < 0) return -rc;
  for (off_t at = st.st_size; at < offset + length; ++at) {
    if ((rc = static_cast<int>(vfs::pwrite(fd, "", 1, at))) < 0) return -rc;
  }
  return 0;
}

int pjd_stat(const char* path, struct stat* out) {
  if (Fault({path})) return -1;
  vfs::Stat st;
  return StatResult(vfs::stat(path, &st), st, out);
}
int pjd_lstat(const char* path, struct stat* out) {
  if (Fault({path})) return -1;
  vfs::Stat st;
  return StatResult(vfs::lstat(path, &st), st, out);
}
int pjd_fstat(int fd, struct stat* out) {
  vfs::Stat st;
  return StatResult(vfs::fstat(fd, &st), st, out);
}
int pjd_fstatat(int dirfd, const char* path, struct stat* out, int flags) {
  if (Fault({path})) return -1;
  vfs::Stat st;
  return StatResult(vfs::fstatat(dirfd, path, &st, flags), st, out);
}

int pjd_chmod(const char* path, mode_t mode) {
  if (Fault({path})) return -1;
  return Libc(vfs::chmod(path, mode));
}
int pjd_lchmod(const char* path, mode_t mode) {
  if (Fault({path})) return -1;
  return Libc(vfs::fchmodat(AT_FDCWD, path, mode, AT_SYMLINK_NOFOLLOW));
}
int pjd_fchmod(int fd, mode_t mode) { return Libc(vfs::fchmod(fd, mode)); }
int pjd_fchmodat(int dirfd, const char* path, mode_t mode, int flags) {
  if (Fault({path})) return -1;
  return Libc(vfs::fchmodat(dirfd, path, mode, flags));
}
int pjd_chown(const char* path, uid_t uid, gid_t gid) {
  if (Fault({path})) return -1;
  return Libc(vfs::chown(path, uid, gid));
}
int pjd_lchown(const char* path, uid_t uid, gid_t gid) {
  if (Fault({path})) return -1;
  return Libc(vfs::lchown(path, uid, gid));
}
int pjd_fchown(int fd, uid_t uid, gid_t gid) {
  return Libc(vfs::fchown(fd, uid, gid));
}
int pjd_fchownat(int dirfd, const char* path, uid_t uid, gid_t gid, int flags) {
  if (Fault({path})) return -1;
  return Libc(vfs::fchownat(dirfd, path, uid, gid, flags));
}
int pjd_utimensat(int dirfd, const char* path, const struct timespec times[2],
                  int flags) {
  if (Fault({path})) return -1;
  vfs::Timespec converted[2];
  if (times) {
    for (int i = 0; i < 2; ++i) {
      converted[i] = {times[i].tv_sec, times[i].tv_nsec};
    }
  }
  return Libc(vfs::utimensat(dirfd, path, times ? converted : nullptr, flags));
}

int pjd_mkdir(const char* path, mode_t mode) {
  if (Fault({path})) return -1;
  return Libc(vfs::mkdir(path, mode));
}
int pjd_mkdirat(int dirfd, const char* path, mode_t mode) {
  if (Fault({path})) return -1;
  return Libc(vfs::mkdirat(dirfd, path, mode));
}
int pjd_rmdir(const char* path) {
  if (Fault({path})) return -1;
  return Libc(vfs::rmdir(path));
}
int pjd_unlink(const char* path) {
  if (Fault({path})) return -1;
  return Libc(vfs::unlink(path));
}
int pjd_unlinkat(int dirfd, const char* path, int flags) {
  if (Fault({path})) return -1;
  return Libc(vfs::unlinkat(dirfd, path, flags));
}
int pjd_mkfifo(const char* path, mode_t mode) {
  if (Fault({path})) return -1;
  return Libc(vfs::mkfifo(path, mode));
}
int pjd_mkfifoat(int dirfd, const char* path, mode_t mode) {
  if (Fault({path})) return -1;
  return Libc(vfs::mkfifoat(dirfd, path, mode));
}
int pjd_mknod(const char* path, mode_t mode, dev_t device) {
  if (Fault({path})) return -1;
  return Libc(vfs::mknod(path, mode, device));
}
int pjd_mknodat(int dirfd, const char* path, mode_t mode, dev_t device) {
  if (Fault({path})) return -1;
  return Libc(vfs::mknodat(dirfd, path, mode, device));
}
int pjd_link(const char* from, const char* to) {
  if (Fault({from, to})) return -1;
  return Libc(vfs::link(from, to));
}
int pjd_linkat(int from_dir, const char* from, int to_dir, const char* to,
               int flags) {
  if (Fault({from, to})) return -1;
  return Libc(vfs::linkat(from_dir, from, to_dir, to, flags));
}
int pjd_symlink(const char* target, const char* path) {
  if (Fault({target, path})) return -1;
  return Libc(vfs::symlink(target, path));
}
int pjd_symlinkat(const char* target, int dirfd, const char* path) {
  if (Fault({target, path})) return -1;
  return Libc(vfs::symlinkat(target, dirfd, path));
}
int pjd_rename(const char* from, const char* to) {
  if (Fault({from, to})) return -1;
  return Libc(vfs::rename(from, to));
}
int pjd_renameat(int from_dir, const char* from, int to_dir, const char* to) {
  if (Fault({from, to})) return -1;
  return Libc(vfs::renameat(from_dir, from, to_dir, to));
}

// pathconf(3) as glibc answers on Linux: names and paths from statfs, links
// by filesystem type (127, LINUX_LINK_MAX, for FUSE).
long PathConf(int rc, const vfs::StatFs& fs, int name) {
  if (rc < 0) return Libc(static_cast<long>(rc));
  switch (name) {
    case _PC_LINK_MAX:
      return 127;
    case _PC_NAME_MAX:
      return static_cast<long>(fs.f_namelen);
    case _PC_PATH_MAX:
      return PATH_MAX;
    default:
      errno = EINVAL;
      return -1;
  }
}
long pjd_pathconf(const char* path, int name) {
  if (Fault({path})) return -1;
  vfs::StatFs fs;
  return PathConf(vfs::statfs(path, &fs), fs, name);
}
long pjd_fpathconf(int fd, int name) {
  vfs::StatFs fs;
  return PathConf(vfs::fstatfs(fd, &fs), fs, name);
}

mode_t pjd_umask(mode_t mask) { return vfs::umask(mask); }
int pjd_setuid(uid_t uid) { return Libc(vfs::setuid(uid)); }
int pjd_setegid(gid_t gid) { return Libc(vfs::setegid(gid)); }
int pjd_setgroups(size_t size, const gid_t* list) {
  return Libc(vfs::setgroups(size, list));
}

int pjd_socket(int domain, int type, int protocol) {
  (void)type;
  (void)protocol;
  if (domain != AF_UNIX) {
    errno = EAFNOSUPPORT;
    return -1;
  }
  return next_socket++;
}
int pjd_bind(int fd, const struct sockaddr* address, socklen_t length) {
  const char* path = SocketPath(fd, address, length);
  if (!path) return -1;
  // unix_bind: the node gets 0777 less the umask; a name taken is in use.
  const uint32_t umask = vfs::umask(0);
  vfs::umask(umask);
  int rc = vfs::mknod(path, S_IFSOCK | (0777 & ~umask), 0);
  if (rc == -EEXIST) rc = -EADDRINUSE;
  return Libc(rc);
}
int pjd_connect(int fd, const struct sockaddr* address, socklen_t length) {
  const char* path = SocketPath(fd, address, length);
  if (!path) return -1;
  // unix_find_other: write permission on the socket node, then a listener.
  vfs::Stat st;
  int rc = vfs::stat(path, &st);
  if (rc == 0) {
    rc = vfs::faccessat(AT_FDCWD, path, W_OK, AT_EACCESS);
  }
  if (rc == 0) rc = -ECONNREFUSED;
  return Libc(rc);
}

}  // extern "C"
