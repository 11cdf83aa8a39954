#include "vfs/kernel.h"

#include <new>
#include <utility>

#include "vfs/current_task.h"

namespace vfs {

Task::Task(Kernel& kernel)
    : kernel_(kernel),
      files_(kernel.platform()),
      cwd_lock_(kernel.platform().CreateLock()),
      cwd_(kernel.root()) {}

Task::~Task() { Exit(); }

base::Platform& Task::platform() const { return kernel_.platform(); }

PathWalker Task::Walker() {
  return PathWalker(kernel_.mounts(), kernel_.root(), cwd());
}

RefPtr<Location> Task::cwd() {
  base::LockGuard guard(*cwd_lock_);
  return cwd_;
}

void Task::set_cwd(RefPtr<Location> cwd) {
  base::LockGuard guard(*cwd_lock_);
  std::swap(cwd_, cwd);
  // The old directory is released when `cwd` goes, after the lock.
}

Result<void> Task::Mount(std::string_view path, RefPtr<Node> root) {
  PathWalker walker = Walker();
  RefPtr<Location> where = TRY(walker.Resolve(path, /*follow_final=*/true));
  TRY(kernel_.mounts().Add(std::move(where), std::move(root)));
  return {};
}

Result<void> Task::Unmount(std::string_view path) {
  RefPtr<vfs::Mount> mount;
  {
    PathWalker walker = Walker();
    RefPtr<Location> where = TRY(walker.Resolve(path, /*follow_final=*/true));
    if (where->node() != where->mount()->root()) return Error{EINVAL};
    if (!where->mount()->mountpoint()) return Error{EBUSY};
    mount = where->mount();
  }
  // Only the table's reference and `mount` remain unless something uses the
  // mount.
  return kernel_.mounts().Remove(std::move(mount));
}

void Task::Exit() {
  files_.CloseAll();
  set_cwd(nullptr);
}

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

Task* Kernel::CreateTask() {
  std::unique_ptr<Task> task(new (std::nothrow) Task(*this));
  if (!task) return nullptr;
  base::LockGuard guard(*tasks_lock_);
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
