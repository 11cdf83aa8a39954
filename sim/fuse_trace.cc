#include "sim/fuse_trace.h"

#include <fcntl.h>
#include <linux/fuse.h>

#include <cstring>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace sim {
namespace {

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
      // The device's libfuse never negotiates FUSE_SETXATTR_EXT: the short
      // struct.
      fuse_setxattr_in setxattr;
      if (!in.Struct(setxattr, FUSE_COMPAT_SETXATTR_IN_SIZE)) break;
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
      // The first fields of fuse_init_in have been the same since 7.6.
      uint32_t version[2];
      if (!in.Struct(version)) break;
      args.major = version[0];
      args.minor = version[1];
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

// Opcodes whose successful reply is a payload whose size is the result.
bool RepliesWithData(uint32_t opcode) {
  switch (opcode) {
    case FUSE_READ:
    case FUSE_READDIR:
    case FUSE_READDIRPLUS:
    case FUSE_READLINK:
    case FUSE_LISTXATTR:
    case FUSE_GETXATTR:
      return true;
    default:
      return false;
  }
}

bool RepliesWithEntry(uint32_t opcode) {
  switch (opcode) {
    case FUSE_LOOKUP:
    case FUSE_MKNOD:
    case FUSE_MKDIR:
    case FUSE_SYMLINK:
    case FUSE_LINK:
    case FUSE_CREATE:
    case FUSE_TMPFILE:
      return true;
    default:
      return false;
  }
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
std::string Quoted(std::string_view name) {
  std::string out = "\"";
  for (unsigned char c : name) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      absl::StrAppend(&out, absl::StrFormat("\\x%02x", c));
    }
  }
  out += '"';
  return out;
}

// A JSON string: quotes, backslashes and control characters escaped, bytes
// that are not ASCII as \u00XX (names are bytes, not necessarily UTF-8).
std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      absl::StrAppend(&out, absl::StrFormat("\\u%04x", c));
    }
  }
  out += '"';
  return out;
}

std::string Octal(uint32_t mode) { return absl::StrFormat("0%o", mode); }

}  // namespace

std::string FuseOpcodeName(uint32_t opcode) {
  switch (opcode) {
#define OPCODE(name) \
  case FUSE_##name:  \
    return #name;
    OPCODE(LOOKUP)
    OPCODE(FORGET)
    OPCODE(GETATTR)
    OPCODE(SETATTR)
    OPCODE(READLINK)
    OPCODE(SYMLINK)
    OPCODE(MKNOD)
    OPCODE(MKDIR)
    OPCODE(UNLINK)
    OPCODE(RMDIR)
    OPCODE(RENAME)
    OPCODE(LINK)
    OPCODE(OPEN)
    OPCODE(READ)
    OPCODE(WRITE)
    OPCODE(STATFS)
    OPCODE(RELEASE)
    OPCODE(FSYNC)
    OPCODE(SETXATTR)
    OPCODE(GETXATTR)
    OPCODE(LISTXATTR)
    OPCODE(REMOVEXATTR)
    OPCODE(FLUSH)
    OPCODE(INIT)
    OPCODE(OPENDIR)
    OPCODE(READDIR)
    OPCODE(RELEASEDIR)
    OPCODE(FSYNCDIR)
    OPCODE(GETLK)
    OPCODE(SETLK)
    OPCODE(SETLKW)
    OPCODE(ACCESS)
    OPCODE(CREATE)
    OPCODE(INTERRUPT)
    OPCODE(BMAP)
    OPCODE(DESTROY)
    OPCODE(IOCTL)
    OPCODE(POLL)
    OPCODE(NOTIFY_REPLY)
    OPCODE(BATCH_FORGET)
    OPCODE(FALLOCATE)
    OPCODE(READDIRPLUS)
    OPCODE(RENAME2)
    OPCODE(LSEEK)
    OPCODE(COPY_FILE_RANGE)
    OPCODE(SETUPMAPPING)
    OPCODE(REMOVEMAPPING)
    OPCODE(SYNCFS)
    OPCODE(TMPFILE)
#undef OPCODE
    case CUSE_INIT:
      return "CUSE_INIT";
    default:
      return absl::StrCat("OP_", opcode);
  }
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
  size_t body_size = available - sizeof(header);
  uint32_t payload = used_length - sizeof(header);
  if (RepliesWithData(event.opcode)) {
    if (event.opcode == FUSE_GETXATTR || event.opcode == FUSE_LISTXATTR) {
      // A size probe (size 0) replies with fuse_getxattr_out.
      if (event.args.size.value_or(1) == 0 &&
          body_size >= sizeof(fuse_getxattr_out)) {
        fuse_getxattr_out out;
        memcpy(&out, body, sizeof(out));
        event.result = out.size;
        return;
      }
    }
    event.result = payload;
    return;
  }
  if (RepliesWithEntry(event.opcode)) {
    if (body_size >= sizeof(fuse_entry_out)) {
      fuse_entry_out entry;
      memcpy(&entry, body, sizeof(entry));
      event.out_node = entry.nodeid;
      if (event.opcode == FUSE_CREATE &&
          body_size >= sizeof(fuse_entry_out) + sizeof(fuse_open_out)) {
        fuse_open_out open;
        memcpy(&open, body + sizeof(entry), sizeof(open));
        event.out_fh = open.fh;
      }
    }
    event.result = 0;
    return;
  }
  switch (event.opcode) {
    case FUSE_OPEN:
    case FUSE_OPENDIR:
      if (body_size >= sizeof(fuse_open_out)) {
        fuse_open_out open;
        memcpy(&open, body, sizeof(open));
        event.out_fh = open.fh;
      }
      event.result = 0;
      return;
    case FUSE_WRITE:
      if (body_size >= sizeof(fuse_write_out)) {
        fuse_write_out write;
        memcpy(&write, body, sizeof(write));
        event.result = write.size;
      }
      return;
    case FUSE_LSEEK:
      if (body_size >= sizeof(fuse_lseek_out)) {
        fuse_lseek_out lseek;
        memcpy(&lseek, body, sizeof(lseek));
        event.result = lseek.offset;
      }
      return;
    case FUSE_COPY_FILE_RANGE:
      if (body_size >= sizeof(fuse_write_out)) {
        fuse_write_out copied;
        memcpy(&copied, body, sizeof(copied));
        event.result = copied.size;
      }
      return;
    default:
      event.result = 0;
      return;
  }
}

std::string FormatFuseTraceLine(const FuseTraceEvent& event) {
  std::string line = absl::StrFormat(
      "%10.6f %-6s #%-4u ", static_cast<double>(event.time_nanos) / 1e9,
      QueueName(event.queue), event.unique);
  if (event.malformed) {
    absl::StrAppend(&line, "<no fuse_in_header: ", event.in_bytes, " bytes>");
  } else {
    const FuseTraceArgs& a = event.args;
    std::string args = absl::StrCat("node=", event.nodeid);
    auto add = [&args](absl::string_view part) {
      absl::StrAppend(&args, ", ", part);
    };
    if (!a.name.empty()) add(Quoted(a.name));
    if (event.opcode == FUSE_RENAME || event.opcode == FUSE_RENAME2) {
      if (a.new_parent) add(absl::StrCat("new_parent=", *a.new_parent));
    } else if (event.opcode == FUSE_LINK) {
      if (a.new_parent) add(absl::StrCat("target=", *a.new_parent));
    } else if (event.opcode == FUSE_COPY_FILE_RANGE) {
      if (a.new_parent) add(absl::StrCat("node_out=", *a.new_parent));
    }
    if (!a.name2.empty()) {
      add(event.opcode == FUSE_SYMLINK ? absl::StrCat("-> ", Quoted(a.name2))
                                       : Quoted(a.name2));
    }
    if (a.major && a.minor)
      add(absl::StrCat("version=", *a.major, ".", *a.minor));
    if (a.fh) add(absl::StrCat("fh=", *a.fh));
    if (a.offset) add(absl::StrCat("offset=", *a.offset));
    if (a.size) add(absl::StrCat("size=", *a.size));
    if (a.length) add(absl::StrCat("length=", *a.length));
    if (a.valid) add(absl::StrCat("valid=", SetattrValidString(*a.valid)));
    if (a.flags) add(absl::StrCat("flags=", OpenFlagsString(*a.flags)));
    if (a.mode) add(absl::StrCat("mode=", Octal(*a.mode)));
    if (a.mask) add(absl::StrFormat("mask=%#x", *a.mask));
    if (a.whence) add(absl::StrCat("whence=", *a.whence));
    if (a.nlookup) add(absl::StrCat("nlookup=", *a.nlookup));
    if (a.count) {
      add(absl::StrCat(event.opcode == FUSE_INTERRUPT ? "unique=" : "count=",
                       *a.count));
    }
    absl::StrAppend(&line, FuseOpcodeName(event.opcode), "(", args, ")");
  }
  if (!event.replied) {
    absl::StrAppend(&line, " = (no reply)");
  } else if (event.error != 0) {
    int error = -event.error;
    absl::StrAppend(&line, " = ", ErrnoName(error), " (", std::strerror(error),
                    ")");
  } else {
    absl::StrAppend(&line, " = ", event.result.value_or(0));
    if (event.out_node) absl::StrAppend(&line, " node=", *event.out_node);
    if (event.out_fh) absl::StrAppend(&line, " fh=", *event.out_fh);
  }
  absl::StrAppend(
      &line, absl::StrFormat("  (%u B in, %u B out, %.1f us)", event.in_bytes,
                             event.out_bytes,
                             static_cast<double>(event.latency_nanos) / 1e3));
  return line;
}

std::string FormatFuseTraceJson(const FuseTraceEvent& event) {
  std::string json =
      absl::StrCat("{\"t_ns\":", event.time_nanos,
                   ",\"queue\":", JsonString(QueueName(event.queue)),
                   ",\"vq\":", event.queue, ",\"unique\":", event.unique,
                   ",\"op\":", JsonString(FuseOpcodeName(event.opcode)),
                   ",\"opcode\":", event.opcode, ",\"node\":", event.nodeid);
  const FuseTraceArgs& a = event.args;
  auto number = [&json](absl::string_view key, std::optional<uint64_t> value) {
    if (value) absl::StrAppend(&json, ",\"", key, "\":", *value);
  };
  if (event.malformed) absl::StrAppend(&json, ",\"malformed\":true");
  if (!a.name.empty()) absl::StrAppend(&json, ",\"name\":", JsonString(a.name));
  if (!a.name2.empty()) {
    absl::StrAppend(&json, ",\"name2\":", JsonString(a.name2));
  }
  number("new_parent", a.new_parent);
  number("fh", a.fh);
  number("offset", a.offset);
  number("size", a.size);
  number("length", a.length);
  number("nlookup", a.nlookup);
  number("count", a.count);
  number("mask", a.mask);
  number("whence", a.whence);
  number("valid", a.valid);
  if (a.flags) {
    absl::StrAppend(&json,
                    ",\"flags\":", JsonString(OpenFlagsString(*a.flags)));
  }
  if (a.mode) absl::StrAppend(&json, ",\"mode\":", JsonString(Octal(*a.mode)));
  if (a.major && a.minor) {
    absl::StrAppend(&json, ",\"version\":",
                    JsonString(absl::StrCat(*a.major, ".", *a.minor)));
  }
  absl::StrAppend(&json, ",\"replied\":", event.replied ? "true" : "false");
  if (event.replied && event.error != 0) {
    absl::StrAppend(&json, ",\"error\":", JsonString(ErrnoName(-event.error)),
                    ",\"errno\":", -event.error);
  } else if (event.replied) {
    number("result", event.result.value_or(0));
    number("out_node", event.out_node);
    number("out_fh", event.out_fh);
  }
  absl::StrAppend(&json, ",\"in_bytes\":", event.in_bytes,
                  ",\"out_bytes\":", event.out_bytes,
                  ",\"latency_ns\":", event.latency_nanos, "}");
  return json;
}

}  // namespace sim
