// The image's harness for the conformance scenarios (conformance/scenario.h):
// runs every registered scenario and prints one line each on the serial port,
//   PASS name
//   FAIL name: file:line CHECK_EQ(...): 1 != 2
// then "scenarios: N passed, M failed".
#ifndef BOOT_SCENARIO_RUNNER_H_
#define BOOT_SCENARIO_RUNNER_H_

#include "conformance/scenario.h"

namespace boot {

struct ScenarioTotals {
  int passed = 0;
  int failed = 0;
};

ScenarioTotals RunAllScenarios(const conformance::Environment& environment);

}  // namespace boot

#endif  // BOOT_SCENARIO_RUNNER_H_
