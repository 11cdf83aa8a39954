// One FUSE session over the real device through the unmodified driver stack
// (driver::VirtioFs over the probed transport, driver::FuseClient): INIT, read
// the seed file the runner put in the share, write a file and read it back. The
// written file is announced to the runner with a "HOST-EXPECT file PATH SIZE"
// line, which it checks on the host after QEMU exits (boot/run_qemu.sh).
//
// This exercises queues, descriptor chains and FUSE over vhost-user before the
// VFS is mounted on the device; the conformance scenarios then cover the VFS on
// top.
#ifndef BOOT_FUSE_SESSION_CHECK_H_
#define BOOT_FUSE_SESSION_CHECK_H_

#include "boot/virtio_fs_device.h"
#include "driver/platform.h"

namespace boot {

// What the runner seeds the share with (boot/run_qemu.sh).
inline constexpr char kSeedDirectory[] = "seed";
inline constexpr char kSeedFile[] = "hello.txt";
inline constexpr char kSeedContent[] = "hello from the host\n";
// What this check leaves in the share.
inline constexpr char kGuestFile[] = "written-by-guest.txt";
inline constexpr unsigned kGuestFileSize =
    3 * 4096 + 123;  // Several pages, odd tail.

// Prints each step; false at the first that fails.
bool RunFuseSessionCheck(driver::Platform& platform, VirtioFsDevice& device);

}  // namespace boot

#endif  // BOOT_FUSE_SESSION_CHECK_H_
