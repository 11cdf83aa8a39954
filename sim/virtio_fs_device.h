// The virtio-fs device type (VIRTIO_ID_FS): queue 0 is the high-priority queue
// (FORGET, BATCH_FORGET, INTERRUPT), queues 1..num_request_queues carry
// ordinary requests. Every chain is one FUSE request handed to
// FuseServer::Process and completed at once with the bytes written as its used
// length. A device reset tears the FUSE session down; the next FUSE_INIT starts
// a new one and node ids of the old session are stale.
#ifndef SIM_VIRTIO_FS_DEVICE_H_
#define SIM_VIRTIO_FS_DEVICE_H_

#include <linux/virtio_fs.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "sim/device_backend.h"
#include "sim/fuse_server.h"
#include "sim/passthrough_fs.h"

namespace sim {

struct VirtioFsOptions {
  // The host directory served and how (validity, data caching).
  PassthroughOptions share;
  // Mount tag in the config space: 1 to 36 bytes.
  std::string tag = "simfs";
  // Request queues after the high-priority queue: 1 to kMaxRequestQueues.
  uint32_t num_request_queues = 1;
};

class VirtioFsDevice : public DeviceBackend {
 public:
  static constexpr uint16_t kHiprioQueue = 0;
  static constexpr uint32_t kMaxRequestQueues = 64;

  static absl::StatusOr<std::unique_ptr<VirtioFsDevice>> Create(
      const VirtioFsOptions& options);

  uint32_t device_id() const override;
  uint64_t device_features() const override { return 0; }
  uint16_t num_queues() const override;
  // The high-priority queue carries only FORGETs (and INTERRUPTs): its
  // requests ride on the first request queue's device thread, so that a
  // FORGET does not leave a third thread polling on a two-CPU machine.
  uint16_t ThreadQueue(uint16_t queue) const override {
    return queue == 0 ? 1 : queue;
  }
  uint32_t config_size() const override { return sizeof(virtio_fs_config); }
  void ReadConfig(uint32_t offset, void* out, uint32_t length) const override;
  void Activate(uint64_t negotiated_features,
                ChainCompleter& completer) override;
  void Reset() override;
  std::optional<uint32_t> HandleChain(const DescriptorChain& chain) override;
  // RELEASE: Linux's FUSE, like this project's driver, sends it without
  // waiting (and virtiofsd's thread pool completes requests in any order
  // anyway).
  bool MayHandleLater(const DescriptorChain& chain) const override;
  void Idle() override;

  // Requests of `opcode` the device has processed (see
  // FuseServer::requests_processed).
  uint64_t requests_processed(uint32_t opcode) const {
    return server_->requests_processed(opcode);
  }
  FuseServer& server() { return *server_; }

 private:
  VirtioFsDevice(const VirtioFsOptions& options,
                 std::unique_ptr<FuseServer> server);

  virtio_fs_config config_;
  std::unique_ptr<FuseServer> server_;
};

}  // namespace sim

#endif  // SIM_VIRTIO_FS_DEVICE_H_
