// The FUSE operations the client sends, each a type binding its opcode to its
// request and reply structs from <linux/fuse.h> at compile time.
// FuseClient::Call<Op> builds the request from Op::In and returns Op::Out, so a
// command and its reply cannot be mismatched.
//
// What an operation's request and reply look like, its queue and whether it
// carries credentials come from its row of the opcode table
// (driver/fuse_opcodes.h); an Op only names the structs, and the compiler
// checks them against the row. Per operation:
//   kOpcode      the FUSE opcode.
//   In, Out      the structs after fuse_in_header and fuse_out_header (NoArgs:
//                none); names and data follow In.
//   kInSize      how many bytes of In are sent (the row's struct, or its compat
//                form).
//   kReply       kNone: no reply at all (FORGET); kFixed: exactly Out (at least
//                kMinOutSize bytes of it for INIT, whose reply grew over
//                versions); kData: bytes into the caller's buffer, at most as
//                many as it holds.
//   kLane, kSendsCredentials   the row's.
#ifndef DRIVER_FUSE_OPS_H_
#define DRIVER_FUSE_OPS_H_

#include <linux/fuse.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "driver/fuse_opcodes.h"

namespace driver {

// No struct on this side of the operation.
struct NoArgs {};

template <typename T>
inline constexpr size_t kWireSize = std::is_empty_v<T> ? 0 : sizeof(T);

enum class ReplyShape : uint8_t { kNone, kFixed, kData };

// The CREATE reply: an entry followed by an open handle.
struct CreateOut {
  fuse_entry_out entry;
  fuse_open_out open;
};
static_assert(sizeof(CreateOut) ==
              sizeof(fuse_entry_out) + sizeof(fuse_open_out));

// The client's reply shape for a row's reply: a GETXATTR or LISTXATTR asked
// with size 0 gets a struct, one asked with a buffer gets data.
constexpr ReplyShape ShapeOf(FuseReply reply, bool wants_struct) {
  switch (reply) {
    case FuseReply::kNone:
      return ReplyShape::kNone;
    case FuseReply::kData:
      return ReplyShape::kData;
    case FuseReply::kDataOrSize:
      return wants_struct ? ReplyShape::kFixed : ReplyShape::kData;
    default:
      return ReplyShape::kFixed;
  }
}

// `Compat`: send the row's compat form of the struct.
template <uint32_t Opcode, typename InT, typename OutT, bool Compat = false>
struct FuseOp {
  static constexpr const FuseOpcodeInfo& kInfo = kFuseOpcode<Opcode>;
  static constexpr uint32_t kOpcode = Opcode;
  using In = InT;
  using Out = OutT;
  static constexpr size_t kInSize =
      Compat ? kInfo.compat_in_size : kWireSize<InT>;
  static constexpr ReplyShape kReply =
      ShapeOf(kInfo.reply, !std::is_empty_v<OutT>);
  static constexpr size_t kMinOutSize =
      kInfo.compat_out_size != 0 ? kInfo.compat_out_size : kWireSize<OutT>;
  static constexpr FuseLane kLane = kInfo.lane;
  static constexpr bool kSendsCredentials = kInfo.sends_credentials;

  static_assert(kWireSize<InT> == kInfo.in_size,
                "In is not the opcode's request struct");
  static_assert(kReply != ReplyShape::kFixed ||
                    kWireSize<OutT> == FuseReplyStructSize(kInfo.reply),
                "Out is not the opcode's reply struct");
  static_assert(kReply == ReplyShape::kFixed || std::is_empty_v<OutT>,
                "only fixed replies carry a struct");
};

// ---- Connection. ----
struct OpInit : FuseOp<FUSE_INIT, fuse_init_in, fuse_init_out> {};
struct OpDestroy : FuseOp<FUSE_DESTROY, NoArgs, NoArgs> {};
struct OpForget : FuseOp<FUSE_FORGET, fuse_forget_in, NoArgs> {};
// fuse_batch_forget_in, then `count` fuse_forget_one.
struct OpBatchForget : FuseOp<FUSE_BATCH_FORGET, fuse_batch_forget_in, NoArgs> {
};
struct OpStatFs : FuseOp<FUSE_STATFS, NoArgs, fuse_statfs_out> {};

// ---- Names and attributes. ----
// Name.
struct OpLookup : FuseOp<FUSE_LOOKUP, NoArgs, fuse_entry_out> {};
struct OpGetAttr : FuseOp<FUSE_GETATTR, fuse_getattr_in, fuse_attr_out> {};
struct OpSetAttr : FuseOp<FUSE_SETATTR, fuse_setattr_in, fuse_attr_out> {};
struct OpReadLink : FuseOp<FUSE_READLINK, NoArgs, NoArgs> {};
// Name, then the link's target.
struct OpSymlink : FuseOp<FUSE_SYMLINK, NoArgs, fuse_entry_out> {};
// Name (each of the following).
struct OpMknod : FuseOp<FUSE_MKNOD, fuse_mknod_in, fuse_entry_out> {};
struct OpMkdir : FuseOp<FUSE_MKDIR, fuse_mkdir_in, fuse_entry_out> {};
struct OpUnlink : FuseOp<FUSE_UNLINK, NoArgs, NoArgs> {};
struct OpRmdir : FuseOp<FUSE_RMDIR, NoArgs, NoArgs> {};
struct OpLink : FuseOp<FUSE_LINK, fuse_link_in, fuse_entry_out> {};
// Old name, then new name.
struct OpRename : FuseOp<FUSE_RENAME, fuse_rename_in, NoArgs> {};
struct OpRename2 : FuseOp<FUSE_RENAME2, fuse_rename2_in, NoArgs> {};
struct OpAccess : FuseOp<FUSE_ACCESS, fuse_access_in, NoArgs> {};

// ---- Files. ----
struct OpOpen : FuseOp<FUSE_OPEN, fuse_open_in, fuse_open_out> {};
// Name.
struct OpCreate : FuseOp<FUSE_CREATE, fuse_create_in, CreateOut> {};
struct OpRead : FuseOp<FUSE_READ, fuse_read_in, NoArgs> {};
// Data.
struct OpWrite : FuseOp<FUSE_WRITE, fuse_write_in, fuse_write_out> {};
struct OpFlush : FuseOp<FUSE_FLUSH, fuse_flush_in, NoArgs> {};
struct OpFsync : FuseOp<FUSE_FSYNC, fuse_fsync_in, NoArgs> {};
struct OpRelease : FuseOp<FUSE_RELEASE, fuse_release_in, NoArgs> {};
struct OpLseek : FuseOp<FUSE_LSEEK, fuse_lseek_in, fuse_lseek_out> {};
struct OpFallocate : FuseOp<FUSE_FALLOCATE, fuse_fallocate_in, NoArgs> {};
struct OpCopyFileRange
    : FuseOp<FUSE_COPY_FILE_RANGE, fuse_copy_file_range_in, fuse_write_out> {};
struct OpPoll : FuseOp<FUSE_POLL, fuse_poll_in, fuse_poll_out> {};

// ---- Directories. ----
struct OpOpenDir : FuseOp<FUSE_OPENDIR, fuse_open_in, fuse_open_out> {};
struct OpReadDir : FuseOp<FUSE_READDIR, fuse_read_in, NoArgs> {};
struct OpReadDirPlus : FuseOp<FUSE_READDIRPLUS, fuse_read_in, NoArgs> {};
struct OpReleaseDir : FuseOp<FUSE_RELEASEDIR, fuse_release_in, NoArgs> {};
struct OpFsyncDir : FuseOp<FUSE_FSYNCDIR, fuse_fsync_in, NoArgs> {};

// ---- Extended attributes. ----
// Name, then the value. Without FUSE_SETXATTR_EXT negotiated only the compat
// prefix of fuse_setxattr_in is sent.
struct OpSetXattr
    : FuseOp<FUSE_SETXATTR, fuse_setxattr_in, NoArgs, /*Compat=*/true> {};
struct OpSetXattrExt : FuseOp<FUSE_SETXATTR, fuse_setxattr_in, NoArgs> {};
// Name. Asked with size 0, the device replies with the size the value needs;
// asked with a buffer, it replies with the value itself: two operations, two
// reply types.
struct OpGetXattrSize
    : FuseOp<FUSE_GETXATTR, fuse_getxattr_in, fuse_getxattr_out> {};
struct OpGetXattr : FuseOp<FUSE_GETXATTR, fuse_getxattr_in, NoArgs> {};
struct OpListXattrSize
    : FuseOp<FUSE_LISTXATTR, fuse_getxattr_in, fuse_getxattr_out> {};
struct OpListXattr : FuseOp<FUSE_LISTXATTR, fuse_getxattr_in, NoArgs> {};
// Name.
struct OpRemoveXattr : FuseOp<FUSE_REMOVEXATTR, NoArgs, NoArgs> {};

// The largest fixed reply struct and request struct, for the client's buffers.
inline constexpr size_t kMaxFixedOutSize = MaxFuseReplyStructSize();
inline constexpr size_t kMaxInSize = MaxFuseInSize();

}  // namespace driver

#endif  // DRIVER_FUSE_OPS_H_
