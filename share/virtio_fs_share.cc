#include "share/virtio_fs_share.h"

#include <new>
#include <utility>

#include "base/format.h"
#include "driver/mmio_transport.h"
#include "driver/pci_transport.h"

namespace share {

base::Result<std::unique_ptr<driver::Transport>> ProbeTransport(
    base::Platform& platform, base::RegisterIo& registers,
    base::TransportKind transport) {
  if (transport == base::TransportKind::kPci) {
    return std::unique_ptr<driver::Transport>(
        TRY(driver::PciTransport::Probe(platform, registers)));
  }
  return std::unique_ptr<driver::Transport>(
      TRY(driver::MmioTransport::Probe(platform, registers)));
}

const char* VirtioFsShare::StepName(Step step) {
  switch (step) {
    case Step::kProbe:
      return "transport probe";
    case Step::kDevice:
      return "virtio-fs bring-up";
    case Step::kSession:
      return "FUSE_INIT";
    case Step::kVfs:
      return "VFS boot";
    case Step::kMount:
      return "mount";
  }
  return "?";
}

base::Result<std::unique_ptr<VirtioFsShare>> VirtioFsShare::Start(
    base::Platform& platform, base::RegisterIo& registers,
    const ShareOptions& options, Step* failed) {
  std::unique_ptr<VirtioFsShare> share(new (std::nothrow)
                                           VirtioFsShare(platform));
  if (!share) return base::Error{ENOMEM};
  Step step = Step::kProbe;
  if (base::Result<void> started = share->StartSteps(registers, options, &step);
      !started.ok()) {
    base::Logf(platform, base::LogLevel::kError, "share: %s failed: error %d",
               StepName(step), started.error());
    if (failed != nullptr) *failed = step;
    return base::Error{started.error()};  // `share` takes down what was up.
  }
  return share;
}

base::Result<void> VirtioFsShare::StartSteps(base::RegisterIo& registers,
                                             const ShareOptions& options,
                                             Step* step) {
  *step = Step::kProbe;
  std::unique_ptr<driver::Transport> transport =
      TRY(ProbeTransport(platform_, registers, options.transport));
  *step = Step::kDevice;
  virtio_fs_ = TRY(driver::VirtioFs::Create(platform_, std::move(transport),
                                            options.queues));
  base::Format(mount_point_, sizeof(mount_point_), "/%s", virtio_fs_->tag());
  *step = Step::kSession;
  TRY(StartSession());
  if (!options.mount) return {};
  *step = Step::kVfs;
  kernel_ = TRY(vfs::Kernel::Boot(platform_));
  *step = Step::kMount;
  fs_ = vfs::FuseFs::Create(platform_, *client_, options.cache);
  vfs::Task& init = kernel_->init_task();
  TRY(kernel_->root()->node()->Mkdir(mount_point_ + 1, 0755));
  TRY(init.Mount(mount_point_, fs_->Root()));
  return {};
}

base::Result<void> VirtioFsShare::StartSession() {
  client_.reset(new (std::nothrow) driver::FuseClient(platform_, *virtio_fs_));
  if (!client_) return base::Error{ENOMEM};
  return client_->Init();
}

base::Result<void> VirtioFsShare::Remount() {
  if (!kernel_) return base::Error{EINVAL};
  vfs::Task& init = kernel_->init_task();
  base::Result<void> first = init.Unmount(mount_point_);
  if (!first.ok()) {
    // Close what was left open and leave the share, so that the next user
    // starts clean and is not blamed for it.
    kernel_->ResetTasks();
    TRY(init.Unmount(mount_point_));
  }
  TRY(init.Mount(mount_point_, fs_->Root()));
  return first;
}

base::Result<void> VirtioFsShare::Recover() {
  // The old session's node ids and handles die with the reset: the share's
  // nodes and open files go stale and nothing more is sent for them.
  if (fs_) fs_->Disconnect();
  TRY(virtio_fs_->Recover());
  TRY(StartSession());
  if (fs_) fs_->Connect(*client_);
  return {};
}

base::Result<void> VirtioFsShare::Stop() {
  base::Result<void> result;
  // The VFS first: its tasks' files and its nodes go while the session still
  // runs, so their RELEASEs and FORGETs reach the device.
  kernel_.reset();
  if (fs_) fs_->Disconnect();
  fs_.reset();
  if (client_ && client_->initialized()) result = client_->Destroy();
  client_.reset();
  virtio_fs_.reset();  // Resets the device, frees the queues.
  return result;
}

VirtioFsShare::~VirtioFsShare() { (void)Stop(); }

}  // namespace share
