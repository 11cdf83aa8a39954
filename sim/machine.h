// sim::Machine: a whole simulated guest in one object. It brings up guest
// memory, the virtio-fs device on a host directory, the register model of the
// chosen transport, the driver (transport probe, virtqueues, FUSE session) and
// tears them down in order.
//
//   auto machine = sim::Machine::Create({.share_dir = "/srv/share"});
//   if (!machine.ok()) ...                       // a clear absl::Status
//   (*machine)->client().Lookup(FUSE_ROOT_ID, "a");
//
// Nothing outside the share is touched; destroying the machine leaves the share
// as the driver's requests left it.
#ifndef SIM_MACHINE_H_
#define SIM_MACHINE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "driver/fuse_client.h"
#include "driver/virtio_fs.h"
#include "sim/guest_memory.h"
#include "sim/sim_device.h"
#include "sim/sim_platform.h"
#include "sim/virtio_fs_device.h"

namespace sim {

struct MachineOptions {
  // The host directory the device exports. Must exist.
  std::string share_dir;
  // The virtio-fs tag; the share is mounted at "/<tag>".
  std::string tag = "root";
  Transport transport = Transport::kPci;
  NotifyMode notify_mode = NotifyMode::kInline;
  uint16_t queue_size = 256;
  uint16_t request_queues = 1;
  // Entry and attribute validity the device hands out, in seconds (0: ask every
  // time).
  double entry_timeout = 1.0;
  double attr_timeout = 1.0;
  bool strict = true;
  uint64_t guest_memory_bytes = 256ull << 20;
  // Where the driver's log lines go; stderr when empty.
  SimPlatform::LogSink log_sink;
  // Called for each virtio rule the driver breaks (strict mode).
  std::function<void(const ViolationRecord&)> on_violation;
};

class Machine {
 public:
  static absl::StatusOr<std::unique_ptr<Machine>> Create(
      const MachineOptions& options);
  ~Machine();
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  const MachineOptions& options() const { return options_; }
  GuestMemory& memory() { return *memory_; }
  SimPlatform& platform() { return *platform_; }
  SimDevice& device() { return *device_; }
  VirtioFsDevice& fs_device() { return *fs_device_; }
  driver::VirtioFs& virtio_fs() { return *virtio_fs_; }
  driver::FuseClient& client() { return *client_; }

  // After the device set DEVICE_NEEDS_RESET: resets it and starts a new FUSE
  // session. Node ids and handles of the old session are stale afterwards.
  absl::Status Recover();

 private:
  explicit Machine(const MachineOptions& options) : options_(options) {}
  absl::Status Boot();

  MachineOptions options_;
  std::unique_ptr<GuestMemory> memory_;
  std::unique_ptr<SimPlatform> platform_;
  VirtioFsDevice* fs_device_ = nullptr;  // Owned by device_.
  std::unique_ptr<SimDevice> device_;
  std::unique_ptr<driver::VirtioFs> virtio_fs_;
  std::unique_ptr<driver::FuseClient> client_;
};

// "pci" / "mmio" and "inline" / "thread", for flags and messages.
absl::StatusOr<Transport> ParseTransport(const std::string& name);
absl::StatusOr<NotifyMode> ParseNotifyMode(const std::string& name);

}  // namespace sim

#endif  // SIM_MACHINE_H_
