// How much CPU time other processes took while a benchmark ran: the
// machine's busy time over all CPUs (/proc/stat, in the kernel's clock ticks)
// less this process's CPU time, over what all CPUs had. A figure measured while
// a compiler or another benchmark ran measures them as well; the report names
// such rows.
#ifndef BENCH_CPU_USAGE_H_
#define BENCH_CPU_USAGE_H_

#include <optional>

namespace bench {

struct CpuUsage {
  double machine_busy_seconds = 0;  // All CPUs, since boot.
  double process_seconds = 0;       // This process's threads, ended ones too.
  double wall_seconds = 0;          // A monotonic clock.
  int cpus = 1;                     // Online: those /proc/stat sums.
};

// Now; none when /proc/stat cannot be read.
std::optional<CpuUsage> SampleCpuUsage();

// The share, in percent of all CPUs' time between `before` and `after`, that
// threads other than this process's took (kernel threads included): 0 and up.
// Ticks of 10 ms make it ±2 ticks a CPU: a row of 0.3 s on 2 CPUs reads a few
// percent when alone.
double OthersCpuPercent(const CpuUsage& before, const CpuUsage& after);

}  // namespace bench

#endif  // BENCH_CPU_USAGE_H_
