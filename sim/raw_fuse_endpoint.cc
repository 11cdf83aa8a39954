#include "sim/raw_fuse_endpoint.h"

#include <utility>

namespace sim {

absl::StatusOr<std::unique_ptr<RawFuseEndpoint>> RawFuseEndpoint::Create(
    const PassthroughOptions& options, uint16_t lanes) {
  auto server = FuseServer::Create(options, lanes);
  if (!server.ok()) return server.status();
  return std::unique_ptr<RawFuseEndpoint>(
      new RawFuseEndpoint(*std::move(server)));
}

std::vector<uint8_t> RawFuseEndpoint::Transact(std::span<const uint8_t> request,
                                               size_t reply_capacity,
                                               uint16_t lane) {
  // A private copy: the server may be handed the same bytes a fuzzer keeps
  // mutating.
  std::vector<uint8_t> in(request.begin(), request.end());
  std::vector<uint8_t> out(reply_capacity);
  const GuestBuffer readable{in.data(), static_cast<uint32_t>(in.size())};
  const GuestBuffer writable{out.data(), static_cast<uint32_t>(out.size())};
  const uint32_t used =
      server_->Process(std::span<const GuestBuffer>(&readable, 1),
                       std::span<const GuestBuffer>(&writable, 1), lane);
  out.resize(used);
  return out;
}

}  // namespace sim
