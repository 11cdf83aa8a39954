#include "cli/fault_command.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/session.h"
#include "sim/machine.h"

ABSL_FLAG(std::string, fault, "",
          "fault rules for the device, separated by ';' (see `fault help`)");
ABSL_FLAG(std::string, fault_file, "",
          "a file of fault rules, one per line ('seed N' sets the seed)");
ABSL_FLAG(uint64_t, fault_seed, 1,
          "seed of the fault rules' probabilities and random releases");

namespace cli {
namespace {

constexpr char kFaultUsage[] =
    "fault SPEC | list | held | clear | release [random SEED | I...] | "
    "avail-jump | help";

constexpr char kHelp[] =
    R"(fault SPEC adds a rule: KIND[=VALUE][@MATCH,...]
  error=ERRNO      answer -ERRNO without running the request
  host-error=ERRNO run it with the host call underneath failing
  truncate=BYTES   cut the reply's used length    wrong-unique   wrong-len
  oversize         used length = all writable     drop-notify    no interrupt
  delay=N          complete after N more requests delay-ms=MS    after MS ms
  hold             until `fault release`          stall-ms=MS    stop first
  needs-reset      hold it, set DEVICE_NEEDS_RESET
  reset-session    end the FUSE session (a device reboot)
MATCH: op=NAME node=ID queue=Q nth=N count=N p=PROBABILITY
e.g.   fault error=ENOSPC@op=WRITE,count=1     fault delay-ms=200@op=LOOKUP
)";

// Breaks the available ring of the first request queue the way a buggy
// driver would, to show how the device reports it and how vfsim recovers.
int AvailJump(CommandContext& context) {
  sim::Machine& machine = context.session.machine();
  sim::VirtioDeviceModel& model = machine.device().model();
  const uint16_t queue = 1;
  uint64_t avail = (static_cast<uint64_t>(model.ReadQueueField(
                        queue, sim::QueueField::kDriverHigh))
                    << 32) |
                   model.ReadQueueField(queue, sim::QueueField::kDriverLow);
  uint32_t size = model.ReadQueueField(queue, sim::QueueField::kSize);
  uint8_t* idx = machine.memory().HostPointer(avail + 2, 2);
  if (idx == nullptr || size == 0) {
    fprintf(stderr, "fault: queue req0 is not set up\n");
    return kFailure;
  }
  // Stored as a driver publishes its index (the device may be polling it).
  std::atomic_ref<uint16_t> index(*reinterpret_cast<uint16_t*>(idx));
  index.store(
      static_cast<uint16_t>(index.load(std::memory_order_relaxed) + size + 1),
      std::memory_order_release);
  printf(
      "fault: moved the available index of req0 forward by %u (the queue "
      "holds %u) and notified the device\n",
      size + 1, size);
  fflush(stdout);
  const uint64_t seen = context.session.recorder().violations_total();
  model.Notify(queue);
  // With --notify=thread the device thread handles the notify, and reports
  // the violation after it set DEVICE_NEEDS_RESET: once the session has it,
  // the check after this command sees both.
  for (int i = 0;
       i < 1000 && context.session.recorder().violations_total() == seen; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return kSuccess;
}

int Release(const std::vector<std::string>& args,
            sim::FaultingBackend& faults) {
  const size_t held = faults.held();
  if (args.size() == 2) {
    std::vector<size_t> all(held);
    for (size_t i = 0; i < held; ++i) all[i] = i;
    faults.ReleaseHeld(all);
  } else if (args[2] == "random") {
    uint64_t seed;
    if (args.size() != 4 || !absl::SimpleAtoi(args[3], &seed)) {
      return UsageError("fault", "release random wants a seed", kFaultUsage);
    }
    faults.ReleaseAllRandomly(seed);
  } else {
    std::vector<size_t> order;
    for (size_t i = 2; i < args.size(); ++i) {
      size_t index;
      if (!absl::SimpleAtoi(args[i], &index)) {
        return UsageError("fault", "release takes indices", kFaultUsage);
      }
      order.push_back(index);
    }
    if (!faults.ReleaseHeld(order)) {
      return UsageError(
          "fault", absl::StrCat("indices must be distinct and below ", held),
          kFaultUsage);
    }
  }
  printf("fault: released %zu, %zu still held\n", held - faults.held(),
         faults.held());
  return kSuccess;
}

}  // namespace

absl::StatusOr<sim::FaultPlan> FaultPlanFromFlags() {
  sim::FaultPlan plan(absl::GetFlag(FLAGS_fault_seed));
  for (absl::string_view text :
       absl::StrSplit(absl::GetFlag(FLAGS_fault), ';', absl::SkipEmpty())) {
    absl::StatusOr<sim::FaultRule> rule =
        sim::ParseFaultRule(std::string(text));
    if (!rule.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--fault: ", rule.status().message()));
    }
    plan.Add(*rule);
  }
  if (const std::string file = absl::GetFlag(FLAGS_fault_file); !file.empty()) {
    if (absl::Status added = plan.AddFile(file); !added.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--fault_file: ", added.message()));
    }
  }
  return plan;
}

int FaultCommand(const std::vector<std::string>& args,
                 CommandContext& context) {
  if (args.size() < 2) return UsageError("fault", "what fault?", kFaultUsage);
  sim::FaultingBackend& faults = context.session.machine().faults();
  const std::string& what = args[1];
  if (what == "avail-jump" && args.size() == 2) return AvailJump(context);
  if (what == "help" && args.size() == 2) {
    fputs(kHelp, stdout);
    return kSuccess;
  }
  if (what == "list" && args.size() == 2) {
    for (const sim::FaultRule& rule : faults.plan().rules()) {
      printf("%s\n", rule.ToString().c_str());
    }
    return kSuccess;
  }
  if (what == "held" && args.size() == 2) {
    printf("%zu completion(s) held\n", faults.held());
    return kSuccess;
  }
  if (what == "clear" && args.size() == 2) {
    faults.plan().Clear();
    printf("fault: no rules\n");
    return kSuccess;
  }
  if (what == "release") return Release(args, faults);
  if (args.size() != 2)
    return UsageError("fault", "one rule at a time", kFaultUsage);
  absl::StatusOr<sim::FaultRule> rule = sim::ParseFaultRule(what);
  if (!rule.ok()) {
    return UsageError("fault", std::string(rule.status().message()),
                      kFaultUsage);
  }
  faults.plan().Add(*rule);
  printf("fault: %s\n", rule->ToString().c_str());
  return kSuccess;
}

}  // namespace cli
