// FuseChannel: how one FUSE request reaches the device and its reply comes
// back.
//
// The FUSE client is written against this interface only, so it knows nothing
// of virtqueues: the virtio-fs glue implements it over the device's queues
// (bouncing or mapping the caller's buffers), and tests implement it with a
// scripted device.
//
// A channel moves bytes; it does not interpret them. Checking the reply (its
// length, `unique`, error and payload) is the client's job.
#ifndef DRIVER_FUSE_CHANNEL_H_
#define DRIVER_FUSE_CHANNEL_H_

#include <cstddef>
#include <cstdint>
#include <span>

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

class FuseChannel {
 public:
  virtual ~FuseChannel() = default;

  // Sends the request made of `request` (concatenated, starting with a
  // fuse_in_header) and waits for its reply, which the device writes across
  // `reply` in order. Returns the number of bytes the device reported writing
  // (the used length), unvalidated. Requests without a reply (FORGET,
  // BATCH_FORGET) pass an empty `reply` and complete with a used length of 0.
  // Errors are transport failures (the device is gone, broken or reset):
  // ENODEV, EIO, ENOMEM...
  //
  // Safe to call from several threads at once; each call waits only for its own
  // reply. The buffers must stay valid until the call returns.
  virtual base::Result<uint32_t> Exchange(
      FuseLane lane, std::span<const ConstBuffer> request,
      std::span<const MutableBuffer> reply) = 0;

  // The largest data payload (READ reply data, WRITE request data) one exchange
  // can carry on top of the FUSE headers. The client splits larger transfers to
  // fit.
  virtual uint32_t MaxDataBytes() const { return UINT32_MAX; }
};

}  // namespace driver

#endif  // DRIVER_FUSE_CHANNEL_H_
