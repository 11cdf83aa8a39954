// bench::Backend: the system calls one benchmark back end offers, so that each
// operation is measured by the very same code on the host, on a kernel FUSE
// mount and on the simulated machine.
//
// Path() turns a path relative to the share ("a/b/c.txt") into the path the
// back end's calls take; benchmarks build their paths before timing. Every
// call returns what the system call returns, or a negative errno value (as
// vfs:: does), so results compare across back ends.
#ifndef BENCH_BACKEND_H_
#define BENCH_BACKEND_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "base/platform.h"
#include "sim/request_times.h"

namespace bench {

// What lstat(2) says of a path, as far as the benchmarks check it.
struct FileInfo {
  int64_t size = 0;
  bool is_dir = false;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // "host", "fuse", "sim-inline", "sim-thread".
  virtual const std::string& name() const = 0;
  virtual std::string Path(const std::string& relative) const = 0;

  virtual int Open(const char* path, int flags, uint32_t mode = 0) = 0;
  virtual int Close(int fd) = 0;
  virtual int64_t Read(int fd, void* buffer, size_t count) = 0;
  virtual int64_t Write(int fd, const void* buffer, size_t count) = 0;
  virtual int64_t Pread(int fd, void* buffer, size_t count, int64_t offset) = 0;
  virtual int64_t Lseek(int fd, int64_t offset, int whence) = 0;
  // stat(2) of `path`; the size goes to `size` when not null.
  virtual int Stat(const char* path, int64_t* size) = 0;
  // lstat(2) of `path`, as `ls -l` and `find` call it.
  virtual int Lstat(const char* path, FileInfo* info) = 0;
  virtual int Unlink(const char* path) = 0;
  virtual int64_t Getdents64(int fd, void* buffer, size_t count) = 0;

  // A buffer for the data of I/O calls, as a program on this back end would
  // have it. On the simulated machine it lives in guest memory: a guest's own
  // buffers are guest memory, so the driver puts them straight into
  // descriptors (no bounce copy), exactly as a kernel driver does with a user
  // page. Page aligned; null when none is left.
  virtual void* AllocateBuffer(size_t size) = 0;
  virtual void FreeBuffer(void* buffer, size_t size) = 0;

  // FUSE requests the device has processed so far (all opcodes), or -1 when
  // the back end cannot count them.
  virtual int64_t FuseRequests() { return -1; }
  // Of those, the ones the driver posted without waiting for them (FORGET, a
  // last close's RELEASE): they cost no caller a round trip.
  virtual int64_t PostedFuseRequests() { return 0; }
  // Of those, the ones the device handled after a request sent later
  // (sim::kHoldPostedNanos).
  virtual int64_t OvertakenFuseRequests() { return 0; }
  // The sampled request times of a simulated machine so far, or none.
  virtual std::optional<sim::RequestTimes> SampledRequestTimes() {
    return std::nullopt;
  }
  // The virtqueue format of a simulated machine whose device serves its
  // queues on a thread of its own (sim-thread), or none.
  virtual std::optional<base::RingFormat> DeviceThreadRing() const {
    return std::nullopt;
  }
  // Whether a FUSE server of this process (sim::PassthroughFs) makes this
  // back end's host system calls, so that sim::ProcessHostCalls() counts them.
  virtual bool ServedByPassthrough() const = 0;
  // Drops the caches of names and attributes between the caller and the
  // share's files (untimed set-up for a cold pass); false when it cannot, and
  // they stay warm.
  virtual bool DropCaches() = 0;
};

}  // namespace bench

#endif  // BENCH_BACKEND_H_
