// vhost_user::Message and the socket it travels on: one request read whole
// (header, payload, the file descriptors in its ancillary data) and one reply
// written, with every length checked against what was received.
#ifndef VHOST_USER_MESSAGE_H_
#define VHOST_USER_MESSAGE_H_

#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "vhost_user/protocol.h"

namespace vhost_user {

// A file descriptor owned by its holder: closed when it goes.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = other.Release();
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset();

 private:
  int fd_ = -1;
};

struct Message {
  Header header{};
  std::vector<uint8_t> payload;
  std::vector<UniqueFd> fds;

  // The payload as a `T`, when it is exactly that size (the spec's rule for
  // every fixed layout).
  template <typename T>
  std::optional<T> PayloadAs() const {
    if (payload.size() != sizeof(T)) return std::nullopt;
    T value;
    std::memcpy(&value, payload.data(), sizeof(T));
    return value;
  }
};

// Reads one message from the connected socket `fd`. NotFound when the peer
// closed the connection cleanly between messages; InvalidArgument for a
// message that is not one (short, too large, wrong version, more than kMaxFds
// descriptors); the descriptors that came with a refused message are closed.
absl::StatusOr<Message> ReceiveMessage(int fd);

// Sends the reply to `request` with `payload` (the reply flag set).
absl::Status SendReply(int fd, const Header& request, const void* payload,
                       uint32_t size);
inline absl::Status SendU64Reply(int fd, const Header& request,
                                 uint64_t value) {
  return SendReply(fd, request, &value, sizeof(value));
}

}  // namespace vhost_user

#endif  // VHOST_USER_MESSAGE_H_
