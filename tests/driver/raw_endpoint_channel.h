// A FuseChannel straight into the real device's FUSE server (libfuse over the
// passthrough handlers), with no virtqueue: the client's request segments and
// reply buffers are handed to FuseServer::Process as they are, as a device
// would see them.
#ifndef TESTS_DRIVER_RAW_ENDPOINT_CHANNEL_H_
#define TESTS_DRIVER_RAW_ENDPOINT_CHANNEL_H_

#include <linux/fuse.h>

#include <atomic>
#include <cstring>
#include <vector>

#include "driver/fuse_channel.h"
#include "sim/device_backend.h"
#include "sim/raw_fuse_endpoint.h"
#include "tests/driver/heap_fuse_channel.h"

namespace driver_test {

class RawEndpointChannel : public HeapFuseChannel {
 public:
  explicit RawEndpointChannel(sim::RawFuseEndpoint& endpoint)
      : endpoint_(endpoint) {}

  base::Result<uint32_t> Transfer(
      driver::FuseLane lane, std::span<const driver::ConstBuffer> request,
      std::span<const driver::MutableBuffer> reply) override {
    std::vector<sim::GuestBuffer> readable;
    std::vector<sim::GuestBuffer> writable;
    for (const auto& segment : request) {
      // The server only reads device-readable buffers.
      readable.push_back(
          {static_cast<uint8_t*>(const_cast<void*>(segment.data)),
           static_cast<uint32_t>(segment.size)});
    }
    for (const auto& segment : reply) {
      writable.push_back({static_cast<uint8_t*>(segment.data),
                          static_cast<uint32_t>(segment.size)});
    }
    if (lane == driver::FuseLane::kHighPriority) high_priority_.fetch_add(1);
    return endpoint_.server().Process(readable, writable);
  }

  int high_priority_requests() const { return high_priority_.load(); }

 private:
  sim::RawFuseEndpoint& endpoint_;
  std::atomic<int> high_priority_{0};
};

}  // namespace driver_test

#endif  // TESTS_DRIVER_RAW_ENDPOINT_CHANNEL_H_
