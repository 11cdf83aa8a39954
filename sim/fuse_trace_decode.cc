// Decoding a FUSE request and its reply from the bytes of a descriptor chain.
#include <linux/fuse.h>

#include <cstring>
#include <string>

#include "driver/fuse_opcodes.h"
#include "sim/fuse_trace.h"

namespace sim {
namespace {

using driver::FindFuseOpcode;
using driver::FuseOpcodeInfo;
using driver::FuseReply;

// The request's bytes after the fuse_in_header, read field by field with every
// access bounded by what was copied out of the chain.
class ArgReader {
 public:
  ArgReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  // Copies the fixed struct `T` (or nothing, returning false, when the request
  // is too short for it).
  template <typename T>
  bool Struct(T& out, size_t wire_size = sizeof(T)) {
    if (wire_size > sizeof(T) || size_ - offset_ < wire_size) return false;
    memset(&out, 0, sizeof(T));
    memcpy(&out, data_ + offset_, wire_size);
    offset_ += wire_size;
    return true;
  }

  // The next NUL-terminated name (what is left when there is no NUL), capped
  // for display.
  std::string Name() {
    constexpr size_t kMaxShown = 4096;
    const uint8_t* start = data_ + offset_;
    size_t left = size_ - offset_;
    const void* nul = memchr(start, '\0', left);
    size_t length = nul ? static_cast<const uint8_t*>(nul) - start : left;
    offset_ += nul ? length + 1 : length;
    return std::string(reinterpret_cast<const char*>(start),
                       length < kMaxShown ? length : kMaxShown);
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t offset_ = 0;
};

void DecodeArgs(uint32_t opcode, ArgReader& in, FuseTraceArgs& args) {
  switch (opcode) {
    case FUSE_LOOKUP:
    case FUSE_UNLINK:
    case FUSE_RMDIR:
    case FUSE_REMOVEXATTR:
      args.name = in.Name();
      break;
    case FUSE_FORGET: {
      fuse_forget_in forget;
      if (in.Struct(forget)) args.nlookup = forget.nlookup;
      break;
    }
    case FUSE_BATCH_FORGET: {
      fuse_batch_forget_in batch;
      if (in.Struct(batch)) args.count = batch.count;
      break;
    }
    case FUSE_GETATTR: {
      fuse_getattr_in getattr;
      if (in.Struct(getattr) && (getattr.getattr_flags & FUSE_GETATTR_FH)) {
        args.fh = getattr.fh;
      }
      break;
    }
    case FUSE_SETATTR: {
      fuse_setattr_in setattr;
      if (!in.Struct(setattr)) break;
      args.valid = setattr.valid;
      if (setattr.valid & FATTR_MODE) args.mode = setattr.mode;
      if (setattr.valid & FATTR_SIZE) args.size = setattr.size;
      if (setattr.valid & FATTR_FH) args.fh = setattr.fh;
      break;
    }
    case FUSE_SYMLINK:
      args.name = in.Name();
      args.name2 = in.Name();
      break;
    case FUSE_MKNOD: {
      fuse_mknod_in mknod;
      if (!in.Struct(mknod)) break;
      args.mode = mknod.mode;
      args.name = in.Name();
      break;
    }
    case FUSE_MKDIR: {
      fuse_mkdir_in mkdir;
      if (!in.Struct(mkdir)) break;
      args.mode = mkdir.mode;
      args.name = in.Name();
      break;
    }
    case FUSE_RENAME: {
      fuse_rename_in rename;
      if (!in.Struct(rename)) break;
      args.new_parent = rename.newdir;
      args.name = in.Name();
      args.name2 = in.Name();
      break;
    }
    case FUSE_RENAME2: {
      fuse_rename2_in rename;
      if (!in.Struct(rename)) break;
      args.new_parent = rename.newdir;
      if (rename.flags != 0) args.mask = rename.flags;
      args.name = in.Name();
      args.name2 = in.Name();
      break;
    }
    case FUSE_LINK: {
      fuse_link_in link;
      if (!in.Struct(link)) break;
      args.new_parent = link.oldnodeid;
      args.name2 = in.Name();
      break;
    }
    case FUSE_OPEN:
    case FUSE_OPENDIR: {
      fuse_open_in open;
      if (in.Struct(open)) args.flags = open.flags;
      break;
    }
    case FUSE_CREATE:
    case FUSE_TMPFILE: {
      fuse_create_in create;
      if (!in.Struct(create)) break;
      args.flags = create.flags;
      args.mode = create.mode;
      args.name = in.Name();
      break;
    }
    case FUSE_READ:
    case FUSE_READDIR:
    case FUSE_READDIRPLUS: {
      fuse_read_in read;
      if (!in.Struct(read)) break;
      args.fh = read.fh;
      args.offset = read.offset;
      args.size = read.size;
      break;
    }
    case FUSE_WRITE: {
      fuse_write_in write;
      if (!in.Struct(write)) break;
      args.fh = write.fh;
      args.offset = write.offset;
      args.size = write.size;
      break;
    }
    case FUSE_RELEASE:
    case FUSE_RELEASEDIR: {
      fuse_release_in release;
      if (in.Struct(release)) args.fh = release.fh;
      break;
    }
    case FUSE_FLUSH: {
      fuse_flush_in flush;
      if (in.Struct(flush)) args.fh = flush.fh;
      break;
    }
    case FUSE_FSYNC:
    case FUSE_FSYNCDIR: {
      fuse_fsync_in fsync;
      if (in.Struct(fsync)) args.fh = fsync.fh;
      break;
    }
    case FUSE_SETXATTR: {
      // The device's libfuse never negotiates FUSE_SETXATTR_EXT: the compat
      // struct.
      fuse_setxattr_in setxattr;
      if (!in.Struct(setxattr,
                     driver::kFuseOpcode<FUSE_SETXATTR>.compat_in_size)) {
        break;
      }
      args.size = setxattr.size;
      args.name = in.Name();
      break;
    }
    case FUSE_GETXATTR:
    case FUSE_LISTXATTR: {
      fuse_getxattr_in getxattr;
      if (!in.Struct(getxattr)) break;
      args.size = getxattr.size;
      if (opcode == FUSE_GETXATTR) args.name = in.Name();
      break;
    }
    case FUSE_INIT: {
      // major, minor, max_readahead, flags since 7.6; flags2 after them
      // when INIT_EXT says so (7.36).
      uint32_t init[4];
      if (!in.Struct(init)) break;
      args.major = init[0];
      args.minor = init[1];
      uint32_t flags2 = 0;
      if (init[3] & FUSE_INIT_EXT) in.Struct(flags2);
      args.init_flags = init[3] | uint64_t{flags2} << 32;
      break;
    }
    case FUSE_ACCESS: {
      fuse_access_in access;
      if (in.Struct(access)) args.mask = access.mask;
      break;
    }
    case FUSE_INTERRUPT: {
      fuse_interrupt_in interrupt;
      if (in.Struct(interrupt)) args.count = interrupt.unique;
      break;
    }
    case FUSE_LSEEK: {
      fuse_lseek_in lseek;
      if (!in.Struct(lseek)) break;
      args.fh = lseek.fh;
      args.offset = lseek.offset;
      args.whence = lseek.whence;
      break;
    }
    case FUSE_FALLOCATE: {
      fuse_fallocate_in fallocate;
      if (!in.Struct(fallocate)) break;
      args.fh = fallocate.fh;
      args.offset = fallocate.offset;
      args.length = fallocate.length;
      args.mask = fallocate.mode;
      break;
    }
    case FUSE_COPY_FILE_RANGE: {
      fuse_copy_file_range_in copy;
      if (!in.Struct(copy)) break;
      args.fh = copy.fh_in;
      args.offset = copy.off_in;
      args.new_parent = copy.nodeid_out;
      args.length = copy.len;
      break;
    }
    case FUSE_POLL: {
      fuse_poll_in poll;
      if (!in.Struct(poll)) break;
      args.fh = poll.fh;
      args.mask = poll.events;
      break;
    }
    case FUSE_GETLK:
    case FUSE_SETLK:
    case FUSE_SETLKW: {
      fuse_lk_in lk;
      if (in.Struct(lk)) args.fh = lk.fh;
      break;
    }
    default:
      break;
  }
}

}  // namespace

FuseTraceEvent DecodeFuseRequest(const uint8_t* request, size_t size,
                                 uint64_t total_bytes) {
  FuseTraceEvent event;
  fuse_in_header header;
  if (size < sizeof(header)) {
    event.malformed = true;
    event.in_bytes = static_cast<uint32_t>(
        total_bytes < UINT32_MAX ? total_bytes : UINT32_MAX);
    return event;
  }
  memcpy(&header, request, sizeof(header));
  event.opcode = header.opcode;
  event.unique = header.unique;
  event.nodeid = header.nodeid;
  // The header's own length is the driver's claim: never beyond the chain.
  uint64_t length = header.len < total_bytes ? header.len : total_bytes;
  event.in_bytes = static_cast<uint32_t>(length);
  size_t args_end = length < size ? static_cast<size_t>(length) : size;
  if (args_end < sizeof(header)) args_end = sizeof(header);
  ArgReader args(request + sizeof(header), args_end - sizeof(header));
  DecodeArgs(header.opcode, args, event.args);
  return event;
}

void DecodeFuseReply(const uint8_t* reply, size_t size, uint32_t used_length,
                     FuseTraceEvent& event) {
  event.out_bytes = used_length;
  fuse_out_header header;
  size_t available = size < used_length ? size : used_length;
  if (available < sizeof(header)) return;
  memcpy(&header, reply, sizeof(header));
  event.replied = true;
  event.error = header.error;
  if (header.error != 0) return;
  const uint8_t* body = reply + sizeof(header);
  const size_t body_size = available - sizeof(header);
  const uint32_t payload = used_length - sizeof(header);
  // Reads the reply struct T at `offset` of the body, when all of it is there.
  auto read = [&]<typename T>(T& out, size_t offset = 0) {
    if (body_size < offset + sizeof(T)) return false;
    memcpy(&out, body + offset, sizeof(T));
    return true;
  };
  const FuseOpcodeInfo* info = FindFuseOpcode(event.opcode);
  const FuseReply kind = info ? info->reply : FuseReply::kEmpty;
  event.result = 0;
  switch (kind) {
    case FuseReply::kDataOrSize:
      // A size probe (size 0) replies with fuse_getxattr_out.
      if (event.args.size.value_or(1) == 0) {
        fuse_getxattr_out out;
        if (read(out)) event.result = out.size;
        return;
      }
      event.result = payload;
      return;
    case FuseReply::kData:
      event.result = payload;
      return;
    case FuseReply::kEntry:
    case FuseReply::kCreate: {
      fuse_entry_out entry;
      fuse_open_out open;
      if (read(entry)) event.out_node = entry.nodeid;
      if (kind == FuseReply::kCreate && read(open, sizeof(entry))) {
        event.out_fh = open.fh;
      }
      return;
    }
    case FuseReply::kOpen: {
      fuse_open_out open;
      if (read(open)) event.out_fh = open.fh;
      return;
    }
    case FuseReply::kWrite: {
      // WRITE and COPY_FILE_RANGE: the byte count.
      fuse_write_out written;
      event.result.reset();
      if (read(written)) event.result = written.size;
      return;
    }
    case FuseReply::kLseek: {
      fuse_lseek_out lseek;
      event.result.reset();
      if (read(lseek)) event.result = lseek.offset;
      return;
    }
    case FuseReply::kInit: {
      // flags at 12 since 7.6; flags2 at 36 when INIT_EXT was agreed.
      uint32_t flags, flags2 = 0;
      if (!read(flags, offsetof(fuse_init_out, flags))) return;
      if (flags & FUSE_INIT_EXT) read(flags2, offsetof(fuse_init_out, flags2));
      event.out_init_flags = flags | uint64_t{flags2} << 32;
      return;
    }
    default:
      return;
  }
}

}  // namespace sim
