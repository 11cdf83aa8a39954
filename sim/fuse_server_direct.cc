// The requests FuseServer answers without libfuse (FuseServer::AnswerDirectly):
// the commonest of a file's and a directory's life, whose handling is a few
// host calls and about as many instructions as libfuse spent dispatching it
// (a calloc'd request with a mutex of its own, the session's request list
// under its lock, a reply sent through the custom io and routed back to the
// chain). The handling is PassthroughFs's, shared with the libfuse handlers;
// only the reply is encoded here, as libfuse 3.14 encodes it (fuse_lowlevel.c:
// fill_entry, fill_open, convert_stat, calc_timeout_*, fuse_add_direntry and
// fuse_add_direntry_plus), so that the driver cannot tell which answered:
// fuse_server_direct_test compares the two byte for byte.
#include <linux/fuse.h>
#include <sys/stat.h>

#include <climits>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "sim/fuse_request_check.h"
#include "sim/fuse_server.h"

namespace sim {
namespace {

uint64_t TimeoutSeconds(double t) {
  if (t > static_cast<double>(ULONG_MAX)) return ULONG_MAX;
  if (t < 0) return 0;
  return static_cast<uint64_t>(t);
}

uint32_t TimeoutNanos(double t) {
  const double fraction = t - static_cast<double>(TimeoutSeconds(t));
  if (fraction < 0) return 0;
  if (fraction >= 0.999999999) return 999999999;
  return static_cast<uint32_t>(fraction * 1.0e9);
}

fuse_attr AttrOut(const struct stat& st) {
  fuse_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.ino = st.st_ino;
  attr.mode = st.st_mode;
  attr.nlink = static_cast<uint32_t>(st.st_nlink);
  attr.uid = st.st_uid;
  attr.gid = st.st_gid;
  attr.rdev = static_cast<uint32_t>(st.st_rdev);
  attr.size = static_cast<uint64_t>(st.st_size);
  attr.blksize = static_cast<uint32_t>(st.st_blksize);
  attr.blocks = static_cast<uint64_t>(st.st_blocks);
  attr.atime = static_cast<uint64_t>(st.st_atim.tv_sec);
  attr.mtime = static_cast<uint64_t>(st.st_mtim.tv_sec);
  attr.ctime = static_cast<uint64_t>(st.st_ctim.tv_sec);
  attr.atimensec = static_cast<uint32_t>(st.st_atim.tv_nsec);
  attr.mtimensec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
  attr.ctimensec = static_cast<uint32_t>(st.st_ctim.tv_nsec);
  return attr;
}

fuse_entry_out EntryOut(const fuse_entry_param& e) {
  fuse_entry_out out;
  memset(&out, 0, sizeof(out));
  out.nodeid = e.ino;
  out.generation = e.generation;
  out.entry_valid = TimeoutSeconds(e.entry_timeout);
  out.entry_valid_nsec = TimeoutNanos(e.entry_timeout);
  out.attr_valid = TimeoutSeconds(e.attr_timeout);
  out.attr_valid_nsec = TimeoutNanos(e.attr_timeout);
  out.attr = AttrOut(e.attr);
  return out;
}

fuse_open_out OpenOut(const fuse_file_info& fi) {
  fuse_open_out out;
  memset(&out, 0, sizeof(out));
  out.fh = fi.fh;
  if (fi.direct_io) out.open_flags |= FOPEN_DIRECT_IO;
  if (fi.keep_cache) out.open_flags |= FOPEN_KEEP_CACHE;
  if (fi.cache_readdir) out.open_flags |= FOPEN_CACHE_DIR;
  if (fi.nonseekable) out.open_flags |= FOPEN_NONSEEKABLE;
  if (fi.noflush) out.open_flags |= FOPEN_NOFLUSH;
  return out;
}

// fuse_add_direntry and fuse_add_direntry_plus.
size_t AppendDirent(char* buf, size_t room, const char* name,
                    const fuse_entry_param& e, off_t next, bool plus) {
  const size_t name_len = strlen(name);
  const size_t header = plus ? FUSE_NAME_OFFSET_DIRENTPLUS : FUSE_NAME_OFFSET;
  const size_t padded = FUSE_DIRENT_ALIGN(header + name_len);
  if (buf == nullptr || padded > room) return padded;
  fuse_dirent dirent;
  dirent.ino = e.attr.st_ino;
  dirent.off = static_cast<uint64_t>(next);
  dirent.namelen = static_cast<uint32_t>(name_len);
  dirent.type = (e.attr.st_mode & S_IFMT) >> 12;
  if (plus) {
    const fuse_entry_out entry = EntryOut(e);
    memcpy(buf, &entry, sizeof(entry));
  }
  // The padding (under 8 bytes of a record of at least 32) zeroed by one
  // store, which the name then overwrites where it is not padding.
  const uint64_t zero = 0;
  memcpy(buf + padded - sizeof(zero), &zero, sizeof(zero));
  char* at = buf + header - FUSE_NAME_OFFSET;
  memcpy(at, &dirent, FUSE_NAME_OFFSET);
  memcpy(at + FUSE_NAME_OFFSET, name, name_len);
  return padded;
}

// A success header, then `args` (WriteReply): at most two, CREATE's.
uint32_t ReplyWith(ChainWriter& reply, uint64_t unique,
                   std::initializer_list<iovec> args) {
  fuse_out_header out{sizeof(out), 0, unique};
  iovec iov[1 + 2] = {{&out, sizeof(out)}};
  size_t count = 1;
  for (const iovec& arg : args) {
    out.len += static_cast<uint32_t>(arg.iov_len);
    iov[count++] = arg;
  }
  return WriteReply(reply, {iov, count});
}

// A success header and `pieces`, each a fixed reply struct.
template <typename... Pieces>
uint32_t Reply(ChainWriter& reply, uint64_t unique, const Pieces&... pieces) {
  return ReplyWith(reply, unique,
                   {{const_cast<Pieces*>(&pieces), sizeof(Pieces)}...});
}

}  // namespace

std::optional<uint32_t> FuseServer::AnswerDirectly(const fuse_in_header& in,
                                                   const uint8_t* arg,
                                                   ChainWriter& reply) {
  // What the handlers see of the requester, as libfuse fills fuse_req_ctx.
  fuse_ctx requester{in.uid, in.gid, static_cast<pid_t>(in.pid), 0};
  // CheckFuseRequest found the fixed struct whole and the names ending inside
  // the request.
  const char* name = reinterpret_cast<const char*>(arg);
  switch (in.opcode) {
    case FUSE_LOOKUP: {
      fuse_entry_param e;
      if (int err = fs_->Lookup(in.nodeid, name, &e); err != 0) {
        return WriteErrorReply(reply, in.unique, err);
      }
      return Reply(reply, in.unique, EntryOut(e));
    }
    case FUSE_FORGET: {
      const fuse_forget_one forget{in.nodeid,
                                   LoadArg<fuse_forget_in>(arg).nlookup};
      fs_->Forget({&forget, 1});
      return 0;
    }
    case FUSE_BATCH_FORGET: {
      // The forgets were found to fit; the copy is 8-byte aligned, as
      // fuse_forget_one wants.
      const uint32_t count = LoadArg<fuse_batch_forget_in>(arg).count;
      fs_->Forget({reinterpret_cast<const fuse_forget_one*>(
                       arg + sizeof(fuse_batch_forget_in)),
                   count});
      return 0;
    }
    case FUSE_GETATTR: {
      const auto get = LoadArg<fuse_getattr_in>(arg);
      struct stat st;
      if (int err = fs_->Getattr(
              in.nodeid,
              (get.getattr_flags & FUSE_GETATTR_FH) ? &get.fh : nullptr, &st);
          err != 0) {
        return WriteErrorReply(reply, in.unique, err);
      }
      fuse_attr_out out;
      memset(&out, 0, sizeof(out));
      out.attr_valid = TimeoutSeconds(fs_->options().attr_timeout);
      out.attr_valid_nsec = TimeoutNanos(fs_->options().attr_timeout);
      out.attr = AttrOut(st);
      return Reply(reply, in.unique, out);
    }
    case FUSE_OPEN:
    case FUSE_OPENDIR: {
      fuse_file_info fi;
      memset(&fi, 0, sizeof(fi));
      fi.flags = static_cast<int>(LoadArg<fuse_open_in>(arg).flags);
      if (int err = in.opcode == FUSE_OPEN ? fs_->Open(in.nodeid, &fi)
                                           : fs_->Opendir(in.nodeid, &fi);
          err != 0) {
        return WriteErrorReply(reply, in.unique, err);
      }
      return Reply(reply, in.unique, OpenOut(fi));
    }
    case FUSE_CREATE: {
      const auto create = LoadArg<fuse_create_in>(arg);
      requester.umask = create.umask;
      fuse_file_info fi;
      memset(&fi, 0, sizeof(fi));
      fi.flags = static_cast<int>(create.flags);
      fuse_entry_param e;
      if (int err =
              fs_->Create(requester, in.nodeid, name + sizeof(fuse_create_in),
                          create.mode, &fi, &e);
          err != 0) {
        return WriteErrorReply(reply, in.unique, err);
      }
      return Reply(reply, in.unique, EntryOut(e), OpenOut(fi));
    }
    case FUSE_RELEASE:
    case FUSE_RELEASEDIR: {
      const uint64_t fh = LoadArg<fuse_release_in>(arg).fh;
      return WriteErrorReply(reply, in.unique,
                             in.opcode == FUSE_RELEASE
                                 ? fs_->Release(in.nodeid, fh)
                                 : fs_->Releasedir(in.nodeid, fh));
    }
    case FUSE_READDIR:
    case FUSE_READDIRPLUS: {
      const auto read = LoadArg<fuse_read_in>(arg);
      const bool plus = in.opcode == FUSE_READDIRPLUS;
      const size_t size = fs_->ReadDirBytes(read.size);
      // Encoded in a buffer the thread keeps, then copied to the chain in one
      // go: written in place, entry by entry, a device thread would fetch each
      // line of guest memory from the driver's CPU first.
      thread_local std::vector<char> scratch;
      if (scratch.size() < size) scratch.resize(size);
      char* records = scratch.data();
      size_t used;
      if (int err = fs_->ReadDir(
              in.nodeid, read.fh, {records, size},
              static_cast<int64_t>(read.offset), plus,
              [plus](char* buf, size_t room, const char* name,
                     const fuse_entry_param& e, off_t next) {
                return AppendDirent(buf, room, name, e, next, plus);
              },
              &used);
          err != 0) {
        return WriteErrorReply(reply, in.unique, err);
      }
      return ReplyWith(reply, in.unique, {{records, used}});
    }
    case FUSE_UNLINK:
      return WriteErrorReply(reply, in.unique,
                             fs_->Unlink(requester, in.nodeid, name));
    default:
      return std::nullopt;
  }
}

}  // namespace sim
