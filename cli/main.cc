// vfsim: boots the simulated machine (a virtio-fs device on a host directory,
// the driver and the VFS) and lets a person work through the driver as a guest
// would. See `vfsim --help`.
#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/demo.h"
#include "cli/fault_command.h"
#include "cli/flags.h"
#include "cli/sample_share.h"
#include "cli/session.h"
#include "cli/shell.h"
#include "cli/trace_recorder.h"
#include "sim/machine.h"

namespace cli {
namespace {

int UsageFailure(const std::string& message) {
  fprintf(stderr, "vfsim: %s\n", message.c_str());
  return kUsage;
}

bool KnownCommand(const std::string& name) {
  static const std::set<std::string> kCommands = {
      "demo", "shell", "run", "ls",   "cat", "stat",  "write", "mkdir", "rmdir",
      "rm",   "mv",    "ln",  "tree", "df",  "bench", "stats", "fault"};
  return kCommands.count(name) > 0;
}

// The machine options the flags ask for, or the one line saying what is wrong.
absl::StatusOr<sim::MachineOptions> MachineOptionsFromFlags() {
  sim::MachineOptions options;
  absl::StatusOr<base::TransportKind> transport =
      sim::ParseTransport(absl::GetFlag(FLAGS_transport));
  if (!transport.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--transport=", absl::GetFlag(FLAGS_transport), ": use pci or mmio"));
  }
  absl::StatusOr<base::RingFormat> ring =
      sim::ParseRingFormat(absl::GetFlag(FLAGS_ring));
  if (!ring.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--ring=", absl::GetFlag(FLAGS_ring), ": use split or packed"));
  }
  absl::StatusOr<sim::CompletionMode> completion =
      sim::ParseCompletionMode(absl::GetFlag(FLAGS_completion));
  if (!completion.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--completion=", absl::GetFlag(FLAGS_completion),
                     ": use poll or interrupt"));
  }
  absl::StatusOr<sim::NotifyMode> notify =
      sim::ParseNotifyMode(absl::GetFlag(FLAGS_notify));
  if (!notify.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--notify=", absl::GetFlag(FLAGS_notify), ": use inline or thread"));
  }
  absl::StatusOr<sim::DataCaching> caching =
      sim::ParseDataCaching(absl::GetFlag(FLAGS_data_caching));
  if (!caching.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--data_caching=", absl::GetFlag(FLAGS_data_caching),
                     ": use auto, always or never"));
  }
  uint32_t queue_size = absl::GetFlag(FLAGS_queue_size);
  if (queue_size < 2 || queue_size > 1024 ||
      (queue_size & (queue_size - 1)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--queue_size=", queue_size,
                     ": must be a power of two from 2 to 1024"));
  }
  uint32_t queues = absl::GetFlag(FLAGS_request_queues);
  if (queues < 1 || queues > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("--request_queues=", queues, ": must be 1 to 64"));
  }
  for (const auto& [name, value] :
       {std::pair<const char*, double>{"entry_timeout",
                                       absl::GetFlag(FLAGS_entry_timeout)},
        {"attr_timeout", absl::GetFlag(FLAGS_attr_timeout)}}) {
    if (!std::isfinite(value) || value < 0 || value > 1e9) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--", name, "=", value, ": must be a number of seconds >= 0"));
    }
  }
  std::string tag = absl::GetFlag(FLAGS_tag);
  if (tag.empty() || tag.size() > 36 || tag.find('/') != std::string::npos ||
      tag == "." || tag == ".." || tag == "tmp") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tag=", tag,
        ": must be 1 to 36 bytes, not contain '/', and not be tmp"));
  }
  options.tag = tag;
  options.transport = *transport;
  options.ring = *ring;
  options.completion = *completion;
  options.notify_mode = *notify;
  options.data_caching = *caching;
  options.queue_size = static_cast<uint16_t>(queue_size);
  options.request_queues = static_cast<uint16_t>(queues);
  options.entry_timeout = absl::GetFlag(FLAGS_entry_timeout);
  options.attr_timeout = absl::GetFlag(FLAGS_attr_timeout);
  options.strict = absl::GetFlag(FLAGS_strict);
  absl::StatusOr<sim::FaultPlan> faults = FaultPlanFromFlags();
  if (!faults.ok()) return faults.status();
  options.faults = *faults;
  return options;
}

int Main(int argc, char** argv) {
  absl::StatusOr<std::vector<std::string>> parsed = ParseFlags(argc, argv);
  if (!parsed.ok()) return UsageFailure(std::string(parsed.status().message()));
  std::vector<std::string> args = *std::move(parsed);
  if (absl::GetFlag(FLAGS_help) || (!args.empty() && args[0] == "help")) {
    fputs(UsageText().c_str(), stdout);
    return kSuccess;
  }
  if (args.empty()) {
    return UsageFailure("no command given (try: vfsim demo, or vfsim --help)");
  }
  if (!KnownCommand(args[0])) {
    return UsageFailure(absl::StrCat("unknown command '", args[0],
                                     "' (vfsim --help lists them)"));
  }
  if (args[0] == "run" && args.size() != 2)
    return UsageFailure("usage: vfsim run SCRIPT");
  if ((args[0] == "demo" || args[0] == "shell") && args.size() != 1) {
    return UsageFailure(absl::StrCat(args[0], " takes no arguments"));
  }

  absl::StatusOr<sim::MachineOptions> options = MachineOptionsFromFlags();
  if (!options.ok())
    return UsageFailure(std::string(options.status().message()));

  std::unique_ptr<SampleShare> sample;
  std::string share = absl::GetFlag(FLAGS_share);
  if (!share.empty()) {
    struct stat st;
    if (::stat(share.c_str(), &st) != 0) {
      return UsageFailure(
          absl::StrCat("--share=", share, ": ", std::strerror(errno)));
    }
    if (!S_ISDIR(st.st_mode)) {
      return UsageFailure(
          absl::StrCat("--share=", share, ": ", std::strerror(ENOTDIR)));
    }
    options->share_dir = share;
  } else {
    absl::StatusOr<std::unique_ptr<SampleShare>> created =
        SampleShare::Create();
    if (!created.ok()) {
      fprintf(stderr, "vfsim: %s\n",
              std::string(created.status().message()).c_str());
      return kFailure;
    }
    sample = *std::move(created);
    options->share_dir = sample->path();
  }

  TraceRecorder recorder;
  std::string json = absl::GetFlag(FLAGS_trace_json);
  if (!json.empty()) {
    absl::Status opened = recorder.OpenJson(json);
    if (!opened.ok()) return UsageFailure(std::string(opened.message()));
  }
  recorder.set_printing(absl::GetFlag(FLAGS_trace));
  if (args[0] == "demo") recorder.StartCapture();

  int status;
  {
    absl::StatusOr<std::unique_ptr<Session>> session =
        Session::Boot(*options, recorder);
    if (!session.ok()) {
      fprintf(stderr, "vfsim: %s\n",
              std::string(session.status().message()).c_str());
      return kFailure;
    }
    if (!(*session)->CheckDevice()) {
      fprintf(stderr, "vfsim: the driver broke a virtio rule while booting\n");
    }
    if (args[0] == "demo") {
      status = RunDemo(**session, sample != nullptr);
    } else if (args[0] == "shell") {
      status = RunShell(**session);
    } else if (args[0] == "run") {
      status = RunScript(**session, args[1]);
    } else {
      status = RunCommandLine(**session, args, /*in_shell=*/false, nullptr);
    }
    fflush(stdout);
    if (absl::GetFlag(FLAGS_stats)) {
      fputs((*session)->StatsText().c_str(), stderr);
    }
  }
  return status;
}

}  // namespace
}  // namespace cli

int main(int argc, char** argv) { return cli::Main(argc, argv); }
