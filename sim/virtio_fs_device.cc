#include "sim/virtio_fs_device.h"

#include <linux/fuse.h>
#include <linux/virtio_ids.h>

#include <cstring>
#include <span>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "sim/chain_io.h"

namespace sim {

absl::StatusOr<std::unique_ptr<VirtioFsDevice>> VirtioFsDevice::Create(
    const VirtioFsOptions& options) {
  if (options.tag.empty() ||
      options.tag.size() > sizeof(virtio_fs_config::tag)) {
    return absl::InvalidArgumentError(
        absl::StrCat("virtio-fs tag must be 1 to ",
                     sizeof(virtio_fs_config::tag), " bytes"));
  }
  if (options.num_request_queues < 1 ||
      options.num_request_queues > kMaxRequestQueues) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_request_queues must be 1 to ", kMaxRequestQueues));
  }
  // A session per virtqueue (hiprio and each request queue).
  auto server = FuseServer::Create(
      options.share, static_cast<uint16_t>(1 + options.num_request_queues));
  if (!server.ok()) return server.status();
  return std::unique_ptr<VirtioFsDevice>(
      new VirtioFsDevice(options, *std::move(server)));
}

VirtioFsDevice::VirtioFsDevice(const VirtioFsOptions& options,
                               std::unique_ptr<FuseServer> server)
    : server_(std::move(server)) {
  memset(&config_, 0, sizeof(config_));
  memcpy(config_.tag, options.tag.data(), options.tag.size());
  config_.num_request_queues =
      options.num_request_queues;  // little-endian host
}

uint32_t VirtioFsDevice::device_id() const { return VIRTIO_ID_FS; }

uint16_t VirtioFsDevice::num_queues() const {
  return static_cast<uint16_t>(1 + config_.num_request_queues);
}

void VirtioFsDevice::ReadConfig(uint32_t offset, void* out,
                                uint32_t length) const {
  // The model has checked offset + length against config_size().
  memcpy(out, reinterpret_cast<const uint8_t*>(&config_) + offset, length);
}

void VirtioFsDevice::Activate(uint64_t /*negotiated_features*/,
                              ChainCompleter& /*completer*/) {
  // Chains are completed synchronously by HandleChain; nothing is deferred.
}

void VirtioFsDevice::Reset() { server_->Reset().IgnoreError(); }

std::optional<uint32_t> VirtioFsDevice::HandleChain(
    const DescriptorChain& chain) {
  return server_->Process(std::span<const GuestBuffer>(chain.readable),
                          std::span<const GuestBuffer>(chain.writable),
                          chain.queue);
}

bool VirtioFsDevice::MayHandleLater(const DescriptorChain& chain) const {
  fuse_in_header header;
  // A hint only: HandleChain reads the request again.
  if (chain.queue == kHiprioQueue ||
      !ChainReader(chain.readable).Read(&header, sizeof(header))) {
    return false;
  }
  // Not a RELEASEDIR, though posted too: it ends a listing, and where another
  // listing follows, its OPENDIR would overtake the held RELEASEDIR and its
  // READDIR, sent at once behind, wait for the RELEASEDIR's work (list 10
  // entries, sim-thread: 14.3 us held, 13.2 not; find and list 1,000 entries
  // alike either way).
  return header.opcode == FUSE_RELEASE;
}

void VirtioFsDevice::Idle() { server_->fs().FlushDeferredCloses(); }

}  // namespace sim
