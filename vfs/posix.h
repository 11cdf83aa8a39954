// The system-call layer of the VFS: POSIX's calls under POSIX's names, in
// namespace vfs.
//
// Each returns what the system call returns on success (0, a descriptor, a byte
// count, an offset) or a negative errno value, as a kernel's system-call entry
// points do. They act on the calling thread's task (vfs/current_task.h;
// -ENOSYS when it has none). Flags, modes and whence use Linux's values
// (glibc's O_*, S_*, SEEK_* macros are the same numbers). Paths are
// NUL-terminated; over kPathMax bytes including the NUL is ENAMETOOLONG.
#ifndef VFS_POSIX_H_
#define VFS_POSIX_H_

#include <cstddef>
#include <cstdint>

#include "vfs/dirent.h"
#include "vfs/node.h"
#include "vfs/stat.h"

namespace vfs {

int open(const char* path, int flags, uint32_t mode = 0);
int close(int fd);
int64_t read(int fd, void* buffer, size_t count);
int64_t write(int fd, const void* buffer, size_t count);
int64_t pread(int fd, void* buffer, size_t count, int64_t offset);
int64_t pwrite(int fd, const void* buffer, size_t count, int64_t offset);
int64_t lseek(int fd, int64_t offset, int whence);
int stat(const char* path, Stat* out);
int lstat(const char* path, Stat* out);
int fstat(int fd, Stat* out);
int mkdir(const char* path, uint32_t mode);
int rmdir(const char* path);
int unlink(const char* path);
int rename(const char* old_path, const char* new_path);
int link(const char* old_path, const char* new_path);
int symlink(const char* target, const char* link_path);
// The target's bytes (not NUL-terminated), truncated to `size`.
int64_t readlink(const char* path, char* buffer, size_t size);
int truncate(const char* path, int64_t length);
int ftruncate(int fd, int64_t length);
int fsync(int fd);
int fdatasync(int fd);
int fchmod(int fd, uint32_t mode);
// Fills `buffer` with Dirent64 records; 0 at the end of the directory.
int64_t getdents64(int fd, void* buffer, size_t count);
int chdir(const char* path);
// As Linux's system call: the length of the path written, including its NUL;
// -ERANGE when `size` is too small.
int64_t getcwd(char* buffer, size_t size);
int dup(int fd);
int dup2(int old_fd, int new_fd);
int statfs(const char* path, StatFs* out);
int fstatfs(int fd, StatFs* out);
int chmod(const char* path, uint32_t mode);
int access(const char* path, int mode);
// Sets the umask; returns the previous one.
uint32_t umask(uint32_t mask);
// The open file's readiness for `events` (kPollIn, kPollOut), as poll(2)
// reports one fd.
int poll_one(int fd, uint32_t events);

// Mounting (not POSIX calls: the filesystem is given as its root node). mount
// puts `root` on the directory `target`; umount removes what is mounted there
// (EBUSY while in use).
int mount(const char* target, RefPtr<Node> root);
int umount(const char* target);

}  // namespace vfs

#endif  // VFS_POSIX_H_
