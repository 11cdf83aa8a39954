#include "vfs/kernel.h"

#include <new>
#include <utility>

namespace vfs {

Kernel::Kernel(base::Platform& platform, RefPtr<Node> root)
    : platform_(platform),
      mounts_(platform),
      tasks_lock_(platform.CreateLock()) {
  RefPtr<vfs::Mount> mount = mounts_.MountRoot(root);
  root_ = MakeRef<Location>(std::move(mount), std::move(root));
}

Kernel::~Kernel() {
  if (Owns(DefaultTask())) SetDefaultTask(nullptr);
  if (Owns(CurrentTask())) SetCurrentTask(nullptr);
  Teardown();
}

Result<std::unique_ptr<Kernel>> Kernel::Boot(base::Platform& platform,
                                             const BootOptions& options) {
  std::unique_ptr<Kernel> kernel(new (std::nothrow) Kernel(
      platform, MemFs::Create(platform, options.root_fs)));
  if (!kernel || kernel->CreateTask() == nullptr) return Error{ENOMEM};
  TRY(kernel->root()->node()->Mkdir("tmp", 01777));
  return kernel;
}

Task* Kernel::CreateTask(const Credentials& credentials) {
  base::LockGuard guard(*tasks_lock_);
  std::unique_ptr<Task> task(new (std::nothrow) Task(platform_, mounts_, root_,
                                                     next_pid_, credentials));
  if (!task || !task->valid()) return nullptr;
  next_pid_++;
  tasks_.push_back(std::move(task));
  return tasks_.back().get();
}

bool Kernel::Owns(const Task* task) {
  base::LockGuard guard(*tasks_lock_);
  for (const std::unique_ptr<Task>& mine : tasks_) {
    if (mine.get() == task) return true;
  }
  return false;
}

void Kernel::ResetTasks() {
  base::LockGuard guard(*tasks_lock_);
  for (const std::unique_ptr<Task>& task : tasks_) {
    task->files().CloseAll();
    task->set_cwd(root_);
  }
}

void Kernel::Teardown() {
  for (const std::unique_ptr<Task>& task : tasks_) task->Exit();
  root_.reset();
  mounts_.Clear();
}

}  // namespace vfs
