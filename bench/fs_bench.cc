// The file system benchmarks: every operation measured by the same code over
// four back ends on the same files (see bench/backends.h), in one run.
//
// Names are "<operation>/<back end>" (Google Benchmark appends "/real_time",
// "/threads:2" ...); bench/report.py groups them into one table. Times are
// wall-clock (UseRealTime): the FUSE server and the device thread work on
// other threads than the caller. With N threads the time is per operation of
// all N together (Google Benchmark divides by the iterations of all threads):
// the inverse of their throughput. Counters: see bench/harness.h. Workloads (ls
// -l, untar, find, git status): see bench/workloads.h.
//
// Flags besides Google Benchmark's:
//   --work_dir=DIR       where the share and mount points are made (default
//                        $TEST_TMPDIR, else /dev/shm, else $TMPDIR or /tmp);
//                        removed at exit
//   --stream_bytes=N     size of the streaming file (default 1 GiB)
// The JSON's context says in "row_order" whether the rows' repetitions ran
// interleaved in random order (--benchmark_enable_random_interleaving, as
// report.py's full run asks) or each row's together, in the order registered.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/backends.h"
#include "bench/harness.h"
#include "bench/share.h"
#include "bench/workloads.h"
#include "benchmark/benchmark.h"
#include "sim/fuse_connection_reaper.h"
#include "sim/kernel_fuse_mount.h"

namespace bench {
namespace {

int64_t g_stream_bytes = 1ll << 30;

void SeqRead(benchmark::State& state, Kind kind, size_t chunk) {
  Backend* b = Bring(state, kind);
  if (b == nullptr) return;
  const int fd = b->Open(b->Path(kDataPath).c_str(), O_RDONLY);
  if (fd < 0) return Fail(state, "open", fd);
  Buffer buffer(*b, chunk);
  int64_t bytes = 0;
  {
    RunCounters counters(state, *b);
    for (auto _ : state) {
      int64_t n = b->Read(fd, buffer.data(), chunk);
      if (n == 0) {  // End of file: start over, still one read per iteration.
        b->Lseek(fd, 0, SEEK_SET);
        n = b->Read(fd, buffer.data(), chunk);
      }
      if (n <= 0) {
        Fail(state, "read", n == 0 ? -EIO : n);
        break;
      }
      bytes += n;
    }
  }
  b->Close(fd);
  state.SetBytesProcessed(bytes);
}

void SeqWrite(benchmark::State& state, Kind kind, size_t chunk) {
  Backend* b = Bring(state, kind);
  if (b == nullptr) return;
  // Overwrites from offset 0 without truncating, wrapping at kWriteWrapBytes.
  const int fd = b->Open(b->Path(kWritePath).c_str(), O_WRONLY | O_CREAT, 0644);
  if (fd < 0) return Fail(state, "open", fd);
  Buffer buffer(*b, chunk);
  int64_t bytes = 0;
  int64_t offset = 0;
  {
    RunCounters counters(state, *b);
    for (auto _ : state) {
      if (offset + static_cast<int64_t>(chunk) > kWriteWrapBytes) {
        b->Lseek(fd, 0, SEEK_SET);
        offset = 0;
      }
      const int64_t n = b->Write(fd, buffer.data(), chunk);
      if (n <= 0) {
        Fail(state, "write", n == 0 ? -EIO : n);
        break;
      }
      bytes += n;
      offset += n;
    }
  }
  b->Close(fd);
  state.SetBytesProcessed(bytes);
}

void RandomPread(benchmark::State& state, Kind kind, size_t chunk,
                 base::RingFormat ring = base::RingFormat::kSplit) {
  Backend* b = Bring(state, kind, {.ring = ring});
  if (b == nullptr) return;
  const int fd = b->Open(b->Path(kDataPath).c_str(), O_RDONLY);
  if (fd < 0) return Fail(state, "open", fd);
  Buffer buffer(*b, chunk);
  std::mt19937_64 random(42);
  std::vector<int64_t> offsets(1 << 16);
  for (int64_t& o : offsets)
    o = static_cast<int64_t>(random() % (kDataFileBytes / chunk)) * chunk;
  int64_t bytes = 0;
  size_t next = 0;
  {
    RunCounters counters(state, *b);
    for (auto _ : state) {
      const int64_t n = b->Pread(fd, buffer.data(), chunk, offsets[next]);
      next = (next + 1) & (offsets.size() - 1);
      if (n <= 0) {
        Fail(state, "pread", n == 0 ? -EIO : n);
        break;
      }
      bytes += n;
    }
  }
  b->Close(fd);
  state.SetBytesProcessed(bytes);
}

// Every thread stats the same path; with caches off the simulated machines
// get a request queue per thread.
void StatPath(benchmark::State& state, Kind kind, bool caches) {
  Backend* b = Bring(
      state, kind,
      {.caches = caches,
       .request_queues = static_cast<uint16_t>(caches ? 1 : state.threads())});
  if (b == nullptr) return;
  const std::string path = b->Path(kStatPath);
  {
    RunCounters counters(state, *b);
    for (auto _ : state) {
      int64_t size = 0;
      const int r = b->Stat(path.c_str(), &size);
      if (r != 0 || size != 100) {
        Fail(state, "stat", r != 0 ? r : -EIO);
        break;
      }
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void OpenClose(benchmark::State& state, Kind kind,
               base::RingFormat ring = base::RingFormat::kSplit) {
  Backend* b = Bring(state, kind, {.ring = ring});
  if (b == nullptr) return;
  const std::string path = b->Path(kStatPath);
  {
    RunCounters counters(state, *b);
    for (auto _ : state) {
      const int fd = b->Open(path.c_str(), O_RDONLY);
      if (fd < 0) {
        Fail(state, "open", fd);
        break;
      }
      b->Close(fd);
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void CreateUnlink(benchmark::State& state, Kind kind) {
  Backend* b = Bring(state, kind);
  if (b == nullptr) return;
  const std::string path = b->Path(absl::StrCat(kCreateDir, "/created"));
  {
    RunCounters counters(state, *b);
    for (auto _ : state) {
      const int fd = b->Open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd < 0) {
        Fail(state, "create", fd);
        break;
      }
      b->Close(fd);
      const int r = b->Unlink(path.c_str());
      if (r != 0) {
        Fail(state, "unlink", r);
        break;
      }
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// One iteration lists the whole directory: open, getdents64 until 0, close.
void Getdents(benchmark::State& state, Kind kind, int entries,
              const BackendOptions& options = {}) {
  Backend* b = Bring(state, kind, options);
  if (b == nullptr) return;
  const std::string path = b->Path(ListingDir(entries));
  Buffer buffer(*b, kDirentBufferBytes);
  int64_t listed = 0;
  {
    RunCounters counters(state, *b);
    for (auto _ : state) {
      const int64_t seen = ListDirectory(*b, path.c_str(), buffer.data(),
                                         [](std::string_view, uint8_t) {});
      // Every file, plus "." and ".." where the file system reports them.
      if (seen < entries || seen > entries + 2) {
        Fail(state, "getdents64", seen < 0 ? seen : -EIO);
        break;
      }
      listed += seen;
    }
  }
  state.SetItemsProcessed(listed);
}

// Each of the benchmark's threads reads its own part of the data file (the
// file split in as many parts as threads) with pread, all on the same back end
// at once. The simulated machines get a request queue per thread. The reads
// stride through the part (kStrideChunks chunks on, wrapping around: odd, so
// every chunk of a part of 2^k chunks is read once per pass), so that no
// read-ahead serves them and each read on a simulated machine is a request:
// these rows measure requests served in parallel. Each thread reads its part
// once untimed first: a kernel FUSE mount keeps file data in the page cache,
// and a short run would otherwise measure it half filled.
void ParallelRead(benchmark::State& state, Kind kind, size_t chunk) {
  constexpr int64_t kStrideChunks = 7919;
  Backend* b = Bring(
      state, kind, {.request_queues = static_cast<uint16_t>(state.threads())});
  if (b == nullptr) return;
  const int fd = b->Open(b->Path(kDataPath).c_str(), O_RDONLY);
  if (fd < 0) return Fail(state, "open", fd);
  Buffer buffer(*b, chunk);
  const int64_t part = kDataFileBytes / state.threads();
  const int64_t begin = part * state.thread_index();
  for (int64_t at = 0; at + static_cast<int64_t>(chunk) <= part; at += chunk) {
    const int64_t n = b->Pread(fd, buffer.data(), chunk, begin + at);
    if (n <= 0) {
      b->Close(fd);
      return Fail(state, "pread", n == 0 ? -EIO : n);
    }
  }
  const int64_t chunks = part / static_cast<int64_t>(chunk);
  int64_t index = 0;
  int64_t bytes = 0;
  {
    RunCounters counters(state, *b);
    for (auto _ : state) {
      const int64_t n = b->Pread(fd, buffer.data(), chunk,
                                 begin + index * static_cast<int64_t>(chunk));
      if (n <= 0) {
        Fail(state, "pread", n == 0 ? -EIO : n);
        break;
      }
      bytes += n;
      index = (index + kStrideChunks) % chunks;
    }
  }
  b->Close(fd);
  state.SetBytesProcessed(bytes);
}

// Reads the whole streaming file with 1 MiB calls: the peak resident memory
// shows whether anything on the way holds on to what went through.
void Stream(benchmark::State& state, Kind kind) {
  if (absl::Status s =
          EnsureStreamFile(GetBackends().share_dir(), g_stream_bytes);
      !s.ok()) {
    state.SkipWithError(std::string(s.message()).c_str());
    return;
  }
  Backend* b = Bring(state, kind);
  if (b == nullptr) return;
  constexpr size_t kChunk = 1 << 20;
  Buffer buffer(*b, kChunk);
  int64_t bytes = 0;
  {
    RunCounters counters(state, *b);
    for (auto _ : state) {
      const int fd = b->Open(b->Path(kStreamPath).c_str(), O_RDONLY);
      if (fd < 0) {
        Fail(state, "open", fd);
        break;
      }
      int64_t total = 0;
      int64_t n;
      while ((n = b->Read(fd, buffer.data(), kChunk)) > 0) total += n;
      b->Close(fd);
      if (n < 0 || total != g_stream_bytes) {
        Fail(state, "read", n < 0 ? n : -EIO);
        break;
      }
      bytes += total;
    }
  }
  state.SetBytesProcessed(bytes);
}

std::string SizeName(size_t bytes) {
  return bytes >= (1 << 20) ? absl::StrCat(bytes >> 20, "MiB")
                            : absl::StrCat(bytes >> 10, "KiB");
}

// "<n>thread" or "<n>threads".
std::string ThreadsName(int threads) {
  return absl::StrCat(threads, threads == 1 ? "thread" : "threads");
}

constexpr Kind kSimKinds[] = {Kind::kSimInline, Kind::kSimThread};

// Registers `op` on each back end of `kinds`, one right after the other, and
// returns the rows. The VM this project is measured on runs faster or slower
// for seconds to minutes at a time (the host's create+unlink took 8.3 us in
// one run and 12.3 us in the next): a ratio holds best between rows measured
// close together, so every operation's rows sit side by side rather than each
// back end's rows together.
template <typename Run>
std::vector<benchmark::internal::Benchmark*> RegisterSideBySide(
    const std::string& op, Run run, std::span<const Kind> kinds = kAllKinds) {
  std::vector<benchmark::internal::Benchmark*> rows;
  for (Kind kind : kinds) {
    rows.push_back(
        benchmark::RegisterBenchmark((op + "/" + KindName(kind)).c_str(),
                                     [=](benchmark::State& s) { run(s, kind); })
            ->UseRealTime());
  }
  return rows;
}

// Registers every operation on the back ends, grouped by how a simulated
// machine is booted for them (ring format, request queues, caches): it is
// rebooted when a row needs other options or the other notify mode.
// Caches-off runs come last.
void RegisterOperations() {
  for (size_t chunk : {4 << 10, 64 << 10, 1 << 20}) {
    RegisterSideBySide(
        "seq_read_" + SizeName(chunk),
        [=](benchmark::State& s, Kind kind) { SeqRead(s, kind, chunk); });
  }
  for (size_t chunk : {4 << 10, 64 << 10, 1 << 20}) {
    RegisterSideBySide(
        "seq_write_" + SizeName(chunk),
        [=](benchmark::State& s, Kind kind) { SeqWrite(s, kind, chunk); });
  }
  RegisterSideBySide("rand_pread_4KiB", [](benchmark::State& s, Kind kind) {
    RandomPread(s, kind, 4 << 10);
  });
  RegisterSideBySide("stat_cached", [](benchmark::State& s, Kind kind) {
    StatPath(s, kind, true);
  });
  RegisterSideBySide(
      "open_close", [](benchmark::State& s, Kind kind) { OpenClose(s, kind); });
  RegisterSideBySide("create_unlink", CreateUnlink);
  for (int entries : {10, 1000, 10000}) {
    RegisterSideBySide(
        absl::StrCat("getdents64_", entries),
        [=](benchmark::State& s, Kind kind) { Getdents(s, kind, entries); });
  }
  RegisterSideBySide("ls_l_1000", LsL);
  RegisterSideBySide("untar_1000", Untar);
  RegisterSideBySide("find_tree", FindTree);
  RegisterSideBySide("git_status_tree", GitStatusTree);
  for (auto* row : RegisterSideBySide("stream_1GiB", Stream)) {
    row->Iterations(1);
  }
  // The same two rows on packed virtqueues (VIRTIO_F_RING_PACKED).
  RegisterSideBySide(
      "rand_pread_4KiB_packed",
      [](benchmark::State& s, Kind kind) {
        RandomPread(s, kind, 4 << 10, base::RingFormat::kPacked);
      },
      kSimKinds);
  RegisterSideBySide(
      "open_close_packed",
      [](benchmark::State& s, Kind kind) {
        OpenClose(s, kind, base::RingFormat::kPacked);
      },
      kSimKinds);
  // Listing 10 entries where the device lets listings be kept (FOPEN_CACHE_DIR,
  // cache=always): the VFS serves the repeats.
  RegisterSideBySide(
      "getdents64_10_kept",
      [](benchmark::State& s, Kind kind) {
        Getdents(s, kind, 10, {.data_caching = sim::DataCaching::kAlways});
      },
      kSimKinds);
  // Scaling: the same reads on 1, 2 and 4 threads.
  for (int threads : {1, 2, 4}) {
    for (size_t chunk : {4 << 10, 64 << 10}) {
      auto read = [=](benchmark::State& s, Kind kind) {
        ParallelRead(s, kind, chunk);
      };
      const std::string op =
          absl::StrCat("read_", ThreadsName(threads), "_", SizeName(chunk));
      for (auto* row : RegisterSideBySide(op, read)) row->Threads(threads);
    }
  }
  // And the same stat, with caches off (a request per component) and on (the
  // VFS's walk alone; one thread's row is stat_cached, registered above).
  for (bool caches : {false, true}) {
    for (int threads : {1, 2, 4}) {
      if (caches && threads == 1) continue;
      auto stat = [caches](benchmark::State& s, Kind kind) {
        StatPath(s, kind, caches);
      };
      const std::string kind = caches ? "stat_cached" : "stat_uncached";
      const std::string op =
          threads == 1 ? kind : absl::StrCat(kind, "_", ThreadsName(threads));
      for (auto* row : RegisterSideBySide(op, stat)) row->Threads(threads);
    }
  }
}

// Whether Google Benchmark's --benchmark_enable_random_interleaving is on in
// argv (it keeps its flags to itself): the report words the round trips it
// measured "at the start" and "at the end" by it.
bool RowsInterleaved(int argc, char** argv) {
  constexpr std::string_view kFlag = "--benchmark_enable_random_interleaving";
  bool on = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (!arg.starts_with(kFlag)) continue;
    const std::string_view value = arg.substr(kFlag.size());
    on = value.empty() || value == "=true" || value == "=1";
  }
  return on;
}

// Removes "--name=value" from argv; true with the value when present.
bool TakeFlag(int* argc, char** argv, const char* name, std::string* value) {
  const std::string prefix = absl::StrCat("--", name, "=");
  for (int i = 1; i < *argc; ++i) {
    if (absl::StartsWith(argv[i], prefix)) {
      *value = argv[i] + prefix.size();
      for (int j = i; j + 1 < *argc; ++j) argv[j] = argv[j + 1];
      --*argc;
      return true;
    }
  }
  return false;
}

// The cross-CPU round trips of a request's cache lines on each ring format,
// as rows "split_ring_round_trip<suffix>/host" and its packed kin.
void RegisterCrossCpuRoundTrips(const std::string& suffix) {
  benchmark::RegisterBenchmark(
      ("split_ring_round_trip" + suffix + "/host").c_str(), CrossCpuRoundTrip,
      kSplitRingRequestLines, kSplitRingReplyLines)
      ->UseRealTime();
  benchmark::RegisterBenchmark(
      ("packed_ring_round_trip" + suffix + "/host").c_str(), CrossCpuRoundTrip,
      kPackedRingRequestLines, kPackedRingReplyLines)
      ->UseRealTime();
}

void OnSignal(int sig) {
  sim::DetachAllFuseMounts();
  _exit(128 + sig);
}

// The device holds a descriptor per inode the guest knows (as virtiofsd
// does), and the workloads know tens of thousands: the limit goes as high as
// the host allows (fs.nr_open when privileged, the hard limit otherwise), as
// virtiofsd raises its own.
void RaiseOpenFileLimit() {
  rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) != 0) return;
  if (FILE* f = std::fopen("/proc/sys/fs/nr_open", "r")) {
    unsigned long nr_open = 0;
    if (std::fscanf(f, "%lu", &nr_open) == 1 && nr_open > files.rlim_max) {
      const rlimit raised{nr_open, nr_open};
      if (setrlimit(RLIMIT_NOFILE, &raised) == 0) files = raised;
    }
    std::fclose(f);
  }
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);
}

// A test's own directory; else tmpfs when there is one: a disk file system's
// own history would decide the rows that create files (ext4 without a journal
// skips every inode deleted in the last minutes when it allocates one, so
// whichever back end runs after many deletions pays for them: untar_1000/host
// took 25 ms in one run and 117-187 ms in the next on the machine this was
// written on), and the host's calls are the limit to measure against, not the
// disk's.
std::string DefaultWorkDir() {
  if (const char* v = getenv("TEST_TMPDIR"); v != nullptr && *v != '\0') {
    return v;
  }
  struct stat st;
  if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode)) return "/dev/shm";
  if (const char* v = getenv("TMPDIR"); v != nullptr && *v != '\0') return v;
  return "/tmp";
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  // The kernel FUSE back end's mounts serve this process only: whichever way
  // it ends (a timeout's SIGKILL included), they go with it.
  if (absl::Status isolated = sim::KeepMountsInThisProcess(); !isolated.ok()) {
    std::fprintf(stderr, "fsbench: FUSE mounts are seen outside (%s)\n",
                 isolated.ToString().c_str());
  }
  if (absl::Status reaper = sim::StartFuseConnectionReaper(); !reaper.ok()) {
    std::fprintf(stderr,
                 "fsbench: killed during a FUSE row, it may not end (%s)\n",
                 reaper.ToString().c_str());
  }
  std::string work_parent = bench::DefaultWorkDir();
  std::string value;
  bench::TakeFlag(&argc, argv, "work_dir", &work_parent);
  if (bench::TakeFlag(&argc, argv, "stream_bytes", &value) &&
      (!absl::SimpleAtoi(value, &bench::g_stream_bytes) ||
       bench::g_stream_bytes <= 0)) {
    std::fprintf(stderr, "fsbench: bad --stream_bytes=%s\n", value.c_str());
    return 2;
  }
  const bool interleaved = bench::RowsInterleaved(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;

  std::string work_dir = work_parent + "/fsbench-XXXXXX";
  if (mkdtemp(work_dir.data()) == nullptr) {
    std::perror("fsbench: mkdtemp");
    return 1;
  }
  bench::RaiseOpenFileLimit();
  signal(SIGINT, bench::OnSignal);
  signal(SIGTERM, bench::OnSignal);
  absl::StatusOr<std::unique_ptr<bench::Backends>> backends =
      bench::Backends::Create(work_dir);
  if (!backends.ok()) {
    std::fprintf(stderr, "fsbench: %s\n",
                 std::string(backends.status().message()).c_str());
    bench::RemoveTree(work_dir);
    return 1;
  }
  bench::SetBackends(backends->get());
  benchmark::AddCustomContext(
      "io_buffers", "sim back ends: guest memory (SimPlatform::AllocateDma)");
#if defined(__OPTIMIZE__) && defined(FSBENCH_LTO)
  benchmark::AddCustomContext("fsbench_build", "optimized, link-time");
#elif defined(__OPTIMIZE__)
  benchmark::AddCustomContext("fsbench_build", "optimized");
#else
  benchmark::AddCustomContext("fsbench_build", "not optimized");
#endif
  benchmark::AddCustomContext("fuse_server",
                              "sim::PassthroughFs, fuse_session_loop_mt");
  benchmark::AddCustomContext("row_order",
                              interleaved ? "interleaved" : "as registered");
  bench::RegisterCrossCpuRoundTrips("");
  benchmark::RegisterBenchmark("same_cpu_switch_round_trip/host",
                               bench::SameCpuSwitchRoundTrip)
      ->UseRealTime();
  bench::RegisterOperations();
  // Again at the end (anywhere, when the repetitions are interleaved): a VM's
  // hypervisor may move its CPUs closer together or further apart during the
  // run (on the VM this was written on, the split ring's round trip was
  // ~200 ns or ~900 ns from one minute to the next).
  bench::RegisterCrossCpuRoundTrips("_end");
  benchmark::RunSpecifiedBenchmarks();
  bench::SetBackends(nullptr);
  backends->reset();
  bench::RemoveTree(work_dir);
  benchmark::Shutdown();
  return 0;
}
