// vfsim_virtiofsd: the project's virtio-fs device as a vhost-user-fs back-end.
// QEMU (vhost-user-fs-pci, vhost-user-fs-device) or libvirt starts it as it
// starts virtiofsd; see `vfsim_virtiofsd --help` and the README.
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/trace_recorder.h"
#include "sim/tracing_backend.h"
#include "sim/virtio_fs_device.h"
#include "vhost_user/device.h"
#include "vhost_user/message.h"
#include "vhost_user/options.h"

namespace vhost_user {
namespace {

constexpr int kUsage = 2;

void Say(const std::string& line) {
  fprintf(stderr, "vfsim_virtiofsd: %s\n", line.c_str());
}

// The listening socket: made at --socket-path (and removed at exit), or the
// inherited --fd.
absl::StatusOr<UniqueFd> Listen(const ServerOptions& options) {
  if (options.fd) return UniqueFd(*options.fd);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (options.socket_path.size() >= sizeof(address.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--socket-path ", options.socket_path, " is too long"));
  }
  std::memcpy(address.sun_path, options.socket_path.c_str(),
              options.socket_path.size() + 1);
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  }
  unlink(options.socket_path.c_str());  // A stale socket of an earlier run.
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
          0 ||
      listen(fd.get(), 1) != 0) {
    return absl::InternalError(absl::StrCat(
        "listening on ", options.socket_path, ": ", strerror(errno)));
  }
  return fd;
}

int Run(const ServerOptions& options) {
  cli::TraceRecorder recorder;
  recorder.set_printing(options.trace);
  if (!options.trace_json.empty()) {
    if (absl::Status opened = recorder.OpenJson(options.trace_json);
        !opened.ok()) {
      Say(std::string(opened.message()));
      return 1;
    }
  }
  sim::VirtioFsOptions fs_options;
  fs_options.share.share_dir = options.shared_dir;
  // QEMU's vhost-user-fs asks how many queues there may be and uses as many
  // as it was told (num-request-queues): offer the most.
  fs_options.num_request_queues = sim::VirtioFsDevice::kMaxRequestQueues;
  switch (options.cache) {
    case ServerOptions::Cache::kAuto:  // PassthroughOptions' defaults.
      break;
    case ServerOptions::Cache::kAlways:
      fs_options.share.entry_timeout = fs_options.share.attr_timeout = 86400.0;
      fs_options.share.data_caching = sim::DataCaching::kAlways;
      break;
    case ServerOptions::Cache::kNever:
      fs_options.share.entry_timeout = fs_options.share.attr_timeout = 0.0;
      fs_options.share.data_caching = sim::DataCaching::kNever;
      break;
  }
  absl::StatusOr<std::unique_ptr<sim::VirtioFsDevice>> fs =
      sim::VirtioFsDevice::Create(fs_options);
  if (!fs.ok()) {
    Say(std::string(fs.status().message()));
    return 1;
  }
  std::unique_ptr<sim::DeviceBackend> backend = std::move(*fs);
  if (options.trace || !options.trace_json.empty() || options.stats) {
    backend = std::make_unique<sim::TracingBackend>(
        std::move(backend),
        [&recorder](const sim::FuseTraceEvent& e) { recorder.OnRequest(e); });
  }

  // SIGTERM and SIGINT end the service (the spec's back-end convention): a
  // thread takes them and shuts the sockets down, so that the loops below
  // return and everything is torn down in order.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  absl::StatusOr<UniqueFd> listener = Listen(options);
  if (!listener.ok()) {
    Say(std::string(listener.status().message()));
    return 1;
  }
  std::atomic<int> connection{-1};
  std::atomic<bool> stopping{false};
  const int listen_fd = listener->get();
  std::thread signals([&] {
    int signal_number;
    sigwait(&stop, &signal_number);
    stopping = true;
    shutdown(listen_fd, SHUT_RDWR);
    const int fd = connection.load();
    if (fd >= 0) shutdown(fd, SHUT_RDWR);
  });

  DeviceOptions device_options;
  device_options.strict = options.strict;
  device_options.packed_rings = options.packed;
  device_options.log = Say;
  device_options.on_violation = [&](const sim::ViolationRecord& record) {
    recorder.OnViolation(record);
    Say(absl::StrCat(options.strict ? "strict-mode violation: " : "violation: ",
                     sim::ToString(record),
                     "; the queue stops (the guest's requests on it will not "
                     "complete)"));
  };
  int status = 0;
  {
    Device device(*backend, device_options);
    Say(absl::StrCat(
        "serving ", options.shared_dir, " on ",
        options.fd ? absl::StrCat("fd ", *options.fd) : options.socket_path));
    do {
      UniqueFd accepted(accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
      if (!accepted.valid()) {
        if (errno == EINTR) continue;
        if (!stopping) {
          Say(absl::StrCat("accept: ", strerror(errno)));
          status = 1;
        }
        break;
      }
      connection = accepted.get();
      Say("front-end connected");
      absl::Status served = device.Serve(accepted.get());
      connection = -1;
      Say(served.ok() ? "front-end disconnected"
                      : absl::StrCat("connection ended: ", served.message()));
    } while (options.keep_listening && !stopping);
  }
  if (!stopping) kill(getpid(), SIGTERM);  // Lets the signal thread finish.
  signals.join();
  if (!options.socket_path.empty()) unlink(options.socket_path.c_str());
  if (options.stats) fputs(recorder.stats().Table().c_str(), stderr);
  if (recorder.violations_total() > 0) {
    Say(absl::StrCat(recorder.violations_total(),
                     " virtio rule violations by the guest's driver"));
  }
  return status;
}

}  // namespace
}  // namespace vhost_user

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<vhost_user::ServerOptions> options =
      vhost_user::ParseServerOptions(args);
  if (!options.ok()) {
    fprintf(stderr, "vfsim_virtiofsd: %s\n",
            std::string(options.status().message()).c_str());
    return vhost_user::kUsage;
  }
  if (options->help) {
    fputs(vhost_user::ServerUsage().c_str(), stdout);
    return 0;
  }
  if (options->print_capabilities) {
    fputs(vhost_user::CapabilitiesJson().c_str(), stdout);
    return 0;
  }
  return vhost_user::Run(*options);
}
