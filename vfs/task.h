// vfs::Task: what a process is to the VFS: a process id, credentials, a
// descriptor table, a current directory and a umask, in the namespace of the
// kernel (vfs/kernel.h) that made it; and the calling thread's current task,
// the one vfs/posix.h acts on.
//
// A thread acts as the task it entered (TaskScope, SetCurrentTask) or, having
// entered none, as the process's default task (sim::Machine offers its init
// task as the default, so that any thread of a program with one machine acts
// on it). With neither, the calls of vfs/posix.h fail with ENOSYS. The thread's
// own task lives in thread-local storage in a hosted build and in one variable
// in a freestanding one (the boot image runs one CPU): what a kernel's per-CPU
// `current` is. A kernel going away takes its tasks out of both.
#ifndef VFS_TASK_H_
#define VFS_TASK_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "base/platform.h"
#include "base/result.h"
#include "vfs/credentials.h"
#include "vfs/fd_table.h"
#include "vfs/location.h"
#include "vfs/mount_table.h"
#include "vfs/node.h"
#include "vfs/path_walk.h"

namespace vfs {

class Task {
 public:
  // A task of the namespace whose mounts are `mounts` and root `root`, at
  // that root.
  Task(base::Platform& platform, MountTable& mounts, RefPtr<Location> root,
       uint32_t pid, const Credentials& credentials);
  ~Task();
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  base::Platform& platform() const { return platform_; }
  FdTable& files() { return files_; }
  uint32_t pid() const { return pid_; }

  // The credentials as they are now: a set that stays valid (and unchanged)
  // as long as the task lives.
  const Credentials& credentials() const {
    return *credentials_.load(std::memory_order_acquire);
  }
  // Publishes a new set. ENOMEM.
  Result<void> SetCredentials(const Credentials& credentials);
  // Whether the task was made completely (its credentials allocated).
  bool valid() const { return credentials_.load() != nullptr; }

  // A walker from the namespace root and this task's current directory as
  // they are now, with the task's credentials.
  PathWalker Walker();
  // The same, relative paths starting at `start` (null: a walker for absolute
  // paths only), checked with `credentials` (the task's when null; they must
  // outlive the walker).
  PathWalker WalkerFrom(RefPtr<Location> start,
                        const Credentials* credentials = nullptr);
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
  // A published set of credentials, kept until the task goes: a check may
  // still be reading an older one.
  struct CredentialsRecord {
    Credentials credentials;
    std::unique_ptr<CredentialsRecord> older;
  };

  base::Platform& platform_;
  MountTable& mounts_;
  const RefPtr<Location> root_;
  const uint32_t pid_;
  std::unique_ptr<base::Lock> credentials_lock_;  // Serialises changes.
  std::unique_ptr<CredentialsRecord> credentials_record_;
  std::atomic<const Credentials*> credentials_;
  FdTable files_;
  std::unique_ptr<base::Lock> cwd_lock_;
  RefPtr<Location> cwd_;
  std::atomic<uint32_t> umask_{022};
};

// The calling thread's task, else the default task; null when neither is set.
Task* CurrentTask();
// Enters `task` on the calling thread (null: leaves it); returns the previous
// one.
Task* SetCurrentTask(Task* task);
// The task threads that entered none act as (null: none); returns the
// previous one.
Task* SetDefaultTask(Task* task);
// Makes `task` the default task when there is none; whether it did.
bool OfferDefaultTask(Task* task);
Task* DefaultTask();

// Enters a task on the calling thread for a scope.
class TaskScope {
 public:
  explicit TaskScope(Task& task) : previous_(SetCurrentTask(&task)) {}
  ~TaskScope() { SetCurrentTask(previous_); }
  TaskScope(const TaskScope&) = delete;
  TaskScope& operator=(const TaskScope&) = delete;

 private:
  Task* previous_;
};

}  // namespace vfs

#endif  // VFS_TASK_H_
