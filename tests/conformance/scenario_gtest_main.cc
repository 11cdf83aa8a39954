// The hosted harness of the conformance scenarios: each registered scenario
// becomes one GoogleTest test, Conformance.<name>, whose failed checks are test
// failures at the check's file and line.
#include <gtest/gtest.h>

#include "conformance/scenario.h"

namespace {

class GoogleTestReporter final : public conformance::Reporter {
 public:
  void Failure(const char* file, int line, const char* message) override {
    ADD_FAILURE_AT(file, line) << message;
  }
};

class ScenarioTest : public testing::Test {
 public:
  explicit ScenarioTest(const conformance::Scenario* scenario)
      : scenario_(scenario) {}

  void TestBody() override {
    GoogleTestReporter reporter;
    conformance::Environment environment;
    conformance::RunScenario(*scenario_, environment, reporter);
  }

 private:
  const conformance::Scenario* scenario_;
};

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  if (conformance::ScenarioCount() == 0) {
    ADD_FAILURE() << "no conformance scenario is linked in";
    return 1;
  }
  for (const conformance::Scenario* s = conformance::FirstScenario(); s;
       s = s->next) {
    testing::RegisterTest(
        "Conformance", s->name, nullptr, nullptr, s->file, s->line,
        [s]() -> testing::Test* { return new ScenarioTest(s); });
  }
  return RUN_ALL_TESTS();
}
