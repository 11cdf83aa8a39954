// FuseClient: the request path every operation shares, INIT / DESTROY, and
// FORGET.
#include "driver/fuse_client.h"

#include <array>
#include <cstring>

#include "base/abi.h"
#include "base/format.h"

namespace driver {
namespace {

// A channel's message for the span of one request: End() whatever happens.
class MessageScope {
 public:
  explicit MessageScope(FuseChannel& channel) : channel_(channel) {}
  ~MessageScope() {
    if (begun_) channel_.End(message_);
  }
  MessageScope(const MessageScope&) = delete;
  MessageScope& operator=(const MessageScope&) = delete;

  base::Result<void> Begin(FuseLane lane) {
    TRY(channel_.Begin(lane, message_));
    begun_ = true;
    return {};
  }
  FuseMessage& operator*() { return message_; }
  FuseMessage* operator->() { return &message_; }

 private:
  FuseChannel& channel_;
  FuseMessage message_;
  bool begun_ = false;
};

// Servers older than 7.12 use shorter MKNOD, MKDIR and CREATE requests; none
// are expected.
constexpr uint32_t kMinMinorVersion = 12;
// What Linux assumes when the device does not announce FUSE_MAX_PAGES.
constexpr uint32_t kDefaultMaxPages = 32;
constexpr uint32_t kMinMaxWrite = 4096;

// READDIRPLUS_AUTO lets the client choose, listing by listing, whether
// READDIRPLUS is worth its lookups (vfs/fuse_fs_dir.cc, as Linux's
// fuse_use_readdirplus); without it a device that offers READDIRPLUS expects it
// for every listing.
constexpr uint32_t kInitFlags = FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC |
                                FUSE_BIG_WRITES | FUSE_DO_READDIRPLUS |
                                FUSE_READDIRPLUS_AUTO | FUSE_PARALLEL_DIROPS |
                                FUSE_MAX_PAGES | FUSE_SETXATTR_EXT;

}  // namespace

FuseClient::FuseClient(base::Platform& platform, FuseChannel& channel)
    : platform_(platform), channel_(channel) {}

void FuseClient::SetCredentialsSource(CredentialsSource source,
                                      const void* context) {
  credentials_source_ = source;
  credentials_context_ = context;
}

base::Result<void> FuseClient::CheckReady() const {
  if (!initialized()) return base::Error{ENOTCONN};
  return {};
}

base::Result<void> FuseClient::CheckName(std::string_view name) {
  if (name.empty()) return base::Error{EINVAL};
  if (name.size() > base::kNameMax) return base::Error{ENAMETOOLONG};
  for (char c : name) {
    if (c == '/' || c == '\0') return base::Error{EINVAL};
  }
  return {};
}

base::Result<void> FuseClient::CheckNodeId(uint64_t nodeid) {
  // Node id 0 is never a node: FUSE uses it for "no entry".
  if (nodeid == 0) return base::Error{EINVAL};
  return {};
}

base::Error FuseClient::RejectReply(uint32_t opcode, uint64_t unique,
                                    const char* reason) {
  base::Logf(platform_, base::LogLevel::kWarning,
             "fuse: refused reply to opcode %u unique %llu: %s", opcode,
             static_cast<unsigned long long>(unique), reason);
  return base::Error{EIO};
}

base::Result<uint32_t> FuseClient::Transact(Transaction& t) {
  Outgoing outgoing;
  TRY(Plan(t, outgoing));
  MessageScope message(channel_);
  TRY(message.Begin(t.lane));
  WriteHead(t, outgoing, *message);

  if (t.shape == ReplyShape::kNone || t.posted_in_flight != nullptr) {
    // Posted, perhaps without waiting for the device, when the whole request
    // fits the head (FORGET, batches of a few forgets, RELEASE): the device
    // may read it after this returns, so it holds none of the caller's memory.
    // A larger batch waits.
    std::optional<uint32_t> used;
    if (outgoing.total <= message->request_head.size()) {
      uint8_t* head = message->request_head.data();
      size_t head_size = outgoing.head_size;
      for (const ConstBuffer& segment : outgoing.request()) {
        std::memcpy(head + head_size, segment.data, segment.size);
        head_size += segment.size;
      }
      used = TRY(channel_.Post(*message, head_size, outgoing.reply_head_size,
                               t.posted_in_flight));
    } else {
      used = TRY(channel_.Exchange(*message, outgoing.head_size,
                                   outgoing.request(), outgoing.reply_head_size,
                                   outgoing.reply()));
    }
    if (!used.has_value()) return 0u;  // With the device; nobody reads it.
    if (t.shape != ReplyShape::kNone) {
      return Accept(t, outgoing, *message, *used);
    }
    if (*used != 0) {
      return RejectReply(t.opcode, t.unique,
                         "reply to a request that has none");
    }
    return 0u;
  }

  const uint32_t used =
      TRY(channel_.Exchange(*message, outgoing.head_size, outgoing.request(),
                            outgoing.reply_head_size, outgoing.reply()));
  return Accept(t, outgoing, *message, used);
}

base::Result<void> FuseClient::Plan(const Transaction& t, Outgoing& outgoing) {
  if (t.opcode != FUSE_INIT) TRY(CheckReady());
  if (t.in_size > kMaxInSize || t.tail.names.size() > FuseChannel::kMaxNames ||
      t.tail.data.size() > kMaxDataSegments ||
      t.data.size() > kMaxDataSegments ||
      (t.shape != ReplyShape::kData && !t.data.empty()) ||
      (t.posted_in_flight != nullptr && !t.data.empty())) {
    return base::Error{EINVAL};
  }
  for (std::string_view name : t.tail.names) {
    if (name.size() > base::kNameMax) return base::Error{ENAMETOOLONG};
  }
  // Empty segments are left out: a zero-length descriptor means nothing to a
  // device.
  outgoing.total = sizeof(fuse_in_header) + t.in_size;
  for (std::string_view name : t.tail.names) outgoing.total += name.size() + 1;
  for (const ConstBuffer& segment : t.tail.data) {
    if (segment.size == 0) continue;
    outgoing.request_data[outgoing.request_count++] = segment;
    outgoing.total += segment.size;
  }
  if (outgoing.total > UINT32_MAX) return base::Error{EINVAL};
  for (const MutableBuffer& segment : t.data) {
    if (segment.size == 0) continue;
    outgoing.reply_data[outgoing.reply_count++] = segment;
    outgoing.data_capacity += segment.size;
  }
  outgoing.reply_head_size =
      t.shape == ReplyShape::kNone ? 0 : sizeof(fuse_out_header) + t.out_max;
  return {};
}

void FuseClient::WriteHead(Transaction& t, Outgoing& outgoing,
                           FuseMessage& message) {
  // The request's head, written once where the device reads it: header, In,
  // names.
  uint8_t* head = message.request_head.data();
  t.unique = next_unique_.fetch_add(2, std::memory_order_relaxed);
  fuse_in_header header = {};
  header.len = static_cast<uint32_t>(outgoing.total);
  header.opcode = t.opcode;
  header.unique = t.unique;
  header.nodeid = t.nodeid;
  if (t.send_credentials && credentials_source_) {
    const Credentials credentials = credentials_source_(credentials_context_);
    header.uid = credentials.uid;
    header.gid = credentials.gid;
    header.pid = credentials.pid;
  }
  std::memcpy(head, &header, sizeof(header));
  size_t head_size = sizeof(header);
  std::memcpy(head + head_size, t.in, t.in_size);
  head_size += t.in_size;
  for (std::string_view name : t.tail.names) {
    std::memcpy(head + head_size, name.data(), name.size());
    head_size += name.size();
    head[head_size++] = '\0';
  }
  outgoing.head_size = head_size;
}

base::Result<uint32_t> FuseClient::Accept(const Transaction& t,
                                          const Outgoing& outgoing,
                                          const FuseMessage& message,
                                          uint32_t used) {
  // The reply's head is read once, out of the memory the device wrote.
  const uint8_t* reply_head = message.reply_head.data();
  const size_t capacity = outgoing.reply_head_size + outgoing.data_capacity;
  fuse_out_header out = {};
  if (used >= sizeof(out)) std::memcpy(&out, reply_head, sizeof(out));
  ReplyHeaderCheck check = CheckReplyHeader(used, capacity, out, t.unique);
  if (check.malformed) return RejectReply(t.opcode, t.unique, check.malformed);
  if (check.error != 0) return base::Error{check.error};
  const size_t max_payload =
      t.shape == ReplyShape::kFixed ? t.out_max : outgoing.data_capacity;
  if (const char* reason = CheckPayloadSize(t.shape, check.payload_size,
                                            t.out_min, max_payload)) {
    return RejectReply(t.opcode, t.unique, reason);
  }
  if (t.shape == ReplyShape::kFixed) {
    std::memcpy(t.out, reply_head + sizeof(fuse_out_header),
                check.payload_size);
  }
  return check.payload_size;
}

base::Result<void> FuseClient::Init(const InitOptions& options) {
  // A new INIT (after a device reset) ends the old session whatever its
  // outcome.
  ready_.store(false, std::memory_order_release);
  fuse_init_in in = {};
  in.major = FUSE_KERNEL_VERSION;
  in.minor = FUSE_KERNEL_MINOR_VERSION;
  in.max_readahead = options.max_readahead;
  in.flags = kInitFlags;
  Reply<OpInit> reply = TRY(Call<OpInit>(0, in));
  const fuse_init_out& out = reply.out;
  if (out.major != FUSE_KERNEL_VERSION) {
    base::Logf(platform_, base::LogLevel::kError,
               "fuse: device speaks FUSE %u.%u, not %u", out.major, out.minor,
               FUSE_KERNEL_VERSION);
    return base::Error{EPROTO};
  }
  if (out.minor < kMinMinorVersion) {
    base::Logf(platform_, base::LogLevel::kError,
               "fuse: device speaks FUSE 7.%u, older than 7.%u", out.minor,
               kMinMinorVersion);
    return base::Error{EPROTO};
  }
  if (out.max_write < kMinMaxWrite) {
    base::Logf(platform_, base::LogLevel::kError,
               "fuse: device's max_write %u is below a page", out.max_write);
    return base::Error{EPROTO};
  }

  Negotiated negotiated;
  negotiated.minor = out.minor;
  negotiated.flags = out.flags & kInitFlags;
  negotiated.time_gran = out.time_gran;
  negotiated.max_readahead = out.max_readahead < options.max_readahead
                                 ? out.max_readahead
                                 : options.max_readahead;
  uint32_t max_pages = kDefaultMaxPages;
  if (negotiated.flags & FUSE_MAX_PAGES) {
    max_pages = out.max_pages == 0 ? 1 : out.max_pages;
    if (max_pages > kMaxPagesLimit) max_pages = kMaxPagesLimit;
  }
  negotiated.max_pages = max_pages;
  uint32_t max_bytes = max_pages * kPageSize;
  if (channel_.MaxDataBytes() < max_bytes) max_bytes = channel_.MaxDataBytes();
  if (max_bytes == 0) {
    base::Logf(platform_, base::LogLevel::kError,
               "fuse: the channel carries no data");
    return base::Error{EPROTO};
  }
  negotiated.max_read = max_bytes;
  negotiated.max_write = out.max_write < max_bytes ? out.max_write : max_bytes;

  negotiated_ = negotiated;
  ready_.store(true, std::memory_order_release);
  base::Logf(platform_, base::LogLevel::kInfo,
             "fuse: session 7.%u, max_read %u, max_write %u, max_readahead %u",
             negotiated.minor, negotiated.max_read, negotiated.max_write,
             negotiated.max_readahead);
  return {};
}

FuseClient::PostedRelease* FuseClient::ClaimPostedRelease(uint64_t nodeid) {
  for (PostedRelease& slot : posted_releases_) {
    uint32_t answered = 0;
    if (slot.in_flight.compare_exchange_strong(answered, 1,
                                               std::memory_order_acquire)) {
      slot.nodeid.store(nodeid, std::memory_order_release);
      return &slot;
    }
  }
  return nullptr;
}

base::Result<void> FuseClient::SettleReleases(
    std::span<const fuse_forget_one> forgets) {
  for (PostedRelease& slot : posted_releases_) {
    if (slot.in_flight.load(std::memory_order_acquire) == 0) continue;
    // A slot claimed for a node being released now may still name the one
    // before: waiting for it costs a moment, and the node being released is
    // still referenced, so not among `forgets`.
    const uint64_t nodeid = slot.nodeid.load(std::memory_order_acquire);
    bool forgotten = forgets.empty();
    for (const fuse_forget_one& forget : forgets) {
      forgotten = forgotten || forget.nodeid == nodeid;
    }
    if (forgotten) TRY(channel_.WaitForPosted(&slot.in_flight));
  }
  return {};
}

base::Result<void> FuseClient::Destroy() {
  // The session's last request: after the RELEASEs posted before it (not
  // after FORGETs, which a device may hold for good without harm).
  base::Result<void> settled = SettleReleases({});
  (void)settled;  // A broken channel fails DESTROY too.
  base::Result<Reply<OpDestroy>> reply = Call<OpDestroy>(0, NoArgs{});
  // Whatever the device answered, the session is over.
  ready_.store(false, std::memory_order_release);
  if (!reply.ok()) return base::Error{reply.error()};
  return {};
}

base::Result<void> FuseClient::Forget(uint64_t nodeid, uint64_t nlookup) {
  TRY(CheckReady());
  TRY(CheckNodeId(nodeid));
  if (nlookup == 0) return {};
  const fuse_forget_one forget{nodeid, nlookup};
  TRY(SettleReleases({&forget, 1}));
  fuse_forget_in in = {};
  in.nlookup = nlookup;
  TRY(Call<OpForget>(nodeid, in));
  return {};
}

base::Result<void> FuseClient::ForgetMany(
    std::span<const fuse_forget_one> forgets) {
  TRY(CheckReady());
  for (const fuse_forget_one& forget : forgets) TRY(CheckNodeId(forget.nodeid));
  if (forgets.empty()) return {};
  if (forgets.size() == 1) return Forget(forgets[0].nodeid, forgets[0].nlookup);
  TRY(SettleReleases(forgets));
  while (!forgets.empty()) {
    const size_t count = forgets.size() < kMaxForgetsPerBatch
                             ? forgets.size()
                             : kMaxForgetsPerBatch;
    fuse_batch_forget_in in = {};
    in.count = static_cast<uint32_t>(count);
    const ConstBuffer data[] = {
        {forgets.data(), count * sizeof(fuse_forget_one)}};
    RequestTail tail;
    tail.data = data;
    TRY(Call<OpBatchForget>(0, in, tail));
    forgets = forgets.subspan(count);
  }
  return {};
}

base::Result<Entry> FuseClient::AcceptNewEntry(uint32_t opcode, uint64_t unique,
                                               const fuse_entry_out& out,
                                               uint32_t expected_type) {
  if (const char* reason = CheckNewEntry(out, expected_type)) {
    // The device counted a lookup for a real node even though the reply is
    // refused: give it back, as Linux does, so its inode table does not leak.
    if (out.nodeid != 0 && out.nodeid != FUSE_ROOT_ID) {
      base::Result<void> forgot = Forget(out.nodeid, 1);
      (void)forgot;
    }
    return RejectReply(opcode, unique, reason);
  }
  return ToEntry(out);
}

}  // namespace driver
