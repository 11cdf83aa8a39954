// FuseChannel: how one FUSE request reaches the device and its reply comes
// back.
//
// The FUSE client is written against this interface only, so it knows nothing
// of virtqueues: the virtio-fs driver implements it over the device's queues,
// and tests implement it with a scripted device.
//
// A request is a message the channel lends its head areas for: Begin() lends
// them, the client writes the request's head (fuse_in_header, the operation's
// struct, names) into `request_head` where the device will read it, Exchange()
// sends it with the payload buffers that follow and waits for the reply, whose
// head (fuse_out_header and the fixed reply struct) the device wrote into
// `reply_head`, and End() takes the areas back once the client has read them.
// So each header is written once, by its producer, into memory the other side
// reads.
//
// Exchange() may also be made in two steps, Send() and Receive(), by a caller
// with work to do while the device serves the request (read-ahead).
//
// Safe to use from several threads at once: each message is its caller's, and
// each exchange waits only for its own reply.
//
// A channel moves bytes; it does not interpret them. Checking the reply (its
// length, `unique`, error and payload) is the client's job.
#ifndef DRIVER_FUSE_CHANNEL_H_
#define DRIVER_FUSE_CHANNEL_H_

#include <linux/fuse.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "base/abi.h"
#include "base/result.h"
#include "driver/fuse_opcodes.h"

namespace driver {

// A device-readable piece of a request, in the caller's memory.
struct ConstBuffer {
  const void* data = nullptr;
  size_t size = 0;
};

// A device-writable piece of a reply, in the caller's memory.
struct MutableBuffer {
  void* data = nullptr;
  size_t size = 0;
};

// One request's head areas, lent by the channel from Begin() to End().
struct FuseMessage {
  std::span<uint8_t> request_head;
  std::span<uint8_t> reply_head;
  void* channel_state = nullptr;  // The channel's own record of the message.
  // The default Send()'s exchange, for its Receive(): the used length, or the
  // errno.
  uint32_t sent_used = 0;
  int sent_error = 0;
};

class FuseChannel {
 public:
  // Names one request carries at most (RENAME, SYMLINK, LINK ...).
  static constexpr size_t kMaxNames = 2;
  // What a message's head areas hold at least: a request's header, the
  // largest operation struct and two names with their NULs; a reply's header
  // and the largest fixed reply struct.
  static constexpr size_t kRequestHeadCapacity =
      sizeof(fuse_in_header) + MaxFuseInSize() +
      kMaxNames * (base::kNameMax + 1);
  static constexpr size_t kReplyHeadCapacity =
      sizeof(fuse_out_header) + MaxFuseReplyStructSize();

  virtual ~FuseChannel() = default;

  // Lends `message` its head areas for a request on `lane`. ENOMEM, or the
  // transport's error (EIO when the device is broken).
  virtual base::Result<void> Begin(FuseLane lane, FuseMessage& message) = 0;

  // Sends the first `request_head_size` bytes of the request head, then
  // `request_data`, and waits for the reply, which the device writes across
  // the first `reply_head_size` bytes of the reply head and then
  // `reply_data`. Returns the number of bytes the device reported writing (the
  // used length), unvalidated. Requests without a reply (FORGET, BATCH_FORGET)
  // pass 0 and no reply data, and complete with a used length of 0. Errors are
  // transport failures (the device is gone, broken or reset): ENODEV, EIO,
  // ENOMEM... At most once per message; the data buffers must stay valid
  // until it returns.
  virtual base::Result<uint32_t> Exchange(
      FuseMessage& message, size_t request_head_size,
      std::span<const ConstBuffer> request_data, size_t reply_head_size,
      std::span<const MutableBuffer> reply_data) = 0;

  // Exchange() in two steps: Send() makes the request available to the
  // device and returns, Receive() waits for the reply and returns what
  // Exchange() would. Send() takes Exchange()'s arguments and errors; when it
  // succeeds, Receive() must follow, before End() and before the data buffers
  // are let go. A channel that cannot leave a request with the device (the
  // default) exchanges it in Send(), and Receive() returns the result.
  virtual base::Result<void> Send(FuseMessage& message,
                                  size_t request_head_size,
                                  std::span<const ConstBuffer> request_data,
                                  size_t reply_head_size,
                                  std::span<const MutableBuffer> reply_data) {
    base::Result<uint32_t> used = Exchange(
        message, request_head_size, request_data, reply_head_size, reply_data);
    message.sent_error = used.ok() ? 0 : used.error();
    message.sent_used = used.ok() ? used.value() : 0;
    return {};
  }
  virtual base::Result<uint32_t> Receive(FuseMessage& message) {
    if (message.sent_error != 0) return base::Error{message.sent_error};
    return message.sent_used;
  }

  // Sends a request whose reply nobody waits for, whole in the first
  // `request_head_size` bytes of the request head: FORGET and BATCH_FORGET,
  // which have none (`reply_head_size` 0), and an asynchronous RELEASE or
  // RELEASEDIR (FuseClient::PostRelease), whose reply the device writes
  // across the first `reply_head_size` bytes of the reply head. A channel may
  // return without waiting for the device to return its buffers, as Linux's
  // virtio-fs does (the request then costs the caller no round trip): it takes
  // the message back itself once the device is done with it (End() then does
  // nothing), counts the request in `*in_flight` (when given) until then, and
  // returns nullopt. By default it waits, as Exchange, and returns the used
  // length. Errors are Exchange's, with nothing sent.
  virtual base::Result<std::optional<uint32_t>> Post(
      FuseMessage& message, size_t request_head_size,
      size_t reply_head_size = 0, std::atomic<uint32_t>* in_flight = nullptr) {
    (void)in_flight;  // Waited for: never in flight after the call.
    base::Result<uint32_t> used =
        Exchange(message, request_head_size, {}, reply_head_size, {});
    if (!used.ok()) return base::Error{used.error()};
    return std::optional<uint32_t>(used.value());
  }
  // Returns once `*in_flight` is 0, the requests it counts (Post) returned by
  // the device; without it, once every request Post() left with the device
  // has been returned. By default none is left.
  virtual base::Result<void> WaitForPosted(
      const std::atomic<uint32_t>* in_flight = nullptr) {
    (void)in_flight;
    return {};
  }
  // Takes the head areas back, whether or not the message was exchanged.
  virtual void End(FuseMessage& message) = 0;

  // The largest data payload (READ reply data, WRITE request data) one
  // exchange can carry on top of the FUSE headers. The client splits larger
  // transfers to fit.
  virtual uint32_t MaxDataBytes() const { return UINT32_MAX; }
};

}  // namespace driver

#endif  // DRIVER_FUSE_CHANNEL_H_
