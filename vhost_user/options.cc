#include "vhost_user/options.h"

#include <cstdlib>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace vhost_user {
namespace {

// virtiofsd options that make no difference to this back-end: it never
// sandboxes itself, always passes xattrs through, and logs to stderr.
const std::set<std::string>& IgnoredFlags() {
  static const auto* flags = new std::set<std::string>{
      "--xattr",           "--no-xattr",           "--posix-acl",
      "--no-posix-acl",    "--announce-submounts", "--no-announce-submounts",
      "--syslog",          "--killpriv-v2",        "--no-killpriv-v2",
      "--allow-direct-io", "--writeback",          "--no-readdirplus",
      "--security-label",  "--preserve-noatime",   "--allow-mmap"};
  return *flags;
}
const std::set<std::string>& IgnoredValueOptions() {
  static const auto* options = new std::set<std::string>{"--sandbox",
                                                         "--seccomp",
                                                         "--log-level",
                                                         "--inode-file-handles",
                                                         "--rlimit-nofile",
                                                         "--modcaps",
                                                         "--xattrmap",
                                                         "--translate-uid",
                                                         "--translate-gid",
                                                         "--migration-mode",
                                                         "--migration-on-error",
                                                         "--uid-map",
                                                         "--gid-map"};
  return *options;
}

absl::Status SetCache(const std::string& value, ServerOptions* options) {
  if (value == "auto" || value == "metadata") {
    options->cache = ServerOptions::Cache::kAuto;
  } else if (value == "always") {
    options->cache = ServerOptions::Cache::kAlways;
  } else if (value == "never" || value == "none") {
    options->cache = ServerOptions::Cache::kNever;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--cache=", value, ": use auto, always or never"));
  }
  return absl::OkStatus();
}

// The C virtiofsd's -o list: source=DIR, cache=..., and flags it takes.
absl::Status SetLegacyOptions(const std::string& list, ServerOptions* options) {
  for (absl::string_view item : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(item, absl::MaxSplits('=', 1));
    if (kv.first == "source") {
      options->shared_dir = kv.second;
    } else if (kv.first == "cache") {
      if (absl::Status s = SetCache(kv.second, options); !s.ok()) return s;
    } else if (kv.first == "thread_pool_size") {
      // Same meaning as --thread-pool-size.
    } else if (kv.first != "xattr" && kv.first != "no_xattr" &&
               kv.first != "flock" && kv.first != "no_flock" &&
               kv.first != "posix_lock" && kv.first != "no_posix_lock" &&
               kv.first != "readdirplus" && kv.first != "no_readdirplus" &&
               kv.first != "writeback" && kv.first != "no_writeback" &&
               kv.first != "announce_submounts" && kv.first != "log_level" &&
               kv.first != "sandbox" && kv.first != "timeout") {
      return absl::InvalidArgumentError(
          absl::StrCat("-o ", item, ": unknown option"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ServerOptions> ParseServerOptions(
    const std::vector<std::string>& args) {
  ServerOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::optional<std::string> value;
    if (const size_t eq = name.find('=');
        eq != std::string::npos && name.rfind("--", 0) == 0) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    // The value of an option that takes one: after '=' or the next word.
    auto take_value = [&]() -> absl::StatusOr<std::string> {
      if (value) return *value;
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat(name, " needs a value"));
      }
      return args[++i];
    };
    auto flag_only = [&]() -> absl::Status {
      if (value) {
        return absl::InvalidArgumentError(
            absl::StrCat(name, " takes no value"));
      }
      return absl::OkStatus();
    };
    absl::StatusOr<std::string> v;
    if (name == "--socket-path" || name == "--shared-dir" || name == "-o" ||
        name == "--cache" || name == "--fd" || name == "--thread-pool-size" ||
        name == "--trace_json" || name == "--tag" ||
        IgnoredValueOptions().count(name)) {
      v = take_value();
      if (!v.ok()) return v.status();
    } else if (absl::Status s = flag_only(); !s.ok()) {
      return s;
    }
    if (name == "--socket-path") {
      options.socket_path = *v;
    } else if (name == "--shared-dir") {
      options.shared_dir = *v;
    } else if (name == "-o") {
      if (absl::Status s = SetLegacyOptions(*v, &options); !s.ok()) return s;
    } else if (name == "--cache") {
      if (absl::Status s = SetCache(*v, &options); !s.ok()) return s;
    } else if (name == "--fd") {
      int fd;
      if (!absl::SimpleAtoi(*v, &fd) || fd < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("--fd=", *v, ": a descriptor number"));
      }
      options.fd = fd;
    } else if (name == "--thread-pool-size") {
      if (!absl::SimpleAtoi(*v, &options.thread_pool_size)) {
        return absl::InvalidArgumentError(
            absl::StrCat("--thread-pool-size=", *v, ": a number"));
      }
    } else if (name == "--trace_json") {
      options.trace_json = *v;
    } else if (name == "--print-capabilities") {
      options.print_capabilities = true;
    } else if (name == "--help" || name == "-h") {
      options.help = true;
    } else if (name == "--trace") {
      options.trace = true;
    } else if (name == "--stats") {
      options.stats = true;
    } else if (name == "--strict") {
      options.strict = true;
    } else if (name == "--nostrict") {
      options.strict = false;
    } else if (name == "--packed") {
      options.packed = true;
    } else if (name == "--nopacked") {
      options.packed = false;
    } else if (name == "--keep-listening") {
      options.keep_listening = true;
    } else if (name == "--tag" || IgnoredValueOptions().count(name) ||
               IgnoredFlags().count(name) || name == "-f" ||
               name == "--foreground") {
      // Accepted for compatibility (see ServerUsage).
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": unknown option (see --help)"));
    }
  }
  if (options.print_capabilities || options.help) return options;
  if (options.socket_path.empty() == !options.fd.has_value()) {
    return absl::InvalidArgumentError(
        "give exactly one of --socket-path=PATH and --fd=N");
  }
  if (options.shared_dir.empty()) {
    return absl::InvalidArgumentError(
        "--shared-dir=DIR (or -o source=DIR) is required");
  }
  return options;
}

std::string ServerUsage() {
  return R"(usage: vfsim_virtiofsd (--socket-path=PATH | --fd=N) --shared-dir=DIR [options]

The project's virtio-fs device as a vhost-user-fs back-end: QEMU's
vhost-user-fs-pci or vhost-user-fs-device connects to it as to virtiofsd. Every
virtio rule the guest's driver breaks is reported (--strict, the default).

  --socket-path=PATH       listen on this UNIX socket (created; removed at exit)
  --fd=N                   the listening socket is descriptor N (libvirt)
  --shared-dir=DIR         the host directory to export (-o source=DIR too)
  --cache=auto|always|never  what the guest may cache: names and attributes
                           for 1 s, 1 day, not at all; file data while open,
                           also across opens, not at all (default auto)
  --thread-pool-size=N     accepted; each queue is served by its own thread
  --print-capabilities     print the vhost-user JSON capabilities and exit
  --trace                  print each FUSE request, strace-like, on stderr
  --trace_json=FILE        write each FUSE request as a JSON line to FILE
  --stats                  print per-opcode counts and latencies at exit
  --[no]strict             report (and stop a queue at) strict virtio rules too
  --[no]packed             offer packed virtqueues, VIRTIO_F_RING_PACKED (default
                           on; the front-end chooses: QEMU's device property
                           packed=on)
  --keep-listening         serve the next connection when one ends (default:
                           exit, as virtiofsd does)
Accepted and without effect here: --sandbox, --seccomp, --log-level, --xattr,
--posix-acl, --announce-submounts, --syslog, --inode-file-handles, -f, and the
other -o flags of the C virtiofsd (xattr, flock, posix_lock, ...).
)";
}

std::string CapabilitiesJson() { return "{\n  \"type\": \"fs\"\n}\n"; }

}  // namespace vhost_user
