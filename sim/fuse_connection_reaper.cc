#include "sim/fuse_connection_reaper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <future>
#include <thread>

namespace sim {
namespace {

// The pipe's write end, to the reaper; -1 while none runs.
std::atomic<int> reaper_messages{-1};

// A message is a connection's number (its mount's minor device number, under
// which the control file system lists it), as is to add it, or -1 - number to
// forget it: 8 bytes, written at once (pipes keep writes of up to PIPE_BUF
// whole).
void Send(int64_t message) {
  const int fd = reaper_messages.load(std::memory_order_relaxed);
  if (fd < 0) return;
  while (write(fd, &message, sizeof(message)) < 0 && errno == EINTR) {
  }
}

// What follows runs in the forked reaper, a copy of a process with several
// threads: system calls only (no allocation, no lock).

volatile sig_atomic_t parent_died = 0;
void OnParentDeath(int) { parent_died = 1; }

constexpr int kMaxConnections = 64;

// Writes "1" to /sys/fs/fuse/connections/<number>/abort; mounts the control
// file system there first if it is not (in the reaper's namespace).
void Abort(uint32_t number, bool* mounted) {
  char path[64] = "/sys/fs/fuse/connections/";
  char digits[12];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + number % 10);
    number /= 10;
  } while (number != 0);
  size_t length = sizeof("/sys/fs/fuse/connections/") - 1;
  while (n > 0) path[length++] = digits[--n];
  for (const char c : "/abort") path[length++] = c;  // With its '\0'.
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
  // Nothing of the parent's but the pipe: a reaper holding the parent's
  // output open would keep whoever reads it waiting.
  const int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd < 3; ++fd) dup2(null, fd);
  if (messages > 3) close_range(3, messages - 1, 0);
  close_range(messages + 1, ~0U, 0);

  // A terminal's ^C reaches the whole process group: the reaper must outlive
  // its parent. The parent's handlers are the parent's.
  struct sigaction action = {};
  action.sa_handler = SIG_IGN;
  sigaction(SIGINT, &action, nullptr);
  action.sa_handler = SIG_DFL;
  sigaction(SIGTERM, &action, nullptr);
  action.sa_handler = OnParentDeath;  // No SA_RESTART: ppoll returns EINTR.
  sigaction(SIGHUP, &action, nullptr);
  sigset_t hangup, while_waiting;
  sigemptyset(&hangup);
  sigaddset(&hangup, SIGHUP);
  sigprocmask(SIG_BLOCK, &hangup, &while_waiting);
  sigdelset(&while_waiting, SIGHUP);
  if (prctl(PR_SET_PDEATHSIG, SIGHUP) != 0) _exit(1);
  // Gone before the request: reparented already.
  if (getppid() != parent) parent_died = 1;

  uint32_t connections[kMaxConnections];
  int count = 0;
  while (!parent_died) {
    pollfd in = {.fd = messages, .events = POLLIN, .revents = 0};
    if (ppoll(&in, 1, nullptr, &while_waiting) < 0) {
      if (errno == EINTR) continue;
      _exit(1);
    }
    int64_t batch[16];
    const ssize_t got = read(messages, batch, sizeof(batch));
    // No writer left: the parent's descriptors are closed, /dev/fuse's too,
    // and its connections with them.
    if (got == 0) _exit(0);
    for (ssize_t i = 0; i < got / static_cast<ssize_t>(sizeof(int64_t)); ++i) {
      if (batch[i] >= 0) {
        if (count < kMaxConnections) {
          connections[count++] = static_cast<uint32_t>(batch[i]);
        }
        continue;
      }
      const uint32_t gone = static_cast<uint32_t>(-1 - batch[i]);
      for (int j = 0; j < count; ++j) {
        if (connections[j] == gone) {
          connections[j] = connections[--count];
          break;
        }
      }
    }
  }
  bool mounted = false;
  for (int i = 0; i < count; ++i) Abort(connections[i], &mounted);
  _exit(0);
}

}  // namespace

absl::Status StartFuseConnectionReaper() {
  if (reaper_messages.load() >= 0) return absl::OkStatus();
  int pipe_ends[2];
  if (pipe2(pipe_ends, O_CLOEXEC) != 0) {
    return absl::ErrnoToStatus(errno, "pipe2");
  }
  std::promise<int> forked;  // The reaper's pid, or -errno.
  std::future<int> reaper = forked.get_future();
  std::thread([forked = std::move(forked), pipe_ends,
               parent = getpid()]() mutable {
    const pid_t pid = fork();
    if (pid == 0) {
      close(pipe_ends[1]);
      ReaperMain(pipe_ends[0], parent);
    }
    forked.set_value(pid < 0 ? -errno : pid);
    if (pid < 0) return;
    // The reaper's signal is this thread's end: with the process.
    for (;;) pause();
  }).detach();
  const int pid = reaper.get();
  close(pipe_ends[0]);
  if (pid < 0) {
    close(pipe_ends[1]);
    return absl::ErrnoToStatus(-pid, "fork of the FUSE connection reaper");
  }
  reaper_messages.store(pipe_ends[1]);
  return absl::OkStatus();
}

void ReapFuseConnection(dev_t mount_device) { Send(minor(mount_device)); }

void ForgetFuseConnection(dev_t mount_device) {
  Send(-1 - static_cast<int64_t>(minor(mount_device)));
}

}  // namespace sim
