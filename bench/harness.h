// What every benchmark of fs_bench shares: the back ends of the run, the
// buffers and counters of one benchmark, and the walk over a getdents64
// reply.
//
// Counters a benchmark's RunCounters records (per iteration; thread 0 takes
// them, over the work of all threads):
//   fuse_req_per_op      FUSE requests the simulated device processed (sim
//                        back ends only)
//   posted_req_per_op    of those, the ones the driver posted without waiting
//                        (FORGET, a last close's RELEASE)
//   overtaken_req_per_op of those, the ones the device handled after a
//                        request sent later (sim::kHoldPostedNanos)
//   host_calls_per_op    host system calls the passthrough handlers made
//                        (sim::ProcessHostCalls; fuse and sim back ends)
//   host_call_ns_per_op  the time spent in them, in ns
//   handoff_ns_per_req   what a FUSE request costs between the driver and
//                        the device beyond the device's work, in ns
//                        (sim::RequestTimes::HandOffNanos; sim back ends)
//   round_trip_ns        a request's ring lines handed to a thread on
//                        another CPU and the reply's back
//                        (CrossCpuRoundTripNanos), the smaller of just before
//                        and just after the run: the least a request costs a
//                        device thread on this machine while the row ran
//                        (one-thread rows of back ends with a device thread
//                        only; none when neither probe finished in its budget)
//   others_cpu_pct       CPU time other processes (and kernel threads) took
//                        during the run, in % of all CPUs' time (cpu_usage.h)
//   peak_rss_MiB         the process's peak resident memory during the
//                        benchmark (VmHWM, reset before each run)
//   cpu_spread           the slowest CPU's time for a step over the fastest's,
//                        measured just before the run; the row's thread runs
//                        on the fastest (OnFastestCpu; one-thread rows only)
#ifndef BENCH_HARNESS_H_
#define BENCH_HARNESS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "base/platform.h"
#include "bench/backend.h"
#include "bench/backends.h"
#include "bench/cpu_usage.h"
#include "bench/fastest_cpu.h"
#include "benchmark/benchmark.h"
#include "sim/host_calls.h"

namespace bench {

// The back ends of this run (set by main before the benchmarks run).
void SetBackends(Backends* backends);
Backends& GetBackends();

// Buffer size of each getdents64 call: glibc's readdir uses 32 KiB.
inline constexpr size_t kDirentBufferBytes = 32 << 10;

// The back end for this benchmark, or null after marking the benchmark
// skipped with the reason.
Backend* Bring(benchmark::State& state, Kind kind,
               const BackendOptions& options = {});

// Marks the benchmark failed by a call that returned `result` < 0.
void Fail(benchmark::State& state, const char* what, int64_t result);

// A buffer of the back end for the benchmark's data, freed on scope exit.
class Buffer {
 public:
  Buffer(Backend& backend, size_t size);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  void* data() const { return data_; }

 private:
  Backend& backend_;
  size_t size_;
  void* data_;
};

// The counters of one benchmark run (see above), recorded when it goes out of
// scope: construct it just before the timed loop.
class RunCounters {
 public:
  RunCounters(benchmark::State& state, Backend& backend);
  ~RunCounters();
  RunCounters(const RunCounters&) = delete;
  RunCounters& operator=(const RunCounters&) = delete;

  // Stop and restart the clock around work inside the loop that is not the
  // operation measured (clean-up, dropping caches): its FUSE requests and
  // host calls do not count either.
  void PauseTiming();
  void ResumeTiming();

 private:
  struct Totals {
    int64_t requests = 0;
    int64_t posted = 0;
    int64_t overtaken = 0;
    sim::HostCallTotals host;
    sim::RequestTimes times;

    Totals operator-(const Totals& earlier) const;
    Totals& operator+=(const Totals& more);
  };
  Totals Now() const;
  bool recording() const { return state_.thread_index() == 0; }
  // A one-thread run of a back end whose device has a thread of its own.
  std::optional<base::RingFormat> HandOffRing() const;

  benchmark::State& state_;
  Backend& backend_;
  const bool counts_requests_;
  const bool counts_host_calls_;
  const bool times_requests_;
  Totals start_;
  Totals paused_at_;
  Totals excluded_;                             // Counted while paused.
  std::optional<double> round_trip_before_ns_;  // When HandOffRing.
  std::optional<CpuUsage> cpu_at_start_;
  std::optional<OnFastestCpu> on_fastest_cpu_;  // One-thread rows.
};

// Opens the directory `path`, reads it with getdents64 until the end (into
// `buffer`, kDirentBufferBytes, of the back end) and closes it, calling
// `on_entry` with each entry's name and d_type, "." and ".." included.
// Returns the entries seen, or the negative errno of the call that failed.
int64_t ListDirectory(
    Backend& backend, const char* path, void* buffer,
    absl::FunctionRef<void(std::string_view name, uint8_t type)> on_entry);

// One iteration: the benchmark's thread hands a request to a thread spinning
// on another CPU and waits for the reply: `lines_there` cache lines the other
// thread reads one after another, each found through the one before, and
// `lines_back` lines the benchmark's thread reads after the first. With a
// virtqueue's lines, the least a request handed to a device thread can cost
// over one handled in the caller's thread, on this machine.
void CrossCpuRoundTrip(benchmark::State& state, int lines_there,
                       int lines_back);
// The lines that must cross for one FUSE request, the device reading each
// only once it has read the one before: on a split ring its avail index
// (with the ring entry) and the request head; back, the used ring's index
// (with the element) and the reply head. The descriptors stay put for a
// driver that reuses its chain's: driver::SplitQueue stores a descriptor or
// an avail entry, and sim::SplitDeviceQueue a used element, only when it
// changes, and a synchronous caller takes the same ones every time. On a
// packed ring, whose descriptors move to new slots with every chain, a
// descriptor and a head each way.
inline constexpr int kSplitRingRequestLines = 2;
inline constexpr int kSplitRingReplyLines = 2;
inline constexpr int kPackedRingRequestLines = 2;
inline constexpr int kPackedRingReplyLines = 2;

// The same round trip as CrossCpuRoundTrip with the lines of a request and
// its reply on `ring`, run kRoundTripProbeTrips times outside any benchmark:
// ns per round trip; none when they take longer than kRoundTripProbeBudget
// (~15 ms here): two spinning threads then wait out other threads' time
// slices, which is what the figure would measure (two TSan runs of fs_bench
// side by side, each probe 27-30 s).
inline constexpr int kRoundTripProbeTrips = 20000;
inline constexpr std::chrono::milliseconds kRoundTripProbeBudget{500};
std::optional<double> CrossCpuRoundTripNanos(base::RingFormat ring);

// One iteration: a hand-off of one line each way between two threads pinned
// to one CPU, each yielding it while it waits: two thread switches. What a
// request costs a thread that gives its CPU to the device thread that serves
// it and gets it back, where it cannot do the device's work itself
// (sim::VirtioDeviceModel::ProcessForWaiter).
void SameCpuSwitchRoundTrip(benchmark::State& state);

}  // namespace bench

#endif  // BENCH_HARNESS_H_
