#include "cli/request_stats.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace cli {
namespace {

// The nearest-rank percentile of sorted values.
uint64_t Percentile(const std::vector<uint64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(p / 100.0 * sorted.size() + 0.999999);
  if (rank < 1) rank = 1;
  if (rank > sorted.size()) rank = sorted.size();
  return sorted[rank - 1];
}

double Micros(uint64_t nanos) { return static_cast<double>(nanos) / 1e3; }

}  // namespace

void RequestStats::Add(const sim::FuseTraceEvent& event) {
  auto [it, inserted] = by_opcode_.try_emplace(event.opcode);
  if (inserted) it->second.order = by_opcode_.size();
  it->second.latencies_nanos.push_back(event.latency_nanos);
  if (event.replied && event.error != 0) ++it->second.errors;
}

uint64_t RequestStats::total() const {
  uint64_t total = 0;
  for (const auto& [opcode, stats] : by_opcode_) {
    total += stats.latencies_nanos.size();
  }
  return total;
}

uint64_t RequestStats::count(uint32_t opcode) const {
  auto it = by_opcode_.find(opcode);
  return it == by_opcode_.end() ? 0 : it->second.latencies_nanos.size();
}

std::string RequestStats::Summary() const {
  std::vector<std::pair<uint64_t, uint32_t>> order;
  for (const auto& [opcode, stats] : by_opcode_) {
    order.emplace_back(stats.order, opcode);
  }
  std::sort(order.begin(), order.end());
  std::string out;
  for (const auto& [unused, opcode] : order) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", sim::FuseOpcodeName(opcode),
                    " ", by_opcode_.at(opcode).latencies_nanos.size());
  }
  return out.empty() ? "none" : out;
}

std::string RequestStats::Table() const {
  std::vector<std::pair<uint32_t, std::vector<uint64_t>>> rows;
  for (const auto& [opcode, stats] : by_opcode_) {
    std::vector<uint64_t> sorted = stats.latencies_nanos;
    std::sort(sorted.begin(), sorted.end());
    rows.emplace_back(opcode, std::move(sorted));
  }
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return a.second.size() > b.second.size();
  });
  std::string out =
      absl::StrFormat("%-16s %8s %7s %9s %9s %9s %9s\n", "opcode", "count",
                      "errors", "p50 us", "p90 us", "p99 us", "max us");
  for (const auto& [opcode, sorted] : rows) {
    absl::StrAppend(
        &out, absl::StrFormat(
                  "%-16s %8u %7u %9.1f %9.1f %9.1f %9.1f\n",
                  sim::FuseOpcodeName(opcode), sorted.size(),
                  by_opcode_.at(opcode).errors, Micros(Percentile(sorted, 50)),
                  Micros(Percentile(sorted, 90)),
                  Micros(Percentile(sorted, 99)), Micros(sorted.back())));
  }
  absl::StrAppend(&out, absl::StrFormat("%-16s %8u\n", "total", total()));
  return out;
}

std::string HandOffLine(const sim::RequestTimes& times) {
  if (!times.Enough()) {
    return absl::StrFormat(
        "hand-off: too few requests timed (%u by the driver, %u by the "
        "device; %u of each needed)",
        times.round_trips, times.device_chains, sim::RequestTimes::kMinTimed);
  }
  std::optional<double> handoff = times.HandOffNanos();
  if (!handoff.has_value()) {
    return absl::StrFormat(
        "hand-off: not measured: the device timed %u requests, the driver %u "
        "(the device also times those sent ahead without waiting)",
        times.device_chains, times.round_trips);
  }
  return absl::StrFormat(
      "hand-off: %.2f us per request beyond the device's work (mean round "
      "trip %.2f us, device %.2f us; %u requests timed)",
      *handoff / 1e3, times.RoundTripMeanNanos() / 1e3,
      times.DeviceMeanNanos() / 1e3, times.round_trips);
}

}  // namespace cli
