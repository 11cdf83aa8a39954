#include "vfs/kernel.h"

#include <utility>

namespace vfs {
namespace {

Kernel* current_kernel = nullptr;

}  // namespace

Kernel::Kernel(base::Platform& platform, RefPtr<Node> root)
    : platform_(platform),
      mounts_(platform),
      files_(platform),
      cwd_lock_(platform.CreateLock()) {
  RefPtr<vfs::Mount> mount = mounts_.MountRoot(root);
  root_ = MakeRef<Location>(std::move(mount), std::move(root));
  cwd_ = root_;
}

Kernel::~Kernel() { Teardown(); }

PathWalker Kernel::Walker() { return PathWalker(mounts_, root_, cwd()); }

RefPtr<Location> Kernel::cwd() {
  base::LockGuard guard(*cwd_lock_);
  return cwd_;
}

void Kernel::set_cwd(RefPtr<Location> cwd) {
  base::LockGuard guard(*cwd_lock_);
  std::swap(cwd_, cwd);
  // The old directory is released when `cwd` goes, after the lock.
}

Result<void> Kernel::Mount(std::string_view path, RefPtr<Node> root) {
  PathWalker walker = Walker();
  RefPtr<Location> where = TRY(walker.Resolve(path, /*follow_final=*/true));
  TRY(mounts_.Add(std::move(where), std::move(root)));
  return {};
}

Result<void> Kernel::Unmount(std::string_view path) {
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

void Kernel::Teardown() {
  files_.CloseAll();
  set_cwd(nullptr);
  root_.reset();
  mounts_.Clear();
}

Result<void> Boot(base::Platform& platform, const BootOptions& options) {
  if (current_kernel) return Error{EBUSY};
  auto* kernel = new Kernel(platform, MemFs::Create(platform, options.root_fs));
  Result<void> tmp = kernel->root()->node()->Mkdir("tmp", 01777);
  if (!tmp.ok()) {
    delete kernel;
    return tmp;
  }
  current_kernel = kernel;
  return {};
}

void Shutdown() {
  delete current_kernel;
  current_kernel = nullptr;
}

Kernel* CurrentKernel() { return current_kernel; }

}  // namespace vfs
