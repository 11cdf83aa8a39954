#include "cli/session.h"

#include <linux/virtio_config.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "base/abi.h"
#include "vfs/posix.h"

namespace cli {

absl::StatusOr<std::unique_ptr<Session>> Session::Boot(
    sim::MachineOptions options, TraceRecorder& recorder) {
  std::unique_ptr<Session> session(new Session(recorder));
  options.on_violation = [&recorder](const sim::ViolationRecord& record) {
    recorder.OnViolation(record);
  };
  // The driver's warnings and errors always; its informational lines with
  // the trace.
  options.log_sink = [&recorder](base::LogLevel level, const char* message) {
    if (level >= base::LogLevel::kWarning || recorder.printing()) {
      fprintf(stderr, "driver: %s\n", message);
    }
  };
  options.on_fuse_request = [&recorder](const sim::FuseTraceEvent& event) {
    recorder.OnRequest(event);
  };
  absl::StatusOr<std::unique_ptr<sim::Machine>> machine =
      sim::Machine::Create(options);
  if (!machine.ok()) {
    return absl::Status(
        machine.status().code(),
        absl::StrCat("cannot boot the machine: ", machine.status().message()));
  }
  session->machine_ = std::move(*machine);
  // Relative paths start in the share when it is mounted.
  if (vfs::chdir(session->mount_point().c_str()) != 0) vfs::chdir("/");
  return session;
}

Session::~Session() { machine_.reset(); }

std::string Session::StatsText() {
  return recorder_.stats().Table() + HandOffLine(request_times()) + "\n";
}

bool Session::CheckDevice() {
  bool clean = true;
  for (const sim::ViolationRecord& record : recorder_.TakeViolations()) {
    clean = false;
    std::string where =
        record.queue ? absl::StrCat(" (queue ", *record.queue, ")") : "";
    fprintf(stderr, "virtio: %s \"%s\": %s%s\n",
            options().strict ? "strict-mode violation" : "violation",
            record.name(), record.message.c_str(), where.c_str());
  }
  uint8_t status = machine_->device().model().ReadStatus();
  if (status & VIRTIO_CONFIG_S_NEEDS_RESET) {
    clean = false;
    fprintf(stderr,
            "virtio: the device set DEVICE_NEEDS_RESET; resetting it and "
            "starting a new FUSE session\n");
    char cwd[base::kPathMax];
    std::string where = vfs::getcwd(cwd, sizeof(cwd)) > 0 ? cwd : "/";
    absl::Status recovered = machine_->Recover();
    // A current directory inside the share is stale in the new session:
    // resolve it again.
    if (vfs::chdir(where.c_str()) != 0 &&
        vfs::chdir(mount_point().c_str()) != 0) {
      vfs::chdir("/");
    }
    if (recovered.ok()) {
      fprintf(stderr, "virtio: device reset, FUSE session re-initialized\n");
    } else {
      fprintf(stderr, "virtio: recovery failed: %s\n",
              std::string(recovered.message()).c_str());
    }
  }
  return clean;
}

}  // namespace cli
