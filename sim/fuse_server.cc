#include "sim/fuse_server.h"

#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "driver/fuse_opcodes.h"
#include "sim/fuse_request_check.h"

namespace sim {
namespace {

constexpr size_t kInHeader = sizeof(fuse_in_header);
constexpr size_t kOutHeader = sizeof(fuse_out_header);
// Requests up to this size are copied to the processing thread's stack (a
// WRITE's payload is not copied at all), so that no common request allocates;
// only a SETXATTR of a larger value, or a hostile request, does.
constexpr size_t kStackCopyBytes = 8192;
// Zero bytes after the private copy: defence in depth behind
// CheckFuseRequest, should libfuse read past a name.
constexpr size_t kCopyPadding = 8;

// The custom io writev: the session's userdata is the PassthroughFs, which
// knows where its replies go.
ssize_t SendReply(int /*fd*/, struct iovec* iov, int count, void* userdata) {
  uint64_t total = 0;
  for (int i = 0; i < count; ++i) total += iov[i].iov_len;
  if (ReplyRouter* router =
          static_cast<PassthroughFs*>(userdata)->reply_router())
    router->Deliver(iov, count);
  return static_cast<ssize_t>(total);
}

// Requests never arrive through the session's own read path.
ssize_t NoRead(int /*fd*/, void* /*buf*/, size_t /*len*/, void* /*userdata*/) {
  errno = EIO;
  return -1;
}

// A libfuse session over `fs`'s handlers that replies through SendReply.
absl::StatusOr<fuse_session*> NewSession(PassthroughFs* fs) {
  char name[] = "virtio-fs-sim";
  char* argv[] = {name, nullptr};
  fuse_args args = FUSE_ARGS_INIT(1, argv);
  fuse_session* se = fuse_session_new(&args, &PassthroughFs::Ops(),
                                      sizeof(fuse_lowlevel_ops), fs);
  fuse_opt_free_args(&args);
  if (se == nullptr) return absl::InternalError("fuse_session_new failed");
  // The session wants a descriptor it will close on destroy; nothing is ever
  // read from it.
  const int fd = eventfd(0, EFD_CLOEXEC);
  if (fd < 0) {
    fuse_session_destroy(se);
    return absl::ErrnoToStatus(errno, "eventfd");
  }
  fuse_custom_io io;
  memset(&io, 0, sizeof(io));
  io.writev = SendReply;
  io.read = NoRead;
  if (int err = fuse_session_custom_io(se, &io, fd); err != 0) {
    close(fd);
    fuse_session_destroy(se);
    return absl::InternalError("fuse_session_custom_io failed");
  }
  return se;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FuseServer>> FuseServer::Create(
    const PassthroughOptions& options, uint16_t lanes) {
  if (lanes == 0) return absl::InvalidArgumentError("a server needs a lane");
  auto fs = PassthroughFs::Create(options);
  if (!fs.ok()) return fs.status();
  const uint32_t max_request = options.max_write + 4096;
  std::unique_ptr<FuseServer> server(
      new FuseServer(*std::move(fs), max_request, lanes));
  if (absl::Status s = server->StartSessions(); !s.ok()) return s;
  return server;
}

FuseServer::FuseServer(std::unique_ptr<PassthroughFs> fs, uint32_t max_request,
                       uint16_t lanes)
    : fs_(std::move(fs)),
      max_request_(max_request),
      lanes_(lanes),
      router_(fs_->data_path()),
      lane_state_(new Lane[lanes]) {
  fs_->set_reply_router(&router_);
}

FuseServer::~FuseServer() {
  LockAllLanes();
  DestroySessionsLocked();
  UnlockAllLanes();
}

void FuseServer::LockAllLanes() {
  for (uint16_t lane = 0; lane < lanes_; ++lane) lane_state_[lane].mutex.lock();
}

void FuseServer::UnlockAllLanes() {
  for (uint16_t lane = lanes_; lane-- > 0;) lane_state_[lane].mutex.unlock();
}

absl::Status FuseServer::StartSessions() {
  LockAllLanes();
  absl::Status started = StartSessionsLocked();
  UnlockAllLanes();
  return started;
}

absl::Status FuseServer::StartSessionsLocked() {
  for (uint16_t lane = 0; lane < lanes_; ++lane) {
    absl::StatusOr<fuse_session*> session = NewSession(fs_.get());
    if (!session.ok()) {
      DestroySessionsLocked();
      return session.status();
    }
    sessions_.push_back(*session);
  }
  return absl::OkStatus();
}

void FuseServer::DestroySessionsLocked() {
  for (fuse_session* session : sessions_) fuse_session_destroy(session);
  sessions_.clear();
}

absl::Status FuseServer::Reset() {
  LockAllLanes();
  DestroySessionsLocked();
  // The handlers' destroy() ran only if INIT had; release unconditionally.
  fs_->ReleaseAll();
  absl::Status started = StartSessionsLocked();
  UnlockAllLanes();
  return started;
}

uint64_t FuseServer::requests_processed(uint32_t opcode) const {
  uint64_t total = 0;
  for (uint16_t lane = 0; lane < lanes_; ++lane) {
    total +=
        lane_state_[lane].opcode_counts[std::min(opcode, kCountedOpcodes)].load(
            std::memory_order_relaxed);
  }
  return total;
}

uint64_t FuseServer::requests_answered_directly() const {
  uint64_t total = 0;
  for (uint16_t lane = 0; lane < lanes_; ++lane) {
    total += lane_state_[lane].direct_answers.load(std::memory_order_relaxed);
  }
  return total;
}

// The lane's mutex orders the writers of its counters: no atomic add needed.
void FuseServer::Count(std::atomic<uint64_t>& counter) {
  counter.store(counter.load(std::memory_order_relaxed) + 1,
                std::memory_order_relaxed);
}

uint32_t FuseServer::Process(std::span<const GuestBuffer> request_buffers,
                             std::span<const GuestBuffer> reply_buffers,
                             uint16_t lane) {
  lane %= lanes_;
  Lane& state = lane_state_[lane];
  std::lock_guard<AdaptiveMutex> lock(state.mutex);
  ChainReader request(request_buffers);
  ChainWriter reply(reply_buffers);
  if (request.size() < kInHeader || sessions_.empty()) return 0;
  DataPathCounters& counters = fs_->data_path();
  // The private copy starts with the header, read from guest memory exactly
  // once; everything after uses the copy.
  alignas(8) uint8_t stack_copy[kStackCopyBytes + kCopyPadding];
  request.Read(stack_copy, kInHeader);
  counters.request_bytes_copied += kInHeader;
  fuse_in_header in;
  memcpy(&in, stack_copy, kInHeader);
  Count(state.opcode_counts[std::min(in.opcode, kCountedOpcodes)]);
  if (in.len != request.size() || in.len > max_request_) {
    return WriteErrorReply(reply, in.unique, EINVAL);
  }
  const size_t arg_len = in.len - kInHeader;

  // The data path needs the 7.9 layouts of fuse_read_in and fuse_write_in.
  const unsigned proto_minor = fs_->proto_minor();
  if (proto_minor >= 9) {
    if (in.opcode == FUSE_READ) return ProcessRead(in, request, reply);
    if (in.opcode == FUSE_WRITE && arg_len >= sizeof(fuse_write_in)) {
      return ProcessWrite(in, request, reply);
    }
  }

  std::unique_ptr<uint64_t[]> heap_copy;
  uint8_t* copy = stack_copy;
  if (in.len > kStackCopyBytes) {
    heap_copy.reset(new uint64_t[(in.len + kCopyPadding + 7) / 8]);
    copy = reinterpret_cast<uint8_t*>(heap_copy.get());
    memcpy(copy, &in, kInHeader);
  }
  request.Read(copy + kInHeader, arg_len);
  memset(copy + in.len, 0, kCopyPadding);
  counters.request_bytes_copied += arg_len;
  if (int err = CheckFuseRequest(in, copy + kInHeader, arg_len, arg_len);
      err != 0) {
    return WriteErrorReply(reply, in.unique, err);
  }
  // The direct answers read CREATE's 7.12 layout (with the umask).
  if (proto_minor >= 12 && answer_directly_.load(std::memory_order_relaxed)) {
    if (const std::optional<uint32_t> used =
            AnswerDirectly(in, copy + kInHeader, reply)) {
      counters.reply_bytes_copied += *used;
      Count(state.direct_answers);
      return *used;
    }
  }
  return Dispatch(in, copy, reply, sessions_[lane % sessions_.size()]);
}

uint32_t FuseServer::Dispatch(const fuse_in_header& in, uint8_t* copy,
                              ChainWriter& reply, fuse_session* session) {
  fuse_buf buf;
  memset(&buf, 0, sizeof(buf));
  buf.size = in.len;
  buf.mem = copy;
  // A request the protocol never answers gets no route (and libfuse sends
  // nothing for it, but for an error before INIT, which has nowhere to go).
  if (driver::FindFuseOpcode(in.opcode)->reply == driver::FuseReply::kNone) {
    fuse_session_process_buf(session, &buf);
    return 0;
  }
  ReplyRouter::Target target;
  target.unique = in.unique;
  target.reply = &reply;
  {
    ReplyRouter::Route route(router_, &target);
    fuse_session_process_buf(session, &buf);
    // The other sessions' replies find the target answered and are dropped.
    if (in.opcode == FUSE_INIT) {
      for (fuse_session* other : sessions_) {
        if (other != session) fuse_session_process_buf(other, &buf);
      }
    }
  }
  return target.used_length;
}

uint32_t FuseServer::ProcessRead(const fuse_in_header& in, ChainReader& request,
                                 ChainWriter& reply) {
  fuse_read_in read_in;
  if (!request.Read(&read_in, sizeof(read_in))) {
    return WriteErrorReply(reply, in.unique, EINVAL);
  }
  fs_->data_path().request_bytes_copied += sizeof(read_in);
  if (reply.capacity() < kOutHeader) return 0;
  // The payload goes straight after the header; when the chain has less room
  // than asked, a read that finds more bytes than fit is refused (ERANGE).
  const uint32_t room = static_cast<uint32_t>(
      std::min<uint64_t>(read_in.size, reply.capacity() - kOutHeader));
  IoVecs payload;
  reply.Views(kOutHeader, room, &payload);
  ssize_t n =
      fs_->ReadInto(in.nodeid, read_in.fh, static_cast<int64_t>(read_in.offset),
                    read_in.size, payload);
  if (n < 0) return WriteErrorReply(reply, in.unique, static_cast<int>(-n));
  if (static_cast<uint32_t>(n) == room && room < read_in.size) {
    uint8_t probe;
    const iovec more{&probe, 1};
    if (fs_->ReadInto(in.nodeid, read_in.fh,
                      static_cast<int64_t>(read_in.offset + room), 1,
                      {&more, 1}) > 0) {
      return WriteErrorReply(reply, in.unique, ERANGE);
    }
  }
  fs_->data_path().reply_bytes_in_place += n;
  const fuse_out_header out{static_cast<uint32_t>(kOutHeader + n), 0,
                            in.unique};
  reply.WriteAt(0, &out, sizeof(out));
  fs_->data_path().reply_bytes_copied += sizeof(out);
  return out.len;
}

uint32_t FuseServer::ProcessWrite(const fuse_in_header& in,
                                  ChainReader& request, ChainWriter& reply) {
  fuse_write_in write_in;
  request.Read(&write_in, sizeof(write_in));  // The caller checked the size.
  fs_->data_path().request_bytes_copied += sizeof(write_in);
  IoVecs payload;
  if (write_in.size > request.remaining() ||
      !request.Slice(write_in.size, &payload)) {
    return WriteErrorReply(reply, in.unique, EINVAL);
  }
  const ssize_t n = fs_->WriteFrom(
      in.nodeid, write_in.fh, static_cast<int64_t>(write_in.offset), payload);
  if (n < 0) return WriteErrorReply(reply, in.unique, static_cast<int>(-n));
  const fuse_write_out written{static_cast<uint32_t>(n), 0};
  const fuse_out_header out{kOutHeader + sizeof(written), 0, in.unique};
  const iovec pieces[] = {
      {const_cast<fuse_out_header*>(&out), sizeof(out)},
      {const_cast<fuse_write_out*>(&written), sizeof(written)}};
  const uint32_t used = WriteReply(reply, pieces);
  fs_->data_path().reply_bytes_copied += used;
  return used;
}

}  // namespace sim
