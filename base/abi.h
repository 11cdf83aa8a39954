// Linux ABI values all kernel code speaks (the VFS at its system-call boundary,
// the FUSE client in the requests it builds): file type and permission bits of
// st_mode, open(2) flags, lseek whence, access(2) modes, poll events, dirent
// d_type values and the path limits. The one vocabulary for them in kernel
// code.
//
// The values are Linux's own. They are spelled here, under names of their own,
// because the uapi headers that define them (<linux/stat.h>,
// <asm-generic/fcntl.h>, <asm-generic/poll.h>) either hide them when glibc is
// present or collide with glibc's <fcntl.h> and <poll.h> (struct flock, struct
// pollfd), and callers of vfs/posix.h include those. abi_check.cc compares
// every value with the uapi header at compile time.
#ifndef BASE_ABI_H_
#define BASE_ABI_H_

#include <cstddef>
#include <cstdint>

namespace base {

// st_mode: file type (S_IFMT and friends).
inline constexpr uint32_t kTypeMask = 0170000;
inline constexpr uint32_t kTypeSocket = 0140000;
inline constexpr uint32_t kTypeSymlink = 0120000;
inline constexpr uint32_t kTypeRegular = 0100000;
inline constexpr uint32_t kTypeBlockDevice = 0060000;
inline constexpr uint32_t kTypeDirectory = 0040000;
inline constexpr uint32_t kTypeCharDevice = 0020000;
inline constexpr uint32_t kTypeFifo = 0010000;
// st_mode: set-id and sticky bits.
inline constexpr uint32_t kSetUid = 04000;  // S_ISUID
inline constexpr uint32_t kSetGid = 02000;  // S_ISGID
inline constexpr uint32_t kSticky = 01000;  // S_ISVTX
// st_mode: permission bits (S_ISUID | S_ISGID | S_ISVTX | S_IRWXU | S_IRWXG |
// S_IRWXO).
inline constexpr uint32_t kPermissionMask = 07777;
inline constexpr uint32_t kAnyExecute = 0111;  // S_IXUSR | S_IXGRP | S_IXOTH

// open(2) flags.
inline constexpr int kOpenAccessMode = 03;         // O_ACCMODE
inline constexpr int kOpenReadOnly = 00;           // O_RDONLY
inline constexpr int kOpenWriteOnly = 01;          // O_WRONLY
inline constexpr int kOpenReadWrite = 02;          // O_RDWR
inline constexpr int kOpenCreate = 0100;           // O_CREAT
inline constexpr int kOpenExclusive = 0200;        // O_EXCL
inline constexpr int kOpenNoCtty = 0400;           // O_NOCTTY
inline constexpr int kOpenTruncate = 01000;        // O_TRUNC
inline constexpr int kOpenAppend = 02000;          // O_APPEND
inline constexpr int kOpenNonBlock = 04000;        // O_NONBLOCK
inline constexpr int kOpenDataSync = 010000;       // O_DSYNC
inline constexpr int kOpenDirect = 040000;         // O_DIRECT
inline constexpr int kOpenLargeFile = 0100000;     // O_LARGEFILE (glibc: 0)
inline constexpr int kOpenDirectory = 0200000;     // O_DIRECTORY
inline constexpr int kOpenNoFollow = 0400000;      // O_NOFOLLOW
inline constexpr int kOpenNoAtime = 01000000;      // O_NOATIME
inline constexpr int kOpenCloseOnExec = 02000000;  // O_CLOEXEC
inline constexpr int kOpenPath = 010000000;        // O_PATH
inline constexpr int kOpenTmpFile = 020000000;     // __O_TMPFILE
inline constexpr int kOpenSync = 04010000;  // O_SYNC (__O_SYNC | O_DSYNC)
inline constexpr int kOpenAsync = 020000;   // O_ASYNC (FASYNC)

// lseek(2) whence.
inline constexpr int kSeekSet = 0;
inline constexpr int kSeekCur = 1;
inline constexpr int kSeekEnd = 2;
inline constexpr int kSeekData = 3;
inline constexpr int kSeekHole = 4;

// The *at calls: the directory descriptor meaning the current directory, and
// their flags.
inline constexpr int kAtFdCwd = -100;             // AT_FDCWD
inline constexpr int kAtSymlinkNoFollow = 0x100;  // AT_SYMLINK_NOFOLLOW
inline constexpr int kAtRemoveDir = 0x200;        // AT_REMOVEDIR
inline constexpr int kAtEffectiveAccess = 0x200;  // AT_EACCESS
inline constexpr int kAtSymlinkFollow = 0x400;    // AT_SYMLINK_FOLLOW
inline constexpr int kAtEmptyPath = 0x1000;       // AT_EMPTY_PATH

// renameat2(2) flags.
inline constexpr unsigned kRenameNoReplace = 1;  // RENAME_NOREPLACE
inline constexpr unsigned kRenameExchange = 2;   // RENAME_EXCHANGE

// utimensat(2)'s special tv_nsec values (include/linux/stat.h; no uapi header
// has them, so tests/vfs/posix_test.cc compares them with glibc's).
inline constexpr int64_t kUtimeNow = (1l << 30) - 1;   // UTIME_NOW
inline constexpr int64_t kUtimeOmit = (1l << 30) - 2;  // UTIME_OMIT

// fcntl(2) commands, descriptor flags and record lock types.
inline constexpr int kFcntlDupFd = 0;                // F_DUPFD
inline constexpr int kFcntlGetFd = 1;                // F_GETFD
inline constexpr int kFcntlSetFd = 2;                // F_SETFD
inline constexpr int kFcntlGetFl = 3;                // F_GETFL
inline constexpr int kFcntlSetFl = 4;                // F_SETFL
inline constexpr int kFcntlGetLk = 5;                // F_GETLK
inline constexpr int kFcntlSetLk = 6;                // F_SETLK
inline constexpr int kFcntlSetLkWait = 7;            // F_SETLKW
inline constexpr int kFcntlDupFdCloseOnExec = 1030;  // F_DUPFD_CLOEXEC
inline constexpr int kFdCloseOnExec = 1;             // FD_CLOEXEC
inline constexpr int16_t kLockRead = 0;              // F_RDLCK
inline constexpr int16_t kLockWrite = 1;             // F_WRLCK
inline constexpr int16_t kLockUnlock = 2;            // F_UNLCK

// flock(2) operations.
inline constexpr int kFlockShared = 1;     // LOCK_SH
inline constexpr int kFlockExclusive = 2;  // LOCK_EX
inline constexpr int kFlockNonBlock = 4;   // LOCK_NB
inline constexpr int kFlockUnlock = 8;     // LOCK_UN

// setxattr(2) flags.
inline constexpr int kXattrCreate = 1;   // XATTR_CREATE
inline constexpr int kXattrReplace = 2;  // XATTR_REPLACE
// Largest xattr name (with its NUL: 256) and value (XATTR_NAME_MAX,
// XATTR_SIZE_MAX).
inline constexpr size_t kXattrNameMax = 255;
inline constexpr size_t kXattrSizeMax = 65536;

// fallocate(2) modes.
inline constexpr int kFallocKeepSize = 0x01;   // FALLOC_FL_KEEP_SIZE
inline constexpr int kFallocPunchHole = 0x02;  // FALLOC_FL_PUNCH_HOLE

// access(2) modes.
inline constexpr int kAccessExists = 0;   // F_OK
inline constexpr int kAccessExecute = 1;  // X_OK
inline constexpr int kAccessWrite = 2;    // W_OK
inline constexpr int kAccessRead = 4;     // R_OK

// poll(2) events.
inline constexpr uint32_t kPollIn = 0x001;
inline constexpr uint32_t kPollOut = 0x004;
inline constexpr uint32_t kPollErr = 0x008;
inline constexpr uint32_t kPollHup = 0x010;

// linux_dirent64 d_type: the file type bits shifted down, as Linux (and FUSE)
// define them.
inline constexpr uint8_t kDirentUnknown = 0;  // DT_UNKNOWN
inline constexpr uint8_t DirentTypeOf(uint32_t mode) {
  return static_cast<uint8_t>((mode & kTypeMask) >> 12);
}

// Limits (NAME_MAX, PATH_MAX including the NUL, MAXSYMLINKS).
inline constexpr size_t kNameMax = 255;
inline constexpr size_t kPathMax = 4096;
inline constexpr int kMaxSymlinkFollows = 40;

}  // namespace base

#endif  // BASE_ABI_H_
