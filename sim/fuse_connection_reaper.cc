#include "sim/fuse_connection_reaper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <future>
#include <thread>

#include "base/format.h"

namespace sim {
namespace {

// The socket to the reaper; -1 while none runs.
std::atomic<int> reaper_socket{-1};

// A message is a connection's number (its mount's minor device number, under
// which the control file system lists it), as is to add it, or -1 - number to
// forget it: one 8-byte record. A reaper gone (killed) leaves an error, not a
// SIGPIPE.
void Send(int64_t message) {
  const int fd = reaper_socket.load(std::memory_order_relaxed);
  if (fd < 0) return;
  while (send(fd, &message, sizeof(message), MSG_NOSIGNAL) < 0 &&
         errno == EINTR) {
  }
}

// What follows runs in the forked reaper, a copy of a process with several
// threads: system calls only (no allocation, no lock; base::Format has
// neither).

constexpr int kMaxConnections = 64;

// Writes "1" to /sys/fs/fuse/connections/<number>/abort; mounts the control
// file system there first if it is not (in the reaper's namespace).
void Abort(uint32_t number, bool* mounted) {
  char path[64];
  base::Format(path, sizeof(path), "/sys/fs/fuse/connections/%u/abort", number);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && !*mounted) {
    *mounted = true;
    mount("fusectl", "/sys/fs/fuse/connections", "fusectl", 0, nullptr);
    fd = open(path, O_WRONLY | O_CLOEXEC);
  }
  if (fd < 0) return;  // The connection ended meanwhile.
  (void)!write(fd, "1", 1);
  close(fd);
}

[[noreturn]] void ReaperMain(int messages, pid_t parent) {
  // Nothing of the parent's but the socket: a reaper holding the parent's
  // output open would keep whoever reads it waiting.
  const int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd < 3; ++fd) dup2(null, fd);
  if (messages > 3) close_range(3, messages - 1, 0);
  close_range(messages + 1, ~0U, 0);

  // The signals that end a process group (a terminal's ^C, a timeout's
  // SIGTERM) must leave the reaper to outlive its parent; its parent's death,
  // a SIGHUP, waits in a descriptor: no handler, which a sanitizer's runtime
  // would defer. The mask is set by the system call itself, past the runtime's
  // wrapper, which keeps a view of its own.
  sigset_t blocked;
  sigemptyset(&blocked);
  for (const int signal : {SIGHUP, SIGINT, SIGQUIT, SIGTERM}) {
    sigaddset(&blocked, signal);
  }
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, &blocked, nullptr, _NSIG / 8);
  sigset_t hangup;
  sigemptyset(&hangup);
  sigaddset(&hangup, SIGHUP);
  const int death = signalfd(-1, &hangup, SFD_CLOEXEC);
  if (death < 0 || prctl(PR_SET_PDEATHSIG, SIGHUP) != 0) _exit(1);

  uint32_t connections[kMaxConnections];
  int count = 0;
  // A parent gone before the request has been replaced already.
  while (getppid() == parent) {
    pollfd ready[2] = {{.fd = messages, .events = POLLIN, .revents = 0},
                       {.fd = death, .events = POLLIN, .revents = 0}};
    if (poll(ready, 2, -1) < 0) {
      if (errno == EINTR) continue;
      _exit(1);
    }
    if (ready[1].revents != 0) break;
    int64_t message;
    // None: the parent's descriptors are closed, /dev/fuse's too, and its
    // connections with them.
    if (read(messages, &message, sizeof(message)) != sizeof(message)) _exit(0);
    if (message >= 0) {
      if (count < kMaxConnections) {
        connections[count++] = static_cast<uint32_t>(message);
      }
      continue;
    }
    for (int i = 0; i < count; ++i) {
      if (connections[i] == static_cast<uint32_t>(-1 - message)) {
        connections[i] = connections[--count];
        break;
      }
    }
  }
  bool mounted = false;
  for (int i = 0; i < count; ++i) Abort(connections[i], &mounted);
  _exit(0);
}

}  // namespace

absl::Status StartFuseConnectionReaper() {
  if (reaper_socket.load() >= 0) return absl::OkStatus();
  int ends[2];  // [0] the reaper's end, [1] this process's.
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0) {
    return absl::ErrnoToStatus(errno, "socketpair");
  }
  std::promise<int> forked;  // The reaper's pid, or -errno.
  std::future<int> reaper = forked.get_future();
  std::thread([forked = std::move(forked), ends, parent = getpid()]() mutable {
    const pid_t pid = fork();
    if (pid == 0) {
      close(ends[1]);
      ReaperMain(ends[0], parent);
    }
    forked.set_value(pid < 0 ? -errno : pid);
    if (pid < 0) return;
    // The reaper's signal is this thread's end: with the process.
    for (;;) pause();
  }).detach();
  const int pid = reaper.get();
  close(ends[0]);
  if (pid < 0) {
    close(ends[1]);
    return absl::ErrnoToStatus(-pid, "fork of the FUSE connection reaper");
  }
  reaper_socket.store(ends[1]);
  return absl::OkStatus();
}

void ReapFuseConnection(dev_t mount_device) { Send(minor(mount_device)); }

void ForgetFuseConnection(dev_t mount_device) {
  Send(-1 - static_cast<int64_t>(minor(mount_device)));
}

}  // namespace sim
