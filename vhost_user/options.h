// The command line of vfsim_virtiofsd: the options of the Rust virtiofsd that
// QEMU command lines and libvirt use, so that either starts it unchanged, and
// the project's own.
//
//   --socket-path=PATH | --fd=N   where the front-end connects (one of them)
//   --shared-dir=DIR              the host directory exported
//   -o source=DIR,cache=...       the C virtiofsd's spelling of the same
//   --cache=auto|always|never     entry/attribute validity: 1 s, 1 day, none
//   --thread-pool-size=N          accepted; each queue is served by a thread
//   --print-capabilities          the vhost-user JSON capabilities, then exit
//   --tag=TAG                     accepted (QEMU's vhost-user-fs sets the tag)
//   --trace, --trace_json=FILE, --stats, --[no]strict, --[no]packed,
//   --keep-listening
// Options of virtiofsd that change nothing here (sandboxing, xattr, logging)
// are accepted and listed by --help. Values come as "--name=value" or
// "--name value".
#ifndef VHOST_USER_OPTIONS_H_
#define VHOST_USER_OPTIONS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace vhost_user {

struct ServerOptions {
  std::string socket_path;
  std::optional<int> fd;
  std::string shared_dir;
  // --cache=: what the guest may cache (names, attributes, file data), as with
  // virtiofsd; main.cc turns it into the device's options.
  enum class Cache { kAuto, kAlways, kNever } cache = Cache::kAuto;
  unsigned thread_pool_size = 0;
  bool print_capabilities = false;
  bool help = false;
  bool trace = false;
  std::string trace_json;
  bool stats = false;
  bool strict = true;
  // Offer packed virtqueues (VIRTIO_F_RING_PACKED).
  bool packed = true;
  // Serve the next connection when one ends (a front-end reconnecting)
  // instead of exiting, as virtiofsd does.
  bool keep_listening = false;
};

// The options in argv[1..]; InvalidArgument with the one line to print.
absl::StatusOr<ServerOptions> ParseServerOptions(
    const std::vector<std::string>& args);

std::string ServerUsage();

// What --print-capabilities prints (docs/interop/vhost-user.json, type fs).
std::string CapabilitiesJson();

}  // namespace vhost_user

#endif  // VHOST_USER_OPTIONS_H_
