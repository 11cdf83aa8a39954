#include "sim/fuse_server.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "sim/fuse_request_check.h"

namespace sim {
namespace {

constexpr size_t kInHeader = sizeof(fuse_in_header);
constexpr size_t kWriteHeaders = sizeof(fuse_in_header) + sizeof(fuse_write_in);

uint64_t TotalSize(std::span<const GuestBuffer> buffers) {
  uint64_t total = 0;
  for (const GuestBuffer& b : buffers) total += b.size;
  return total;
}

// Copies `len` bytes at `offset` of the concatenated buffers into `dst`.
void Gather(std::span<const GuestBuffer> buffers, uint64_t offset, void* dst,
            size_t len) {
  auto* out = static_cast<uint8_t*>(dst);
  for (const GuestBuffer& b : buffers) {
    if (len == 0) return;
    if (offset >= b.size) {
      offset -= b.size;
      continue;
    }
    const size_t n = std::min<uint64_t>(b.size - offset, len);
    memcpy(out, b.data + offset, n);
    out += n;
    len -= n;
    offset = 0;
  }
}

// The iovecs covering `len` bytes at `offset` of the concatenated buffers.
absl::InlinedVector<iovec, 8> Slice(std::span<const GuestBuffer> buffers,
                                    uint64_t offset, size_t len) {
  absl::InlinedVector<iovec, 8> iov;
  for (const GuestBuffer& b : buffers) {
    if (len == 0) break;
    if (offset >= b.size) {
      offset -= b.size;
      continue;
    }
    const size_t n = std::min<uint64_t>(b.size - offset, len);
    iov.push_back({b.data + offset, n});
    len -= n;
    offset = 0;
  }
  return iov;
}

// Writes a bare reply header carrying `err`; returns the used length.
uint32_t ReplyError(std::span<const GuestBuffer> reply, uint64_t unique,
                    int err) {
  if (TotalSize(reply) < sizeof(fuse_out_header)) return 0;
  const fuse_out_header out{sizeof(fuse_out_header), -err, unique};
  const auto* src = reinterpret_cast<const uint8_t*>(&out);
  size_t left = sizeof(out);
  for (const GuestBuffer& b : reply) {
    const size_t n = std::min<size_t>(b.size, left);
    memcpy(b.data, src, n);
    src += n;
    left -= n;
    if (left == 0) break;
  }
  return sizeof(out);
}

// The custom io writev: delivers libfuse's reply to the request being processed
// on this thread.
ssize_t CaptureReply(int /*fd*/, struct iovec* iov, int count,
                     void* /*userdata*/) {
  uint64_t total = 0;
  for (int i = 0; i < count; ++i) total += iov[i].iov_len;
  RequestContext* ctx = CurrentRequest();
  if (ctx == nullptr || count < 1 || iov[0].iov_len < sizeof(fuse_out_header)) {
    return static_cast<ssize_t>(total);
  }
  fuse_out_header out;
  memcpy(&out, iov[0].iov_base, sizeof(out));
  // Anything but the one reply to this chain's request (e.g. a notification) is
  // dropped.
  if (out.unique != ctx->unique || ctx->replied)
    return static_cast<ssize_t>(total);
  ctx->replied = true;
  if (total > ctx->reply_capacity) {
    ctx->used_length = ReplyError(ctx->reply_buffers, out.unique, ERANGE);
    if (ctx->counters != nullptr)
      ctx->counters->reply_bytes_copied += ctx->used_length;
    return static_cast<ssize_t>(total);
  }
  // Scatter, skipping spans that already sit at their destination (READ
  // payloads).
  size_t dst_index = 0;
  size_t dst_offset = 0;
  uint64_t copied = 0;
  uint64_t in_place = 0;
  for (int i = 0; i < count; ++i) {
    const auto* src = static_cast<const uint8_t*>(iov[i].iov_base);
    size_t left = iov[i].iov_len;
    while (left > 0) {
      const GuestBuffer& dst = ctx->reply_buffers[dst_index];
      const size_t n = std::min<size_t>(dst.size - dst_offset, left);
      uint8_t* to = dst.data + dst_offset;
      if (to != src) {
        memcpy(to, src, n);
        copied += n;
      } else {
        in_place += n;
      }
      src += n;
      left -= n;
      dst_offset += n;
      if (dst_offset == dst.size) {
        ++dst_index;
        dst_offset = 0;
      }
    }
  }
  if (ctx->counters != nullptr) {
    ctx->counters->reply_bytes_copied += copied;
    ctx->counters->reply_bytes_in_place += in_place;
  }
  ctx->used_length = static_cast<uint32_t>(total);
  return static_cast<ssize_t>(total);
}

// Requests never arrive through the session's own read path.
ssize_t NoRead(int /*fd*/, void* /*buf*/, size_t /*len*/, void* /*userdata*/) {
  errno = EIO;
  return -1;
}

// A per-thread pipe carrying the copied headers of a zero-copy WRITE.
class HeaderPipe {
 public:
  HeaderPipe() {
    if (pipe2(fds_, O_NONBLOCK | O_CLOEXEC) != 0) fds_[0] = fds_[1] = -1;
  }
  ~HeaderPipe() {
    if (fds_[0] >= 0) close(fds_[0]);
    if (fds_[1] >= 0) close(fds_[1]);
  }
  bool ok() const { return fds_[0] >= 0; }
  int read_fd() const { return fds_[0]; }
  bool Put(const void* data, size_t len) {
    return write(fds_[1], data, len) == static_cast<ssize_t>(len);
  }
  // Empties what libfuse did not consume (e.g. a request refused before
  // dispatch).
  void Drain() {
    char scratch[256];
    while (read(fds_[0], scratch, sizeof(scratch)) > 0) {
    }
  }

 private:
  int fds_[2];
};

HeaderPipe& ThreadHeaderPipe() {
  static thread_local HeaderPipe pipe;
  return pipe;
}

// A per-thread private copy of a request, 8-byte aligned and zero padded.
std::vector<uint64_t>& ThreadRequestBuffer() {
  static thread_local std::vector<uint64_t> buffer;
  return buffer;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FuseServer>> FuseServer::Create(
    const PassthroughOptions& options) {
  auto fs = PassthroughFs::Create(options);
  if (!fs.ok()) return fs.status();
  const uint32_t max_request = options.max_write + 4096;
  std::unique_ptr<FuseServer> server(
      new FuseServer(*std::move(fs), max_request));
  if (absl::Status s = server->StartSession(); !s.ok()) return s;
  return server;
}

FuseServer::FuseServer(std::unique_ptr<PassthroughFs> fs, uint32_t max_request)
    : fs_(std::move(fs)), max_request_(max_request) {}

FuseServer::~FuseServer() {
  std::lock_guard<std::shared_mutex> lock(session_mu_);
  if (session_ != nullptr) fuse_session_destroy(session_);
}

absl::Status FuseServer::StartSession() {
  std::lock_guard<std::shared_mutex> lock(session_mu_);
  return StartSessionLocked();
}

absl::Status FuseServer::StartSessionLocked() {
  char name[] = "virtio-fs-sim";
  char* argv[] = {name, nullptr};
  fuse_args args = FUSE_ARGS_INIT(1, argv);
  fuse_session* se = fuse_session_new(&args, &PassthroughFs::Ops(),
                                      sizeof(fuse_lowlevel_ops), fs_.get());
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
  io.writev = CaptureReply;
  io.read = NoRead;
  if (int err = fuse_session_custom_io(se, &io, fd); err != 0) {
    close(fd);
    fuse_session_destroy(se);
    return absl::InternalError("fuse_session_custom_io failed");
  }
  session_ = se;
  return absl::OkStatus();
}

absl::Status FuseServer::Reset() {
  std::lock_guard<std::shared_mutex> lock(session_mu_);
  if (session_ != nullptr) fuse_session_destroy(session_);
  session_ = nullptr;
  // The handlers' destroy() ran only if INIT had; release unconditionally.
  fs_->ReleaseAll();
  return StartSessionLocked();
}

uint64_t FuseServer::requests_processed(uint32_t opcode) const {
  return opcode_counts_[std::min(opcode, kCountedOpcodes)].load(
      std::memory_order_relaxed);
}

uint32_t FuseServer::Process(std::span<const GuestBuffer> request,
                             std::span<const GuestBuffer> reply) {
  std::shared_lock<std::shared_mutex> lock(session_mu_);
  const uint64_t provided = TotalSize(request);
  if (provided < kInHeader || session_ == nullptr) return 0;
  // The header is read from guest memory exactly once; everything after uses
  // this copy.
  fuse_in_header in;
  Gather(request, 0, &in, kInHeader);
  counters_.request_bytes_copied += kInHeader;
  opcode_counts_[std::min(in.opcode, kCountedOpcodes)].fetch_add(
      1, std::memory_order_relaxed);
  if (in.len != provided || in.len > max_request_)
    return ReplyError(reply, in.unique, EINVAL);
  const size_t arg_len = in.len - kInHeader;

  RequestContext ctx;
  ctx.unique = in.unique;
  ctx.reply_buffers = reply;
  ctx.reply_capacity = TotalSize(reply);
  ctx.counters = &counters_;

  fuse_buf buf;
  memset(&buf, 0, sizeof(buf));
  buf.size = in.len;
  HeaderPipe* header_pipe = nullptr;
  absl::InlinedVector<iovec, 8> payload;
  // Write payloads below the threshold, and any while the negotiated protocol
  // is older than 7.9 (libfuse only takes FUSE_BUF_IS_FD writes from 7.9 on),
  // are copied.
  if (in.opcode == FUSE_WRITE &&
      arg_len >= sizeof(fuse_write_in) + kZeroCopyWriteThreshold &&
      fs_->proto_minor() >= 9 && ThreadHeaderPipe().ok()) {
    uint8_t headers[kWriteHeaders];
    memcpy(headers, &in, kInHeader);
    Gather(request, kInHeader, headers + kInHeader, sizeof(fuse_write_in));
    counters_.request_bytes_copied += sizeof(fuse_write_in);
    if (int err = CheckFuseRequest(in, headers + kInHeader,
                                   sizeof(fuse_write_in), arg_len);
        err != 0) {
      return ReplyError(reply, in.unique, err);
    }
    fuse_write_in write_in;
    memcpy(&write_in, headers + kInHeader, sizeof(write_in));
    payload = Slice(request, kWriteHeaders, write_in.size);
    header_pipe = &ThreadHeaderPipe();
    if (!header_pipe->Put(headers, sizeof(headers))) {
      header_pipe->Drain();
      return ReplyError(reply, in.unique, EIO);
    }
    buf.flags = FUSE_BUF_IS_FD;
    buf.fd = header_pipe->read_fd();
    ctx.write_payload_fd = buf.fd;
    ctx.write_payload = std::span<const iovec>(payload.data(), payload.size());
  } else {
    std::vector<uint64_t>& copy = ThreadRequestBuffer();
    // Zero padding past the request: defence in depth behind CheckFuseRequest.
    const size_t words = (in.len + 7) / 8 + 1;
    if (copy.size() < words) copy.resize(words);
    auto* bytes = reinterpret_cast<uint8_t*>(copy.data());
    memset(bytes + in.len, 0, words * 8 - in.len);
    memcpy(bytes, &in, kInHeader);
    Gather(request, kInHeader, bytes + kInHeader, arg_len);
    counters_.request_bytes_copied += arg_len;
    if (int err = CheckFuseRequest(in, bytes + kInHeader, arg_len, arg_len);
        err != 0) {
      return ReplyError(reply, in.unique, err);
    }
    buf.mem = bytes;
  }

  RequestContext* const outer = CurrentRequest();
  CurrentRequest() = &ctx;
  fuse_session_process_buf(session_, &buf);
  CurrentRequest() = outer;
  if (header_pipe != nullptr) header_pipe->Drain();
  return ctx.used_length;
}

}  // namespace sim
