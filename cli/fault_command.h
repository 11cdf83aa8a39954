// vfsim's fault plan: the --fault, --fault_file and --fault_seed flags, and
// the `fault` command (sim/fault_plan.h has the rule syntax).
#ifndef CLI_FAULT_COMMAND_H_
#define CLI_FAULT_COMMAND_H_

#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "cli/commands.h"
#include "sim/fault_plan.h"

ABSL_DECLARE_FLAG(std::string, fault);
ABSL_DECLARE_FLAG(std::string, fault_file);
ABSL_DECLARE_FLAG(uint64_t, fault_seed);

namespace cli {

// The plan the flags describe; InvalidArgument with the one line to print.
absl::StatusOr<sim::FaultPlan> FaultPlanFromFlags();

// fault SPEC | list | held | clear | release [random SEED | I...] |
// avail-jump | help
int FaultCommand(const std::vector<std::string>& args, CommandContext& context);

}  // namespace cli

#endif  // CLI_FAULT_COMMAND_H_
