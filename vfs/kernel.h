// vfs::Kernel: the VFS state of one machine, an object owned by whoever runs
// the machine (sim::Machine, the boot image), so that a process can run
// several: the namespace (mount table, root) and its tasks (vfs/task.h).
#ifndef VFS_KERNEL_H_
#define VFS_KERNEL_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "base/platform.h"
#include "base/result.h"
#include "vfs/credentials.h"
#include "vfs/location.h"
#include "vfs/memfs.h"
#include "vfs/mount_table.h"
#include "vfs/node.h"
#include "vfs/task.h"

namespace vfs {

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
  // A new task at "/" with `credentials` (root's by default), no descriptors
  // and umask 022. It lives as long as the kernel. Null when out of memory.
  Task* CreateTask(const Credentials& credentials = {});
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
  uint32_t next_pid_ = 1;  // Under tasks_lock_.
};

}  // namespace vfs

#endif  // VFS_KERNEL_H_
