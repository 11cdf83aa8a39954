// The image's harness for the conformance scenarios (conformance/scenario.h):
// runs every registered scenario on the mounted share and prints, on the serial
// port,
//   HOST-EXPECT file PATH SIZE      what a scenario declares it leaves on the
//   HOST-EXPECT absent PATH         host (checked by boot/run_qemu.sh)
//   PASS name (12 ms)
//   FAIL name: file:line CHECK_EQ(...): 1 != 2
// then "scenarios: N passed, M failed". After each scenario the share is
// unmounted and mounted again: a scenario that leaves a file open on it fails
// (the hosted suite checks the same with vfs::umount).
#ifndef BOOT_SCENARIO_RUNNER_H_
#define BOOT_SCENARIO_RUNNER_H_

#include "share/virtio_fs_share.h"

namespace boot {

struct ScenarioTotals {
  int passed = 0;
  int failed = 0;
};

ScenarioTotals RunAllScenarios(base::Platform& platform,
                               share::VirtioFsShare& share);

}  // namespace boot

#endif  // BOOT_SCENARIO_RUNNER_H_
