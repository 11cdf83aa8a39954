// The image's main function: find the virtio-fs device, read its identity
// directly and through the driver's transport, require both to agree, bring
// its share up and mount it in a VFS through the unmodified driver, exactly as
// the simulation does (share::VirtioFsShare), run every conformance scenario
// on it (boot/scenario_runner.h), tear it all down and require the driver to
// have given back all its DMA memory.
//
// Command-line words (QEMU -append):
//   virtiofs.tag=TAG    the tag the device must report
//   pci.reassign_bars   ignore the firmware's BAR addresses, assign our own
//   completion=interrupt | completion=poll
//                       how the driver finds its completions: waiters sleep
//                       until the device's interrupt (the default), or poll
//                       the used rings with interrupts never enabled
//   boot.fault_test     execute an invalid instruction first: a CPU exception
//                       must end the run as a failure (a negative control)
//   boot.undeclared_file_test
//                       after the scenarios, leave a file in the share without
//                       announcing it: the runner's share check must fail the
//                       run although the guest passes (a negative control)
#include <cstring>
#include <memory>

#include "base/abi.h"
#include "base/format.h"
#include "boot/bare_metal_platform.h"
#include "boot/boot_info.h"
#include "boot/device_discovery.h"
#include "boot/device_interrupts.h"
#include "boot/device_report.h"
#include "boot/scenario_runner.h"
#include "boot/serial_console.h"
#include "boot/tsc_clock.h"
#include "kernel/runtime.h"
#include "share/virtio_fs_share.h"
#include "vfs/posix.h"
#include "vfs/task.h"

namespace boot {
namespace {

// The value of `key=` on the command line, copied into `out`; false when
// absent.
bool CommandLineValue(const char* line, const char* key, char* out,
                      size_t capacity) {
  const size_t key_length = strlen(key);
  for (const char* p = line; *p;) {
    while (*p == ' ') ++p;
    const char* word = p;
    while (*p && *p != ' ') ++p;
    if (static_cast<size_t>(p - word) > key_length &&
        strncmp(word, key, key_length) == 0 && word[key_length] == '=') {
      size_t n = 0;
      for (const char* v = word + key_length + 1; v < p && n + 1 < capacity;
           ++v) {
        out[n++] = *v;
      }
      out[n] = '\0';
      return true;
    }
  }
  return false;
}

// The negative control of the runner's share check: a file no HOST-EXPECT
// line announces.
bool LeaveUndeclaredFile(const char* mount_point) {
  char path[64];
  base::Format(path, sizeof(path), "%s/undeclared-by-guest.txt", mount_point);
  const int fd =
      vfs::open(path, base::kOpenCreate | base::kOpenWriteOnly, 0644);
  if (fd < 0) return false;
  const bool written = vfs::write(fd, "surprise\n", 9) == 9;
  return vfs::close(fd) == 0 && written;
}

enum class Completion { kInterrupt, kPoll };

// The completion= word; false for a value it does not know.
bool ParseCompletion(const char* command_line, Completion* completion) {
  char value[16];
  if (!CommandLineValue(command_line, "completion", value, sizeof(value)) ||
      strcmp(value, "interrupt") == 0) {
    *completion = Completion::kInterrupt;
    return true;
  }
  if (strcmp(value, "poll") == 0) {
    *completion = Completion::kPoll;
    return true;
  }
  SerialPrintf("boot: FAIL completion=%s: interrupt or poll\n", value);
  return false;
}

// How the run's completions were found, the counts qemu_boot_test checks.
void ReportCompletions(share::VirtioFsShare& share, Completion completion,
                       const BareMetalPlatform& platform,
                       const DeviceInterrupts& interrupts) {
  const driver::VirtioFs::CompletionCounts counts =
      share.virtio_fs().completion_counts();
  SerialPrintf(
      "completion: %s, used-buffer interrupts %llu, by interrupt %llu, "
      "without interrupt %llu, sleeps %llu, timer wake-ups %llu\n",
      completion == Completion::kInterrupt ? "interrupt" : "poll",
      static_cast<unsigned long long>(counts.interrupts),
      static_cast<unsigned long long>(counts.by_interrupt),
      static_cast<unsigned long long>(counts.without_interrupt),
      static_cast<unsigned long long>(platform.sleeps()),
      static_cast<unsigned long long>(platform.timer_wakeups()));
  if (completion == Completion::kInterrupt) interrupts.Report();
}

bool SameIdentity(const DeviceIdentity& a, const DeviceIdentity& b) {
  return a.device_type == b.device_type && a.features == b.features &&
         a.num_request_queues == b.num_request_queues &&
         strcmp(a.tag, b.tag) == 0;
}

}  // namespace

Outcome KernelMain(const BootInfo& info) {
  SerialPrintf(
      "boot: virtiofs-sim boot image (x86_64, PVH), command line \"%s\"\n",
      info.command_line);
  for (int i = 0; i < info.ram->count(); ++i) {
    SerialPrintf("boot: RAM 0x%llx-0x%llx\n",
                 static_cast<unsigned long long>(info.ram->range(i).base),
                 static_cast<unsigned long long>(info.ram->range(i).end()));
  }
  SerialPrintf("boot: heap 0x%llx, %llu MiB\n",
               static_cast<unsigned long long>(info.heap.base),
               static_cast<unsigned long long>(info.heap.size >> 20));

  if (CommandLineHas(info.command_line, "boot.fault_test")) {
    SerialWrite("boot: fault test: executing ud2\n");
    asm volatile("ud2");
  }

  Completion completion;
  if (!ParseCompletion(info.command_line, &completion)) return Outcome::kFail;

  TscClock clock;
  const bool calibrated = clock.Calibrate();
  SerialPrintf(
      "boot: TSC %llu MHz (%s)\n",
      static_cast<unsigned long long>(clock.hz() / 1000000),
      calibrated ? "calibrated against the PIT" : "PIT unusable, assumed");
  BareMetalPlatform platform(*info.ram, clock);

  const auto bar_policy =
      CommandLineHas(info.command_line, "pci.reassign_bars")
          ? PciRegisterIo::BarPolicy::kReassignAll
          : PciRegisterIo::BarPolicy::kKeepFirmwareAddresses;
  FoundDevice device;
  if (!FindVirtioFsDevice(platform, bar_policy, &device)) {
    SerialWrite(
        "boot: no virtio-fs device (neither PCI 1af4:105a nor virtio-mmio id "
        "26)\n");
    return Outcome::kFail;
  }
  SerialPrintf("boot: virtio-fs device found on %s\n", device.transport_name());

  DeviceIdentity direct, through_driver;
  if (!ReadIdentityDirect(device, &direct)) return Outcome::kFail;
  if (!ReadIdentityThroughDriver(platform, device, &through_driver))
    return Outcome::kFail;
  bool ok = true;
  if (!SameIdentity(direct, through_driver)) {
    SerialWrite(
        "boot: FAIL the driver's transport and the direct reading disagree\n");
    ok = false;
  }
  if (direct.device_type != kVirtioFsDeviceType) {
    SerialPrintf("boot: FAIL device type %u is not virtio-fs (%u)\n",
                 direct.device_type, kVirtioFsDeviceType);
    ok = false;
  }
  char expected_tag[40];
  if (CommandLineValue(info.command_line, "virtiofs.tag", expected_tag,
                       sizeof(expected_tag)) &&
      strcmp(expected_tag, direct.tag) != 0) {
    SerialPrintf("boot: FAIL tag \"%s\", expected \"%s\"\n", direct.tag,
                 expected_tag);
    ok = false;
  }

  DeviceInterrupts interrupts;
  if (completion == Completion::kInterrupt) {
    if (!interrupts.Route(device, info.acpi_rsdp)) return Outcome::kFail;
    platform.EnableInterruptWaits();
    SerialPrintf(
        "boot: completion by interrupt, each sleep bounded to %llu ms by the "
        "local APIC timer (%u ticks)\n",
        static_cast<unsigned long long>(BareMetalPlatform::kWaitBoundNanos /
                                        1'000'000),
        platform.wait_bound_ticks());
  } else {
    SerialWrite("boot: completion by polling, interrupts stay off\n");
  }

  // Brought up and mounted at "/<tag>" exactly as sim::Machine does.
  share::ShareOptions options;
  options.transport = device.transport;
  // Packed rings whenever the device offers them, as Linux does.
  options.queues.ring = base::RingFormat::kPacked;
  auto started = share::VirtioFsShare::Start(platform, *device.io, options);
  if (!started.ok()) {
    SerialPrintf("share: FAIL bring-up: error %d\n", started.error());
    return Outcome::kFail;
  }
  std::unique_ptr<share::VirtioFsShare> share = std::move(started).value();
  const driver::Negotiated& negotiated = share->client().negotiated();
  SerialPrintf(
      "share: device up, tag \"%s\", %u %s request queue(s), features 0x%llx\n",
      share->virtio_fs().tag(), share->virtio_fs().request_queues(),
      share->virtio_fs().device().packed_ring() ? "packed" : "split",
      static_cast<unsigned long long>(share->virtio_fs().device().features()));
  SerialPrintf("share: FUSE 7.%u, max_read %u, max_write %u, max_pages %u\n",
               negotiated.minor, negotiated.max_read, negotiated.max_write,
               negotiated.max_pages);
  SerialPrintf("share: mounted at %s\n", share->mount_point());
  {
    vfs::TaskScope as_init(share->kernel()->init_task());
    const ScenarioTotals totals = RunAllScenarios(platform, *share);
    if (totals.failed != 0 || totals.passed == 0) ok = false;
    if (CommandLineHas(info.command_line, "boot.undeclared_file_test")) {
      SerialWrite("boot: undeclared file test: leaving a file unannounced\n");
      if (!LeaveUndeclaredFile(share->mount_point())) ok = false;
    }
  }
  // Before Stop, which frees the driver (its FUSE_DESTROY goes uncounted).
  ReportCompletions(*share, completion, platform, interrupts);
  if (base::Result<void> stopped = share->Stop(); !stopped.ok()) {
    SerialPrintf("share: FAIL teardown: error %d\n", stopped.error());
    ok = false;
  }
  share.reset();

  SerialPrintf("boot: heap in use %llu bytes, DMA in use %llu bytes\n",
               static_cast<unsigned long long>(kernel::HeapBytesInUse()),
               static_cast<unsigned long long>(platform.dma_bytes_in_use()));
  if (platform.dma_bytes_in_use() != 0) {
    SerialWrite("boot: FAIL the driver kept DMA memory after its teardown\n");
    ok = false;
  }
  return ok ? Outcome::kPass : Outcome::kFail;
}

}  // namespace boot
