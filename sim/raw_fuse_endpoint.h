// FUSE requests in, reply bytes out, with no virtqueue: for tests and fuzzing.
// A thin wrapper over FuseServer presenting one readable and one writable
// buffer.
#ifndef SIM_RAW_FUSE_ENDPOINT_H_
#define SIM_RAW_FUSE_ENDPOINT_H_

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/fuse_server.h"
#include "sim/passthrough_fs.h"

namespace sim {

class RawFuseEndpoint {
 public:
  // Room for the largest reply (a max_write READ) plus its header.
  static constexpr size_t kDefaultReplyCapacity = (1u << 20) + 4096;

  // A server of `lanes` sessions (FuseServer::Create).
  static absl::StatusOr<std::unique_ptr<RawFuseEndpoint>> Create(
      const PassthroughOptions& options, uint16_t lanes = 1);

  // Sends `request` (any bytes) on `lane` and returns the reply,
  // `reply_capacity` bytes at most; empty when the device wrote nothing
  // (FORGET, or no header).
  std::vector<uint8_t> Transact(std::span<const uint8_t> request,
                                size_t reply_capacity = kDefaultReplyCapacity,
                                uint16_t lane = 0);

  FuseServer& server() { return *server_; }

 private:
  explicit RawFuseEndpoint(std::unique_ptr<FuseServer> server)
      : server_(std::move(server)) {}

  std::unique_ptr<FuseServer> server_;
};

}  // namespace sim

#endif  // SIM_RAW_FUSE_ENDPOINT_H_
