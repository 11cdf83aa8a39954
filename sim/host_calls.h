// The host system calls the device makes, counted and timed, so that what a
// simulated request costs splits into the host's part (the calls a device
// must make, the limit) and the simulation's own part (everything else).
//
// The passthrough handlers make every host file-system call through the
// wrappers in namespace sim::host (host::openat, host::fstat, ...), each of
// which counts the call and the time spent in it on the calling thread's
// counters: two reads of the time-stamp counter and two stores, a few
// nanoseconds per call that itself costs hundreds.
//
//   const sim::HostCallTotals before = sim::ProcessHostCalls();
//   ... requests ...
//   const sim::HostCallTotals spent = sim::ProcessHostCalls() - before;
#ifndef SIM_HOST_CALLS_H_
#define SIM_HOST_CALLS_H_

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>

namespace sim {

struct HostCallTotals {
  uint64_t calls = 0;
  // Time-stamp counter ticks: kept as counted, so that a difference of two
  // totals is exact (0 when no call was made between them) and converts once.
  uint64_t ticks = 0;

  HostCallTotals operator-(const HostCallTotals& earlier) const {
    return {calls - earlier.calls, ticks - earlier.ticks};
  }
  HostCallTotals& operator+=(const HostCallTotals& more) {
    calls += more.calls;
    ticks += more.ticks;
    return *this;
  }
  // The time spent in them, converted at the counter's rate measured now
  // (MeasureTicksPerNano: a millisecond's busy wait, none for no ticks).
  uint64_t nanos() const;
};

// Every host call the process's device threads made so far, and the time
// spent in them (threads that have ended included).
HostCallTotals ProcessHostCalls();

namespace host_calls_internal {

// One thread's counters. Only the owner writes them (plain load and store,
// no locked instruction); ProcessHostCalls reads them from any thread. Never
// freed: a thread that ends hands its block, counts and all, to the next
// thread that needs one.
struct ThreadCounters {
  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> ticks{0};  // Time-stamp counter ticks.
};

ThreadCounters* AssignThreadCounters();

inline ThreadCounters& Mine() {
  // A plain pointer, no destructor: host calls made while the thread's
  // thread-local objects are being destroyed still count.
  thread_local ThreadCounters* mine = nullptr;
  if (mine == nullptr) [[unlikely]]
    mine = AssignThreadCounters();
  return *mine;
}

inline uint64_t Ticks() { return __builtin_ia32_rdtsc(); }

// The counter's ticks per nanosecond of the steady clock, measured over
// kTickCalibration from now with `ticks` as the counter. Measured at each
// conversion, never once for the process: on a VM the counter may jump, even
// back, against the clock (a snapshot restored, a vCPU moved to another host;
// Linux then marks the TSC unstable), and a rate taken since the process
// started stays wrong for the rest of the run (a report once showed every
// host call after such a jump as taking no time).
inline constexpr std::chrono::milliseconds kTickCalibration{1};
double MeasureTicksPerNano(uint64_t (*ticks)());

// Counts one call on this thread, timed from its construction to its end.
class Scope {
 public:
  Scope() : start_(Ticks()) {}
  ~Scope() {
    ThreadCounters& c = Mine();
    // A counter that went back during the call (see MeasureTicksPerNano)
    // gives it no time rather than most of 2^64 ticks.
    const uint64_t end = Ticks();
    const uint64_t spent = end > start_ ? end - start_ : 0;
    c.calls.store(c.calls.load(std::memory_order_relaxed) + 1,
                  std::memory_order_relaxed);
    c.ticks.store(c.ticks.load(std::memory_order_relaxed) + spent,
                  std::memory_order_relaxed);
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  const uint64_t start_;
};

template <auto kCall, typename... Args>
inline auto Counted(Args... args) {
  Scope scope;
  return kCall(args...);
}

}  // namespace host_calls_internal

// The host calls of the passthrough handlers, counted (same signatures as
// the C library's).
namespace host {
using host_calls_internal::Counted;

inline int open(const char* path, int flags, mode_t mode = 0) {
  return Counted<::open>(path, flags, mode);
}
inline int openat(int dir, const char* path, int flags, mode_t mode = 0) {
  return Counted<::openat>(dir, path, flags, mode);
}
inline int close(int fd) { return Counted<::close>(fd); }
inline int close_range(unsigned first, unsigned last, int flags) {
  return Counted<::close_range>(first, last, flags);
}
inline int fstat(int fd, struct stat* st) { return Counted<::fstat>(fd, st); }
inline int fstatat(int dir, const char* path, struct stat* st, int flags) {
  return Counted<::fstatat>(dir, path, st, flags);
}
inline ssize_t readlinkat(int dir, const char* path, char* buf, size_t size) {
  return Counted<::readlinkat>(dir, path, buf, size);
}
inline ssize_t pread(int fd, void* buf, size_t size, off_t offset) {
  return Counted<::pread>(fd, buf, size, offset);
}
inline ssize_t pwrite(int fd, const void* buf, size_t size, off_t offset) {
  return Counted<::pwrite>(fd, buf, size, offset);
}
inline ssize_t preadv(int fd, const iovec* iov, int count, off_t offset) {
  return Counted<::preadv>(fd, iov, count, offset);
}
inline ssize_t pwritev(int fd, const iovec* iov, int count, off_t offset) {
  return Counted<::pwritev>(fd, iov, count, offset);
}
inline off_t lseek(int fd, off_t offset, int whence) {
  return Counted<::lseek>(fd, offset, whence);
}
inline ssize_t getdents64(int fd, void* buf, size_t size) {
  return Counted<::getdents64>(fd, buf, size);
}
inline int poll(pollfd* fds, nfds_t count, int timeout) {
  return Counted<::poll>(fds, count, timeout);
}
inline int fsync(int fd) { return Counted<::fsync>(fd); }
inline int fdatasync(int fd) { return Counted<::fdatasync>(fd); }
inline int mkdirat(int dir, const char* path, mode_t mode) {
  return Counted<::mkdirat>(dir, path, mode);
}
inline int mknodat(int dir, const char* path, mode_t mode, dev_t dev) {
  return Counted<::mknodat>(dir, path, mode, dev);
}
inline int symlinkat(const char* target, int dir, const char* path) {
  return Counted<::symlinkat>(target, dir, path);
}
inline int linkat(int olddir, const char* oldpath, int newdir,
                  const char* newpath, int flags) {
  return Counted<::linkat>(olddir, oldpath, newdir, newpath, flags);
}
inline int unlinkat(int dir, const char* path, int flags) {
  return Counted<::unlinkat>(dir, path, flags);
}
inline int renameat2(int olddir, const char* oldpath, int newdir,
                     const char* newpath, unsigned flags) {
  return Counted<::renameat2>(olddir, oldpath, newdir, newpath, flags);
}
inline int fchmod(int fd, mode_t mode) { return Counted<::fchmod>(fd, mode); }
inline int chmod(const char* path, mode_t mode) {
  return Counted<::chmod>(path, mode);
}
inline int truncate(const char* path, off_t length) {
  return Counted<::truncate>(path, length);
}
inline int dup(int fd) { return Counted<::dup>(fd); }
inline int faccessat(int dir, const char* path, int mode, int flags) {
  return Counted<::faccessat>(dir, path, mode, flags);
}
inline int fchownat(int dir, const char* path, uid_t uid, gid_t gid,
                    int flags) {
  return Counted<::fchownat>(dir, path, uid, gid, flags);
}
inline int ftruncate(int fd, off_t length) {
  return Counted<::ftruncate>(fd, length);
}
inline int utimensat(int dir, const char* path, const timespec times[2],
                     int flags) {
  return Counted<::utimensat>(dir, path, times, flags);
}
inline int futimens(int fd, const timespec times[2]) {
  return Counted<::futimens>(fd, times);
}
inline int fallocate(int fd, int mode, off_t offset, off_t length) {
  return Counted<::fallocate>(fd, mode, offset, length);
}
inline int fstatfs(int fd, struct statfs* st) {
  return Counted<::fstatfs>(fd, st);
}
inline int fstatvfs(int fd, struct statvfs* st) {
  return Counted<::fstatvfs>(fd, st);
}
inline ssize_t copy_file_range(int in, off64_t* in_off, int out,
                               off64_t* out_off, size_t len, unsigned flags) {
  return Counted<::copy_file_range>(in, in_off, out, out_off, len, flags);
}
inline ssize_t getxattr(const char* path, const char* name, void* value,
                        size_t size) {
  return Counted<::getxattr>(path, name, value, size);
}
inline int setxattr(const char* path, const char* name, const void* value,
                    size_t size, int flags) {
  return Counted<::setxattr>(path, name, value, size, flags);
}
inline ssize_t listxattr(const char* path, char* list, size_t size) {
  return Counted<::listxattr>(path, list, size);
}
inline int removexattr(const char* path, const char* name) {
  return Counted<::removexattr>(path, name);
}
inline int name_to_handle_at(int dir, const char* path, file_handle* handle,
                             int* mount_id, int flags) {
  return Counted<::name_to_handle_at>(dir, path, handle, mount_id, flags);
}
inline int open_by_handle_at(int mount_fd, file_handle* handle, int flags) {
  return Counted<::open_by_handle_at>(mount_fd, handle, flags);
}
inline int open_tree(int dir, const char* path, unsigned int flags) {
  return Counted<::open_tree>(dir, path, flags);
}

}  // namespace host
}  // namespace sim

#endif  // SIM_HOST_CALLS_H_
