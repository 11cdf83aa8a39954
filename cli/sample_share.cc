#include "cli/sample_share.h"

#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace cli {
namespace {

// Signals that end vfsim remove the share first. They are blocked in every
// thread (the mask is set before the machine starts its threads) and taken by
// one watcher thread with sigwait, so the removal runs as ordinary code, not
// in a signal handler. The watcher then lets the signal take its default
// action, so the exit status still tells which signal it was.
std::mutex cleanup_mutex;
std::string cleanup_path;  // Empty once the share is gone.

void WatchSignals(sigset_t signals) {
  for (;;) {
    int signal = 0;
    if (sigwait(&signals, &signal) != 0) continue;
    {
      std::lock_guard<std::mutex> lock(cleanup_mutex);
      if (!cleanup_path.empty()) RemoveHostTree(cleanup_path);
      cleanup_path.clear();
    }
    ::signal(signal, SIG_DFL);
    sigset_t just_this;
    sigemptyset(&just_this);
    sigaddset(&just_this, signal);
    pthread_sigmask(SIG_UNBLOCK, &just_this, nullptr);
    raise(signal);
  }
}

void InstallCleanup(const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(cleanup_mutex);
    cleanup_path = path;
  }
  static std::once_flag started;
  std::call_once(started, [] {
    sigset_t signals;
    sigemptyset(&signals);
    for (int signal : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&signals, signal);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::thread(WatchSignals, signals).detach();
  });
}

void UninstallCleanup() {
  std::lock_guard<std::mutex> lock(cleanup_mutex);
  cleanup_path.clear();
}

absl::Status HostError(const std::string& what, const std::string& path) {
  return absl::InternalError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::Status WriteFile(const std::string& path, const std::string& content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return HostError("cannot create", path);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return HostError("cannot write", path);
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return absl::OkStatus();
}

absl::Status Fill(const std::string& root) {
  for (const char* dir : {"docs", "docs/notes", "src", "src/empty", "data"}) {
    std::string path = absl::StrCat(root, "/", dir);
    if (::mkdir(path.c_str(), 0755) != 0)
      return HostError("cannot create", path);
  }
  std::string numbers;
  for (int i = 1; i <= 100; ++i) absl::StrAppend(&numbers, i, "\n");
  const struct {
    const char* name;
    std::string content;
  } files[] = {
      {"README.txt",
       "This directory is a virtio-fs share. The guest sees it at /root,\n"
       "through the simulated device and the driver.\n"},
      {"docs/guide.txt",
       "Every file operation you make becomes FUSE requests on a virtqueue.\n"
       "Run with --trace to see them.\n"},
      {"docs/notes/todo.txt",
       "- read the trace\n- break a rule in strict mode\n"},
      {"src/main.c",
       "#include <stdio.h>\n\nint main(void) {\n  puts(\"hello, virtio-fs\");\n"
       "  return 0;\n}\n"},
      {"data/numbers.txt", numbers},
  };
  for (const auto& file : files) {
    absl::Status written =
        WriteFile(absl::StrCat(root, "/", file.name), file.content);
    if (!written.ok()) return written;
  }
  std::string link = absl::StrCat(root, "/link-to-guide");
  if (::symlink("docs/guide.txt", link.c_str()) != 0) {
    return HostError("cannot create", link);
  }
  return absl::OkStatus();
}

int RemoveEntry(const char* path, const struct stat*, int type, struct FTW*) {
  if (type == FTW_DP) {
    ::rmdir(path);
  } else {
    ::unlink(path);
  }
  return 0;
}

}  // namespace

void RemoveHostTree(const std::string& path) {
  nftw(path.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
}

absl::StatusOr<std::unique_ptr<SampleShare>> SampleShare::Create() {
  const char* tmpdir = getenv("TMPDIR");
  std::string pattern =
      absl::StrCat(tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp",
                   "/vfsim-share-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return HostError("cannot create a temporary share", pattern);
  }
  std::unique_ptr<SampleShare> share(new SampleShare(pattern));
  absl::Status filled = Fill(pattern);
  if (!filled.ok()) return filled;  // The destructor removes what was made.
  return share;
}

SampleShare::SampleShare(std::string path) : path_(std::move(path)) {
  InstallCleanup(path_);
}

SampleShare::~SampleShare() {
  UninstallCleanup();
  RemoveHostTree(path_);
}

}  // namespace cli
