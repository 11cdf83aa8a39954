#include "bench/harness.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "bench/memory_usage.h"
#include "sim/cpu_relax.h"

namespace bench {
namespace {

Backends* g_backends = nullptr;

}  // namespace

void SetBackends(Backends* backends) { g_backends = backends; }
Backends& GetBackends() { return *g_backends; }

Backend* Bring(benchmark::State& state, Kind kind,
               const BackendOptions& options) {
  absl::StatusOr<Backend*> backend = g_backends->Get(kind, options);
  if (!backend.ok()) {
    const std::string why = absl::StrCat(
        absl::IsUnavailable(backend.status()) ? "skipped: " : "failed: ",
        backend.status().message());
    state.SkipWithError(why.c_str());
    return nullptr;
  }
  return *backend;
}

void Fail(benchmark::State& state, const char* what, int64_t result) {
  const std::string why =
      absl::StrCat(what, " failed: ", std::strerror(static_cast<int>(-result)));
  state.SkipWithError(why.c_str());
}

Buffer::Buffer(Backend& backend, size_t size)
    : backend_(backend), size_(size), data_(backend.AllocateBuffer(size)) {
  if (data_ != nullptr) std::memset(data_, 0x5a, size);
}

Buffer::~Buffer() { backend_.FreeBuffer(data_, size_); }

RunCounters::RunCounters(benchmark::State& state, Backend& backend)
    : state_(state),
      backend_(backend),
      counts_requests_(backend.FuseRequests() >= 0),
      counts_host_calls_(backend.ServedByPassthrough()),
      times_requests_(backend.SampledRequestTimes().has_value()) {
  if (!recording()) return;
  if (std::optional<base::RingFormat> ring = HandOffRing()) {
    round_trip_before_ns_ = CrossCpuRoundTripNanos(*ring);
  }
  // After the round trip, whose partner thread must not inherit the pin.
  if (state_.threads() == 1) on_fastest_cpu_.emplace();
  ResetPeakResident();
  cpu_at_start_ = SampleCpuUsage();
  start_ = Now();
}

RunCounters::~RunCounters() {
  if (!recording()) return;
  const Totals spent = Now() - start_ - excluded_;
  const std::optional<CpuUsage> cpu_at_end = SampleCpuUsage();
  auto per_op = [](double value) {
    return benchmark::Counter(value, benchmark::Counter::kAvgIterations);
  };
  if (counts_requests_) {
    state_.counters["fuse_req_per_op"] =
        per_op(static_cast<double>(spent.requests));
    state_.counters["posted_req_per_op"] =
        per_op(static_cast<double>(spent.posted));
    state_.counters["overtaken_req_per_op"] =
        per_op(static_cast<double>(spent.overtaken));
  }
  if (counts_host_calls_) {
    state_.counters["host_calls_per_op"] =
        per_op(static_cast<double>(spent.host.calls));
    state_.counters["host_call_ns_per_op"] =
        per_op(static_cast<double>(spent.host.nanos()));
  }
  if (std::optional<double> handoff = spent.times.HandOffNanos()) {
    state_.counters["handoff_ns_per_req"] = *handoff;
  }
  if (cpu_at_start_ && cpu_at_end) {
    state_.counters["others_cpu_pct"] =
        OthersCpuPercent(*cpu_at_start_, *cpu_at_end);
  }
  state_.counters["peak_rss_MiB"] =
      static_cast<double>(PeakResidentBytes()) / (1 << 20);
  if (on_fastest_cpu_) {
    state_.counters["cpu_spread"] = on_fastest_cpu_->spread();
    on_fastest_cpu_.reset();
  }
  if (std::optional<base::RingFormat> ring = HandOffRing()) {
    std::optional<double> least = round_trip_before_ns_;
    const std::optional<double> after = CrossCpuRoundTripNanos(*ring);
    if (after && (!least || *after < *least)) least = after;
    if (least) state_.counters["round_trip_ns"] = *least;
  }
}

std::optional<base::RingFormat> RunCounters::HandOffRing() const {
  if (state_.threads() != 1) return std::nullopt;
  return backend_.DeviceThreadRing();
}

void RunCounters::PauseTiming() {
  state_.PauseTiming();
  if (recording()) paused_at_ = Now();
}

void RunCounters::ResumeTiming() {
  if (recording()) excluded_ += Now() - paused_at_;
  state_.ResumeTiming();
}

RunCounters::Totals RunCounters::Now() const {
  Totals totals;
  if (counts_requests_) {
    totals.requests = backend_.FuseRequests();
    totals.posted = backend_.PostedFuseRequests();
    totals.overtaken = backend_.OvertakenFuseRequests();
  }
  if (counts_host_calls_) totals.host = sim::ProcessHostCalls();
  if (times_requests_) totals.times = *backend_.SampledRequestTimes();
  return totals;
}

RunCounters::Totals RunCounters::Totals::operator-(
    const Totals& earlier) const {
  return {requests - earlier.requests, posted - earlier.posted,
          overtaken - earlier.overtaken, host - earlier.host,
          times - earlier.times};
}

RunCounters::Totals& RunCounters::Totals::operator+=(const Totals& more) {
  requests += more.requests;
  posted += more.posted;
  overtaken += more.overtaken;
  host += more.host;
  times += more.times;
  return *this;
}

int64_t ListDirectory(
    Backend& backend, const char* path, void* buffer,
    absl::FunctionRef<void(std::string_view name, uint8_t type)> on_entry) {
  const int fd = backend.Open(path, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return fd;
  const char* p = static_cast<const char*>(buffer);
  // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1),
  // d_name (NUL-terminated, padded to d_reclen).
  constexpr int64_t kNameAt = 19;
  int64_t seen = 0;
  for (;;) {
    const int64_t n = backend.Getdents64(fd, buffer, kDirentBufferBytes);
    if (n <= 0) {
      if (n < 0) seen = n;
      break;
    }
    int64_t at = 0;
    while (at + kNameAt < n) {
      uint16_t reclen;
      std::memcpy(&reclen, p + at + 16, sizeof(reclen));
      if (reclen <= kNameAt || at + reclen > n) break;
      on_entry(std::string_view(p + at + kNameAt,
                                strnlen(p + at + kNameAt, reclen - kNameAt)),
               static_cast<uint8_t>(p[at + 18]));
      at += reclen;
      ++seen;
    }
    if (at != n) {  // A record that does not fit the reply.
      seen = -EIO;
      break;
    }
  }
  backend.Close(fd);
  return seen;
}

namespace {

// The most cache lines a request or a reply of HandOffRoundTrips has.
constexpr int kMaxHandOffLines = 8;

// Round trips, while `next()` says so, of the calling thread handing a request
// to a partner thread and waiting for the reply, each side calling `wait`
// between looks. The request is `lines_there` cache lines, the first the flag
// the partner watches, each holding where the next is, so that the partner
// reads them one after another; the reply is `lines_back` lines, the first the
// flag the caller watches, the rest read after it (1 to kMaxHandOffLines
// each). The partner is made here, before the first `next()`: it inherits the
// caller's CPUs.
template <typename Next, typename Wait>
void HandOffRoundTrips(Next next, int lines_there, int lines_back, Wait wait) {
  struct alignas(64) Line {
    std::atomic<uint64_t> value{0};
    std::atomic<uint32_t> next{0};  // The request's next line, or 0.
  };
  Line there[kMaxHandOffLines], back[kMaxHandOffLines];
  std::atomic<bool> stop{false};
  std::thread partner([&] {
    uint64_t seen = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      const uint64_t v = there[0].value.load(std::memory_order_acquire);
      if (v == seen) {
        wait();
        continue;
      }
      seen = v;
      uint64_t sum = v;
      for (uint32_t at = there[0].next.load(std::memory_order_relaxed); at != 0;
           at = there[at].next.load(std::memory_order_relaxed)) {
        sum += there[at].value.load(std::memory_order_relaxed);
      }
      for (int i = 1; i < lines_back; ++i) {
        back[i].value.store(sum, std::memory_order_relaxed);
      }
      back[0].value.store(v, std::memory_order_release);
    }
  });
  uint64_t n = 0;
  uint64_t sum = 0;
  while (next()) {
    ++n;
    for (int i = 1; i < lines_there; ++i) {
      there[i].value.store(n, std::memory_order_relaxed);
      there[i].next.store(i + 1 < lines_there ? i + 1 : 0,
                          std::memory_order_relaxed);
    }
    there[0].next.store(lines_there > 1 ? 1 : 0, std::memory_order_relaxed);
    there[0].value.store(n, std::memory_order_release);
    while (back[0].value.load(std::memory_order_acquire) != n) wait();
    for (int i = 1; i < lines_back; ++i) {
      sum += back[i].value.load(std::memory_order_relaxed);
    }
  }
  benchmark::DoNotOptimize(sum);
  stop.store(true, std::memory_order_relaxed);
  partner.join();
}

}  // namespace

void CrossCpuRoundTrip(benchmark::State& state, int lines_there,
                       int lines_back) {
  if (lines_there < 1 || lines_back < 1 || lines_there > kMaxHandOffLines ||
      lines_back > kMaxHandOffLines) {
    state.SkipWithError("a request or reply of 1 to 8 lines");
    return;
  }
  HandOffRoundTrips([&] { return state.KeepRunning(); }, lines_there,
                    lines_back, [] { sim::CpuRelax(); });
}

std::optional<double> CrossCpuRoundTripNanos(base::RingFormat ring) {
  const bool packed = ring == base::RingFormat::kPacked;
  using Clock = std::chrono::steady_clock;
  // One trip more than timed: the first waits for the partner thread to start,
  // and the clock stops before it is joined.
  Clock::time_point start, end;
  int trips = 0;
  bool over_budget = false;
  HandOffRoundTrips(
      [&] {
        if (trips == 1) start = Clock::now();
        if (trips == kRoundTripProbeTrips + 1) end = Clock::now();
        if (trips % 256 == 255 &&
            Clock::now() - start > kRoundTripProbeBudget) {
          over_budget = true;
          return false;
        }
        return trips++ <= kRoundTripProbeTrips;
      },
      packed ? kPackedRingRequestLines : kSplitRingRequestLines,
      packed ? kPackedRingReplyLines : kSplitRingReplyLines,
      [] { sim::CpuRelax(); });
  if (over_budget) return std::nullopt;
  return std::chrono::duration<double, std::nano>(end - start).count() /
         kRoundTripProbeTrips;
}

void SameCpuSwitchRoundTrip(benchmark::State& state) {
  cpu_set_t one_cpu;
  CPU_ZERO(&one_cpu);
  CPU_SET(sched_getcpu(), &one_cpu);
  cpu_set_t before;
  pthread_getaffinity_np(pthread_self(), sizeof(before), &before);
  pthread_setaffinity_np(pthread_self(), sizeof(one_cpu), &one_cpu);
  HandOffRoundTrips([&] { return state.KeepRunning(); }, 1, 1,
                    [] { sched_yield(); });
  pthread_setaffinity_np(pthread_self(), sizeof(before), &before);
}

}  // namespace bench
