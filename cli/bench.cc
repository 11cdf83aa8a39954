#include "cli/bench.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/abi.h"
#include "cli/commands.h"
#include "cli/guest_fs.h"
#include "vfs/posix.h"

namespace cli {
namespace {

constexpr size_t kChunk = 128 * 1024;
constexpr int kStatLoops = 5000;
constexpr int kCreateLoops = 500;

// The file operations a measurement makes, once through the VFS and once on
// the host: both return what the system call returns, negative on failure.
struct FileApi {
  std::function<int(const std::string&, int, uint32_t)> open;
  std::function<int64_t(int, void*, size_t)> read;
  std::function<int64_t(int, const void*, size_t)> write;
  std::function<int(int)> close;
  std::function<int(const std::string&)> stat;
  std::function<int(const std::string&)> unlink;
};

int HostResult(int64_t result) {
  return result < 0 ? -errno : static_cast<int>(result);
}

FileApi GuestApi() {
  return {
      [](const std::string& p, int f, uint32_t m) {
        return vfs::open(p.c_str(), f, m);
      },
      [](int fd, void* b, size_t n) { return vfs::read(fd, b, n); },
      [](int fd, const void* b, size_t n) { return vfs::write(fd, b, n); },
      [](int fd) { return vfs::close(fd); },
      [](const std::string& p) {
        vfs::Stat st;
        return vfs::stat(p.c_str(), &st);
      },
      [](const std::string& p) { return vfs::unlink(p.c_str()); },
  };
}

FileApi HostApi() {
  return {
      [](const std::string& p, int f, uint32_t m) {
        return HostResult(::open(p.c_str(), f | O_CLOEXEC, m));
      },
      [](int fd, void* b, size_t n) -> int64_t {
        ssize_t r = ::read(fd, b, n);
        return r < 0 ? -errno : r;
      },
      [](int fd, const void* b, size_t n) -> int64_t {
        ssize_t r = ::write(fd, b, n);
        return r < 0 ? -errno : r;
      },
      [](int fd) { return HostResult(::close(fd)); },
      [](const std::string& p) {
        struct stat st;
        return HostResult(::stat(p.c_str(), &st));
      },
      [](const std::string& p) { return HostResult(::unlink(p.c_str())); },
  };
}

// Seconds a measurement took, or the negative errno that stopped it.
struct Measured {
  double seconds = 0;
  int error = 0;
};

template <typename Body>
Measured Time(Body&& body) {
  auto start = std::chrono::steady_clock::now();
  int error = body();
  auto end = std::chrono::steady_clock::now();
  return {std::chrono::duration<double>(end - start).count(),
          error < 0 ? error : 0};
}

int WriteFile(const FileApi& api, const std::string& path, size_t bytes) {
  std::string chunk(kChunk, 'v');
  int fd = api.open(
      path, base::kOpenWriteOnly | base::kOpenCreate | base::kOpenTruncate,
      0644);
  if (fd < 0) return fd;
  for (size_t done = 0; done < bytes; done += kChunk) {
    int64_t n = api.write(fd, chunk.data(), kChunk);
    if (n < 0) {
      api.close(fd);
      return static_cast<int>(n);
    }
  }
  return api.close(fd);
}

int ReadFile(const FileApi& api, const std::string& path, size_t bytes) {
  std::string chunk(kChunk, '\0');
  int fd = api.open(path, base::kOpenReadOnly, 0);
  if (fd < 0) return fd;
  size_t total = 0;
  for (;;) {
    int64_t n = api.read(fd, chunk.data(), kChunk);
    if (n < 0) {
      api.close(fd);
      return static_cast<int>(n);
    }
    if (n == 0) break;
    total += static_cast<size_t>(n);
  }
  api.close(fd);
  return total == bytes ? 0 : -EIO;
}

int StatLoop(const FileApi& api, const std::string& path) {
  for (int i = 0; i < kStatLoops; ++i) {
    int result = api.stat(path);
    if (result < 0) return result;
  }
  return 0;
}

int CreateLoop(const FileApi& api, const std::string& dir) {
  for (int i = 0; i < kCreateLoops; ++i) {
    std::string path = absl::StrCat(dir, "/.vfsim-bench-", i);
    int fd = api.open(
        path, base::kOpenWriteOnly | base::kOpenCreate | base::kOpenExclusive,
        0644);
    if (fd < 0) return fd;
    api.close(fd);
    int result = api.unlink(path);
    if (result < 0) return result;
  }
  return 0;
}

std::string Cell(const Measured& m, double units, bool throughput) {
  if (m.error != 0) return ErrorText(m.error);
  if (throughput) return absl::StrFormat("%9.1f MB/s", units / m.seconds / 1e6);
  return absl::StrFormat("%9.2f us/op", m.seconds * 1e6 / units);
}

}  // namespace

int BenchCommand(const std::vector<std::string>& args, Session& session) {
  uint32_t mib = 16;
  if (args.size() > 2 ||
      (args.size() == 2 &&
       (!absl::SimpleAtoi(args[1], &mib) || mib < 1 || mib > 1024))) {
    return UsageError("bench", "MiB must be 1 to 1024", "bench [MiB]");
  }
  const size_t bytes = static_cast<size_t>(mib) << 20;
  const std::string guest_dir = session.mount_point();
  const std::string host_dir = session.options().share_dir;
  const std::string guest_file = guest_dir + "/.vfsim-bench";
  const std::string host_file = host_dir + "/.vfsim-bench-host";
  FileApi guest = GuestApi();
  FileApi host = HostApi();
  TraceRecorder& recorder = session.recorder();
  bool was_printing = recorder.printing();
  recorder.set_printing(false);

  printf(
      "bench: %u MiB in %zu KiB calls; share %s; %s, notify %s, "
      "entry/attr timeout %gs/%gs\n",
      mib, kChunk / 1024, host_dir.c_str(),
      session.options().transport == base::TransportKind::kPci ? "pci" : "mmio",
      session.options().notify_mode == sim::NotifyMode::kInline ? "inline"
                                                                : "thread",
      session.options().entry_timeout, session.options().attr_timeout);
  printf("%-28s %16s %16s %16s %14s\n", "operation", "through driver",
         "host directory", "FUSE requests", "hand-off/req");
  int status = kSuccess;
  auto row = [&](const std::string& label, double units, bool throughput,
                 const std::function<int(const FileApi&)>& body) {
    uint64_t before = recorder.stats().total();
    sim::RequestTimes times_before = session.request_times();
    Measured through = Time([&] { return body(guest); });
    uint64_t requests = recorder.stats().total() - before;
    std::optional<double> handoff =
        (session.request_times() - times_before).HandOffNanos();
    std::string handoff_cell =
        handoff.has_value() ? absl::StrFormat("%.2f us", *handoff / 1e3) : "-";
    Measured direct = Time([&] { return body(host); });
    std::string per_op =
        throughput
            ? absl::StrCat(requests)
            : absl::StrFormat("%.2f/op", static_cast<double>(requests) / units);
    printf("%-28s %16s %16s %16s %14s\n", label.c_str(),
           Cell(through, units, throughput).c_str(),
           Cell(direct, units, throughput).c_str(), per_op.c_str(),
           handoff_cell.c_str());
    fflush(stdout);
    if (through.error != 0 || direct.error != 0) status = kFailure;
  };
  row(absl::StrCat("sequential write ", mib, " MiB"),
      static_cast<double>(bytes), true, [&](const FileApi& api) {
        return WriteFile(api, &api == &guest ? guest_file : host_file, bytes);
      });
  row(absl::StrCat("sequential read ", mib, " MiB"), static_cast<double>(bytes),
      true, [&](const FileApi& api) {
        return ReadFile(api, &api == &guest ? guest_file : host_file, bytes);
      });
  row(absl::StrCat("stat x ", kStatLoops), kStatLoops, false,
      [&](const FileApi& api) {
        return StatLoop(api, &api == &guest ? guest_file : host_file);
      });
  row(absl::StrCat("create+close+unlink x ", kCreateLoops), kCreateLoops, false,
      [&](const FileApi& api) {
        return CreateLoop(api, &api == &guest ? guest_dir : host_dir);
      });
  vfs::unlink(guest_file.c_str());
  ::unlink(host_file.c_str());
  recorder.set_printing(was_printing);
  printf(
      "(MB/s = 10^6 bytes per second; the guest's requests go through the "
      "virtqueue to the same host directory. hand-off/req: what a request\n"
      "took between the driver and the device beyond the device's work, from "
      "the requests both timed; - when too few were.)\n");
  return status;
}

}  // namespace cli
