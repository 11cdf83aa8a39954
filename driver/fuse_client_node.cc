// FuseClient: names, attributes and extended attributes.
#include <linux/fs.h>

#include "base/abi.h"
#include "driver/fuse_client.h"

namespace driver {
namespace {

constexpr size_t kXattrNameMax = 255;
constexpr size_t kXattrSizeMax = 65536;
constexpr uint32_t kNanosPerSecond = 1'000'000'000;
constexpr uint32_t kRenameFlags =
    RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT;

RequestTail Names(std::span<const std::string_view> names) {
  RequestTail tail;
  tail.names = names;
  return tail;
}

base::Result<void> CheckXattrName(std::string_view name) {
  if (name.empty() || name.size() > kXattrNameMax) return base::Error{ERANGE};
  for (char c : name) {
    if (c == '\0') return base::Error{EINVAL};
  }
  return {};
}

uint32_t ClampXattrSize(size_t size) {
  return static_cast<uint32_t>(size < kXattrSizeMax ? size : kXattrSizeMax);
}

}  // namespace

base::Result<Entry> FuseClient::Lookup(uint64_t parent, std::string_view name) {
  TRY(CheckNodeId(parent));
  TRY(CheckName(name));
  const std::string_view names[] = {name};
  Reply<OpLookup> reply = TRY(Call<OpLookup>(parent, NoArgs{}, Names(names)));
  // A zero node id is a negative entry: the name does not exist.
  if (reply.out.nodeid == 0) return base::Error{ENOENT};
  if (const char* reason = CheckLookupEntry(reply.out)) {
    base::Result<void> forgot = Forget(reply.out.nodeid, 1);
    (void)forgot;
    return RejectReply(OpLookup::kOpcode, reply.unique, reason);
  }
  return ToEntry(reply.out);
}

base::Result<Attributes> FuseClient::GetAttr(uint64_t nodeid,
                                             std::optional<uint64_t> fh) {
  TRY(CheckNodeId(nodeid));
  fuse_getattr_in in = {};
  if (fh) {
    in.getattr_flags = FUSE_GETATTR_FH;
    in.fh = *fh;
  }
  Reply<OpGetAttr> reply = TRY(Call<OpGetAttr>(nodeid, in));
  if (const char* reason = CheckAttr(reply.out.attr)) {
    return RejectReply(OpGetAttr::kOpcode, reply.unique, reason);
  }
  Attributes attributes;
  attributes.attr = reply.out.attr;
  attributes.valid_ns =
      TimeoutNanos(reply.out.attr_valid, reply.out.attr_valid_nsec);
  return attributes;
}

base::Result<Attributes> FuseClient::SetAttr(uint64_t nodeid,
                                             const SetAttrRequest& request) {
  TRY(CheckNodeId(nodeid));
  if ((request.atime && request.atime_now) ||
      (request.mtime && request.mtime_now)) {
    return base::Error{EINVAL};
  }
  fuse_setattr_in in = {};
  if (request.mode) {
    in.valid |= FATTR_MODE;
    in.mode = *request.mode & 07777;
  }
  if (request.uid) {
    in.valid |= FATTR_UID;
    in.uid = *request.uid;
  }
  if (request.gid) {
    in.valid |= FATTR_GID;
    in.gid = *request.gid;
  }
  if (request.size) {
    in.valid |= FATTR_SIZE;
    in.size = *request.size;
  }
  if (request.atime) {
    if (request.atime->nanoseconds >= kNanosPerSecond)
      return base::Error{EINVAL};
    in.valid |= FATTR_ATIME;
    in.atime = request.atime->seconds;
    in.atimensec = request.atime->nanoseconds;
  }
  if (request.mtime) {
    if (request.mtime->nanoseconds >= kNanosPerSecond)
      return base::Error{EINVAL};
    in.valid |= FATTR_MTIME;
    in.mtime = request.mtime->seconds;
    in.mtimensec = request.mtime->nanoseconds;
  }
  // "Now" travels as FATTR_xTIME plus FATTR_xTIME_NOW, as Linux sends it:
  // servers test FATTR_xTIME first and only then look at _NOW.
  if (request.atime_now) in.valid |= FATTR_ATIME | FATTR_ATIME_NOW;
  if (request.mtime_now) in.valid |= FATTR_MTIME | FATTR_MTIME_NOW;
  if (request.fh) {
    in.valid |= FATTR_FH;
    in.fh = *request.fh;
  }
  Reply<OpSetAttr> reply = TRY(Call<OpSetAttr>(nodeid, in));
  if (const char* reason = CheckAttr(reply.out.attr)) {
    return RejectReply(OpSetAttr::kOpcode, reply.unique, reason);
  }
  Attributes attributes;
  attributes.attr = reply.out.attr;
  attributes.valid_ns =
      TimeoutNanos(reply.out.attr_valid, reply.out.attr_valid_nsec);
  return attributes;
}

base::Result<size_t> FuseClient::ReadLink(uint64_t nodeid,
                                          std::span<char> buffer) {
  TRY(CheckNodeId(nodeid));
  // READLINK does not say how much room there is: the device sends the whole
  // target, up to PATH_MAX, so the buffer must hold that much.
  if (buffer.size() < base::kPathMax) return base::Error{EINVAL};
  const MutableBuffer data[] = {{buffer.data(), base::kPathMax}};
  Reply<OpReadLink> reply = TRY(Call<OpReadLink>(nodeid, NoArgs{}, {}, data));
  for (size_t i = 0; i < reply.data_size; ++i) {
    if (buffer[i] == '\0') {
      return RejectReply(OpReadLink::kOpcode, reply.unique,
                         "link target holds NUL");
    }
  }
  return static_cast<size_t>(reply.data_size);
}

base::Result<Entry> FuseClient::Symlink(uint64_t parent, std::string_view name,
                                        std::string_view target) {
  TRY(CheckNodeId(parent));
  TRY(CheckName(name));
  if (target.empty()) return base::Error{ENOENT};
  if (target.size() >= base::kPathMax) return base::Error{ENAMETOOLONG};
  for (char c : target) {
    if (c == '\0') return base::Error{EINVAL};
  }
  const std::string_view names[] = {name};
  static constexpr char kNul = '\0';
  const ConstBuffer data[] = {{target.data(), target.size()}, {&kNul, 1}};
  RequestTail tail;
  tail.names = names;
  tail.data = data;
  Reply<OpSymlink> reply = TRY(Call<OpSymlink>(parent, NoArgs{}, tail));
  return AcceptNewEntry(OpSymlink::kOpcode, reply.unique, reply.out,
                        base::kTypeSymlink);
}

base::Result<Entry> FuseClient::Mknod(uint64_t parent, std::string_view name,
                                      uint32_t mode, uint32_t rdev,
                                      uint32_t umask) {
  TRY(CheckNodeId(parent));
  TRY(CheckName(name));
  // mknod(2) makes a regular file when no type is given.
  if ((mode & base::kTypeMask) == 0) mode |= base::kTypeRegular;
  fuse_mknod_in in = {};
  in.mode = mode;
  in.rdev = rdev;
  in.umask = umask;
  const std::string_view names[] = {name};
  Reply<OpMknod> reply = TRY(Call<OpMknod>(parent, in, Names(names)));
  return AcceptNewEntry(OpMknod::kOpcode, reply.unique, reply.out,
                        mode & base::kTypeMask);
}

base::Result<Entry> FuseClient::Mkdir(uint64_t parent, std::string_view name,
                                      uint32_t mode, uint32_t umask) {
  TRY(CheckNodeId(parent));
  TRY(CheckName(name));
  fuse_mkdir_in in = {};
  in.mode = mode & 07777;
  in.umask = umask;
  const std::string_view names[] = {name};
  Reply<OpMkdir> reply = TRY(Call<OpMkdir>(parent, in, Names(names)));
  return AcceptNewEntry(OpMkdir::kOpcode, reply.unique, reply.out,
                        base::kTypeDirectory);
}

base::Result<void> FuseClient::Unlink(uint64_t parent, std::string_view name) {
  TRY(CheckNodeId(parent));
  TRY(CheckName(name));
  const std::string_view names[] = {name};
  TRY(Call<OpUnlink>(parent, NoArgs{}, Names(names)));
  return {};
}

base::Result<void> FuseClient::Rmdir(uint64_t parent, std::string_view name) {
  TRY(CheckNodeId(parent));
  TRY(CheckName(name));
  const std::string_view names[] = {name};
  TRY(Call<OpRmdir>(parent, NoArgs{}, Names(names)));
  return {};
}

base::Result<void> FuseClient::Rename(uint64_t old_parent,
                                      std::string_view old_name,
                                      uint64_t new_parent,
                                      std::string_view new_name,
                                      uint32_t flags) {
  TRY(CheckNodeId(old_parent));
  TRY(CheckNodeId(new_parent));
  TRY(CheckName(old_name));
  TRY(CheckName(new_name));
  if ((flags & ~kRenameFlags) != 0) return base::Error{EINVAL};
  if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE))
    return base::Error{EINVAL};
  const std::string_view names[] = {old_name, new_name};
  if (flags == 0) {
    fuse_rename_in in = {};
    in.newdir = new_parent;
    TRY(Call<OpRename>(old_parent, in, Names(names)));
  } else {
    fuse_rename2_in in = {};
    in.newdir = new_parent;
    in.flags = flags;
    TRY(Call<OpRename2>(old_parent, in, Names(names)));
  }
  return {};
}

base::Result<Entry> FuseClient::Link(uint64_t nodeid, uint64_t new_parent,
                                     std::string_view new_name) {
  TRY(CheckNodeId(nodeid));
  TRY(CheckNodeId(new_parent));
  TRY(CheckName(new_name));
  fuse_link_in in = {};
  in.oldnodeid = nodeid;
  const std::string_view names[] = {new_name};
  Reply<OpLink> reply = TRY(Call<OpLink>(new_parent, in, Names(names)));
  return AcceptNewEntry(OpLink::kOpcode, reply.unique, reply.out, 0);
}

base::Result<void> FuseClient::Access(uint64_t nodeid, uint32_t mask) {
  TRY(CheckNodeId(nodeid));
  fuse_access_in in = {};
  in.mask = mask;
  TRY(Call<OpAccess>(nodeid, in));
  return {};
}

base::Result<fuse_kstatfs> FuseClient::StatFs(uint64_t nodeid) {
  TRY(CheckNodeId(nodeid));
  Reply<OpStatFs> reply = TRY(Call<OpStatFs>(nodeid, NoArgs{}));
  return reply.out.st;
}

base::Result<void> FuseClient::SetXattr(uint64_t nodeid, std::string_view name,
                                        std::span<const uint8_t> value,
                                        uint32_t flags) {
  TRY(CheckNodeId(nodeid));
  TRY(CheckXattrName(name));
  if (value.size() > kXattrSizeMax) return base::Error{E2BIG};
  TRY(CheckReady());
  fuse_setxattr_in in = {};
  in.size = static_cast<uint32_t>(value.size());
  in.flags = flags;
  const std::string_view names[] = {name};
  const ConstBuffer data[] = {{value.data(), value.size()}};
  RequestTail tail;
  tail.names = names;
  tail.data = data;
  if (negotiated_.flags & FUSE_SETXATTR_EXT) {
    TRY(Call<OpSetXattrExt>(nodeid, in, tail));
  } else {
    TRY(Call<OpSetXattr>(nodeid, in, tail));
  }
  return {};
}

base::Result<size_t> FuseClient::GetXattr(uint64_t nodeid,
                                          std::string_view name,
                                          std::span<uint8_t> buffer) {
  TRY(CheckNodeId(nodeid));
  TRY(CheckXattrName(name));
  const std::string_view names[] = {name};
  fuse_getxattr_in in = {};
  if (buffer.empty()) {
    Reply<OpGetXattrSize> reply =
        TRY(Call<OpGetXattrSize>(nodeid, in, Names(names)));
    return static_cast<size_t>(ClampXattrSize(reply.out.size));
  }
  in.size = ClampXattrSize(buffer.size());
  const MutableBuffer data[] = {{buffer.data(), in.size}};
  Reply<OpGetXattr> reply =
      TRY(Call<OpGetXattr>(nodeid, in, Names(names), data));
  return static_cast<size_t>(reply.data_size);
}

base::Result<size_t> FuseClient::ListXattr(uint64_t nodeid,
                                           std::span<char> buffer) {
  TRY(CheckNodeId(nodeid));
  fuse_getxattr_in in = {};
  if (buffer.empty()) {
    Reply<OpListXattrSize> reply = TRY(Call<OpListXattrSize>(nodeid, in));
    return static_cast<size_t>(ClampXattrSize(reply.out.size));
  }
  in.size = ClampXattrSize(buffer.size());
  const MutableBuffer data[] = {{buffer.data(), in.size}};
  Reply<OpListXattr> reply = TRY(Call<OpListXattr>(nodeid, in, {}, data));
  if (const char* reason = CheckXattrList(buffer.data(), reply.data_size)) {
    return RejectReply(OpListXattr::kOpcode, reply.unique, reason);
  }
  return static_cast<size_t>(reply.data_size);
}

base::Result<void> FuseClient::RemoveXattr(uint64_t nodeid,
                                           std::string_view name) {
  TRY(CheckNodeId(nodeid));
  TRY(CheckXattrName(name));
  const std::string_view names[] = {name};
  TRY(Call<OpRemoveXattr>(nodeid, NoArgs{}, Names(names)));
  return {};
}

}  // namespace driver
