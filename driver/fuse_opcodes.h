// What the FUSE protocol says of each opcode, written once: the shape of its
// request (the fixed argument struct, the NUL-terminated names that follow it,
// a variable tail), the shape of its reply, its queue and whether it carries
// the caller's credentials, and its name. Everything else derives from this
// table: the client's typed operations (driver/fuse_ops.h), the device's check
// of a request before libfuse reads it (sim/fuse_request_check.cc) and the
// tracer's decoding (sim/fuse_trace*.cc).
//
// The structs are <linux/fuse.h>'s (protocol 7.38). Where the protocol has an
// older, shorter form still in use, `compat_in_size` / `compat_out_size` give
// it: SETXATTR without FUSE_SETXATTR_EXT sends the first 8 bytes of
// fuse_setxattr_in; INIT without FUSE_INIT_EXT sends fuse_init_in up to
// `flags2`; a server before 7.23 answers INIT with the first 24 bytes of
// fuse_init_out.
#ifndef DRIVER_FUSE_OPCODES_H_
#define DRIVER_FUSE_OPCODES_H_

#include <linux/fuse.h>

#include <array>
#include <cstddef>
#include <cstdint>

namespace driver {

// Which queue a request travels on. virtio-fs puts FORGET, BATCH_FORGET and
// INTERRUPT on the high-priority queue so that they are never stuck behind the
// requests they release.
enum class FuseLane : uint8_t {
  kHighPriority,
  kRequest,
};

// What follows the fixed struct and the names.
enum class FuseTail : uint8_t {
  kNone,
  kWriteData,    // fuse_write_in.size bytes of data (WRITE).
  kXattrValue,   // fuse_setxattr_in.size bytes of value, after the name.
  kForgets,      // fuse_batch_forget_in.count fuse_forget_one (BATCH_FORGET).
  kIoctlData,    // fuse_ioctl_in.in_size bytes (IOCTL).
  kUnspecified,  // Bytes the protocol leaves to the opcode (NOTIFY_REPLY ...).
};

// What a successful reply carries after fuse_out_header.
enum class FuseReply : uint8_t {
  kNone,        // No reply at all (FORGET, BATCH_FORGET, INTERRUPT).
  kEmpty,       // Nothing: the header alone.
  kEntry,       // fuse_entry_out.
  kAttr,        // fuse_attr_out.
  kOpen,        // fuse_open_out.
  kCreate,      // fuse_entry_out, then fuse_open_out.
  kWrite,       // fuse_write_out: a byte count.
  kStatfs,      // fuse_statfs_out.
  kInit,        // fuse_init_out.
  kLock,        // fuse_lk_out.
  kBmap,        // fuse_bmap_out.
  kPoll,        // fuse_poll_out.
  kLseek,       // fuse_lseek_out.
  kIoctl,       // fuse_ioctl_out, then data.
  kData,        // Bytes, at most the size the request asked for.
  kDataOrSize,  // Asked with size 0: fuse_getxattr_out (the size needed);
                // otherwise bytes, as kData (GETXATTR, LISTXATTR).
};

struct FuseOpcodeInfo {
  uint32_t opcode = 0;
  const char* name = nullptr;   // "LOOKUP": the opcode without FUSE_.
  uint16_t in_size = 0;         // The fixed argument struct (0: none).
  uint16_t compat_in_size = 0;  // Its shortest form in use (see above).
  uint8_t names = 0;            // NUL-terminated names after the struct.
  FuseTail tail = FuseTail::kNone;
  FuseReply reply = FuseReply::kEmpty;
  uint16_t compat_out_size = 0;  // kInit: the shortest reply accepted.
  FuseLane lane = FuseLane::kRequest;
  // False for requests made on the connection's own behalf, not a caller's.
  bool sends_credentials = true;
};

// The fixed reply struct of `reply` (0 for those without one).
constexpr size_t FuseReplyStructSize(FuseReply reply) {
  switch (reply) {
    case FuseReply::kEntry:
      return sizeof(fuse_entry_out);
    case FuseReply::kAttr:
      return sizeof(fuse_attr_out);
    case FuseReply::kOpen:
      return sizeof(fuse_open_out);
    case FuseReply::kCreate:
      return sizeof(fuse_entry_out) + sizeof(fuse_open_out);
    case FuseReply::kWrite:
      return sizeof(fuse_write_out);
    case FuseReply::kStatfs:
      return sizeof(fuse_statfs_out);
    case FuseReply::kInit:
      return sizeof(fuse_init_out);
    case FuseReply::kLock:
      return sizeof(fuse_lk_out);
    case FuseReply::kBmap:
      return sizeof(fuse_bmap_out);
    case FuseReply::kPoll:
      return sizeof(fuse_poll_out);
    case FuseReply::kLseek:
      return sizeof(fuse_lseek_out);
    case FuseReply::kIoctl:
      return sizeof(fuse_ioctl_out);
    case FuseReply::kDataOrSize:
      return sizeof(fuse_getxattr_out);
    case FuseReply::kNone:
    case FuseReply::kEmpty:
    case FuseReply::kData:
      return 0;
  }
  return 0;
}

namespace fuse_opcodes_internal {

using R = FuseReply;
using T = FuseTail;

// One row; the compat form of the struct is the struct unless Compat() says.
constexpr FuseOpcodeInfo Row(uint32_t opcode, const char* name, size_t in,
                             uint8_t names, FuseReply reply,
                             FuseTail tail = FuseTail::kNone) {
  FuseOpcodeInfo info;
  info.opcode = opcode;
  info.name = name;
  info.in_size = static_cast<uint16_t>(in);
  info.compat_in_size = static_cast<uint16_t>(in);
  info.names = names;
  info.tail = tail;
  info.reply = reply;
  return info;
}

// A request the connection makes for itself, on the high-priority queue.
constexpr FuseOpcodeInfo Housekeeping(FuseOpcodeInfo info) {
  info.lane = FuseLane::kHighPriority;
  info.sends_credentials = false;
  return info;
}

constexpr FuseOpcodeInfo WithoutCredentials(FuseOpcodeInfo info) {
  info.sends_credentials = false;
  return info;
}

constexpr FuseOpcodeInfo Compat(FuseOpcodeInfo info, size_t compat_in,
                                size_t compat_out = 0) {
  info.compat_in_size = static_cast<uint16_t>(compat_in);
  info.compat_out_size = static_cast<uint16_t>(compat_out);
  return info;
}

// clang-format off
inline constexpr FuseOpcodeInfo kTable[] = {
    // opcode                 name               fixed struct                 names reply  tail
    Row(FUSE_LOOKUP,          "LOOKUP",          0,                               1, R::kEntry),
    Housekeeping(
    Row(FUSE_FORGET,          "FORGET",          sizeof(fuse_forget_in),          0, R::kNone)),
    Row(FUSE_GETATTR,         "GETATTR",         sizeof(fuse_getattr_in),         0, R::kAttr),
    Row(FUSE_SETATTR,         "SETATTR",         sizeof(fuse_setattr_in),         0, R::kAttr),
    Row(FUSE_READLINK,        "READLINK",        0,                               0, R::kData),
    Row(FUSE_SYMLINK,         "SYMLINK",         0,                               2, R::kEntry),
    Row(FUSE_MKNOD,           "MKNOD",           sizeof(fuse_mknod_in),           1, R::kEntry),
    Row(FUSE_MKDIR,           "MKDIR",           sizeof(fuse_mkdir_in),           1, R::kEntry),
    Row(FUSE_UNLINK,          "UNLINK",          0,                               1, R::kEmpty),
    Row(FUSE_RMDIR,           "RMDIR",           0,                               1, R::kEmpty),
    Row(FUSE_RENAME,          "RENAME",          sizeof(fuse_rename_in),          2, R::kEmpty),
    Row(FUSE_LINK,            "LINK",            sizeof(fuse_link_in),            1, R::kEntry),
    Row(FUSE_OPEN,            "OPEN",            sizeof(fuse_open_in),            0, R::kOpen),
    Row(FUSE_READ,            "READ",            sizeof(fuse_read_in),            0, R::kData),
    Row(FUSE_WRITE,           "WRITE",           sizeof(fuse_write_in),           0, R::kWrite,  T::kWriteData),
    Row(FUSE_STATFS,          "STATFS",          0,                               0, R::kStatfs),
    Row(FUSE_RELEASE,         "RELEASE",         sizeof(fuse_release_in),         0, R::kEmpty),
    Row(FUSE_FSYNC,           "FSYNC",           sizeof(fuse_fsync_in),           0, R::kEmpty),
    Compat(
    Row(FUSE_SETXATTR,        "SETXATTR",        sizeof(fuse_setxattr_in),        1, R::kEmpty,  T::kXattrValue),
        FUSE_COMPAT_SETXATTR_IN_SIZE),
    Row(FUSE_GETXATTR,        "GETXATTR",        sizeof(fuse_getxattr_in),        1, R::kDataOrSize),
    Row(FUSE_LISTXATTR,       "LISTXATTR",       sizeof(fuse_getxattr_in),        0, R::kDataOrSize),
    Row(FUSE_REMOVEXATTR,     "REMOVEXATTR",     0,                               1, R::kEmpty),
    Row(FUSE_FLUSH,           "FLUSH",           sizeof(fuse_flush_in),           0, R::kEmpty),
    WithoutCredentials(Compat(
    Row(FUSE_INIT,            "INIT",            sizeof(fuse_init_in),            0, R::kInit),
        offsetof(fuse_init_in, flags2), FUSE_COMPAT_22_INIT_OUT_SIZE)),
    Row(FUSE_OPENDIR,         "OPENDIR",         sizeof(fuse_open_in),            0, R::kOpen),
    Row(FUSE_READDIR,         "READDIR",         sizeof(fuse_read_in),            0, R::kData),
    Row(FUSE_RELEASEDIR,      "RELEASEDIR",      sizeof(fuse_release_in),         0, R::kEmpty),
    Row(FUSE_FSYNCDIR,        "FSYNCDIR",        sizeof(fuse_fsync_in),           0, R::kEmpty),
    Row(FUSE_GETLK,           "GETLK",           sizeof(fuse_lk_in),              0, R::kLock),
    Row(FUSE_SETLK,           "SETLK",           sizeof(fuse_lk_in),              0, R::kEmpty),
    Row(FUSE_SETLKW,          "SETLKW",          sizeof(fuse_lk_in),              0, R::kEmpty),
    Row(FUSE_ACCESS,          "ACCESS",          sizeof(fuse_access_in),          0, R::kEmpty),
    Row(FUSE_CREATE,          "CREATE",          sizeof(fuse_create_in),          1, R::kCreate),
    Housekeeping(
    Row(FUSE_INTERRUPT,       "INTERRUPT",       sizeof(fuse_interrupt_in),       0, R::kNone)),
    Row(FUSE_BMAP,            "BMAP",            sizeof(fuse_bmap_in),            0, R::kBmap),
    WithoutCredentials(
    Row(FUSE_DESTROY,         "DESTROY",         0,                               0, R::kEmpty)),
    Row(FUSE_IOCTL,           "IOCTL",           sizeof(fuse_ioctl_in),           0, R::kIoctl,  T::kIoctlData),
    Row(FUSE_POLL,            "POLL",            sizeof(fuse_poll_in),            0, R::kPoll),
    Row(FUSE_NOTIFY_REPLY,    "NOTIFY_REPLY",    sizeof(fuse_notify_retrieve_in), 0, R::kNone,   T::kUnspecified),
    Housekeeping(
    Row(FUSE_BATCH_FORGET,    "BATCH_FORGET",    sizeof(fuse_batch_forget_in),    0, R::kNone,   T::kForgets)),
    Row(FUSE_FALLOCATE,       "FALLOCATE",       sizeof(fuse_fallocate_in),       0, R::kEmpty),
    Row(FUSE_READDIRPLUS,     "READDIRPLUS",     sizeof(fuse_read_in),            0, R::kData),
    Row(FUSE_RENAME2,         "RENAME2",         sizeof(fuse_rename2_in),         2, R::kEmpty),
    Row(FUSE_LSEEK,           "LSEEK",           sizeof(fuse_lseek_in),           0, R::kLseek),
    Row(FUSE_COPY_FILE_RANGE, "COPY_FILE_RANGE", sizeof(fuse_copy_file_range_in), 0, R::kWrite),
    Row(FUSE_SETUPMAPPING,    "SETUPMAPPING",    sizeof(fuse_setupmapping_in),    0, R::kEmpty),
    Row(FUSE_REMOVEMAPPING,   "REMOVEMAPPING",   sizeof(fuse_removemapping_in),   0, R::kEmpty,  T::kUnspecified),
    Row(FUSE_SYNCFS,          "SYNCFS",          sizeof(fuse_syncfs_in),          0, R::kEmpty),
    Row(FUSE_TMPFILE,         "TMPFILE",         sizeof(fuse_create_in),          1, R::kCreate),
    Row(CUSE_INIT,            "CUSE_INIT",       sizeof(cuse_init_in),            0, R::kData),
};
// clang-format on

}  // namespace fuse_opcodes_internal

// Every opcode of <linux/fuse.h>, in opcode order.
inline constexpr const auto& kFuseOpcodes = fuse_opcodes_internal::kTable;

namespace fuse_opcodes_internal {

// Opcodes below this are found by index; CUSE_INIT (4096) by a scan.
inline constexpr uint32_t kDenseOpcodes = FUSE_TMPFILE + 1;
inline constexpr uint8_t kAbsent = 0xFF;

constexpr std::array<uint8_t, kDenseOpcodes> BuildIndex() {
  std::array<uint8_t, kDenseOpcodes> index{};
  for (uint8_t& slot : index) slot = kAbsent;
  for (size_t i = 0; i < std::size(kFuseOpcodes); ++i) {
    if (kFuseOpcodes[i].opcode < kDenseOpcodes) {
      index[kFuseOpcodes[i].opcode] = static_cast<uint8_t>(i);
    }
  }
  return index;
}

inline constexpr std::array<uint8_t, kDenseOpcodes> kIndex = BuildIndex();

}  // namespace fuse_opcodes_internal

// The row of `opcode`, or null for a number <linux/fuse.h> does not define.
constexpr const FuseOpcodeInfo* FindFuseOpcode(uint32_t opcode) {
  using fuse_opcodes_internal::kAbsent;
  using fuse_opcodes_internal::kIndex;
  if (opcode < fuse_opcodes_internal::kDenseOpcodes) {
    return kIndex[opcode] == kAbsent ? nullptr : &kFuseOpcodes[kIndex[opcode]];
  }
  for (const FuseOpcodeInfo& info : kFuseOpcodes) {
    if (info.opcode == opcode) return &info;
  }
  return nullptr;
}

// The row of an opcode known at compile time (not compiling for any other).
template <uint32_t Opcode>
constexpr const FuseOpcodeInfo& kFuseOpcode = *FindFuseOpcode(Opcode);

// The largest fixed request struct and fixed reply struct of any opcode.
constexpr size_t MaxFuseInSize() {
  size_t max = 0;
  for (const FuseOpcodeInfo& info : kFuseOpcodes) {
    if (info.in_size > max) max = info.in_size;
  }
  return max;
}
constexpr size_t MaxFuseReplyStructSize() {
  size_t max = 0;
  for (const FuseOpcodeInfo& info : kFuseOpcodes) {
    if (FuseReplyStructSize(info.reply) > max) {
      max = FuseReplyStructSize(info.reply);
    }
  }
  return max;
}

}  // namespace driver

#endif  // DRIVER_FUSE_OPCODES_H_
