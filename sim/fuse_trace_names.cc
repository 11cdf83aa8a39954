#include <fcntl.h>
#include <linux/fuse.h>

#include <cstring>
#include <span>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "driver/fuse_opcodes.h"
#include "sim/fuse_trace.h"

// The names a trace line and a JSON event use: opcodes, errnos, open flags,
// queues, SETATTR's valid bits.
namespace sim {

std::string FuseOpcodeName(uint32_t opcode) {
  const driver::FuseOpcodeInfo* info = driver::FindFuseOpcode(opcode);
  if (info == nullptr) return absl::StrCat("OP_", opcode);
  return info->name;
}

std::string ErrnoName(int error) {
  const char* name = strerrorname_np(error);
  return name ? std::string(name) : absl::StrCat("E", error);
}

std::string OpenFlagsString(uint32_t flags) {
  // glibc defines O_LARGEFILE as 0 on 64-bit hosts; the kernel's (and FUSE's)
  // value is the generic one.
  constexpr uint32_t kLargeFile = 0100000;
  static constexpr struct {
    uint32_t bits;
    const char* name;
  } kFlags[] = {
      // O_TMPFILE and O_SYNC include other flags' bits: test them first.
      {O_TMPFILE, "O_TMPFILE"},    {O_SYNC, "O_SYNC"},
      {O_CREAT, "O_CREAT"},        {O_EXCL, "O_EXCL"},
      {O_NOCTTY, "O_NOCTTY"},      {O_TRUNC, "O_TRUNC"},
      {O_APPEND, "O_APPEND"},      {O_NONBLOCK, "O_NONBLOCK"},
      {O_DSYNC, "O_DSYNC"},        {O_DIRECT, "O_DIRECT"},
      {kLargeFile, "O_LARGEFILE"}, {O_DIRECTORY, "O_DIRECTORY"},
      {O_NOFOLLOW, "O_NOFOLLOW"},  {O_NOATIME, "O_NOATIME"},
      {O_CLOEXEC, "O_CLOEXEC"},    {O_PATH, "O_PATH"},
  };
  std::string out;
  switch (flags & O_ACCMODE) {
    case O_RDONLY:
      out = "O_RDONLY";
      break;
    case O_WRONLY:
      out = "O_WRONLY";
      break;
    case O_RDWR:
      out = "O_RDWR";
      break;
    default:
      out = "O_ACCMODE";
      break;
  }
  uint32_t rest = flags & ~static_cast<uint32_t>(O_ACCMODE);
  for (const auto& flag : kFlags) {
    if ((rest & flag.bits) == flag.bits) {
      absl::StrAppend(&out, "|", flag.name);
      rest &= ~flag.bits;
    }
  }
  if (rest != 0) absl::StrAppend(&out, "|", absl::StrFormat("0%o", rest));
  return out;
}

std::string QueueName(uint16_t queue) {
  if (queue == 0) return "hiprio";
  return absl::StrCat("req", queue - 1);
}

namespace {

struct NamedBit {
  uint64_t bit;
  const char* name;
};

// "A|B|0x40": the names of the bits set, then the unnamed ones in hex.
std::string BitNames(uint64_t value, std::span<const NamedBit> names) {
  std::string out;
  for (const NamedBit& named : names) {
    if (value & named.bit) {
      absl::StrAppend(&out, out.empty() ? "" : "|", named.name);
      value &= ~named.bit;
    }
  }
  if (value != 0 || out.empty()) {
    absl::StrAppend(&out, out.empty() ? "" : "|",
                    absl::StrFormat("%#x", value));
  }
  return out;
}

}  // namespace

std::string SetattrValidString(uint32_t valid) {
  static constexpr NamedBit kBits[] = {
      {FATTR_MODE, "MODE"},
      {FATTR_UID, "UID"},
      {FATTR_GID, "GID"},
      {FATTR_SIZE, "SIZE"},
      {FATTR_ATIME, "ATIME"},
      {FATTR_MTIME, "MTIME"},
      {FATTR_FH, "FH"},
      {FATTR_ATIME_NOW, "ATIME_NOW"},
      {FATTR_MTIME_NOW, "MTIME_NOW"},
      {FATTR_LOCKOWNER, "LOCKOWNER"},
      {FATTR_CTIME, "CTIME"},
      {FATTR_KILL_SUIDGID, "KILL_SUIDGID"},
  };
  return BitNames(valid, kBits);
}

std::string InitFlagsString(uint64_t flags) {
  static constexpr NamedBit kBits[] = {
      {FUSE_ASYNC_READ, "ASYNC_READ"},
      {FUSE_POSIX_LOCKS, "POSIX_LOCKS"},
      {FUSE_FILE_OPS, "FILE_OPS"},
      {FUSE_ATOMIC_O_TRUNC, "ATOMIC_O_TRUNC"},
      {FUSE_EXPORT_SUPPORT, "EXPORT_SUPPORT"},
      {FUSE_BIG_WRITES, "BIG_WRITES"},
      {FUSE_DONT_MASK, "DONT_MASK"},
      {FUSE_SPLICE_WRITE, "SPLICE_WRITE"},
      {FUSE_SPLICE_MOVE, "SPLICE_MOVE"},
      {FUSE_SPLICE_READ, "SPLICE_READ"},
      {FUSE_FLOCK_LOCKS, "FLOCK_LOCKS"},
      {FUSE_HAS_IOCTL_DIR, "HAS_IOCTL_DIR"},
      {FUSE_AUTO_INVAL_DATA, "AUTO_INVAL_DATA"},
      {FUSE_DO_READDIRPLUS, "DO_READDIRPLUS"},
      {FUSE_READDIRPLUS_AUTO, "READDIRPLUS_AUTO"},
      {FUSE_ASYNC_DIO, "ASYNC_DIO"},
      {FUSE_WRITEBACK_CACHE, "WRITEBACK_CACHE"},
      {FUSE_NO_OPEN_SUPPORT, "NO_OPEN_SUPPORT"},
      {FUSE_PARALLEL_DIROPS, "PARALLEL_DIROPS"},
      {FUSE_HANDLE_KILLPRIV, "HANDLE_KILLPRIV"},
      {FUSE_POSIX_ACL, "POSIX_ACL"},
      {FUSE_ABORT_ERROR, "ABORT_ERROR"},
      {FUSE_MAX_PAGES, "MAX_PAGES"},
      {FUSE_CACHE_SYMLINKS, "CACHE_SYMLINKS"},
      {FUSE_NO_OPENDIR_SUPPORT, "NO_OPENDIR_SUPPORT"},
      {FUSE_EXPLICIT_INVAL_DATA, "EXPLICIT_INVAL_DATA"},
      {FUSE_MAP_ALIGNMENT, "MAP_ALIGNMENT"},
      {FUSE_SUBMOUNTS, "SUBMOUNTS"},
      {FUSE_HANDLE_KILLPRIV_V2, "HANDLE_KILLPRIV_V2"},
      {FUSE_SETXATTR_EXT, "SETXATTR_EXT"},
      {FUSE_INIT_EXT, "INIT_EXT"},
      {FUSE_SECURITY_CTX, "SECURITY_CTX"},
      {FUSE_HAS_INODE_DAX, "HAS_INODE_DAX"},
      {FUSE_HAS_EXPIRE_ONLY, "HAS_EXPIRE_ONLY"},
  };
  return BitNames(flags, kBits);
}

// A name as a C string literal: printable ASCII as is, the rest escaped.

}  // namespace sim
