#include "bench/backends.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "bench/share.h"

namespace bench {
namespace {

constexpr double kCachedSeconds = 1.0;

}  // namespace

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kHost:
      return "host";
    case Kind::kFuse:
      return "fuse";
    case Kind::kSimInline:
      return "sim-inline";
    case Kind::kSimThread:
      return "sim-thread";
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<Backends>> Backends::Create(
    const std::string& work_dir) {
  std::unique_ptr<Backends> backends(new Backends(work_dir));
  if (mkdir(backends->share_dir_.c_str(), 0755) != 0) {
    return absl::InternalError(absl::StrCat("mkdir ", backends->share_dir_,
                                            ": ", std::strerror(errno)));
  }
  if (absl::Status s = CreateShare(backends->share_dir_); !s.ok()) return s;
  return backends;
}

Backends::Backends(const std::string& work_dir)
    : work_dir_(work_dir), share_dir_(work_dir + "/share") {}

Backends::~Backends() {
  sim_.reset();
  for (int i = 0; i < 2; ++i) {
    fuse_[i].reset();
    fuse_mounts_[i].reset();
  }
}

absl::StatusOr<Backend*> Backends::Get(Kind kind,
                                       const BackendOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool caches = options.caches;
  const double timeout = caches ? kCachedSeconds : 0.0;
  // The host and FUSE rows run with no simulated machine up (see backends.h).
  if (kind == Kind::kHost || kind == Kind::kFuse) sim_.reset();
  switch (kind) {
    case Kind::kHost:
      if (!host_) {
        host_ = std::make_unique<HostBackend>("host", share_dir_,
                                              /*served_by_passthrough=*/false);
      }
      return host_.get();
    case Kind::kFuse: {
      const int i = caches ? 1 : 0;
      if (fuse_[i]) return fuse_[i].get();
      if (!fuse_failure_[i].ok()) return fuse_failure_[i];
      const std::string mount_point =
          absl::StrCat(work_dir_, "/mnt-", caches ? "cached" : "uncached");
      absl::StatusOr<std::unique_ptr<sim::KernelFuseMount>> mount;
      if (mkdir(mount_point.c_str(), 0755) != 0 && errno != EEXIST) {
        mount = absl::InternalError(
            absl::StrCat("mkdir ", mount_point, ": ", std::strerror(errno)));
      } else {
        mount = sim::KernelFuseMount::Create({.share_dir = share_dir_,
                                              .mount_point = mount_point,
                                              .entry_timeout = timeout,
                                              .attr_timeout = timeout});
      }
      if (!mount.ok()) {
        fuse_failure_[i] = mount.status();
        std::fprintf(stderr, "fsbench: fuse back end skipped: %s\n",
                     std::string(mount.status().message()).c_str());
        return fuse_failure_[i];
      }
      fuse_mounts_[i] = std::move(*mount);
      fuse_[i] = std::make_unique<HostBackend>("fuse", mount_point,
                                               /*served_by_passthrough=*/true);
      return fuse_[i].get();
    }
    case Kind::kSimInline:
    case Kind::kSimThread: {
      if (sim_ && sim_kind_ == kind && sim_options_.caches == caches &&
          sim_options_.ring == options.ring &&
          sim_options_.request_queues == options.request_queues &&
          sim_options_.data_caching == options.data_caching) {
        return sim_.get();
      }
      sim_.reset();  // One VFS per process: the old machine goes first.
      sim::MachineOptions machine;
      machine.share_dir = share_dir_;
      machine.ring = options.ring;
      machine.request_queues = options.request_queues;
      machine.notify_mode = kind == Kind::kSimInline ? sim::NotifyMode::kInline
                                                     : sim::NotifyMode::kThread;
      machine.entry_timeout = timeout;
      machine.attr_timeout = timeout;
      machine.data_caching = options.data_caching;
      // Room for every name of the benchmark tree (10 110 entries), as a
      // guest kernel's dentry cache would have: a smaller cache would measure
      // its own evictions. Not more: each cached node holds a descriptor in
      // the device (as in virtiofsd), and the process may open 20 000 here.
      machine.fuse_fs.max_cached_entries = 1 << 14;
      // The driver's bring-up lines would interleave with the results.
      machine.log_sink = [](base::LogLevel level, const char* message) {
        if (level >= base::LogLevel::kWarning)
          std::fprintf(stderr, "fsbench: driver: %s\n", message);
      };
      absl::StatusOr<std::unique_ptr<SimBackend>> sim =
          SimBackend::Create(KindName(kind), machine);
      if (!sim.ok()) return sim.status();
      sim_ = std::move(*sim);
      sim_kind_ = kind;
      sim_options_ = options;
      return sim_.get();
    }
  }
  return absl::InvalidArgumentError("unknown back end");
}

}  // namespace bench
