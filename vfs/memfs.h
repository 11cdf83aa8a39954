// vfs::MemFs: a filesystem kept in kernel memory, like tmpfs: regular files
// (sparse, in pages), directories, symlinks and hard links, with POSIX
// semantics for nlink, times, modes and rename. The kernel boots with one at
// "/".
#ifndef VFS_MEMFS_H_
#define VFS_MEMFS_H_

#include <atomic>
#include <cstdint>

#include "base/platform.h"
#include "vfs/node.h"
#include "vfs/ref_counted.h"
#include "vfs/stat.h"

namespace vfs {

struct MemFsOptions {
  uint64_t capacity_bytes = uint64_t{256} << 20;  // ENOSPC beyond it.
  uint64_t max_nodes = uint64_t{1} << 20;         // Inodes; ENOSPC beyond.
  uint32_t root_mode = 0755;
};

// The filesystem as a whole (its superblock): what all its nodes share. Every
// node holds a reference, so it lives as long as any of them.
class MemFs : public RefCounted {
 public:
  static constexpr uint64_t kPageSize = 4096;
  static constexpr uint64_t kMagic =
      0x01021994;  // TMPFS_MAGIC, for statfs's f_type.

  // A new, empty filesystem; returns its root directory, ready to mount.
  static RefPtr<Node> Create(base::Platform& platform,
                             const MemFsOptions& options = {});

  base::Platform& platform() const { return platform_; }
  Timespec Now() const {
    return Timespec::FromNanos(platform_.MonotonicNanos());
  }
  // Serialises every change to the tree (directory contents, parents, link
  // counts): renames need the whole tree still, and memfs changes are short.
  base::Lock& tree_lock() const { return *tree_lock_; }

  // Inode and page accounting; false when the filesystem is full.
  bool AllocateNode(uint64_t* ino);
  void FreeNode();
  bool AllocatePage();
  void FreePages(uint64_t count);

  StatFs GetFsStat() const;
  uint64_t nodes_in_use() const {
    return nodes_.load(std::memory_order_relaxed);
  }
  uint64_t pages_in_use() const {
    return pages_.load(std::memory_order_relaxed);
  }

 private:
  MemFs(base::Platform& platform, const MemFsOptions& options);

  base::Platform& platform_;
  const MemFsOptions options_;
  std::unique_ptr<base::Lock> tree_lock_;
  std::atomic<uint64_t> next_ino_{1};
  std::atomic<uint64_t> nodes_{0};
  std::atomic<uint64_t> pages_{0};
};

}  // namespace vfs

#endif  // VFS_MEMFS_H_
