// Where the FUSE requests the device reports go: the text trace (stderr), the
// JSON lines file, the statistics, and the capture the demo shows after each
// step. Also collects the virtio rule violations the device reports.
//
// OnRequest and OnViolation are called from whichever thread runs the device
// (see sim::TracingBackend): everything here is behind one mutex.
#ifndef CLI_TRACE_RECORDER_H_
#define CLI_TRACE_RECORDER_H_

#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cli/request_stats.h"
#include "sim/fuse_trace.h"
#include "sim/violation.h"

namespace cli {

class TraceRecorder {
 public:
  TraceRecorder() = default;
  ~TraceRecorder();
  TraceRecorder(const TraceRecorder&) = delete;
  TraceRecorder& operator=(const TraceRecorder&) = delete;

  // Starts writing JSON lines to `path` (created or truncated).
  absl::Status OpenJson(const std::string& path);

  void OnRequest(const sim::FuseTraceEvent& event);
  void OnViolation(const sim::ViolationRecord& record);

  // The text trace on stderr.
  void set_printing(bool on);
  bool printing() const;
  // While capturing, each request's text line is also kept for TakeCaptured.
  void StartCapture();
  std::vector<std::string> TakeCaptured();

  // Statistics of every request seen since the start (or ClearStats).
  RequestStats stats() const;
  void ClearStats();
  // The violations reported since the last call.
  std::vector<sim::ViolationRecord> TakeViolations();
  uint64_t violations_total() const;

 private:
  mutable std::mutex mutex_;
  bool printing_ = false;
  bool capturing_ = false;
  std::vector<std::string> captured_;
  FILE* json_ = nullptr;
  RequestStats stats_;
  std::vector<sim::ViolationRecord> violations_;
  uint64_t violations_total_ = 0;
};

}  // namespace cli

#endif  // CLI_TRACE_RECORDER_H_
