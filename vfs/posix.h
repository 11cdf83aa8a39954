// The system-call layer of the VFS: POSIX's calls under POSIX's names, in
// namespace vfs.
//
// Each returns what the system call returns on success (0, a descriptor, a byte
// count, an offset) or a negative errno value, as a kernel's system-call entry
// points do. They act on the calling thread's task (vfs/task.h; -ENOSYS when
// it has none), with its credentials: every check Linux makes with
// default_permissions is made here (vfs/permission.h). Flags, modes, whence and
// the *at constants use Linux's values (glibc's O_*, S_*, SEEK_*, AT_*, F_*
// macros are the same numbers; base/abi.h spells them). Paths are
// NUL-terminated; over kPathMax bytes including the NUL is ENAMETOOLONG. A null
// pointer where one is required is EFAULT.
#ifndef VFS_POSIX_H_
#define VFS_POSIX_H_

#include <cstddef>
#include <cstdint>

#include "vfs/dirent.h"
#include "vfs/node.h"
#include "vfs/stat.h"

namespace vfs {

// ---- Files and descriptors (vfs/posix_fd.cc). ----
int open(const char* path, int flags, uint32_t mode = 0);
// `dirfd`: a directory descriptor relative paths start from, or kAtFdCwd.
// O_PATH opens the location only (fstat, fchdir, *at calls, close);
// O_TMPFILE is EOPNOTSUPP on filesystems without unnamed files.
int openat(int dirfd, const char* path, int flags, uint32_t mode = 0);
int close(int fd);
int64_t read(int fd, void* buffer, size_t count);
int64_t write(int fd, const void* buffer, size_t count);
int64_t pread(int fd, void* buffer, size_t count, int64_t offset);
int64_t pwrite(int fd, const void* buffer, size_t count, int64_t offset);
// whence: kSeekSet, kSeekCur, kSeekEnd, kSeekData, kSeekHole.
int64_t lseek(int fd, int64_t offset, int whence);
int fstat(int fd, Stat* out);
int ftruncate(int fd, int64_t length);
int fsync(int fd);
int fdatasync(int fd);
int fchmod(int fd, uint32_t mode);
int fchown(int fd, uint32_t uid, uint32_t gid);
// times[0] is the access time, times[1] the modification time; null: both now.
// tv_nsec may be kUtimeNow or kUtimeOmit.
int futimens(int fd, const Timespec times[2]);
// mode: 0, kFallocKeepSize, kFallocPunchHole | kFallocKeepSize (where the
// filesystem supports them; EOPNOTSUPP otherwise).
int fallocate(int fd, int mode, int64_t offset, int64_t length);
// Copies from `fd_in` to `fd_out`; a null offset uses and moves the file's
// own. flags must be 0.
int64_t copy_file_range(int fd_in, int64_t* offset_in, int fd_out,
                        int64_t* offset_out, size_t length, unsigned flags);
// Fills `buffer` with Dirent64 records; 0 at the end of the directory.
int64_t getdents64(int fd, void* buffer, size_t count);
int dup(int fd);
int dup2(int old_fd, int new_fd);
int fstatfs(int fd, StatFs* out);
// The open file's readiness for `events` (kPollIn, kPollOut), as poll(2)
// reports one fd.
int poll_one(int fd, uint32_t events);

// A record lock as fcntl's struct flock holds it (kLockRead, kLockWrite,
// kLockUnlock; whence kSeekSet, kSeekCur or kSeekEnd; length 0: to the end).
struct Flock {
  int16_t l_type = 0;
  int16_t l_whence = 0;
  int64_t l_start = 0;
  int64_t l_len = 0;
  int32_t l_pid = 0;
};
// F_GETFD, F_SETFD (kFdCloseOnExec), F_GETFL, F_SETFL (O_APPEND, O_NONBLOCK,
// O_ASYNC, O_DIRECT, O_NOATIME), F_DUPFD, F_DUPFD_CLOEXEC (`arg`: the lowest
// descriptor), F_GETLK, F_SETLK, F_SETLKW (`arg`: a Flock*). Record locks are
// the task's, kept by the VFS, as Linux keeps them for a FUSE server that does
// not implement locks.
int fcntl(int fd, int cmd, uintptr_t arg = 0);
// kFlockShared, kFlockExclusive (each may add kFlockNonBlock), kFlockUnlock:
// whole-file locks of the open file description.
int flock(int fd, int operation);

// ---- Names (vfs/posix_names.cc). ----
int mkdir(const char* path, uint32_t mode);
int mkdirat(int dirfd, const char* path, uint32_t mode);
// mode's file type: kTypeRegular (or none), kTypeFifo, kTypeSocket, and, for
// root, kTypeCharDevice and kTypeBlockDevice.
int mknod(const char* path, uint32_t mode, uint64_t device);
int mknodat(int dirfd, const char* path, uint32_t mode, uint64_t device);
int mkfifo(const char* path, uint32_t mode);
int mkfifoat(int dirfd, const char* path, uint32_t mode);
int rmdir(const char* path);
int unlink(const char* path);
// flags: kAtRemoveDir (rmdir) or 0.
int unlinkat(int dirfd, const char* path, int flags);
int rename(const char* old_path, const char* new_path);
int renameat(int old_dirfd, const char* old_path, int new_dirfd,
             const char* new_path);
// flags: kRenameNoReplace or kRenameExchange, or 0.
int renameat2(int old_dirfd, const char* old_path, int new_dirfd,
              const char* new_path, unsigned flags);
int link(const char* old_path, const char* new_path);
// flags: kAtSymlinkFollow, kAtEmptyPath (root only).
int linkat(int old_dirfd, const char* old_path, int new_dirfd,
           const char* new_path, int flags);
int symlink(const char* target, const char* link_path);
int symlinkat(const char* target, int dirfd, const char* link_path);
// The target's bytes (not NUL-terminated), truncated to `size`.
int64_t readlink(const char* path, char* buffer, size_t size);
int64_t readlinkat(int dirfd, const char* path, char* buffer, size_t size);

// ---- Attributes (vfs/posix_attr.cc). ----
int stat(const char* path, Stat* out);
int lstat(const char* path, Stat* out);
// flags: kAtSymlinkNoFollow, kAtEmptyPath.
int fstatat(int dirfd, const char* path, Stat* out, int flags);
int access(const char* path, int mode);
// With the real ids unless kAtEffectiveAccess; kAtSymlinkNoFollow,
// kAtEmptyPath.
int faccessat(int dirfd, const char* path, int mode, int flags);
int chmod(const char* path, uint32_t mode);
// flags: kAtSymlinkNoFollow (EOPNOTSUPP on a symlink, as glibc answers).
int fchmodat(int dirfd, const char* path, uint32_t mode, int flags);
// uid or gid 0xffffffff (-1): unchanged.
int chown(const char* path, uint32_t uid, uint32_t gid);
int lchown(const char* path, uint32_t uid, uint32_t gid);
// flags: kAtSymlinkNoFollow, kAtEmptyPath.
int fchownat(int dirfd, const char* path, uint32_t uid, uint32_t gid,
             int flags);
// A null path acts on `dirfd` itself. flags: kAtSymlinkNoFollow.
int utimensat(int dirfd, const char* path, const Timespec times[2], int flags);
int truncate(const char* path, int64_t length);
int statfs(const char* path, StatFs* out);

// ---- Extended attributes (vfs/posix_xattr.cc). The l forms do not follow a
// final symlink; the f forms act on a descriptor. ----
int64_t getxattr(const char* path, const char* name, void* value, size_t size);
int64_t lgetxattr(const char* path, const char* name, void* value, size_t size);
int64_t fgetxattr(int fd, const char* name, void* value, size_t size);
// flags: kXattrCreate, kXattrReplace.
int setxattr(const char* path, const char* name, const void* value, size_t size,
             int flags);
int lsetxattr(const char* path, const char* name, const void* value,
              size_t size, int flags);
int fsetxattr(int fd, const char* name, const void* value, size_t size,
              int flags);
int64_t listxattr(const char* path, char* list, size_t size);
int64_t llistxattr(const char* path, char* list, size_t size);
int64_t flistxattr(int fd, char* list, size_t size);
int removexattr(const char* path, const char* name);
int lremovexattr(const char* path, const char* name);
int fremovexattr(int fd, const char* name);

// ---- The task (vfs/posix_task.cc). ----
int chdir(const char* path);
int fchdir(int fd);
// As Linux's system call: the length of the path written, including its NUL;
// -ERANGE when `size` is too small.
int64_t getcwd(char* buffer, size_t size);
// Sets the umask; returns the previous one.
uint32_t umask(uint32_t mask);
uint32_t getuid();
uint32_t geteuid();
uint32_t getgid();
uint32_t getegid();
// The supplementary groups; with size 0, how many there are. EINVAL when
// `size` is too small.
int getgroups(int size, uint32_t* list);
// Linux's rules: root sets any id (setuid/setgid: real, effective and saved
// alike); others only switch among their real, effective and saved ids
// (seteuid as glibc's setresuid(-1, euid, -1); setreuid moves the saved id to
// the new effective one). The filesystem ids follow the effective ones.
// EPERM, EINVAL (an id of -1).
int setuid(uint32_t uid);
int setgid(uint32_t gid);
int seteuid(uint32_t euid);
int setegid(uint32_t egid);
int setreuid(uint32_t ruid, uint32_t euid);
int setregid(uint32_t rgid, uint32_t egid);
// Root only (EPERM); at most Credentials::kMaxGroups (EINVAL).
int setgroups(size_t size, const uint32_t* list);

// Mounting (not POSIX calls: the filesystem is given as its root node). mount
// puts `root` on the directory `target`; umount removes what is mounted there
// (EBUSY while in use).
int mount(const char* target, RefPtr<Node> root);
int umount(const char* target);

}  // namespace vfs

#endif  // VFS_POSIX_H_
