// Compile-time proof that base/abi.h spells Linux's values. The uapi headers
// come first, so that no glibc header (which would hide the S_IF* macros) has
// been seen yet.
#include <asm-generic/poll.h>
#include <linux/falloc.h>
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/limits.h>
#include <linux/stat.h>
#include <linux/xattr.h>

#include "base/abi.h"

namespace base {

static_assert(kTypeMask == S_IFMT);
static_assert(kTypeSocket == S_IFSOCK);
static_assert(kTypeSymlink == S_IFLNK);
static_assert(kTypeRegular == S_IFREG);
static_assert(kTypeBlockDevice == S_IFBLK);
static_assert(kTypeDirectory == S_IFDIR);
static_assert(kTypeCharDevice == S_IFCHR);
static_assert(kTypeFifo == S_IFIFO);
static_assert(kSetUid == S_ISUID);
static_assert(kSetGid == S_ISGID);
static_assert(kSticky == S_ISVTX);
static_assert(kPermissionMask ==
              (S_ISUID | S_ISGID | S_ISVTX | S_IRWXU | S_IRWXG | S_IRWXO));
static_assert(kAnyExecute == (S_IXUSR | S_IXGRP | S_IXOTH));

static_assert(kOpenAccessMode == O_ACCMODE);
static_assert(kOpenReadOnly == O_RDONLY);
static_assert(kOpenWriteOnly == O_WRONLY);
static_assert(kOpenReadWrite == O_RDWR);
static_assert(kOpenCreate == O_CREAT);
static_assert(kOpenExclusive == O_EXCL);
static_assert(kOpenNoCtty == O_NOCTTY);
static_assert(kOpenTruncate == O_TRUNC);
static_assert(kOpenAppend == O_APPEND);
static_assert(kOpenNonBlock == O_NONBLOCK);
static_assert(kOpenDataSync == O_DSYNC);
static_assert(kOpenDirect == O_DIRECT);
static_assert(kOpenLargeFile == O_LARGEFILE);
static_assert(kOpenNoAtime == O_NOATIME);
static_assert(kOpenSync == O_SYNC);
static_assert(kOpenDirectory == O_DIRECTORY);
static_assert(kOpenNoFollow == O_NOFOLLOW);
static_assert(kOpenCloseOnExec == O_CLOEXEC);
static_assert(kOpenPath == O_PATH);
static_assert(kOpenTmpFile == __O_TMPFILE);

static_assert(kOpenAsync == FASYNC);

static_assert(kAtFdCwd == AT_FDCWD);
static_assert(kAtSymlinkNoFollow == AT_SYMLINK_NOFOLLOW);
static_assert(kAtRemoveDir == AT_REMOVEDIR);
static_assert(kAtEffectiveAccess == AT_EACCESS);
static_assert(kAtSymlinkFollow == AT_SYMLINK_FOLLOW);
static_assert(kAtEmptyPath == AT_EMPTY_PATH);
static_assert(kRenameNoReplace == RENAME_NOREPLACE);
static_assert(kRenameExchange == RENAME_EXCHANGE);

static_assert(kFcntlDupFd == F_DUPFD);
static_assert(kFcntlGetFd == F_GETFD);
static_assert(kFcntlSetFd == F_SETFD);
static_assert(kFcntlGetFl == F_GETFL);
static_assert(kFcntlSetFl == F_SETFL);
static_assert(kFcntlGetLk == F_GETLK);
static_assert(kFcntlSetLk == F_SETLK);
static_assert(kFcntlSetLkWait == F_SETLKW);
static_assert(kFcntlDupFdCloseOnExec == F_DUPFD_CLOEXEC);
static_assert(kFdCloseOnExec == FD_CLOEXEC);
static_assert(kLockRead == F_RDLCK);
static_assert(kLockWrite == F_WRLCK);
static_assert(kLockUnlock == F_UNLCK);
static_assert(kFlockShared == LOCK_SH);
static_assert(kFlockExclusive == LOCK_EX);
static_assert(kFlockNonBlock == LOCK_NB);
static_assert(kFlockUnlock == LOCK_UN);
static_assert(kXattrCreate == XATTR_CREATE);
static_assert(kXattrReplace == XATTR_REPLACE);
static_assert(kXattrNameMax == XATTR_NAME_MAX);
static_assert(kXattrSizeMax == XATTR_SIZE_MAX);
static_assert(kFallocKeepSize == FALLOC_FL_KEEP_SIZE);
static_assert(kFallocPunchHole == FALLOC_FL_PUNCH_HOLE);
static_assert(kSeekData == SEEK_DATA);
static_assert(kSeekHole == SEEK_HOLE);

static_assert(kPollIn == POLLIN);
static_assert(kPollOut == POLLOUT);
static_assert(kPollErr == POLLERR);
static_assert(kPollHup == POLLHUP);

static_assert(kNameMax == NAME_MAX);
static_assert(kPathMax == PATH_MAX);

}  // namespace base
