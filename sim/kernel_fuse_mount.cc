#include "sim/kernel_fuse_mount.h"

#include <fcntl.h>
#include <fuse3/fuse_lowlevel.h>
#include <limits.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "sim/fuse_connection_reaper.h"

namespace sim {
namespace {

// Mount points a signal handler may have to detach: fixed storage, since a
// handler can neither allocate nor lock.
constexpr int kMaxMounts = 8;
std::array<char[PATH_MAX], kMaxMounts> live_mount_points;
std::array<std::atomic<bool>, kMaxMounts> live_mount_used{};

void RememberMount(const std::string& path) {
  for (int i = 0; i < kMaxMounts; ++i) {
    bool expected = false;
    if (live_mount_used[i].compare_exchange_strong(expected, true)) {
      std::strncpy(live_mount_points[i], path.c_str(), PATH_MAX - 1);
      live_mount_points[i][PATH_MAX - 1] = '\0';
      return;
    }
  }
}

void ForgetMount(const std::string& path) {
  for (int i = 0; i < kMaxMounts; ++i) {
    if (live_mount_used[i].load() && path == live_mount_points[i]) {
      live_mount_used[i].store(false);
      return;
    }
  }
}

}  // namespace

absl::Status KeepMountsInThisProcess() {
  const int before = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  if (before < 0) return absl::ErrnoToStatus(errno, "open /proc/self/ns/mnt");
  absl::Status status;
  if (unshare(CLONE_NEWNS) != 0) {
    status = absl::ErrnoToStatus(errno, "unshare(CLONE_NEWNS)");
  } else if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    // The copy shares propagation with the mounts it copied (systemd makes /
    // shared), so a mount made here would appear outside as well: back to
    // where the process was.
    status = absl::ErrnoToStatus(errno, "mount --make-rprivate /");
    setns(before, CLONE_NEWNS);
  }
  close(before);
  return status;
}

void DetachAllFuseMounts() {
  for (int i = 0; i < kMaxMounts; ++i) {
    if (live_mount_used[i].load()) umount2(live_mount_points[i], MNT_DETACH);
  }
}

absl::StatusOr<std::unique_ptr<KernelFuseMount>> KernelFuseMount::Create(
    const KernelFuseMountOptions& options) {
  const std::string& mount_point = options.mount_point;
  const int probe = open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (probe < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot open /dev/fuse: ", std::strerror(errno)));
  }
  close(probe);

  PassthroughOptions passthrough;
  passthrough.share_dir = options.share_dir;
  passthrough.entry_timeout = options.entry_timeout;
  passthrough.attr_timeout = options.attr_timeout;
  absl::StatusOr<std::unique_ptr<PassthroughFs>> fs =
      PassthroughFs::Create(passthrough);
  if (!fs.ok()) return fs.status();

  // libfuse's own option parsing: the file system's name in /proc/mounts,
  // and the caller's options.
  std::string mount_options = "fsname=vfsim-passthrough";
  if (!options.mount_options.empty()) {
    absl::StrAppend(&mount_options, ",", options.mount_options);
  }
  const char* argv[] = {"vfsim", "-o", mount_options.c_str()};
  fuse_args args = FUSE_ARGS_INIT(3, const_cast<char**>(argv));
  fuse_session* session = fuse_session_new(
      &args, &PassthroughFs::Ops(), sizeof(fuse_lowlevel_ops), fs->get());
  fuse_opt_free_args(&args);
  if (session == nullptr) return absl::InternalError("fuse_session_new failed");
  if (fuse_session_mount(session, mount_point.c_str()) != 0) {
    fuse_session_destroy(session);
    return absl::UnavailableError(absl::StrCat(
        "fuse_session_mount on ", mount_point,
        " failed (no permission to mount FUSE here; see libfuse's message)"));
  }
  RememberMount(mount_point);
  return std::unique_ptr<KernelFuseMount>(
      new KernelFuseMount(std::move(*fs), session, mount_point));
}

KernelFuseMount::KernelFuseMount(std::unique_ptr<PassthroughFs> fs,
                                 fuse_session* session, std::string mount_point)
    : fs_(std::move(fs)),
      session_(session),
      mount_point_(std::move(mount_point)) {
  loop_ = std::thread([session = session_] {
    // libfuse's multithreaded loop, as its passthrough examples run by
    // default: worker threads are added while requests wait.
    fuse_loop_config* config = fuse_loop_cfg_create();
    fuse_loop_cfg_set_clone_fd(config, 0);
    fuse_session_loop_mt(session, config);
    fuse_loop_cfg_destroy(config);
  });
  // A stat of the new mount is a request: only once the loop serves it.
  struct stat mounted;
  if (stat(mount_point_.c_str(), &mounted) == 0) {
    device_ = mounted.st_dev;
    ReapFuseConnection(device_);
  }
}

KernelFuseMount::~KernelFuseMount() {
  // Detaching the mount ends the connection: the loop's reads of /dev/fuse
  // fail and the loop returns. Only then does fuse_session_unmount close the
  // descriptor (closing it under the loop's reads would race with them).
  if (device_ != 0) ForgetFuseConnection(device_);
  fuse_session_exit(session_);
  umount2(mount_point_.c_str(), MNT_DETACH);
  loop_.join();
  fuse_session_unmount(session_);
  ForgetMount(mount_point_);
  fuse_session_destroy(session_);
}

}  // namespace sim
