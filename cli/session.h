// A vfsim session: the simulated machine booted over the share, with every
// FUSE request it handles going to a TraceRecorder, and the VFS of this
// process acting on it (the share at /<tag>).
//
// After each command the session looks at the device: violations the driver
// caused are printed plainly, and a device that set DEVICE_NEEDS_RESET is
// reset and given a new FUSE session (sim::Machine::Recover).
#ifndef CLI_SESSION_H_
#define CLI_SESSION_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "cli/trace_recorder.h"
#include "sim/machine.h"

namespace cli {

class Session {
 public:
  // Boots the machine (options.on_violation and on_fuse_request are set
  // here). A status carries the one line to print.
  static absl::StatusOr<std::unique_ptr<Session>> Boot(
      sim::MachineOptions options, TraceRecorder& recorder);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  sim::Machine& machine() { return *machine_; }
  TraceRecorder& recorder() { return recorder_; }
  const sim::MachineOptions& options() const { return machine_->options(); }
  // Where the share is mounted: "/<tag>".
  std::string mount_point() const { return "/" + options().tag; }

  // The requests the driver and the device timed since the boot or the last
  // ResetStats (sim::Machine::SampledRequestTimes).
  sim::RequestTimes request_times() {
    return machine_->SampledRequestTimes() - request_times_base_;
  }
  // Starts the recorder's statistics and the timed requests afresh.
  void ResetStats() {
    recorder_.ClearStats();
    request_times_base_ = machine_->SampledRequestTimes();
  }
  // The recorder's table of requests per opcode, then the hand-off line
  // (HandOffLine) of request_times().
  std::string StatsText();

  // Prints the violations reported since the last check (to stderr) and, when
  // the device needs a reset, resets it. False when there was anything to
  // report: the command that caused it has failed.
  bool CheckDevice();

 private:
  Session(TraceRecorder& recorder) : recorder_(recorder) {}

  TraceRecorder& recorder_;
  // Boots the VFS of this process and mounts the share (mount_vfs).
  std::unique_ptr<sim::Machine> machine_;
  sim::RequestTimes request_times_base_;
};

}  // namespace cli

#endif  // CLI_SESSION_H_
