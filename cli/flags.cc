#include "cli/flags.h"

#include "absl/flags/commandlineflag.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

ABSL_FLAG(std::string, share, "",
          "host directory the virtio-fs device exports (default: a temporary "
          "share with a sample tree, removed on exit)");
ABSL_FLAG(std::string, tag, "root",
          "virtio-fs tag; the share is mounted at /<tag>");
ABSL_FLAG(std::string, transport, "pci", "virtio transport: pci or mmio");
ABSL_FLAG(std::string, ring, "split",
          "virtqueue format: split or packed (VIRTIO_F_RING_PACKED)");
ABSL_FLAG(std::string, completion, "poll",
          "how a waiting request learns of its completion: poll (the used "
          "ring) or interrupt (sleep until a used-buffer interrupt)");
ABSL_FLAG(std::string, notify, "inline",
          "how the device runs: inline (in the notifying thread) or thread "
          "(its own thread)");
ABSL_FLAG(uint32_t, queue_size, 256, "virtqueue size (a power of two)");
ABSL_FLAG(uint32_t, request_queues, 1, "number of request queues (1 to 64)");
ABSL_FLAG(double, entry_timeout, 1.0,
          "entry validity the device hands out, seconds (0: ask every time)");
ABSL_FLAG(double, attr_timeout, 1.0,
          "attribute validity the device hands out, seconds (0: ask every "
          "time, but a call uses what its own LOOKUPs brought)");
ABSL_FLAG(std::string, data_caching, "auto",
          "what OPEN and OPENDIR let the driver cache, as virtiofsd's cache=: "
          "auto, always (FOPEN_KEEP_CACHE, FOPEN_CACHE_DIR) or never "
          "(FOPEN_DIRECT_IO)");
ABSL_FLAG(bool, strict, true,
          "strict mode: report every virtio rule the driver breaks");
ABSL_FLAG(bool, trace, false,
          "print each FUSE request the device handles to stderr, one line "
          "each");
ABSL_FLAG(std::string, trace_json, "",
          "write each FUSE request as a JSON object per line to this file");
ABSL_FLAG(bool, stats, false,
          "print per-opcode request counts and latencies, and the "
          "hand-off per request, at exit");
ABSL_FLAG(bool, help, false, "print usage and exit");

namespace cli {
namespace {

absl::Status UsageError(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseFlags(int argc, char** argv) {
  std::vector<std::string> arguments;
  bool flags_done = false;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (flags_done || !absl::StartsWith(arg, "--")) {
      arguments.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    absl::string_view body = arg.substr(2);
    absl::string_view name = body;
    absl::string_view value;
    bool has_value = false;
    if (size_t eq = body.find('='); eq != absl::string_view::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    bool negated = false;
    if (flag == nullptr && absl::StartsWith(name, "no")) {
      absl::CommandLineFlag* positive =
          absl::FindCommandLineFlag(name.substr(2));
      if (positive != nullptr && positive->IsOfType<bool>()) {
        flag = positive;
        negated = true;
      }
    }
    if (flag == nullptr || flag->IsRetired()) {
      return UsageError(absl::StrCat("unknown flag --", name,
                                     " (vfsim --help lists the flags)"));
    }
    if (negated) {
      if (has_value) {
        return UsageError(absl::StrCat("--", name, " takes no value"));
      }
      value = "false";
    } else if (!has_value) {
      if (flag->IsOfType<bool>()) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return UsageError(absl::StrCat("--", name, " needs a value"));
      }
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return UsageError(
          absl::StrCat("--", flag->Name(), "=", value, ": ", error));
    }
  }
  return arguments;
}

std::string UsageText() {
  return R"(vfsim: a virtio-fs device simulated in software, with the driver and VFS
that run on it, in one process. Work through the driver as a guest would.

usage: vfsim [flags] COMMAND [ARGS...]

commands:
  demo                 walk through create, write, read, list, rename, symlink,
                       stat and delete, showing the FUSE requests of each step
  shell                interactive prompt (history, line editing, cd, help);
                       reads commands from stdin when it is not a terminal
  run SCRIPT           run a file of shell commands (# comments); stops at the
                       first failing command with its exit status
  ls [-l] [-a] PATH..  list directories      cat PATH..     print files
  stat PATH..          show attributes       tree [PATH]    directory tree
  write PATH [TEXT..]  write TEXT and a newline to PATH (stdin without TEXT)
  mkdir [-p] PATH..    make directories      rm [-r] PATH.. remove
  rmdir PATH..         remove empty dirs     mv A B         rename
  ln [-s] TARGET LINK  hard or symbolic link df [PATH]      filesystem usage
  bench [MiB]          quick measurement: driver vs the host directory
  stats                FUSE requests per opcode with latency percentiles,
                       and the hand-off per request
Paths are guest paths: the share is at /<tag> (/root), a memory filesystem at /
and /tmp. Relative paths start in /<tag>.

flags:
  --share=DIR          host directory to export (default: a temporary share
                       with a small sample tree, removed on exit)
  --tag=NAME           virtio-fs tag, mounted at /NAME (default root)
  --transport=pci|mmio --notify=inline|thread --ring=split|packed
  --completion=poll|interrupt  the driver polls, or sleeps until interrupted
  --queue_size=N       virtqueue size, a power of two (default 256)
  --request_queues=N   request queues, 1 to 64 (default 1)
  --entry_timeout=S    --attr_timeout=S   cache validity in seconds (default 1)
  --data_caching=auto|always|never  file data and listings the driver may
                       keep: as open (auto), across opens (always), none
  --strict / --nostrict  report every virtio rule the driver breaks (default on)
  --trace              print every FUSE request to stderr, one line each
  --trace_json=FILE    write every FUSE request to FILE as JSON lines
  --stats              print request statistics at exit
  --fault=SPEC[;SPEC]  make the device misbehave (vfsim fault help)
  --fault_file=FILE    fault rules, one per line    --fault_seed=N  their seed

exit status: 0 success, 1 a command failed, 2 bad usage (flags, arguments,
paths given to vfsim itself).
)";
}

}  // namespace cli
