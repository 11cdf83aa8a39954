#include "bench/cpu_usage.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

namespace bench {
namespace {

double Seconds(clockid_t clock) {
  timespec now;
  clock_gettime(clock, &now);
  return static_cast<double>(now.tv_sec) + now.tv_nsec / 1e9;
}

}  // namespace

std::optional<CpuUsage> SampleCpuUsage() {
  FILE* stat = fopen("/proc/stat", "re");
  if (stat == nullptr) return std::nullopt;
  // "cpu  user nice system idle iowait irq softirq steal ...": all CPUs.
  unsigned long long user, nice, system, idle, iowait, irq, softirq, steal;
  const int fields =
      fscanf(stat, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice,
             &system, &idle, &iowait, &irq, &softirq, &steal);
  fclose(stat);
  const long ticks_per_second = sysconf(_SC_CLK_TCK);
  if (fields != 8 || ticks_per_second <= 0) return std::nullopt;
  CpuUsage usage;
  usage.machine_busy_seconds =
      static_cast<double>(user + nice + system + irq + softirq + steal) /
      ticks_per_second;
  usage.process_seconds = Seconds(CLOCK_PROCESS_CPUTIME_ID);
  usage.wall_seconds = Seconds(CLOCK_MONOTONIC);
  usage.cpus = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
  return usage;
}

double OthersCpuPercent(const CpuUsage& before, const CpuUsage& after) {
  const double wall = after.wall_seconds - before.wall_seconds;
  if (wall <= 0) return 0;
  const double others =
      (after.machine_busy_seconds - before.machine_busy_seconds) -
      (after.process_seconds - before.process_seconds);
  return std::max(0.0, 100 * others / (wall * after.cpus));
}

}  // namespace bench
