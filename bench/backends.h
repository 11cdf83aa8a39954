// bench::Backends: the four back ends over one share, brought up on first use
// and torn down at the end of the run.
//
//   host        the host's own system calls on the share (the limit)
//   fuse        a kernel FUSE mount of the share, served by sim::PassthroughFs
//   sim-inline  sim::Machine, the device processing each request in the
//               driver's notify
//   sim-thread  sim::Machine, the device processing requests on its own thread
//
// BackendOptions::caches chooses the entry/attribute validity the file system
// hands out: 1 s (on) or 0 (off: every lookup goes to the server). The host has
// no such switch; it answers from its own caches either way. There is one VFS
// per process, so bringing up a simulated machine with other options tears
// down the one before it; both FUSE mounts (caches on and off) may live at
// once. The host and FUSE back ends tear a simulated machine down too: its
// device holds a descriptor per inode the guest knows, as the FUSE server does
// per inode the kernel knows, and on the tree rows the two together would pass
// the open-file limit (20 000 on the machine this was written on).
#ifndef BENCH_BACKENDS_H_
#define BENCH_BACKENDS_H_

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "base/platform.h"
#include "bench/backend.h"
#include "bench/host_backend.h"
#include "bench/sim_backend.h"
#include "sim/kernel_fuse_mount.h"
#include "sim/passthrough_fs.h"

namespace bench {

enum class Kind { kHost, kFuse, kSimInline, kSimThread };
inline constexpr Kind kAllKinds[] = {Kind::kHost, Kind::kFuse, Kind::kSimInline,
                                     Kind::kSimThread};
const char* KindName(Kind kind);

struct BackendOptions {
  bool caches = true;
  // The simulated machines' virtqueue format and request queues (the driver
  // spreads requests over them round-robin); the other back ends ignore them.
  base::RingFormat ring = base::RingFormat::kSplit;
  uint16_t request_queues = 1;
  // What the simulated device lets the driver keep (virtiofsd's cache=).
  sim::DataCaching data_caching = sim::DataCaching::kAuto;
};

class Backends {
 public:
  // Creates `work_dir`/share with the benchmark files; mount points go beside
  // it.
  static absl::StatusOr<std::unique_ptr<Backends>> Create(
      const std::string& work_dir);
  ~Backends();

  // The back end, brought up on first use. An UnavailableError means it cannot
  // run on this machine (the FUSE mount without a usable /dev/fuse), and why.
  absl::StatusOr<Backend*> Get(Kind kind, const BackendOptions& options = {});

  const std::string& share_dir() const { return share_dir_; }

 private:
  explicit Backends(const std::string& work_dir);

  const std::string work_dir_;
  const std::string share_dir_;
  std::mutex mu_;
  std::unique_ptr<HostBackend> host_;
  // Index: caches on (1) or off (0).
  std::unique_ptr<sim::KernelFuseMount> fuse_mounts_[2];
  std::unique_ptr<HostBackend> fuse_[2];
  absl::Status fuse_failure_[2];
  std::unique_ptr<SimBackend> sim_;
  Kind sim_kind_ = Kind::kSimInline;
  BackendOptions sim_options_;
};

}  // namespace bench

#endif  // BENCH_BACKENDS_H_
