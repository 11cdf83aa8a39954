#include "sim/machine.h"

#include <sys/stat.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sim/tracing_backend.h"
#include "vfs/task.h"

namespace sim {
namespace {

absl::Status DriverError(const char* step, int error) {
  return absl::UnavailableError(absl::StrCat(step, ": ", std::strerror(error)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Machine>> Machine::Create(
    const MachineOptions& options) {
  std::unique_ptr<Machine> machine(new Machine(options));
  absl::Status booted = machine->Boot();
  if (!booted.ok()) return booted;
  return machine;
}

absl::Status Machine::Boot() {
  struct stat st;
  if (::stat(options_.share_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "share directory ", options_.share_dir, " is not a directory"));
  }
  memory_ = GuestMemory::Create(options_.guest_memory_bytes);
  if (!memory_) return absl::ResourceExhaustedError("cannot map guest memory");
  platform_ = std::make_unique<SimPlatform>(*memory_, options_.log_sink);
  platform_->set_delivers_interrupts(options_.completion ==
                                     CompletionMode::kInterrupt);

  VirtioFsOptions fs_options;
  fs_options.share.share_dir = options_.share_dir;
  fs_options.share.entry_timeout = options_.entry_timeout;
  fs_options.share.attr_timeout = options_.attr_timeout;
  fs_options.share.data_caching = options_.data_caching;
  fs_options.tag = options_.tag;
  fs_options.num_request_queues = options_.request_queues;
  absl::StatusOr<std::unique_ptr<VirtioFsDevice>> backend =
      VirtioFsDevice::Create(fs_options);
  if (!backend.ok()) return backend.status();
  fs_device_ = backend->get();
  // The device model exists only below: the hooks reach it through the
  // machine.
  auto faulting = std::make_unique<FaultingBackend>(
      std::move(*backend),
      FaultingBackend::Hooks{
          .needs_reset = [this] { device_->model().SetNeedsReset(); },
          .reset_session =
              [this] { fs_device_->server().Reset().IgnoreError(); }});
  faulting->plan() = options_.faults;
  faults_ = faulting.get();
  std::unique_ptr<DeviceBackend> device_backend = std::move(faulting);
  if (options_.on_fuse_request) {
    device_backend = std::make_unique<TracingBackend>(
        std::move(device_backend), options_.on_fuse_request,
        [this](uint16_t queue, uint16_t head) {
          return faults_->TakeInjected(queue, head);
        });
  }
  device_ = MakeDevice(
      *memory_, std::move(device_backend),
      {.transport = options_.transport,
       .notify_mode = options_.notify_mode,
       .strict = options_.strict,
       .offer_packed_ring = options_.ring == base::RingFormat::kPacked,
       .on_violation = options_.on_violation,
       .after_interrupt = [platform = platform_.get()] {
         platform->InterruptDelivered();
       }});

  // Waiters that poll can do the device's work; one asleep until an interrupt
  // cannot.
  if (options_.notify_mode == NotifyMode::kThread &&
      options_.completion == CompletionMode::kPoll) {
    platform_->set_device_helper([this](uint16_t queue) {
      return device_->model().ProcessForWaiter(queue);
    });
    device_->model().set_waiters_help(true);
  }
  share::ShareOptions share_options;
  share_options.transport = options_.transport;
  share_options.queues = {.queue_size = options_.queue_size,
                          .max_request_queues = options_.request_queues,
                          .ring = options_.ring};
  share_options.mount = options_.mount_vfs;
  share_options.cache = options_.fuse_fs;
  share::VirtioFsShare::Step failed;
  auto started =
      share::VirtioFsShare::Start(*platform_, *device_, share_options, &failed);
  if (!started.ok()) {
    return DriverError(share::VirtioFsShare::StepName(failed), started.error());
  }
  share_ = std::move(started).value();
  if (kernel() != nullptr) vfs::OfferDefaultTask(&task());
  return absl::OkStatus();
}

Machine::~Machine() {
  // The share first (its kernel gives up the default task), then the device
  // it drove, the platform and the memory.
  share_.reset();
  device_.reset();
  platform_.reset();
  memory_.reset();
}

RequestTimes Machine::SampledRequestTimes() {
  const driver::VirtioFs::RoundTrips driver = virtio_fs().round_trips();
  const ModelCounters device = device_->model().counters();
  return {driver.timed, driver.nanos, device.timed_chains,
          device.timed_chain_nanos};
}

absl::Status Machine::Recover() {
  base::Result<void> recovered = share_->Recover();
  if (!recovered.ok()) return DriverError("device reset", recovered.error());
  return absl::OkStatus();
}

absl::StatusOr<base::TransportKind> ParseTransport(const std::string& name) {
  if (name == "pci") return base::TransportKind::kPci;
  if (name == "mmio") return base::TransportKind::kMmio;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown transport '", name, "' (pci or mmio)"));
}

absl::StatusOr<base::RingFormat> ParseRingFormat(const std::string& name) {
  if (name == "split") return base::RingFormat::kSplit;
  if (name == "packed") return base::RingFormat::kPacked;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown ring format '", name, "' (split or packed)"));
}

absl::StatusOr<CompletionMode> ParseCompletionMode(const std::string& name) {
  if (name == "poll") return CompletionMode::kPoll;
  if (name == "interrupt") return CompletionMode::kInterrupt;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown completion mode '", name, "' (poll or interrupt)"));
}

absl::StatusOr<NotifyMode> ParseNotifyMode(const std::string& name) {
  if (name == "inline") return NotifyMode::kInline;
  if (name == "thread") return NotifyMode::kThread;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown notify mode '", name, "' (inline or thread)"));
}

absl::StatusOr<DataCaching> ParseDataCaching(const std::string& name) {
  if (name == "auto") return DataCaching::kAuto;
  if (name == "always") return DataCaching::kAlways;
  if (name == "never") return DataCaching::kNever;
  return absl::InvalidArgumentError(absl::StrCat("unknown data caching '", name,
                                                 "' (auto, always or never)"));
}

}  // namespace sim
