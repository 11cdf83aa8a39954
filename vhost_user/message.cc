#include "vhost_user/message.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace vhost_user {

void UniqueFd::Reset() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

namespace {

// Reads exactly `size` bytes (no descriptors expected). False at a clean end
// of stream before the first byte; an error otherwise.
absl::StatusOr<bool> ReadExactly(int fd, void* out, size_t size) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = read(fd, static_cast<uint8_t*>(out) + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::InternalError(absl::StrCat("read: ", strerror(errno)));
    }
    if (n == 0) {
      if (done == 0) return false;
      return absl::InvalidArgumentError("connection closed inside a message");
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

absl::StatusOr<Message> ReceiveMessage(int fd) {
  Message message;
  // The header comes with the message's descriptors (QEMU sends them with
  // its first bytes).
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * (kMaxFds + 1))];
  iovec iov{&message.header, sizeof(message.header)};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return absl::InternalError(absl::StrCat("recvmsg: ", strerror(errno)));
  }
  // Take ownership of every descriptor first, so that none leaks on a refusal.
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
       c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int passed;
      std::memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      message.fds.emplace_back(passed);
    }
  }
  if (n == 0) return absl::NotFoundError("the front-end closed the connection");
  if (msg.msg_flags & MSG_CTRUNC) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than ", kMaxFds, " file descriptors in a message"));
  }
  if (message.fds.size() > kMaxFds) {
    return absl::InvalidArgumentError(
        absl::StrCat(message.fds.size(),
                     " file descriptors in a message (at most ", kMaxFds, ")"));
  }
  if (static_cast<size_t>(n) < sizeof(Header)) {
    auto rest = ReadExactly(fd, reinterpret_cast<uint8_t*>(&message.header) + n,
                            sizeof(Header) - static_cast<size_t>(n));
    if (!rest.ok()) return rest.status();
    if (!*rest) {
      return absl::InvalidArgumentError("connection closed inside a header");
    }
  }
  if ((message.header.flags & kVersionMask) != kVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("message version ", message.header.flags & kVersionMask,
                     " (this back-end speaks ", kVersion, ")"));
  }
  if (message.header.size > kMaxPayload) {
    return absl::InvalidArgumentError(absl::StrCat(
        RequestName(message.header.request), " with a ", message.header.size,
        "-byte payload (at most ", kMaxPayload, ")"));
  }
  message.payload.resize(message.header.size);
  if (message.header.size > 0) {
    auto read = ReadExactly(fd, message.payload.data(), message.header.size);
    if (!read.ok()) return read.status();
    if (!*read) {
      return absl::InvalidArgumentError("connection closed inside a payload");
    }
  }
  return message;
}

absl::Status SendReply(int fd, const Header& request, const void* payload,
                       uint32_t size) {
  Header header{request.request, kVersion | kReplyFlag, size};
  iovec iov[2] = {{&header, sizeof(header)},
                  {const_cast<void*>(payload), size}};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = size > 0 ? 2 : 1;
  const size_t total = sizeof(header) + size;
  ssize_t n;
  do {
    n = sendmsg(fd, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return absl::InternalError(absl::StrCat("sendmsg: ", strerror(errno)));
  }
  if (static_cast<size_t>(n) != total) {
    return absl::InternalError("short write of a reply");
  }
  return absl::OkStatus();
}

const char* RequestName(uint32_t request) {
  switch (request) {
    case kGetFeatures:
      return "GET_FEATURES";
    case kSetFeatures:
      return "SET_FEATURES";
    case kSetOwner:
      return "SET_OWNER";
    case kResetOwner:
      return "RESET_OWNER";
    case kSetMemTable:
      return "SET_MEM_TABLE";
    case kSetLogBase:
      return "SET_LOG_BASE";
    case kSetLogFd:
      return "SET_LOG_FD";
    case kSetVringNum:
      return "SET_VRING_NUM";
    case kSetVringAddr:
      return "SET_VRING_ADDR";
    case kSetVringBase:
      return "SET_VRING_BASE";
    case kGetVringBase:
      return "GET_VRING_BASE";
    case kSetVringKick:
      return "SET_VRING_KICK";
    case kSetVringCall:
      return "SET_VRING_CALL";
    case kSetVringErr:
      return "SET_VRING_ERR";
    case kGetProtocolFeatures:
      return "GET_PROTOCOL_FEATURES";
    case kSetProtocolFeatures:
      return "SET_PROTOCOL_FEATURES";
    case kGetQueueNum:
      return "GET_QUEUE_NUM";
    case kSetVringEnable:
      return "SET_VRING_ENABLE";
    case kSetBackendReqFd:
      return "SET_BACKEND_REQ_FD";
    case kGetConfig:
      return "GET_CONFIG";
    case kSetConfig:
      return "SET_CONFIG";
    case kResetDevice:
      return "RESET_DEVICE";
    case kGetMaxMemSlots:
      return "GET_MAX_MEM_SLOTS";
    case kSetStatus:
      return "SET_STATUS";
    case kGetStatus:
      return "GET_STATUS";
    default:
      return "UNKNOWN";
  }
}

}  // namespace vhost_user
