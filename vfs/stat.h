// Attribute structs of the VFS, with the field names POSIX gives them.
#ifndef VFS_STAT_H_
#define VFS_STAT_H_

#include <cstdint>

#include "base/abi.h"

namespace vfs {

struct Timespec {
  int64_t tv_sec = 0;
  int64_t tv_nsec = 0;

  static Timespec FromNanos(uint64_t nanos) {
    return {static_cast<int64_t>(nanos / 1000000000),
            static_cast<int64_t>(nanos % 1000000000)};
  }
  bool operator==(const Timespec&) const = default;
};

// What stat(2) reports. st_dev is filled in by the VFS (one device number per
// mount); everything else comes from the filesystem.
struct Stat {
  uint64_t st_dev = 0;
  uint64_t st_ino = 0;
  uint32_t st_mode = 0;  // File type (kType*) and permission bits.
  uint32_t st_nlink = 0;
  uint32_t st_uid = 0;
  uint32_t st_gid = 0;
  uint64_t st_rdev = 0;
  int64_t st_size = 0;
  int64_t st_blksize = 0;
  int64_t st_blocks = 0;  // In 512-byte units.
  Timespec st_atim;
  Timespec st_mtim;
  Timespec st_ctim;
};

// What statfs(2) reports.
struct StatFs {
  uint64_t f_type = 0;  // Magic number of the filesystem type.
  uint64_t f_bsize = 0;
  uint64_t f_blocks = 0;
  uint64_t f_bfree = 0;
  uint64_t f_bavail = 0;
  uint64_t f_files = 0;
  uint64_t f_ffree = 0;
  uint64_t f_fsid = 0;
  uint64_t f_namelen = 0;
  uint64_t f_frsize = 0;
  uint64_t f_flags = 0;
};

// A change of attributes (chmod, truncate, utimes, chown), as FUSE's SETATTR
// and the kernel's iattr express it: `valid` says which fields are meant.
struct AttrChange {
  static constexpr uint32_t kMode = 1u << 0;
  static constexpr uint32_t kUid = 1u << 1;
  static constexpr uint32_t kGid = 1u << 2;
  static constexpr uint32_t kSize = 1u << 3;
  static constexpr uint32_t kAtime = 1u << 4;
  static constexpr uint32_t kMtime = 1u << 5;
  static constexpr uint32_t kAtimeNow = 1u
                                        << 6;  // Set atime to the current time.
  static constexpr uint32_t kMtimeNow = 1u
                                        << 7;  // Set mtime to the current time.

  uint32_t valid = 0;
  uint32_t mode = 0;  // Permission bits only.
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  Timespec atime;
  Timespec mtime;
};

}  // namespace vfs

#endif  // VFS_STAT_H_
