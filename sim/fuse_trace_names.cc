#include <fcntl.h>
#include <linux/fuse.h>

#include <cstring>

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

std::string SetattrValidString(uint32_t valid) {
  static constexpr struct {
    uint32_t bit;
    const char* name;
  } kBits[] = {
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
  std::string out;
  for (const auto& bit : kBits) {
    if (valid & bit.bit) {
      absl::StrAppend(&out, out.empty() ? "" : "|", bit.name);
      valid &= ~bit.bit;
    }
  }
  if (valid != 0 || out.empty()) {
    absl::StrAppend(&out, out.empty() ? "" : "|",
                    absl::StrFormat("%#x", valid));
  }
  return out;
}

// A name as a C string literal: printable ASCII as is, the rest escaped.

}  // namespace sim
