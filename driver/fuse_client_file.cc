// FuseClient: open files.
#include "base/abi.h"
#include "driver/fuse_client.h"

namespace driver {
namespace {

// The open(2) flags a FUSE server acts on. O_CREAT, O_EXCL and O_NOCTTY are
// decided by the VFS (CREATE carries the first two); O_NOFOLLOW, O_DIRECTORY
// and O_CLOEXEC concern the path walk and the descriptor, which are the VFS's
// too.
constexpr uint32_t kOpenFlagsCarried =
    base::kOpenAccessMode | base::kOpenAppend | base::kOpenTruncate |
    base::kOpenNonBlock | base::kOpenSync | base::kOpenDataSync |
    base::kOpenDirect | base::kOpenNoAtime;
constexpr uint64_t kMaxOffset = INT64_MAX;
// One COPY_FILE_RANGE reports its count in 32 bits; Linux asks for at most this
// much.
constexpr uint64_t kMaxCopyLength = UINT32_MAX & ~uint64_t{4095};

base::Result<uint32_t> CarriedOpenFlags(uint32_t flags) {
  if ((flags & base::kOpenAccessMode) == base::kOpenAccessMode)
    return base::Error{EINVAL};
  return flags & kOpenFlagsCarried;
}

}  // namespace

base::Result<OpenHandle> FuseClient::Open(uint64_t nodeid, uint32_t flags) {
  TRY(CheckNodeId(nodeid));
  TRY(CheckReady());
  uint32_t carried = TRY(CarriedOpenFlags(flags));
  // Without FUSE_ATOMIC_O_TRUNC the device expects O_TRUNC as a SETATTR after
  // the open.
  const bool truncate_after = (carried & base::kOpenTruncate) &&
                              !(negotiated_.flags & FUSE_ATOMIC_O_TRUNC);
  if (truncate_after) carried &= ~static_cast<uint32_t>(base::kOpenTruncate);
  fuse_open_in in = {};
  in.flags = carried;
  Reply<OpOpen> reply = TRY(Call<OpOpen>(nodeid, in));
  OpenHandle handle;
  handle.fh = reply.out.fh;
  handle.open_flags = reply.out.open_flags;
  if (truncate_after) {
    SetAttrRequest truncate;
    truncate.size = 0;
    truncate.fh = handle.fh;
    base::Result<Attributes> truncated = SetAttr(nodeid, truncate);
    if (!truncated.ok()) {
      base::Result<void> released = Release(nodeid, handle.fh, carried);
      (void)released;
      return base::Error{truncated.error()};
    }
  }
  return handle;
}

base::Result<CreatedFile> FuseClient::Create(uint64_t parent,
                                             std::string_view name,
                                             uint32_t flags, uint32_t mode,
                                             uint32_t umask) {
  TRY(CheckNodeId(parent));
  TRY(CheckName(name));
  uint32_t carried = TRY(CarriedOpenFlags(flags));
  fuse_create_in in = {};
  in.flags = carried | base::kOpenCreate | (flags & base::kOpenExclusive);
  in.mode = base::kTypeRegular | (mode & 07777);
  in.umask = umask;
  const std::string_view names[] = {name};
  RequestTail tail;
  tail.names = names;
  Reply<OpCreate> reply = TRY(Call<OpCreate>(parent, in, tail));
  base::Result<Entry> entry = AcceptNewEntry(
      OpCreate::kOpcode, reply.unique, reply.out.entry, base::kTypeRegular);
  if (!entry.ok()) {
    // The device opened a handle for the refused entry: close it.
    fuse_release_in release = {};
    release.fh = reply.out.open.fh;
    release.flags = in.flags;
    const uint64_t nodeid =
        reply.out.entry.nodeid != 0 ? reply.out.entry.nodeid : parent;
    base::Result<Reply<OpRelease>> released = Call<OpRelease>(nodeid, release);
    (void)released;
    return base::Error{entry.error()};
  }
  CreatedFile created;
  created.entry = entry.value();
  created.handle.fh = reply.out.open.fh;
  created.handle.open_flags = reply.out.open.open_flags;
  return created;
}

base::Result<size_t> FuseClient::Read(uint64_t nodeid, uint64_t fh,
                                      uint64_t offset,
                                      std::span<uint8_t> buffer) {
  TRY(CheckNodeId(nodeid));
  TRY(CheckReady());
  if (offset > kMaxOffset) return base::Error{EINVAL};
  const uint32_t max_read = negotiated_.max_read;
  size_t done = 0;
  while (done < buffer.size()) {
    const size_t left = buffer.size() - done;
    const uint32_t chunk =
        left < max_read ? static_cast<uint32_t>(left) : max_read;
    fuse_read_in in = {};
    in.fh = fh;
    in.offset = offset + done;
    in.size = chunk;
    // The device reads straight into the caller's buffer.
    const MutableBuffer data[] = {{buffer.data() + done, chunk}};
    base::Result<Reply<OpRead>> reply = Call<OpRead>(nodeid, in, {}, data);
    if (!reply.ok()) {
      // Like read(2): bytes already read are returned, the error only if there
      // are none.
      if (done > 0) return done;
      return base::Error{reply.error()};
    }
    done += reply.value().data_size;
    if (reply.value().data_size < chunk) break;  // End of file.
  }
  return done;
}

base::Result<void> FuseClient::StartRead(uint64_t nodeid, uint64_t fh,
                                         uint64_t offset,
                                         std::span<uint8_t> buffer,
                                         PendingRead& pending) {
  TRY(CheckNodeId(nodeid));
  TRY(CheckReady());
  if (pending.active() || buffer.empty() ||
      buffer.size() > negotiated_.max_read || offset > kMaxOffset) {
    return base::Error{EINVAL};
  }
  pending.in_ = {};
  pending.in_.fh = fh;
  pending.in_.offset = offset;
  pending.in_.size = static_cast<uint32_t>(buffer.size());
  pending.data_ = {buffer.data(), buffer.size()};
  pending.transaction_ =
      Describe<OpRead>(nodeid, pending.in_, {}, {&pending.data_, 1}, nullptr);
  pending.outgoing_ = {};
  Transaction& t = pending.transaction_;
  Outgoing& outgoing = pending.outgoing_;
  TRY(Plan(t, outgoing));
  TRY(channel_.Begin(t.lane, pending.message_));
  WriteHead(t, outgoing, pending.message_);
  if (base::Result<void> sent = channel_.Send(
          pending.message_, outgoing.head_size, outgoing.request(),
          outgoing.reply_head_size, outgoing.reply());
      !sent.ok()) {
    channel_.End(pending.message_);
    return sent;
  }
  pending.channel_ = &channel_;
  return {};
}

base::Result<size_t> FuseClient::FinishRead(PendingRead& pending) {
  if (!pending.active()) return base::Error{EINVAL};
  FuseChannel& channel = *pending.channel_;
  pending.channel_ = nullptr;
  base::Result<uint32_t> used = channel.Receive(pending.message_);
  base::Result<uint32_t> size =
      used.ok() ? Accept(pending.transaction_, pending.outgoing_,
                         pending.message_, used.value())
                : base::Result<uint32_t>(base::Error{used.error()});
  channel.End(pending.message_);
  if (!size.ok()) return base::Error{size.error()};
  return size.value();
}

base::Result<size_t> FuseClient::Write(uint64_t nodeid, uint64_t fh,
                                       uint64_t offset,
                                       std::span<const uint8_t> data,
                                       uint32_t write_flags) {
  TRY(CheckNodeId(nodeid));
  TRY(CheckReady());
  if (offset > kMaxOffset) return base::Error{EINVAL};
  const uint32_t max_write = negotiated_.max_write;
  size_t done = 0;
  while (done < data.size()) {
    const size_t left = data.size() - done;
    const uint32_t chunk =
        left < max_write ? static_cast<uint32_t>(left) : max_write;
    fuse_write_in in = {};
    in.fh = fh;
    in.offset = offset + done;
    in.size = chunk;
    in.write_flags = write_flags;
    const ConstBuffer payload[] = {{data.data() + done, chunk}};
    RequestTail tail;
    tail.data = payload;
    base::Result<Reply<OpWrite>> reply = Call<OpWrite>(nodeid, in, tail);
    if (!reply.ok()) {
      if (done > 0) return done;
      return base::Error{reply.error()};
    }
    const uint32_t written = reply.value().out.size;
    if (written > chunk) {
      base::Error error = RejectReply(OpWrite::kOpcode, reply.value().unique,
                                      "wrote more than was sent");
      if (done > 0) return done;
      return error;
    }
    done += written;
    if (written < chunk) break;
  }
  return done;
}

base::Result<void> FuseClient::Flush(uint64_t nodeid, uint64_t fh,
                                     uint64_t lock_owner) {
  TRY(CheckNodeId(nodeid));
  fuse_flush_in in = {};
  in.fh = fh;
  in.lock_owner = lock_owner;
  TRY(Call<OpFlush>(nodeid, in));
  return {};
}

base::Result<void> FuseClient::SyncHandle(uint32_t opcode, uint64_t nodeid,
                                          uint64_t fh, bool datasync) {
  TRY(CheckNodeId(nodeid));
  fuse_fsync_in in = {};
  in.fh = fh;
  in.fsync_flags = datasync ? FUSE_FSYNC_FDATASYNC : 0;
  if (opcode == FUSE_FSYNCDIR) {
    TRY(Call<OpFsyncDir>(nodeid, in));
  } else {
    TRY(Call<OpFsync>(nodeid, in));
  }
  return {};
}

base::Result<void> FuseClient::Fsync(uint64_t nodeid, uint64_t fh,
                                     bool datasync) {
  return SyncHandle(FUSE_FSYNC, nodeid, fh, datasync);
}

base::Result<void> FuseClient::ReleaseHandle(uint32_t opcode, uint64_t nodeid,
                                             uint64_t fh, uint32_t flags,
                                             uint32_t release_flags,
                                             uint64_t lock_owner, bool posted) {
  TRY(CheckNodeId(nodeid));
  fuse_release_in in = {};
  in.fh = fh;
  in.flags = flags;
  in.release_flags = release_flags;
  in.lock_owner = lock_owner;
  NoArgs out;
  Transaction transaction =
      opcode == FUSE_RELEASEDIR
          ? Describe<OpReleaseDir>(nodeid, in, {}, {}, &out)
          : Describe<OpRelease>(nodeid, in, {}, {}, &out);
  // Posted only while a slot is free to remember it by (a FORGET of the node
  // waits for its answer); beyond kMaxPostedReleases, waited for.
  PostedRelease* slot = posted ? ClaimPostedRelease(nodeid) : nullptr;
  if (slot != nullptr) transaction.posted_in_flight = &slot->in_flight;
  base::Result<uint32_t> sent = Transact(transaction);
  if (slot != nullptr) slot->in_flight.fetch_sub(1, std::memory_order_release);
  if (!sent.ok()) return base::Error{sent.error()};
  return {};
}

base::Result<void> FuseClient::Release(uint64_t nodeid, uint64_t fh,
                                       uint32_t flags, uint32_t release_flags,
                                       uint64_t lock_owner) {
  return ReleaseHandle(FUSE_RELEASE, nodeid, fh, flags, release_flags,
                       lock_owner, /*posted=*/false);
}

base::Result<void> FuseClient::PostRelease(uint64_t nodeid, uint64_t fh,
                                           uint32_t flags) {
  return ReleaseHandle(FUSE_RELEASE, nodeid, fh, flags, 0, 0,
                       /*posted=*/true);
}

base::Result<uint64_t> FuseClient::Lseek(uint64_t nodeid, uint64_t fh,
                                         uint64_t offset, uint32_t whence) {
  TRY(CheckNodeId(nodeid));
  fuse_lseek_in in = {};
  in.fh = fh;
  in.offset = offset;
  in.whence = whence;
  Reply<OpLseek> reply = TRY(Call<OpLseek>(nodeid, in));
  if (reply.out.offset > kMaxOffset) {
    return RejectReply(OpLseek::kOpcode, reply.unique,
                       "offset does not fit off_t");
  }
  return reply.out.offset;
}

base::Result<void> FuseClient::Fallocate(uint64_t nodeid, uint64_t fh,
                                         uint32_t mode, uint64_t offset,
                                         uint64_t length) {
  TRY(CheckNodeId(nodeid));
  fuse_fallocate_in in = {};
  in.fh = fh;
  in.offset = offset;
  in.length = length;
  in.mode = mode;
  TRY(Call<OpFallocate>(nodeid, in));
  return {};
}

base::Result<size_t> FuseClient::CopyFileRange(const FileRange& in_range,
                                               const FileRange& out_range,
                                               uint64_t length,
                                               uint64_t flags) {
  TRY(CheckNodeId(in_range.nodeid));
  TRY(CheckNodeId(out_range.nodeid));
  fuse_copy_file_range_in in = {};
  in.fh_in = in_range.fh;
  in.off_in = in_range.offset;
  in.nodeid_out = out_range.nodeid;
  in.fh_out = out_range.fh;
  in.off_out = out_range.offset;
  in.len = length < kMaxCopyLength ? length : kMaxCopyLength;
  in.flags = flags;
  Reply<OpCopyFileRange> reply =
      TRY(Call<OpCopyFileRange>(in_range.nodeid, in));
  if (reply.out.size > in.len) {
    return RejectReply(OpCopyFileRange::kOpcode, reply.unique,
                       "copied more than asked");
  }
  return static_cast<size_t>(reply.out.size);
}

base::Result<uint32_t> FuseClient::Poll(uint64_t nodeid, uint64_t fh,
                                        uint32_t events) {
  TRY(CheckNodeId(nodeid));
  fuse_poll_in in = {};
  in.fh = fh;
  in.events = events;
  Reply<OpPoll> reply = TRY(Call<OpPoll>(nodeid, in));
  return reply.out.revents;
}

}  // namespace driver
