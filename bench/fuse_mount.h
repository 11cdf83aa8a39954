// bench::FuseMount: the share mounted through the kernel's FUSE transport and
// served by the project's own passthrough handlers (sim::PassthroughFs) in a
// libfuse multithreaded session loop of this process: the same handlers as the
// simulated device, with /dev/fuse instead of a virtqueue. This is what
// programs use today, and what the simulated machine is measured against.
//
// The mount is made with fuse_session_mount on a mount point the caller
// provides and removed by the destructor (fuse_session_unmount). A process
// killed by SIGINT/SIGTERM detaches its mounts in DetachAllFuseMounts.
#ifndef BENCH_FUSE_MOUNT_H_
#define BENCH_FUSE_MOUNT_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "sim/passthrough_fs.h"

struct fuse_session;

namespace bench {

class FuseMount {
 public:
  // Mounts `share_dir` on the directory `mount_point` with the given entry and
  // attribute validity (seconds) handed to the kernel. An UnavailableError
  // says /dev/fuse cannot be used here (and why); other errors are failures.
  static absl::StatusOr<std::unique_ptr<FuseMount>> Create(
      const std::string& share_dir, const std::string& mount_point,
      double entry_timeout, double attr_timeout);
  ~FuseMount();
  FuseMount(const FuseMount&) = delete;
  FuseMount& operator=(const FuseMount&) = delete;

  const std::string& mount_point() const { return mount_point_; }

 private:
  FuseMount(std::unique_ptr<sim::PassthroughFs> fs, fuse_session* session,
            std::string mount_point);

  std::unique_ptr<sim::PassthroughFs> fs_;
  fuse_session* session_;
  std::string mount_point_;
  std::thread loop_;
};

// Lazily unmounts every live FuseMount's mount point (async-signal-safe: for
// a signal handler, before _exit).
void DetachAllFuseMounts();

}  // namespace bench

#endif  // BENCH_FUSE_MOUNT_H_
