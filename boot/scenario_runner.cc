#include "boot/scenario_runner.h"

#include "boot/serial_console.h"
#include "conformance/scenario.h"

namespace boot {
namespace {

class SerialReporter final : public conformance::Reporter {
 public:
  explicit SerialReporter(const char* scenario) : scenario_(scenario) {}

  void Failure(const char* file, int line, const char* message) override {
    SerialPrintf("FAIL %s: %s:%d %s\n", scenario_, file, line, message);
  }

  void ExpectOnHost(const conformance::HostExpectation& expectation) override {
    if (expectation.kind == conformance::HostExpectation::Kind::kFile) {
      SerialPrintf("HOST-EXPECT file %s %llu\n", expectation.path,
                   static_cast<unsigned long long>(expectation.size));
    } else {
      SerialPrintf("HOST-EXPECT absent %s\n", expectation.path);
    }
  }

 private:
  const char* scenario_;
};

}  // namespace

ScenarioTotals RunAllScenarios(base::Platform& platform,
                               share::VirtioFsShare& share) {
  conformance::Environment environment;
  environment.root = share.mount_point();
  ScenarioTotals totals;
  for (const conformance::Scenario* s = conformance::FirstScenario(); s;
       s = s->next) {
    SerialReporter reporter(s->name);
    const uint64_t start = platform.MonotonicNanos();
    bool passed = conformance::RunScenario(*s, environment, reporter);
    const uint64_t elapsed_ms = (platform.MonotonicNanos() - start) / 1000000;
    if (const base::Result<void> remounted = share.Remount(); !remounted.ok()) {
      // Only news when the scenario passed: a failed check may leave files.
      if (passed) {
        SerialPrintf(
            "FAIL %s: left files or directories open on the share (umount: "
            "error %d)\n",
            s->name, remounted.error());
      }
      passed = false;
    }
    if (passed) {
      SerialPrintf("PASS %s (%llu ms)\n", s->name,
                   static_cast<unsigned long long>(elapsed_ms));
      ++totals.passed;
    } else {
      ++totals.failed;
    }
  }
  SerialPrintf("scenarios: %d passed, %d failed\n", totals.passed,
               totals.failed);
  return totals;
}

}  // namespace boot
