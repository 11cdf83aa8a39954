#include "boot/share_session.h"

#include <cerrno>
#include <utility>

#include "boot/serial_console.h"
#include "driver/mmio_transport.h"
#include "driver/pci_transport.h"
#include "driver/transport.h"
#include "vfs/kernel.h"
#include "vfs/posix.h"

namespace boot {
namespace {

base::Result<std::unique_ptr<driver::Transport>> Probe(base::Platform& platform,
                                                       VirtioFsDevice& device) {
  if (device.bus == VirtioFsDevice::Bus::kPci) {
    return std::unique_ptr<driver::Transport>(
        TRY(driver::PciTransport::Probe(platform, *device.io)));
  }
  return std::unique_ptr<driver::Transport>(
      TRY(driver::MmioTransport::Probe(platform, *device.io)));
}

void ReportFailure(const char* step, int error) {
  SerialPrintf("share: FAIL %s: error %d\n", step, error);
}

}  // namespace

std::unique_ptr<ShareSession> ShareSession::Start(base::Platform& platform,
                                                  VirtioFsDevice& device,
                                                  const char* mount_point) {
  std::unique_ptr<ShareSession> session(
      new ShareSession(platform, mount_point));
  auto transport = Probe(platform, device);
  if (!transport.ok()) {
    ReportFailure("transport probe", transport.error());
    return nullptr;
  }
  auto fs =
      driver::VirtioFs::Create(platform, std::move(transport).value(), {});
  if (!fs.ok()) {
    ReportFailure("VirtioFs::Create", fs.error());
    return nullptr;
  }
  session->virtio_fs_ = std::move(fs).value();
  SerialPrintf(
      "share: device up, tag \"%s\", %u request queue(s), features 0x%llx\n",
      session->virtio_fs_->tag(), session->virtio_fs_->request_queues(),
      static_cast<unsigned long long>(
          session->virtio_fs_->device().features()));

  session->client_ =
      std::make_unique<driver::FuseClient>(platform, *session->virtio_fs_);
  if (auto init = session->client_->Init(); !init.ok()) {
    ReportFailure("FUSE_INIT", init.error());
    return nullptr;
  }
  const driver::Negotiated& negotiated = session->client_->negotiated();
  SerialPrintf("share: FUSE 7.%u, max_read %u, max_write %u, max_pages %u\n",
               negotiated.minor, negotiated.max_read, negotiated.max_write,
               negotiated.max_pages);

  if (auto booted = vfs::Boot(platform); !booted.ok()) {
    ReportFailure("vfs::Boot", booted.error());
    return nullptr;
  }
  session->vfs_booted_ = true;
  session->fs_ = vfs::FuseFs::Create(platform, *session->client_);
  if (int r = vfs::mkdir(mount_point, 0755); r < 0) {
    ReportFailure("mkdir of the mount point", -r);
    return nullptr;
  }
  if (int r = vfs::mount(mount_point, session->fs_->Root()); r < 0) {
    ReportFailure("mount", -r);
    return nullptr;
  }
  session->mounted_ = true;
  SerialPrintf("share: mounted at %s\n", mount_point);
  return session;
}

int ShareSession::Remount() {
  if (!mounted_) return -EINVAL;
  int result = vfs::umount(mount_point_);
  if (result < 0) {
    // Close what was left open, so that the next scenario starts clean and
    // is not blamed for it.
    vfs::CurrentKernel()->files().CloseAll();
    if (int r = vfs::umount(mount_point_); r < 0) return r;
  }
  mounted_ = false;
  if (int r = vfs::mount(mount_point_, fs_->Root()); r < 0) return r;
  mounted_ = true;
  return result;
}

bool ShareSession::Stop() {
  bool ok = true;
  if (mounted_) {
    if (int r = vfs::umount(mount_point_); r < 0) {
      ReportFailure("umount", -r);
      ok = false;
    }
    mounted_ = false;
  }
  if (vfs_booted_) vfs::Shutdown();
  vfs_booted_ = false;
  if (fs_) fs_->Disconnect();
  fs_.reset();
  if (client_ && client_->initialized()) {
    if (auto destroyed = client_->Destroy(); !destroyed.ok()) {
      ReportFailure("FUSE_DESTROY", destroyed.error());
      ok = false;
    }
  }
  client_.reset();
  virtio_fs_.reset();  // Resets the device, frees the queues.
  return ok;
}

ShareSession::~ShareSession() { Stop(); }

}  // namespace boot
