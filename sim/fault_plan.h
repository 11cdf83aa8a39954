// sim::FaultPlan: what the simulated device does wrong, and when. Each rule
// names a fault and the requests it applies to: by FUSE opcode, by node id, by
// queue, the Nth such request, a number of times, or with a probability drawn
// from the plan's seed (so a run is reproducible). sim::FaultingBackend
// applies a plan to the virtio-fs device.
//
// The text form, one rule (for --fault, the shell's `fault`, a file's line):
//   KIND[=VALUE][@MATCH[,MATCH...]]
// KIND:
//   error=ERRNO        answer with -ERRNO, without running the request
//   host-error=ERRNO   run it, with the host call underneath failing (EIO,
//                      ENOSPC, EDQUOT ...): the error takes the real path
//   truncate=BYTES     the reply's used length cut to BYTES
//   wrong-unique       the reply's unique changed
//   wrong-len          the reply header's len one more than written
//   oversize           the used length set to all the writable bytes
//   delay=N            completed only after N later requests have been
//   delay-ms=MS        completed MS milliseconds later
//   hold               held until released (FaultingBackend::ReleaseHeld)
//   drop-notify        completed without a used-buffer notification
//   stall-ms=MS        the device stops for MS milliseconds first
//   needs-reset        held, and the device sets DEVICE_NEEDS_RESET
//   reset-session      the FUSE session ends (node ids and handles go stale:
//                      a device "reboot"), answered ENOTCONN, and the device
//                      sets DEVICE_NEEDS_RESET to say so
// MATCH: op=NAME (LOOKUP, WRITE ...), node=ID, queue=Q, nth=N (only the Nth
// match), count=N (at most N times), p=PROBABILITY (0..1).
// ERRNO is a name (EIO) or a number. A file holds one rule per line; blank
// lines and '#' comments are skipped, and "seed N" sets the seed.
#ifndef SIM_FAULT_PLAN_H_
#define SIM_FAULT_PLAN_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sim {

enum class FaultKind : uint8_t {
  kError,
  kHostError,
  kTruncateReply,
  kWrongUnique,
  kWrongLen,
  kOversize,
  kDelayRequests,
  kDelayMillis,
  kHold,
  kDropNotification,
  kStallMillis,
  kNeedsReset,
  kResetSession,
};

struct FaultRule {
  FaultKind kind = FaultKind::kError;
  int64_t value = 0;  // The errno, bytes, count or milliseconds.
  std::optional<uint32_t> opcode;
  std::optional<uint64_t> nodeid;
  std::optional<uint16_t> queue;
  std::optional<uint64_t> nth;
  std::optional<uint64_t> count;
  double probability = 1.0;

  // The rule in its text form.
  std::string ToString() const;
};

// One rule from its text form; InvalidArgument says what is wrong.
absl::StatusOr<FaultRule> ParseFaultRule(const std::string& text);

// What a request looks like to the matcher.
struct FaultRequest {
  uint32_t opcode = 0;
  uint64_t nodeid = 0;
  uint16_t queue = 0;
};

class FaultPlan {
 public:
  // Not explicit: an aggregate that holds a plan (MachineOptions) may leave it
  // out of a designated initializer.
  FaultPlan() : FaultPlan(1) {}
  explicit FaultPlan(uint64_t seed) : random_(seed) {}
  FaultPlan(const FaultPlan& other);
  FaultPlan& operator=(const FaultPlan& other);

  void Add(const FaultRule& rule);
  // Rules from a file (see above). InvalidArgument names the line.
  absl::Status AddFile(const std::string& path);
  void SetSeed(uint64_t seed);
  void Clear();
  // Asked before every request: no lock, a rule added on another thread is
  // seen from some later request on.
  bool empty() const { return !has_rules_.load(std::memory_order_relaxed); }
  std::vector<FaultRule> rules() const;

  // The rule that applies to `request`, if any (the first that matches),
  // counting it as used. Thread-safe.
  std::optional<FaultRule> Match(const FaultRequest& request);

 private:
  struct Entry {
    FaultRule rule;
    uint64_t matched = 0;  // Requests that matched its selectors.
    uint64_t fired = 0;
  };

  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
  std::atomic<bool> has_rules_{false};  // !entries_.empty()
  std::mt19937_64 random_;
};

}  // namespace sim

#endif  // SIM_FAULT_PLAN_H_
