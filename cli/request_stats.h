// Per-opcode counts and latency percentiles of the FUSE requests a device
// handled.
#ifndef CLI_REQUEST_STATS_H_
#define CLI_REQUEST_STATS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/fuse_trace.h"
#include "sim/request_times.h"

namespace cli {

class RequestStats {
 public:
  void Add(const sim::FuseTraceEvent& event);
  void Clear() { by_opcode_.clear(); }

  uint64_t total() const;
  uint64_t count(uint32_t opcode) const;
  // "LOOKUP 3, CREATE 1, WRITE 1" in the order the opcodes were first seen
  // (or "none").
  std::string Summary() const;
  // A table: opcode, count, errors, p50, p90, p99 and max latency in
  // microseconds, most frequent first.
  std::string Table() const;

 private:
  struct PerOpcode {
    uint64_t order = 0;  // When the opcode was first seen.
    uint64_t errors = 0;
    std::vector<uint64_t> latencies_nanos;
  };
  std::map<uint32_t, PerOpcode> by_opcode_;
};

// "hand-off: 1.02 us per request beyond the device's work (...)": what the
// driver's sampled round trips took beyond the device's sampled chains (see
// sim::RequestTimes), or why there is no figure yet.
std::string HandOffLine(const sim::RequestTimes& times);

}  // namespace cli

#endif  // CLI_REQUEST_STATS_H_
