// share::VirtioFsShare: a virtio-fs device's share brought up and mounted, and
// taken down again, in one place for every machine that runs the driver: the
// simulation (sim::Machine) and the boot image under QEMU supply only the
// platform and the device's registers, so "the same code" covers the order of
// the steps too.
//
// Bring-up, each step on the one before:
//   1. probe the transport (PCI capabilities or virtio-mmio registers),
//   2. bring the virtio-fs device up (driver::VirtioFs),
//   3. start the FUSE session (FUSE_INIT),
//   4. with `mount`: boot a VFS kernel (vfs::Kernel) and mount the share
//      (vfs::FuseFs) at "/<tag>" in it.
// Teardown, the reverse: every task of the kernel exits (its files are
// closed: RELEASEs reach the device) and its mounts go (FORGETs), the session
// ends (FUSE_DESTROY), the device is reset and its queues freed.
//
// Kernel code: builds freestanding; reports through the platform's log.
#ifndef SHARE_VIRTIO_FS_SHARE_H_
#define SHARE_VIRTIO_FS_SHARE_H_

#include <cstdint>
#include <memory>

#include "base/platform.h"
#include "base/result.h"
#include "driver/fuse_client.h"
#include "driver/transport.h"
#include "driver/virtio_fs.h"
#include "vfs/fuse_fs.h"
#include "vfs/kernel.h"

namespace share {

struct ShareOptions {
  base::TransportKind transport = base::TransportKind::kPci;
  driver::VirtioFs::Options queues;
  // Boot a VFS kernel with the share mounted at "/<tag>" (step 4).
  bool mount = true;
  vfs::FuseFsOptions cache;
};

class VirtioFsShare {
 public:
  // The steps of Start, for reporting which one failed.
  enum class Step : uint8_t { kProbe, kDevice, kSession, kVfs, kMount };
  static const char* StepName(Step step);

  // Brings the share up (see above) on the device behind `registers`, which
  // must outlive it. On failure what was brought up is taken down again, the
  // failing step is logged and, when `failed` is given, stored there.
  static base::Result<std::unique_ptr<VirtioFsShare>> Start(
      base::Platform& platform, base::RegisterIo& registers,
      const ShareOptions& options, Step* failed = nullptr);
  // Stop().
  ~VirtioFsShare();
  VirtioFsShare(const VirtioFsShare&) = delete;
  VirtioFsShare& operator=(const VirtioFsShare&) = delete;

  driver::VirtioFs& virtio_fs() { return *virtio_fs_; }
  driver::FuseClient& client() { return *client_; }
  // Null without `mount`, and after Stop().
  vfs::Kernel* kernel() { return kernel_.get(); }
  vfs::FuseFs* fs() { return fs_.get(); }
  // "/<tag>".
  const char* mount_point() const { return mount_point_; }

  // Unmounts the share and mounts it again. EBUSY when something was still
  // open or current on it: then every task's files are closed, every task
  // returns to "/", and the share is mounted again all the same.
  base::Result<void> Remount();

  // After the device set DEVICE_NEEDS_RESET: resets it and starts a new FUSE
  // session. The share stays mounted: paths resolve again in the new session,
  // but what was opened before (and a current directory inside the share) is
  // stale: its calls fail with ESTALE.
  base::Result<void> Recover();

  // Takes it all down (see above); later calls do nothing. The first error met
  // (FUSE_DESTROY's), though every step runs.
  base::Result<void> Stop();

 private:
  VirtioFsShare(base::Platform& platform) : platform_(platform) {}
  base::Result<void> StartSteps(base::RegisterIo& registers,
                                const ShareOptions& options, Step* step);
  // A new client for the device, with its session started.
  base::Result<void> StartSession();

  base::Platform& platform_;
  std::unique_ptr<driver::VirtioFs> virtio_fs_;
  std::unique_ptr<driver::FuseClient> client_;
  std::unique_ptr<vfs::Kernel> kernel_;
  vfs::RefPtr<vfs::FuseFs> fs_;
  char mount_point_[40] = {};
};

// Step 1 alone: the transport of the virtio device behind `registers` (also
// for reading a device's identity without bringing it up).
base::Result<std::unique_ptr<driver::Transport>> ProbeTransport(
    base::Platform& platform, base::RegisterIo& registers,
    base::TransportKind transport);

}  // namespace share

#endif  // SHARE_VIRTIO_FS_SHARE_H_
