// vfs::Kernel: the VFS state of the one process this kernel runs: its mount
// table, descriptor table, root and current directory, and umask. vfs/posix.h
// acts on the kernel that Boot brought up.
#ifndef VFS_KERNEL_H_
#define VFS_KERNEL_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "base/platform.h"
#include "base/result.h"
#include "vfs/fd_table.h"
#include "vfs/location.h"
#include "vfs/memfs.h"
#include "vfs/mount_table.h"
#include "vfs/node.h"
#include "vfs/path_walk.h"

namespace vfs {

class Kernel {
 public:
  // A kernel whose namespace root is `root`.
  Kernel(base::Platform& platform, RefPtr<Node> root);
  ~Kernel();
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  base::Platform& platform() const { return platform_; }
  MountTable& mounts() { return mounts_; }
  FdTable& files() { return files_; }

  // A walker from the root and the current directory as they are now.
  PathWalker Walker();

  RefPtr<Location> root() const { return root_; }
  RefPtr<Location> cwd();
  void set_cwd(RefPtr<Location> cwd);

  uint32_t umask() const { return umask_.load(std::memory_order_relaxed); }
  uint32_t set_umask(uint32_t mask) {
    return umask_.exchange(mask & 0777, std::memory_order_relaxed);
  }

  // Mounts the filesystem whose root is `root` on the directory at `path`
  // (symlinks followed). ENOTDIR, ENOENT, EBUSY (the namespace root).
  Result<void> Mount(std::string_view path, RefPtr<Node> root);
  // Unmounts what is mounted at `path`. EINVAL when nothing is, EBUSY while
  // files are open on it, a current directory lies in it, or something is
  // mounted inside it.
  Result<void> Unmount(std::string_view path);

  // Closes every descriptor, returns to "/" and drops every mount.
  void Teardown();

 private:
  base::Platform& platform_;
  MountTable mounts_;
  FdTable files_;
  RefPtr<Location> root_;
  std::unique_ptr<base::Lock> cwd_lock_;
  RefPtr<Location> cwd_;
  std::atomic<uint32_t> umask_{022};
};

struct BootOptions {
  MemFsOptions root_fs;
};

// Boots the VFS of this process: a MemFs at "/" holding "/tmp" (mode 1777), the
// current directory at "/". EBUSY when already booted. Boot, Shutdown and the
// calls of vfs/posix.h must not race with each other; calls among themselves
// may.
Result<void> Boot(base::Platform& platform, const BootOptions& options = {});
// Closes everything and frees the namespace; Boot may run again afterwards.
void Shutdown();
// The booted kernel, or null.
Kernel* CurrentKernel();

}  // namespace vfs

#endif  // VFS_KERNEL_H_
