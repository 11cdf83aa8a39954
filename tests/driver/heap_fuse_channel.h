// A FuseChannel for tests that stand in for the device without DMA memory: a
// message's heads are heap buffers, and an exchange hands the request and the
// reply space to Transfer() as plain segments, each head first.
#ifndef TESTS_DRIVER_HEAP_FUSE_CHANNEL_H_
#define TESTS_DRIVER_HEAP_FUSE_CHANNEL_H_

#include <cstdint>
#include <span>
#include <vector>

#include "driver/fuse_channel.h"

namespace driver_test {

class HeapFuseChannel : public driver::FuseChannel {
 public:
  base::Result<void> Begin(driver::FuseLane lane,
                           driver::FuseMessage& message) override {
    auto* heads = new Heads;
    heads->lane = lane;
    message.request_head = heads->request;
    message.reply_head = heads->reply;
    message.channel_state = heads;
    return {};
  }

  base::Result<uint32_t> Exchange(
      driver::FuseMessage& message, size_t request_head_size,
      std::span<const driver::ConstBuffer> request_data, size_t reply_head_size,
      std::span<const driver::MutableBuffer> reply_data) override {
    auto* heads = static_cast<Heads*>(message.channel_state);
    std::vector<driver::ConstBuffer> request = {
        {heads->request, request_head_size}};
    request.insert(request.end(), request_data.begin(), request_data.end());
    std::vector<driver::MutableBuffer> reply;
    if (reply_head_size != 0) reply.push_back({heads->reply, reply_head_size});
    reply.insert(reply.end(), reply_data.begin(), reply_data.end());
    return Transfer(heads->lane, request, reply);
  }

  void End(driver::FuseMessage& message) override {
    delete static_cast<Heads*>(message.channel_state);
    message = driver::FuseMessage{};
  }

  // Sends `request` (concatenated, starting with a fuse_in_header) and writes
  // the reply across `reply`; returns the used length.
  virtual base::Result<uint32_t> Transfer(
      driver::FuseLane lane, std::span<const driver::ConstBuffer> request,
      std::span<const driver::MutableBuffer> reply) = 0;

 private:
  struct Heads {
    driver::FuseLane lane;
    alignas(8) uint8_t request[kRequestHeadCapacity];
    alignas(8) uint8_t reply[kReplyHeadCapacity];
  };
};

}  // namespace driver_test

#endif  // TESTS_DRIVER_HEAP_FUSE_CHANNEL_H_
