// bench::HostBackend: the host's own system calls under a directory. On the
// share itself it is the limit every other back end is compared with; on a
// kernel FUSE mount of the share it is what programs use today.
#ifndef BENCH_HOST_BACKEND_H_
#define BENCH_HOST_BACKEND_H_

#include <string>

#include "bench/backend.h"

namespace bench {

// Drops the host kernel's dentry and inode caches (writes "2" to
// /proc/sys/vm/drop_caches: every file system's, a kernel FUSE mount's
// included); false when that file is not writable here.
bool DropHostCaches();

class HostBackend : public Backend {
 public:
  // `served_by_passthrough`: `root` is a kernel FUSE mount of this process.
  HostBackend(std::string name, std::string root, bool served_by_passthrough)
      : name_(std::move(name)),
        root_(std::move(root)),
        served_by_passthrough_(served_by_passthrough) {}

  const std::string& name() const override { return name_; }
  std::string Path(const std::string& relative) const override {
    return root_ + "/" + relative;
  }

  int Open(const char* path, int flags, uint32_t mode) override;
  int Close(int fd) override;
  int64_t Read(int fd, void* buffer, size_t count) override;
  int64_t Write(int fd, const void* buffer, size_t count) override;
  int64_t Pread(int fd, void* buffer, size_t count, int64_t offset) override;
  int64_t Lseek(int fd, int64_t offset, int whence) override;
  int Stat(const char* path, int64_t* size) override;
  int Lstat(const char* path, FileInfo* info) override;
  int Unlink(const char* path) override;
  int64_t Getdents64(int fd, void* buffer, size_t count) override;
  void* AllocateBuffer(size_t size) override;
  void FreeBuffer(void* buffer, size_t size) override;
  bool ServedByPassthrough() const override { return served_by_passthrough_; }
  bool DropCaches() override { return DropHostCaches(); }

 private:
  const std::string name_;
  const std::string root_;
  const bool served_by_passthrough_;
};

}  // namespace bench

#endif  // BENCH_HOST_BACKEND_H_
