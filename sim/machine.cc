#include "sim/machine.h"

#include <sys/stat.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "driver/mmio_transport.h"
#include "driver/pci_transport.h"
#include "sim/tracing_backend.h"
#include "vfs/posix.h"

namespace sim {
namespace {

absl::Status DriverError(const char* step, int error) {
  return absl::UnavailableError(absl::StrCat(step, ": ", std::strerror(error)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Machine>> Machine::Create(
    const MachineOptions& options) {
  std::unique_ptr<Machine> machine(new Machine(options));
  absl::Status booted = machine->Boot();
  if (!booted.ok()) return booted;
  return machine;
}

absl::Status Machine::Boot() {
  struct stat st;
  if (::stat(options_.share_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "share directory ", options_.share_dir, " is not a directory"));
  }
  memory_ = GuestMemory::Create(options_.guest_memory_bytes);
  if (!memory_) return absl::ResourceExhaustedError("cannot map guest memory");
  platform_ = std::make_unique<SimPlatform>(*memory_, options_.log_sink);

  VirtioFsOptions fs_options;
  fs_options.share_dir = options_.share_dir;
  fs_options.tag = options_.tag;
  fs_options.num_request_queues = options_.request_queues;
  fs_options.entry_timeout = options_.entry_timeout;
  fs_options.attr_timeout = options_.attr_timeout;
  absl::StatusOr<std::unique_ptr<VirtioFsDevice>> backend =
      VirtioFsDevice::Create(fs_options);
  if (!backend.ok()) return backend.status();
  fs_device_ = backend->get();
  std::unique_ptr<DeviceBackend> device_backend = std::move(*backend);
  if (options_.on_fuse_request) {
    device_backend = std::make_unique<TracingBackend>(std::move(device_backend),
                                                      options_.on_fuse_request);
  }
  device_ = MakeDevice(*memory_, std::move(device_backend),
                       {.transport = options_.transport,
                        .notify_mode = options_.notify_mode,
                        .strict = options_.strict,
                        .on_violation = options_.on_violation});

  std::unique_ptr<driver::Transport> transport;
  if (options_.transport == Transport::kPci) {
    auto probed = driver::PciTransport::Probe(*platform_, *device_);
    if (!probed.ok()) return DriverError("PCI probe", probed.error());
    transport = std::move(probed).value();
  } else {
    auto probed = driver::MmioTransport::Probe(*platform_, *device_);
    if (!probed.ok()) return DriverError("virtio-mmio probe", probed.error());
    transport = std::move(probed).value();
  }
  auto fs =
      driver::VirtioFs::Create(*platform_, std::move(transport),
                               {.queue_size = options_.queue_size,
                                .max_request_queues = options_.request_queues});
  if (!fs.ok()) return DriverError("virtio-fs bring-up", fs.error());
  virtio_fs_ = std::move(fs).value();

  client_ = std::make_unique<driver::FuseClient>(*platform_, *virtio_fs_);
  base::Result<void> init = client_->Init();
  if (!init.ok()) return DriverError("FUSE_INIT", init.error());
  if (options_.mount_vfs) return MountShare();
  return absl::OkStatus();
}

absl::Status Machine::MountShare() {
  if (vfs::CurrentKernel() != nullptr) {
    return absl::FailedPreconditionError(
        "a VFS is already booted in this process (one per process): destroy "
        "the other machine or vfs::Shutdown() first, or set mount_vfs = false");
  }
  base::Result<void> booted = vfs::Boot(*platform_);
  if (!booted.ok()) return DriverError("VFS boot", booted.error());
  kernel_ = vfs::CurrentKernel();
  share_fs_ = vfs::FuseFs::Create(
      *platform_, *client_, {.max_cached_entries = options_.entry_cache_size});
  const std::string where = mount_point();
  if (int r = vfs::mkdir(where.c_str(), 0755); r < 0) {
    return DriverError(absl::StrCat("mkdir ", where).c_str(), -r);
  }
  if (int r = vfs::mount(where.c_str(), share_fs_->Root()); r < 0) {
    return DriverError(absl::StrCat("mount ", where).c_str(), -r);
  }
  return absl::OkStatus();
}

Machine::~Machine() {
  // The VFS first: closing its files and dropping its nodes sends RELEASEs and
  // FORGETs while the session still runs.
  if (kernel_ && vfs::CurrentKernel() == kernel_) vfs::Shutdown();
  kernel_ = nullptr;
  if (share_fs_) share_fs_->Disconnect();
  share_fs_.reset();
  // Top down: the session, then the driver (which resets the device), then the
  // device.
  if (client_ && client_->initialized()) (void)client_->Destroy();
  client_.reset();
  virtio_fs_.reset();
  device_.reset();
  platform_.reset();
  memory_.reset();
}

absl::Status Machine::Recover() {
  // The old session's node ids and handles die with the reset: the share's
  // nodes and open files go stale and nothing more is sent for them.
  if (share_fs_) share_fs_->Disconnect();
  base::Result<void> reset = virtio_fs_->Recover();
  if (!reset.ok()) return DriverError("device reset", reset.error());
  client_ = std::make_unique<driver::FuseClient>(*platform_, *virtio_fs_);
  base::Result<void> init = client_->Init();
  if (!init.ok()) return DriverError("FUSE_INIT after reset", init.error());
  if (share_fs_) share_fs_->Connect(*client_);
  return absl::OkStatus();
}

absl::StatusOr<Transport> ParseTransport(const std::string& name) {
  if (name == "pci") return Transport::kPci;
  if (name == "mmio") return Transport::kMmio;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown transport '", name, "' (pci or mmio)"));
}

absl::StatusOr<NotifyMode> ParseNotifyMode(const std::string& name) {
  if (name == "inline") return NotifyMode::kInline;
  if (name == "thread") return NotifyMode::kThread;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown notify mode '", name, "' (inline or thread)"));
}

}  // namespace sim
