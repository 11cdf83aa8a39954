#include "bench/sim_backend.h"

#include "base/abi.h"
#include "bench/host_backend.h"
#include "driver/virtio_fs.h"
#include "sim/fuse_server.h"
#include "sim/virtio_device_model.h"
#include "vfs/fuse_entry_cache.h"
#include "vfs/fuse_fs.h"
#include "vfs/posix.h"
#include "vfs/stat.h"

namespace bench {

absl::StatusOr<std::unique_ptr<SimBackend>> SimBackend::Create(
    std::string name, const sim::MachineOptions& options) {
  absl::StatusOr<std::unique_ptr<sim::Machine>> machine =
      sim::Machine::Create(options);
  if (!machine.ok()) return machine.status();
  return std::unique_ptr<SimBackend>(
      new SimBackend(std::move(name), std::move(*machine)));
}

SimBackend::SimBackend(std::string name, std::unique_ptr<sim::Machine> machine)
    : name_(std::move(name)),
      machine_(std::move(machine)),
      root_("/" + machine_->options().tag) {}

SimBackend::~SimBackend() {
  for (auto& [cpu, region] : buffers_) machine_->platform().FreeDma(region);
}

int SimBackend::Open(const char* path, int flags, uint32_t mode) {
  return vfs::open(path, flags, mode);
}

int SimBackend::Close(int fd) { return vfs::close(fd); }

int64_t SimBackend::Read(int fd, void* buffer, size_t count) {
  return vfs::read(fd, buffer, count);
}

int64_t SimBackend::Write(int fd, const void* buffer, size_t count) {
  return vfs::write(fd, buffer, count);
}

int64_t SimBackend::Pread(int fd, void* buffer, size_t count, int64_t offset) {
  return vfs::pread(fd, buffer, count, offset);
}

int64_t SimBackend::Lseek(int fd, int64_t offset, int whence) {
  return vfs::lseek(fd, offset, whence);
}

int SimBackend::Stat(const char* path, int64_t* size) {
  vfs::Stat st;
  const int r = vfs::stat(path, &st);
  if (r == 0 && size != nullptr) *size = st.st_size;
  return r;
}

int SimBackend::Lstat(const char* path, FileInfo* info) {
  vfs::Stat st;
  const int r = vfs::lstat(path, &st);
  if (r != 0) return r;
  info->size = st.st_size;
  info->is_dir = (st.st_mode & base::kTypeMask) == base::kTypeDirectory;
  return 0;
}

int SimBackend::Unlink(const char* path) { return vfs::unlink(path); }

int64_t SimBackend::Getdents64(int fd, void* buffer, size_t count) {
  return vfs::getdents64(fd, buffer, count);
}

void* SimBackend::AllocateBuffer(size_t size) {
  base::Result<base::DmaRegion> region =
      machine_->platform().AllocateDma(size, 4096);
  if (!region.ok()) return nullptr;
  std::lock_guard<std::mutex> lock(buffers_mu_);
  buffers_[region.value().cpu] = region.value();
  return region.value().cpu;
}

void SimBackend::FreeBuffer(void* buffer, size_t) {
  std::lock_guard<std::mutex> lock(buffers_mu_);
  auto it = buffers_.find(buffer);
  if (it == buffers_.end()) return;
  machine_->platform().FreeDma(it->second);
  buffers_.erase(it);
}

int64_t SimBackend::FuseRequests() {
  int64_t total = 0;
  for (uint32_t op = 0; op <= sim::FuseServer::kCountedOpcodes; ++op)
    total += machine_->fs_device().requests_processed(op);
  return total;
}

int64_t SimBackend::PostedFuseRequests() {
  return static_cast<int64_t>(machine_->virtio_fs().posted_requests());
}

int64_t SimBackend::OvertakenFuseRequests() {
  return static_cast<int64_t>(
      machine_->device().model().counters().posted_chains_overtaken);
}

std::optional<base::RingFormat> SimBackend::DeviceThreadRing() const {
  const sim::MachineOptions& options = machine_->options();
  if (options.notify_mode != sim::NotifyMode::kThread) return std::nullopt;
  return options.ring;
}

std::optional<sim::RequestTimes> SimBackend::SampledRequestTimes() {
  return machine_->SampledRequestTimes();
}

bool SimBackend::DropCaches() {
  vfs::FuseFs* fs = machine_->share_fs();
  if (fs == nullptr) return false;
  {
    // Released at the end of the scope, after the cache's lock: the nodes
    // only the cache held are retired and forgotten then.
    vfs::DroppedNodes dropped(fs->platform());
    fs->entries().Clear(dropped);
  }
  fs->InvalidateAllAttributes();
  return DropHostCaches();
}

}  // namespace bench
