// sim::Machine: a whole simulated guest in one object. It brings up guest
// memory, the virtio-fs device on a host directory and the register model of
// the chosen transport, then hands the platform and the registers to the one
// bring-up of a share (share::VirtioFsShare): the driver (transport probe,
// virtqueues, FUSE session) and, unless told otherwise (mount_vfs), a VFS
// kernel of the machine's own with the share mounted at "/<tag>". Destroying
// the machine takes it all down in the reverse order.
//
//   auto machine = sim::Machine::Create({.share_dir = "/srv/share"});
//   if (!machine.ok()) ...                       // a clear absl::Status
//   int fd = vfs::open("/root/a", O_RDONLY);     // the share's file "a"
//   (*machine)->client().Lookup(FUSE_ROOT_ID, "a");
//
// vfs:: calls act on the calling thread's task (vfs/task.h). The first
// machine with a VFS becomes the process's default task, so a program with one
// machine just calls vfs::; with several, a thread enters a machine's task:
//
//   vfs::TaskScope in_b(b->task());
//   vfs::open("/root/a", O_RDONLY);              // on machine b
//
// Several machines may run at once, also on the same host directory: each has
// its own guest memory, device, driver and VFS, as two guests on one share.
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
#include "base/platform.h"
#include "driver/fuse_client.h"
#include "driver/virtio_fs.h"
#include "share/virtio_fs_share.h"
#include "sim/fault_plan.h"
#include "sim/faulting_backend.h"
#include "sim/fuse_trace.h"
#include "sim/guest_memory.h"
#include "sim/request_times.h"
#include "sim/sim_device.h"
#include "sim/sim_platform.h"
#include "sim/virtio_fs_device.h"
#include "vfs/fuse_fs.h"
#include "vfs/kernel.h"

namespace sim {

enum class CompletionMode : uint8_t { kPoll, kInterrupt };

struct MachineOptions {
  // The host directory the device exports. Must exist.
  std::string share_dir;
  // The virtio-fs tag; the share is mounted at "/<tag>".
  std::string tag = "root";
  base::TransportKind transport = base::TransportKind::kPci;
  // The virtqueue format: the device offers packed rings, and the driver takes
  // them, only with kPacked.
  base::RingFormat ring = base::RingFormat::kSplit;
  NotifyMode notify_mode = NotifyMode::kInline;
  // How a waiting request learns that its chain came back: it polls the used
  // ring, or (kInterrupt) asks for a used-buffer interrupt and sleeps until
  // one is delivered, as a kernel does.
  CompletionMode completion = CompletionMode::kPoll;
  uint16_t queue_size = 256;
  uint16_t request_queues = 1;
  // Entry and attribute validity the device hands out, in seconds (0: ask every
  // time).
  double entry_timeout = 1.0;
  double attr_timeout = 1.0;
  // File data the driver may cache (PassthroughOptions::data_caching).
  DataCaching data_caching = DataCaching::kAuto;
  bool strict = true;
  uint64_t guest_memory_bytes = 256ull << 20;
  // Where the driver's log lines go; stderr when empty.
  SimPlatform::LogSink log_sink;
  // Called for each virtio rule the driver breaks (strict mode).
  std::function<void(const ViolationRecord&)> on_violation;
  // Called for each FUSE request the device handles, as it saw it (request,
  // reply, latency). Set: the device is wrapped in a sim::TracingBackend.
  std::function<void(const FuseTraceEvent&)> on_fuse_request;
  // Boot the machine's VFS and mount the share at "/<tag>" (see above).
  bool mount_vfs = true;
  // The mounted share's name cache and forget batching.
  vfs::FuseFsOptions fuse_fs;
  // What the device does wrong (sim/fault_plan.h); more rules can be added
  // while it runs (Machine::faults()).
  FaultPlan faults;
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
  // The fault plan in force and its held completions.
  FaultingBackend& faults() { return *faults_; }
  driver::VirtioFs& virtio_fs() { return share_->virtio_fs(); }
  driver::FuseClient& client() { return share_->client(); }
  // The machine's VFS and the share's filesystem in it (null without
  // mount_vfs).
  vfs::Kernel* kernel() { return share_->kernel(); }
  vfs::FuseFs* share_fs() { return share_->fs(); }
  // The machine's first task, the one to enter for vfs:: calls on it.
  vfs::Task& task() { return kernel()->init_task(); }
  // Where the share is mounted: "/<tag>".
  std::string mount_point() const { return share_->mount_point(); }

  // The requests timed so far by the driver and by the device.
  RequestTimes SampledRequestTimes();

  // After the device set DEVICE_NEEDS_RESET: resets it and starts a new FUSE
  // session (share::VirtioFsShare::Recover).
  absl::Status Recover();

 private:
  explicit Machine(const MachineOptions& options) : options_(options) {}
  absl::Status Boot();

  MachineOptions options_;
  std::unique_ptr<GuestMemory> memory_;
  std::unique_ptr<SimPlatform> platform_;
  VirtioFsDevice* fs_device_ = nullptr;  // Owned by device_.
  FaultingBackend* faults_ = nullptr;    // Owned by device_.
  std::unique_ptr<SimDevice> device_;
  std::unique_ptr<share::VirtioFsShare> share_;
};

// "pci" / "mmio", "split" / "packed", "poll" / "interrupt" and "inline" /
// "thread", for flags and messages.
absl::StatusOr<base::TransportKind> ParseTransport(const std::string& name);
absl::StatusOr<base::RingFormat> ParseRingFormat(const std::string& name);
absl::StatusOr<CompletionMode> ParseCompletionMode(const std::string& name);
absl::StatusOr<NotifyMode> ParseNotifyMode(const std::string& name);
// "auto", "always" or "never" (virtiofsd's cache= names).
absl::StatusOr<DataCaching> ParseDataCaching(const std::string& name);

}  // namespace sim

#endif  // SIM_MACHINE_H_
