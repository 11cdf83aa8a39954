#include "boot/scenario_runner.h"

#include "boot/serial_console.h"

namespace boot {
namespace {

class SerialReporter final : public conformance::Reporter {
 public:
  explicit SerialReporter(const char* scenario) : scenario_(scenario) {}
  void Failure(const char* file, int line, const char* message) override {
    SerialPrintf("FAIL %s: %s:%d %s\n", scenario_, file, line, message);
  }

 private:
  const char* scenario_;
};

}  // namespace

ScenarioTotals RunAllScenarios(const conformance::Environment& environment) {
  ScenarioTotals totals;
  for (const conformance::Scenario* s = conformance::FirstScenario(); s;
       s = s->next) {
    SerialReporter reporter(s->name);
    if (conformance::RunScenario(*s, environment, reporter)) {
      SerialPrintf("PASS %s\n", s->name);
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
