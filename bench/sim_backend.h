// bench::SimBackend: the simulated machine (sim::Machine) booted on the share,
// its VFS system calls (vfs::open, vfs::read, ...) acting on the share mounted
// at "/<tag>". Every call goes VFS -> FUSE client -> virtqueue in guest memory
// -> simulated virtio-fs device -> libfuse -> passthrough handlers -> host.
//
// The VFS is one per process, so one SimBackend exists at a time.
#ifndef BENCH_SIM_BACKEND_H_
#define BENCH_SIM_BACKEND_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "base/platform.h"
#include "bench/backend.h"
#include "sim/machine.h"

namespace bench {

class SimBackend : public Backend {
 public:
  // Boots a machine over `options.share_dir`; `name` labels its results.
  static absl::StatusOr<std::unique_ptr<SimBackend>> Create(
      std::string name, const sim::MachineOptions& options);
  ~SimBackend() override;

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
  // Guest memory (sim::SimPlatform::AllocateDma).
  void* AllocateBuffer(size_t size) override;
  void FreeBuffer(void* buffer, size_t size) override;
  int64_t FuseRequests() override;
  int64_t PostedFuseRequests() override;
  int64_t OvertakenFuseRequests() override;
  std::optional<sim::RequestTimes> SampledRequestTimes() override;
  std::optional<base::RingFormat> DeviceThreadRing() const override;
  bool ServedByPassthrough() const override { return true; }
  // The guest's: every cached name (its nodes forgotten, as Linux's
  // drop_caches does) and every node's attributes; then the host's
  // (DropHostCaches), as a guest and its host both dropping theirs. True when
  // both were dropped.
  bool DropCaches() override;

  sim::Machine& machine() { return *machine_; }

 private:
  SimBackend(std::string name, std::unique_ptr<sim::Machine> machine);

  const std::string name_;
  std::unique_ptr<sim::Machine> machine_;
  const std::string root_;
  std::mutex buffers_mu_;
  std::map<void*, base::DmaRegion> buffers_;
};

}  // namespace bench

#endif  // BENCH_SIM_BACKEND_H_
