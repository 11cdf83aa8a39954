// FuseClient: the driver's FUSE client. Every operation of the protocol the VFS
// needs is a typed call; each builds its request on the stack, sends it through
// a FuseChannel and verifies the reply before using any of it
// (driver/fuse_reply.h).
//
// Several threads may call one client at once: the `unique` counter is atomic,
// the headers of each request live on its caller's stack and payloads stay in
// the caller's buffers (passed to the channel as segments, never copied here),
// and no lock is held across a request. Init() must complete before any other
// call (they fail with ENOTCONN).
//
// Errors: the device's errno unchanged (ENOENT, ENOTDIR, EACCES, ELOOP...); EIO
// for a reply that breaks the protocol (logged once with the reason); EPROTO
// for an INIT reply of another major version or unusable limits;
// EINVAL/ENAMETOOLONG for arguments the protocol cannot carry; the channel's
// errno when the transport fails.
#ifndef DRIVER_FUSE_CLIENT_H_
#define DRIVER_FUSE_CLIENT_H_

#include <linux/fuse.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "base/platform.h"
#include "base/result.h"
#include "driver/dirent_parser.h"
#include "driver/fuse_channel.h"
#include "driver/fuse_ops.h"
#include "driver/fuse_reply.h"

namespace driver {

// Who a request is made for (fuse_in_header uid, gid, pid).
struct Credentials {
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t pid = 0;
};

// Where each request's Credentials come from: asked on the calling thread as
// the request is built, as Linux's FUSE client reads the current task's
// filesystem ids. `context` is what SetCredentialsSource was given.
using CredentialsSource = Credentials (*)(const void* context);

struct InitOptions {
  // Readahead the client would like (the device may lower it).
  uint32_t max_readahead = 128 * 1024;
};

// What FUSE_INIT settled, valid once Init() succeeded.
struct Negotiated {
  uint32_t minor = 0;
  uint32_t flags = 0;  // FUSE_* init flags both sides support.
  uint32_t max_readahead = 0;
  uint32_t max_pages = 0;
  uint32_t max_read = 0;   // Largest READ / READDIR payload of one request.
  uint32_t max_write = 0;  // Largest WRITE payload of one request.
  uint32_t time_gran = 0;
};

struct FuseTime {
  uint64_t seconds = 0;
  uint32_t nanoseconds = 0;
};

// The fields SETATTR changes: exactly those present are sent (FATTR_* bits).
struct SetAttrRequest {
  std::optional<uint32_t>
      mode;  // Permission bits (and S_ISUID...), not the file type.
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  std::optional<uint64_t> size;
  std::optional<FuseTime> atime;
  std::optional<FuseTime> mtime;
  bool atime_now = false;  // Set atime to the device's current time.
  bool mtime_now = false;
  std::optional<uint64_t>
      fh;  // The open handle the change is made through (FATTR_FH).
};

struct CreatedFile {
  Entry entry;
  OpenHandle handle;
};

// One end of a COPY_FILE_RANGE.
struct FileRange {
  uint64_t nodeid = 0;
  uint64_t fh = 0;
  uint64_t offset = 0;
};

// What follows an operation's In struct: names (each sent NUL-terminated), then
// data.
struct RequestTail {
  std::span<const std::string_view> names;
  std::span<const ConstBuffer> data;
};

template <typename Op>
struct Reply {
  typename Op::Out out{};
  uint32_t data_size =
      0;  // kData: bytes the device wrote into the caller's buffers.
  uint64_t unique = 0;
};

class FuseClient {
 public:
  // How many forgets one BATCH_FORGET carries at most (the request fits a 4 KiB
  // page).
  static constexpr size_t kMaxForgetsPerBatch =
      (4096 - sizeof(fuse_in_header) - sizeof(fuse_batch_forget_in)) /
      sizeof(fuse_forget_one);
  // READ and WRITE payloads per request never exceed this many pages
  // (FUSE_MAX_MAX_PAGES).
  static constexpr uint32_t kMaxPagesLimit = 256;
  static constexpr uint32_t kPageSize = 4096;
  // ReadDir needs room for at least one READDIRPLUS record with a NAME_MAX
  // name: a smaller buffer would make a non-empty directory look finished.
  static constexpr size_t kMinDirBufferSize = FUSE_NAME_OFFSET_DIRENTPLUS + 256;
  // Unanswered RELEASEs posted at once (PostRelease), at most: one more waits
  // for its reply.
  static constexpr size_t kMaxPostedReleases = 16;

  FuseClient(base::Platform& platform, FuseChannel& channel);
  FuseClient(const FuseClient&) = delete;
  FuseClient& operator=(const FuseClient&) = delete;

  // ---- Connection. ----
  base::Result<void> Init(const InitOptions& options = {});
  base::Result<void> Destroy();
  bool initialized() const { return ready_.load(std::memory_order_acquire); }
  const Negotiated& negotiated() const { return negotiated_; }
  // Where later requests take their credentials from (without a source, they
  // carry 0s). Set before the requests it should apply to, not concurrently
  // with them.
  void SetCredentialsSource(CredentialsSource source, const void* context);

  // Sends any operation and verifies its reply's header and size. The typed
  // calls below are built on it; it is public for callers that need an
  // operation as is.
  template <typename Op>
  base::Result<Reply<Op>> Call(uint64_t nodeid, const typename Op::In& in,
                               const RequestTail& tail = {},
                               std::span<const MutableBuffer> data = {});

  // ---- Names and attributes (driver/fuse_client_node.cc). ----
  // `name` is one component: non-empty, no '/' or NUL, at most 255 bytes. A
  // negative entry (nodeid 0) is ENOENT.
  base::Result<Entry> Lookup(uint64_t parent, std::string_view name);
  // Gives back `nlookup` lookups of a node (high-priority queue, no reply).
  base::Result<void> Forget(uint64_t nodeid, uint64_t nlookup);
  // FORGET for one, BATCH_FORGET (as many requests as needed) for more.
  base::Result<void> ForgetMany(std::span<const fuse_forget_one> forgets);
  base::Result<Attributes> GetAttr(uint64_t nodeid,
                                   std::optional<uint64_t> fh = std::nullopt);
  base::Result<Attributes> SetAttr(uint64_t nodeid,
                                   const SetAttrRequest& request);
  // Returns the length of the target written to `buffer` (not NUL-terminated).
  base::Result<size_t> ReadLink(uint64_t nodeid, std::span<char> buffer);
  base::Result<Entry> Symlink(uint64_t parent, std::string_view name,
                              std::string_view target);
  // `mode` includes the file type (S_IFREG, S_IFIFO...).
  base::Result<Entry> Mknod(uint64_t parent, std::string_view name,
                            uint32_t mode, uint32_t rdev, uint32_t umask = 0);
  base::Result<Entry> Mkdir(uint64_t parent, std::string_view name,
                            uint32_t mode, uint32_t umask = 0);
  base::Result<void> Unlink(uint64_t parent, std::string_view name);
  base::Result<void> Rmdir(uint64_t parent, std::string_view name);
  // flags: 0 (RENAME) or RENAME_NOREPLACE / RENAME_EXCHANGE / RENAME_WHITEOUT
  // (RENAME2).
  base::Result<void> Rename(uint64_t old_parent, std::string_view old_name,
                            uint64_t new_parent, std::string_view new_name,
                            uint32_t flags = 0);
  base::Result<Entry> Link(uint64_t nodeid, uint64_t new_parent,
                           std::string_view new_name);
  base::Result<void> Access(uint64_t nodeid, uint32_t mask);
  base::Result<fuse_kstatfs> StatFs(uint64_t nodeid);

  // ---- Extended attributes (driver/fuse_client_node.cc). ----
  base::Result<void> SetXattr(uint64_t nodeid, std::string_view name,
                              std::span<const uint8_t> value, uint32_t flags);
  // With an empty buffer: the size the value needs. Otherwise the value's
  // length.
  base::Result<size_t> GetXattr(uint64_t nodeid, std::string_view name,
                                std::span<uint8_t> buffer);
  // NUL-terminated names back to back; with an empty buffer: the size they
  // need.
  base::Result<size_t> ListXattr(uint64_t nodeid, std::span<char> buffer);
  base::Result<void> RemoveXattr(uint64_t nodeid, std::string_view name);

  // ---- Files (driver/fuse_client_file.cc). ----
  // `flags` are open(2) flags; only those FUSE carries are sent (access mode,
  // O_APPEND, O_TRUNC, O_NONBLOCK, O_SYNC, O_DSYNC, O_DIRECT, O_NOATIME).
  // O_CREAT, O_EXCL and O_NOCTTY are the VFS's business and never sent.
  base::Result<OpenHandle> Open(uint64_t nodeid, uint32_t flags);
  // O_CREAT is implied; O_EXCL is honoured.
  base::Result<CreatedFile> Create(uint64_t parent, std::string_view name,
                                   uint32_t flags, uint32_t mode,
                                   uint32_t umask = 0);
  // Fills `buffer` from `offset` with as many requests as the negotiated size
  // needs; returns fewer bytes only at end of file (or when a later request
  // fails).
  base::Result<size_t> Read(uint64_t nodeid, uint64_t fh, uint64_t offset,
                            std::span<uint8_t> buffer);
  // One READ of `buffer` (at most max_read bytes) in two steps, for a caller
  // with work to do meanwhile (read-ahead): StartRead sends it and returns,
  // FinishRead waits for the reply, checks it and returns the bytes read.
  // `pending` holds the request in between; the device may write `buffer`
  // until FinishRead returns or `pending` is destroyed (which waits for the
  // reply and drops it).
  class PendingRead;
  base::Result<void> StartRead(uint64_t nodeid, uint64_t fh, uint64_t offset,
                               std::span<uint8_t> buffer, PendingRead& pending);
  base::Result<size_t> FinishRead(PendingRead& pending);
  base::Result<size_t> Write(uint64_t nodeid, uint64_t fh, uint64_t offset,
                             std::span<const uint8_t> data,
                             uint32_t write_flags = 0);
  base::Result<void> Flush(uint64_t nodeid, uint64_t fh,
                           uint64_t lock_owner = 0);
  base::Result<void> Fsync(uint64_t nodeid, uint64_t fh, bool datasync);
  base::Result<void> Release(uint64_t nodeid, uint64_t fh, uint32_t flags = 0,
                             uint32_t release_flags = 0,
                             uint64_t lock_owner = 0);
  // RELEASE without waiting for the device, as Linux releases a file
  // asynchronously on its last close (nobody is left to hear an error): it
  // may return while the device still has the file open. A FORGET of the node
  // waits until the device has answered it (so a node is never forgotten
  // before its handle is released), and DESTROY for all of them; with
  // kMaxPostedReleases unanswered, the next waits for its reply. Errors are
  // those of sending it; the device's answer is checked only by a channel
  // that waits.
  base::Result<void> PostRelease(uint64_t nodeid, uint64_t fh,
                                 uint32_t flags = 0);
  // whence: SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE. Returns the new
  // offset.
  base::Result<uint64_t> Lseek(uint64_t nodeid, uint64_t fh, uint64_t offset,
                               uint32_t whence);
  base::Result<void> Fallocate(uint64_t nodeid, uint64_t fh, uint32_t mode,
                               uint64_t offset, uint64_t length);
  // Returns the bytes copied (one request: at most ~4 GiB).
  base::Result<size_t> CopyFileRange(const FileRange& in, const FileRange& out,
                                     uint64_t length, uint64_t flags = 0);
  // Returns the ready events (POLL*).
  base::Result<uint32_t> Poll(uint64_t nodeid, uint64_t fh, uint32_t events);

  // ---- Directories (driver/fuse_client_dir.cc). ----
  base::Result<OpenHandle> OpenDir(uint64_t nodeid, uint32_t flags = 0);
  // One READDIR from `offset` (0 or a DirEntry::next_offset from an earlier
  // call) into `buffer` (at least kMinDirBufferSize bytes). The entries point
  // into `buffer`; an empty list means the end of the directory.
  base::Result<DirentList> ReadDir(uint64_t nodeid, uint64_t fh,
                                   uint64_t offset, std::span<uint8_t> buffer);
  // READDIRPLUS: each entry also carries its looked-up Entry; the caller owns
  // (and must Forget) every lookup for which DirEntry::HoldsLookup() is true.
  base::Result<DirentList> ReadDirPlus(uint64_t nodeid, uint64_t fh,
                                       uint64_t offset,
                                       std::span<uint8_t> buffer);
  // Reads the directory from `offset` to its end, a READDIR per `buffer`-full,
  // calling `visit(const DirEntry&)` for each entry until it returns false.
  template <typename Visit>
  base::Result<void> ReadDirAll(uint64_t nodeid, uint64_t fh, uint64_t offset,
                                std::span<uint8_t> buffer, Visit&& visit);
  base::Result<void> ReleaseDir(uint64_t nodeid, uint64_t fh);
  // RELEASEDIR without waiting for the device, as PostRelease.
  base::Result<void> PostReleaseDir(uint64_t nodeid, uint64_t fh);
  base::Result<void> FsyncDir(uint64_t nodeid, uint64_t fh, bool datasync);

 private:
  struct Transaction {
    uint32_t opcode = 0;
    FuseLane lane = FuseLane::kRequest;
    bool send_credentials = true;
    uint64_t nodeid = 0;
    const void* in = nullptr;
    size_t in_size = 0;
    RequestTail tail;
    ReplyShape shape = ReplyShape::kFixed;
    void* out = nullptr;  // Fixed replies: receives the struct.
    size_t out_min = 0;
    size_t out_max = 0;
    std::span<const MutableBuffer> data;  // kData replies.
    uint64_t unique = 0;                  // Set by Transact.
    // Non-null: sent without waiting for the reply where the channel can
    // (Post), counted here while the device has it; the reply is checked
    // only if the channel waited for it anyway.
    std::atomic<uint32_t>* posted_in_flight = nullptr;
  };

  // Payload segments a request or a reply may have.
  static constexpr size_t kMaxDataSegments = 4;
  // A request as it goes to the channel: its data segments (the empty ones
  // left out), the size of the head written and of the reply's head.
  struct Outgoing {
    std::array<ConstBuffer, kMaxDataSegments> request_data;
    size_t request_count = 0;
    std::array<MutableBuffer, kMaxDataSegments> reply_data;
    size_t reply_count = 0;
    size_t data_capacity = 0;  // The reply's data segments together.
    uint64_t total = 0;        // fuse_in_header::len.
    size_t head_size = 0;
    size_t reply_head_size = 0;

    std::span<const ConstBuffer> request() const {
      return {request_data.data(), request_count};
    }
    std::span<const MutableBuffer> reply() const {
      return {reply_data.data(), reply_count};
    }
  };

  template <typename Op>
  static Transaction Describe(uint64_t nodeid, const typename Op::In& in,
                              const RequestTail& tail,
                              std::span<const MutableBuffer> data,
                              typename Op::Out* out);
  // Sends one request and checks its reply; returns the payload size.
  base::Result<uint32_t> Transact(Transaction& transaction);
  // Transact's steps. Checks the transaction and lays out its segments.
  base::Result<void> Plan(const Transaction& t, Outgoing& outgoing);
  // Writes the request's head into `message` and gives the request its
  // `unique`.
  void WriteHead(Transaction& t, Outgoing& outgoing, FuseMessage& message);
  // Checks the reply the device wrote (`used` bytes); returns the payload
  // size (a fixed reply is copied to t.out).
  base::Result<uint32_t> Accept(const Transaction& t, const Outgoing& outgoing,
                                const FuseMessage& message, uint32_t used);
  // Logs why a reply was refused and returns EIO.
  base::Error RejectReply(uint32_t opcode, uint64_t unique, const char* reason);
  base::Result<void> CheckReady() const;
  static base::Result<void> CheckName(std::string_view name);
  static base::Result<void> CheckNodeId(uint64_t nodeid);
  // Checks the entry of a name the device just created; a refused one is
  // forgotten.
  base::Result<Entry> AcceptNewEntry(uint32_t opcode, uint64_t unique,
                                     const fuse_entry_out& out,
                                     uint32_t expected_type);
  base::Result<DirentList> ReadDirPage(uint64_t nodeid, uint64_t fh,
                                       uint64_t offset,
                                       std::span<uint8_t> buffer,
                                       DirentFormat format);
  base::Result<void> ReleaseHandle(uint32_t opcode, uint64_t nodeid,
                                   uint64_t fh, uint32_t flags,
                                   uint32_t release_flags, uint64_t lock_owner,
                                   bool posted);
  // A RELEASE posted and not yet answered (PostRelease), and its node.
  struct PostedRelease {
    // 1 while a caller claims the slot, plus the channel's count (Post).
    std::atomic<uint32_t> in_flight{0};
    std::atomic<uint64_t> nodeid{0};
  };
  // A slot whose RELEASE was answered, claimed for `nodeid`; null when all
  // are in flight.
  PostedRelease* ClaimPostedRelease(uint64_t nodeid);
  // Waits until the device has answered the posted RELEASEs of the nodes
  // `forgets` names, a FORGET must not overtake them; with none named, every
  // posted RELEASE (before DESTROY).
  base::Result<void> SettleReleases(std::span<const fuse_forget_one> forgets);
  base::Result<void> SyncHandle(uint32_t opcode, uint64_t nodeid, uint64_t fh,
                                bool datasync);

  base::Platform& platform_;
  FuseChannel& channel_;
  // The low bit of `unique` is left clear: Linux uses it to mark INTERRUPT
  // requests.
  std::atomic<uint64_t> next_unique_{2};
  CredentialsSource credentials_source_ = nullptr;
  const void* credentials_context_ = nullptr;
  // Written by Init before `ready_` is set (release); read after it is seen
  // (acquire).
  Negotiated negotiated_;
  std::atomic<bool> ready_{false};
  std::array<PostedRelease, kMaxPostedReleases> posted_releases_;
};

class FuseClient::PendingRead {
 public:
  PendingRead() = default;
  ~PendingRead() { Drop(); }
  PendingRead(const PendingRead&) = delete;
  PendingRead& operator=(const PendingRead&) = delete;

  // Between StartRead and FinishRead.
  bool active() const { return channel_ != nullptr; }
  // Waits for the reply and drops it (the device no longer writes the
  // buffer): for a caller that no longer wants the data, or whose session
  // ended.
  void Drop() {
    if (channel_ == nullptr) return;
    FuseChannel& channel = *channel_;
    channel_ = nullptr;
    (void)channel.Receive(message_);
    channel.End(message_);
  }

 private:
  friend class FuseClient;
  FuseChannel* channel_ = nullptr;
  FuseMessage message_;
  fuse_read_in in_ = {};
  MutableBuffer data_;
  Transaction transaction_;
  Outgoing outgoing_;
};

template <typename Op>
FuseClient::Transaction FuseClient::Describe(
    uint64_t nodeid, const typename Op::In& in, const RequestTail& tail,
    std::span<const MutableBuffer> data, typename Op::Out* out) {
  static_assert(Op::kInSize <= kMaxInSize,
                "request struct larger than the stack buffer");
  static_assert(kWireSize<typename Op::Out> <= kMaxFixedOutSize,
                "reply struct larger than the stack buffer");
  Transaction transaction;
  transaction.opcode = Op::kOpcode;
  transaction.lane = Op::kLane;
  transaction.send_credentials = Op::kSendsCredentials;
  transaction.nodeid = nodeid;
  transaction.in = &in;
  transaction.in_size = Op::kInSize;
  transaction.tail = tail;
  transaction.shape = Op::kReply;
  transaction.out = out;
  transaction.out_min = Op::kMinOutSize;
  transaction.out_max = kWireSize<typename Op::Out>;
  transaction.data = data;
  return transaction;
}

template <typename Op>
base::Result<Reply<Op>> FuseClient::Call(uint64_t nodeid,
                                         const typename Op::In& in,
                                         const RequestTail& tail,
                                         std::span<const MutableBuffer> data) {
  Reply<Op> reply;
  Transaction transaction = Describe<Op>(nodeid, in, tail, data, &reply.out);
  base::Result<uint32_t> size = Transact(transaction);
  reply.unique = transaction.unique;
  if (!size.ok()) return base::Error{size.error()};
  reply.data_size = size.value();
  return reply;
}

template <typename Visit>
base::Result<void> FuseClient::ReadDirAll(uint64_t nodeid, uint64_t fh,
                                          uint64_t offset,
                                          std::span<uint8_t> buffer,
                                          Visit&& visit) {
  for (;;) {
    DirentList page = TRY(ReadDir(nodeid, fh, offset, buffer));
    if (page.empty()) return {};
    for (DirEntry entry : page) {
      if (!visit(static_cast<const DirEntry&>(entry))) return {};
      offset = entry.next_offset;
    }
  }
}

}  // namespace driver

#endif  // DRIVER_FUSE_CLIENT_H_
