#include "vfs/task.h"

#include <atomic>
#include <new>
#include <utility>

namespace vfs {

Task::Task(base::Platform& platform, MountTable& mounts, RefPtr<Location> root,
           uint32_t pid, const Credentials& credentials)
    : platform_(platform),
      mounts_(mounts),
      root_(root),
      pid_(pid),
      credentials_lock_(platform.CreateLock()),
      credentials_record_(new (std::nothrow)
                              CredentialsRecord{credentials, nullptr}),
      credentials_(credentials_record_ ? &credentials_record_->credentials
                                       : nullptr),
      files_(platform, this),
      cwd_lock_(platform.CreateLock()),
      cwd_(std::move(root)) {}

Task::~Task() { Exit(); }

Result<void> Task::SetCredentials(const Credentials& credentials) {
  base::LockGuard guard(*credentials_lock_);
  std::unique_ptr<CredentialsRecord> record(
      new (std::nothrow) CredentialsRecord{credentials, nullptr});
  if (!record) return Error{ENOMEM};
  record->older = std::move(credentials_record_);
  credentials_record_ = std::move(record);
  credentials_.store(&credentials_record_->credentials,
                     std::memory_order_release);
  return {};
}

PathWalker Task::WalkerFrom(RefPtr<Location> start,
                            const Credentials* credentials) {
  return PathWalker(mounts_, root_, std::move(start),
                    credentials ? credentials : &this->credentials());
}

PathWalker Task::Walker() {
  return PathWalker(mounts_, root_, cwd(), &credentials());
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
  TRY(mounts_.Add(std::move(where), std::move(root)));
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
  return mounts_.Remove(std::move(mount));
}

void Task::Exit() {
  files_.CloseAll();
  set_cwd(nullptr);
}

namespace {

KERNEL_THREAD_LOCAL Task* thread_task = nullptr;
std::atomic<Task*> default_task{nullptr};

}  // namespace

Task* CurrentTask() {
  if (thread_task != nullptr) return thread_task;
  return default_task.load(std::memory_order_acquire);
}

Task* SetCurrentTask(Task* task) {
  Task* previous = thread_task;
  thread_task = task;
  return previous;
}

Task* SetDefaultTask(Task* task) {
  return default_task.exchange(task, std::memory_order_acq_rel);
}

bool OfferDefaultTask(Task* task) {
  Task* none = nullptr;
  return default_task.compare_exchange_strong(none, task,
                                              std::memory_order_acq_rel);
}

Task* DefaultTask() { return default_task.load(std::memory_order_acquire); }

}  // namespace vfs
