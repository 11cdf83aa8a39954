// sim::KernelFuseMount: the share mounted through the host kernel's FUSE
// transport and served by the project's own passthrough handlers
// (sim::PassthroughFs) in a libfuse multithreaded session loop of this
// process: the same handlers as the simulated device, with /dev/fuse instead
// of a virtqueue. This is what programs use today, what the simulated machine
// is measured against (bench/), and, mounted as a virtiofs guest mounts
// (allow_other,default_permissions), a reference for pjdfstest.
//
// The mount is made with fuse_session_mount on a mount point the caller
// provides and removed by the destructor (fuse_session_unmount). A process
// that serves only itself keeps its mounts to itself (KeepMountsInThisProcess),
// so that they end with it however it ends, and has their connections aborted
// should it be killed in the middle of a request (StartFuseConnectionReaper);
// one that serves others detaches them on SIGINT/SIGTERM
// (DetachAllFuseMounts).
#ifndef SIM_KERNEL_FUSE_MOUNT_H_
#define SIM_KERNEL_FUSE_MOUNT_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "sim/passthrough_fs.h"

struct fuse_session;

namespace sim {

struct KernelFuseMountOptions {
  std::string share_dir;
  // An existing directory to mount on.
  std::string mount_point;
  // Entry and attribute validity handed to the kernel, in seconds.
  double entry_timeout = 1.0;
  double attr_timeout = 1.0;
  // More mount options for libfuse's -o (for example
  // "allow_other,default_permissions"); none when empty.
  std::string mount_options;
};

class KernelFuseMount {
 public:
  // Mounts as `options` say. An UnavailableError says /dev/fuse cannot be
  // used here (and why); other errors are failures.
  static absl::StatusOr<std::unique_ptr<KernelFuseMount>> Create(
      const KernelFuseMountOptions& options);
  ~KernelFuseMount();
  KernelFuseMount(const KernelFuseMount&) = delete;
  KernelFuseMount& operator=(const KernelFuseMount&) = delete;

  const std::string& mount_point() const { return mount_point_; }

 private:
  KernelFuseMount(std::unique_ptr<PassthroughFs> fs, fuse_session* session,
                  std::string mount_point);

  std::unique_ptr<PassthroughFs> fs_;
  fuse_session* session_;
  std::string mount_point_;
  std::thread loop_;
  dev_t device_ = 0;  // The mount's, once known; its connection's number.
};

// Moves the calling thread, and every thread it starts afterwards, into a
// mount namespace of its own whose mounts do not propagate back: a FUSE mount
// made there is seen by this process only and goes when the process goes,
// SIGKILL included. (A mount left by a killed server answers ENOTCONN to
// whoever walks past it: Bazel's sandbox setup fails on it.) Call before any
// other thread starts. Needs CAP_SYS_ADMIN; on an error the process is where
// it was.
absl::Status KeepMountsInThisProcess();

// Lazily unmounts every live KernelFuseMount's mount point (async-signal-safe:
// for a signal handler, before _exit).
void DetachAllFuseMounts();

}  // namespace sim

#endif  // SIM_KERNEL_FUSE_MOUNT_H_
