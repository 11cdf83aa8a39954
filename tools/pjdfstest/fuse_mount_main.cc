// pjdfstest_fuse_mount: mounts a host directory through the host kernel's FUSE
// transport, served by the device's passthrough handlers, as a Linux virtiofs
// guest mounts its share (allow_other,default_permissions: the kernel checks
// permissions, the handlers create with the caller's ids), until SIGINT or
// SIGTERM. tools/pjdfstest/run.sh runs pjdfstest on it.
//
//   pjdfstest_fuse_mount SHARE_DIR MOUNT_POINT
#include <signal.h>
#include <stdio.h>

#include <memory>

#include "sim/kernel_fuse_mount.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s SHARE_DIR MOUNT_POINT\n", argv[0]);
    return 2;
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  // Blocked before the session's threads start, so that they inherit it and
  // only sigwait below takes the signal.
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  auto mount = sim::KernelFuseMount::Create(
      {.share_dir = argv[1],
       .mount_point = argv[2],
       .mount_options = "allow_other,default_permissions"});
  if (!mount.ok()) {
    fprintf(stderr, "pjdfstest_fuse_mount: %s\n",
            std::string(mount.status().message()).c_str());
    return 1;
  }
  printf("mounted %s on %s\n", argv[1], argv[2]);
  fflush(stdout);
  int signal_number;
  sigwait(&stop, &signal_number);
  return 0;  // The mount goes with `mount`.
}
