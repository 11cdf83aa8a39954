// sim::Machine: a whole simulated guest in one object. It brings up guest
// memory, the virtio-fs device on a host directory, the register model of the
// chosen transport, the driver (transport probe, virtqueues, FUSE session) and
// tears them down in order. Unless told otherwise (mount_vfs), it also boots
// the process's VFS (vfs::Boot) and mounts the share at "/<tag>", so that
// vfs:: calls act on it:
//
//   auto machine = sim::Machine::Create({.share_dir = "/srv/share"});
//   if (!machine.ok()) ...                       // a clear absl::Status
//   int fd = vfs::open("/root/a", O_RDONLY);     // the share's file "a"
//   (*machine)->client().Lookup(FUSE_ROOT_ID, "a");
//
// The VFS is one per process: with mount_vfs, only one machine may exist at a
// time, and Create fails (FailedPrecondition) when a VFS is already booted.
// Teardown shuts the VFS down first (its FORGETs and RELEASEs reach the
// device), then ends the FUSE session, then the driver and the device.
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
#include "sim/fuse_trace.h"
#include "sim/guest_memory.h"
#include "sim/sim_device.h"
#include "sim/sim_platform.h"
#include "sim/virtio_fs_device.h"
#include "vfs/fuse_fs.h"
#include "vfs/kernel.h"

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
  // Called for each FUSE request the device handles, as it saw it (request,
  // reply, latency). Set: the device is wrapped in a sim::TracingBackend.
  std::function<void(const FuseTraceEvent&)> on_fuse_request;
  // Boot the process's VFS and mount the share at "/<tag>" (see above).
  bool mount_vfs = true;
  // The share's name cache: names cached at most.
  size_t entry_cache_size = 4096;
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
  // The share's filesystem as mounted in the VFS (null without mount_vfs).
  vfs::FuseFs* share_fs() { return share_fs_.get(); }
  // Where the share is mounted: "/<tag>".
  std::string mount_point() const { return "/" + options_.tag; }

  // After the device set DEVICE_NEEDS_RESET: resets it and starts a new FUSE
  // session. Node ids and handles of the old session are stale afterwards. The
  // share stays mounted: paths resolve again in the new session, but files
  // and directories opened before (and a current directory inside the share)
  // are stale: their calls fail with ESTALE.
  absl::Status Recover();

 private:
  explicit Machine(const MachineOptions& options) : options_(options) {}
  absl::Status Boot();
  // vfs::Boot and the share's mount.
  absl::Status MountShare();

  MachineOptions options_;
  std::unique_ptr<GuestMemory> memory_;
  std::unique_ptr<SimPlatform> platform_;
  VirtioFsDevice* fs_device_ = nullptr;  // Owned by device_.
  std::unique_ptr<SimDevice> device_;
  std::unique_ptr<driver::VirtioFs> virtio_fs_;
  std::unique_ptr<driver::FuseClient> client_;
  vfs::RefPtr<vfs::FuseFs> share_fs_;
  vfs::Kernel* kernel_ = nullptr;  // The VFS this machine booted.
};

// "pci" / "mmio" and "inline" / "thread", for flags and messages.
absl::StatusOr<Transport> ParseTransport(const std::string& name);
absl::StatusOr<NotifyMode> ParseNotifyMode(const std::string& name);

}  // namespace sim

#endif  // SIM_MACHINE_H_
