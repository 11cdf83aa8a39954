// vfs::Kernel and vfs::Task: the VFS state of one machine, an object owned by
// whoever runs the machine (sim::Machine, the boot image), so that a process
// can run several.
//
// A Kernel holds the namespace (mount table, root) and its tasks. A Task is
// what a process is to the VFS: a descriptor table, a current directory and a
// umask (and, later, credentials). vfs/posix.h acts on the calling thread's
// current task (vfs/current_task.h).
#ifndef VFS_KERNEL_H_
#define VFS_KERNEL_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "base/platform.h"
#include "base/result.h"
#include "vfs/fd_table.h"
#include "vfs/location.h"
#include "vfs/memfs.h"
#include "vfs/mount_table.h"
#include "vfs/node.h"
#include "vfs/path_walk.h"

namespace vfs {

class Kernel;

class Task {
 public:
  explicit Task(Kernel& kernel);
  ~Task();
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  Kernel& kernel() const { return kernel_; }
  base::Platform& platform() const;
  FdTable& files() { return files_; }

  // A walker from the kernel's root and this task's current directory as they
  // are now.
  PathWalker Walker();
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

  // Closes every descriptor and leaves the namespace (no current directory).
  void Exit();

 private:
  Kernel& kernel_;
  FdTable files_;
  std::unique_ptr<base::Lock> cwd_lock_;
  RefPtr<Location> cwd_;
  std::atomic<uint32_t> umask_{022};
};

struct BootOptions {
  MemFsOptions root_fs;
};

class Kernel {
 public:
  // A kernel whose namespace root is a MemFs holding "/tmp" (mode 1777), with
  // its first task (init) at "/". ENOMEM.
  static Result<std::unique_ptr<Kernel>> Boot(base::Platform& platform,
                                              const BootOptions& options = {});
  // Teardown(), and no thread is left in (or defaulting to) one of its tasks.
  ~Kernel();
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  base::Platform& platform() const { return platform_; }
  MountTable& mounts() { return mounts_; }
  RefPtr<Location> root() const { return root_; }

  // The first task.
  Task& init_task() { return *tasks_.front(); }
  // A new task at "/", with no descriptors and umask 022. It lives as long as
  // the kernel. Null when out of memory.
  Task* CreateTask();
  // Whether `task` is one of this kernel's.
  bool Owns(const Task* task);

  // Every task closes its descriptors and returns to "/".
  void ResetTasks();

  // Every task exits (its descriptors closed, its current directory
  // released), then every mount is dropped: what a filesystem gets back at
  // shutdown reaches it here.
  void Teardown();

 private:
  Kernel(base::Platform& platform, RefPtr<Node> root);

  base::Platform& platform_;
  MountTable mounts_;
  RefPtr<Location> root_;
  std::unique_ptr<base::Lock> tasks_lock_;
  std::vector<std::unique_ptr<Task>> tasks_;
};

}  // namespace vfs

#endif  // VFS_KERNEL_H_
