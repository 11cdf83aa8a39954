// The device's share mounted in the image's VFS, exactly as sim::Machine
// mounts the simulated one for the hosted suite: the unmodified driver
// (transport probe, driver::VirtioFs, driver::FuseClient with FUSE_INIT), the
// VFS (vfs::Boot), and vfs::FuseFs mounted at "/<tag>". The conformance
// scenarios then act on it through vfs/posix.h.
#ifndef BOOT_SHARE_SESSION_H_
#define BOOT_SHARE_SESSION_H_

#include <memory>

#include "base/platform.h"
#include "boot/virtio_fs_device.h"
#include "driver/fuse_client.h"
#include "driver/virtio_fs.h"
#include "vfs/fuse_fs.h"

namespace boot {

class ShareSession {
 public:
  // Brings the share up and mounts it at `mount_point` (a directory it makes
  // in the VFS root); prints each step. Null when a step fails.
  static std::unique_ptr<ShareSession> Start(base::Platform& platform,
                                             VirtioFsDevice& device,
                                             const char* mount_point);
  ~ShareSession();
  ShareSession(const ShareSession&) = delete;
  ShareSession& operator=(const ShareSession&) = delete;

  const char* mount_point() const { return mount_point_; }
  base::Platform& platform() const { return platform_; }

  // Unmounts the share and mounts it again: 0, or the negative errno of the
  // first unmount (-EBUSY while a file or directory on it is open; every
  // descriptor is then closed and the unmount tried again). What the hosted
  // suite checks after each scenario with vfs::umount.
  int Remount();

  // Ends it all in the order sim::Machine does: unmount, VFS shutdown (its
  // RELEASEs and FORGETs still reach the device), FUSE_DESTROY, driver reset.
  // False when the unmount or DESTROY fails.
  bool Stop();

 private:
  ShareSession(base::Platform& platform, const char* mount_point)
      : platform_(platform), mount_point_(mount_point) {}

  base::Platform& platform_;
  const char* mount_point_;
  std::unique_ptr<driver::VirtioFs> virtio_fs_;
  std::unique_ptr<driver::FuseClient> client_;
  vfs::RefPtr<vfs::FuseFs> fs_;
  bool vfs_booted_ = false;
  bool mounted_ = false;
};

}  // namespace boot

#endif  // BOOT_SHARE_SESSION_H_
