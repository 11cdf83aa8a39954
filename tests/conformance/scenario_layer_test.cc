// The macro layer itself: what a failed check reports, that it ends the
// scenario, that passing checks report nothing, and that SCENARIO registers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <string_view>
#include <vector>

#include "conformance/scenario.h"
#include "driver/result.h"

namespace conformance {
namespace {

struct Report {
  std::string file;
  int line;
  std::string message;
};

class RecordingReporter final : public Reporter {
 public:
  void Failure(const char* file, int line, const char* message) override {
    reports.push_back(Report{file, line, message});
  }
  std::vector<Report> reports;
};

bool reached_after_check = false;
int check_line = 0;

void FailingEqualityBody(Context& ctx) {
  const int answer = 41;
  check_line = __LINE__ + 1;
  CHECK_EQ(answer + 0, 42);
  reached_after_check = true;
}

void FailingErrnoBody(Context& ctx) {
  CHECK_ERRNO(driver::Result<int>(driver::Error{ENOENT}), EEXIST);
  reached_after_check = true;
}

void FailingOkBody(Context& ctx) {
  CHECK_OK(-EACCES);
  reached_after_check = true;
}

void FailingStringBody(Context& ctx) {
  CHECK_EQ(std::string_view("abc"), std::string_view("abd"));
}

void PassingBody(Context& ctx) {
  CHECK_TRUE(1 + 1 == 2);
  CHECK_EQ(std::string_view("same"), std::string_view("same"));
  CHECK_OK(driver::Result<int>(7));
  CHECK_OK(0);
  CHECK_ERRNO(-ENOTDIR, ENOTDIR);
  reached_after_check = true;
}

std::vector<Report> RunBody(ScenarioBody body) {
  reached_after_check = false;
  RecordingReporter reporter;
  Scenario scenario{"under_test", body, __FILE__, __LINE__, nullptr};
  RunScenario(scenario, Environment{}, reporter);
  return reporter.reports;
}

TEST(ScenarioLayerTest,
     FailedEqualityReportsExpressionValuesAndLocationThenStops) {
  const auto reports = RunBody(&FailingEqualityBody);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].line, check_line);
  EXPECT_NE(reports[0].file.find("scenario_layer_test.cc"), std::string::npos);
  EXPECT_EQ(reports[0].message, "CHECK_EQ(answer + 0, 42): 41 != 42");
  EXPECT_FALSE(reached_after_check);
}

TEST(ScenarioLayerTest, FailedErrnoCheckNamesBothCodes) {
  const auto reports = RunBody(&FailingErrnoBody);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].message.find("error " + std::to_string(ENOENT) +
                                    ", expected " + std::to_string(EEXIST)),
            std::string::npos)
      << reports[0].message;
  EXPECT_FALSE(reached_after_check);
}

TEST(ScenarioLayerTest, NegativeSyscallReturnFailsCheckOk) {
  const auto reports = RunBody(&FailingOkBody);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].message,
            "CHECK_OK(-EACCES): error " + std::to_string(EACCES));
  EXPECT_FALSE(reached_after_check);
}

TEST(ScenarioLayerTest, StringsArePrintedQuoted) {
  const auto reports = RunBody(&FailingStringBody);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].message.find("\"abc\" != \"abd\""), std::string::npos)
      << reports[0].message;
}

TEST(ScenarioLayerTest, PassingChecksReportNothing) {
  EXPECT_TRUE(RunBody(&PassingBody).empty());
  EXPECT_TRUE(reached_after_check);
}

TEST(ScenarioLayerTest, LongStringsAreTruncated) {
  const std::string long_text(200, 'x');
  const ValueText text = Describe(std::string_view(long_text));
  EXPECT_LT(std::string_view(text.text).size(), sizeof(text.text));
  EXPECT_EQ(std::string_view(text.text).substr(
                std::string_view(text.text).size() - 3),
            "...");
}

TEST(ScenarioLayerTest, SmokeScenariosAreRegistered) {
  // Linked in through //tests/conformance:scenarios_hosted.
  std::vector<std::string> names;
  for (const Scenario* s = FirstScenario(); s; s = s->next)
    names.push_back(s->name);
  EXPECT_EQ(static_cast<int>(names.size()), ScenarioCount());
  EXPECT_NE(std::find(names.begin(), names.end(),
                      "format_renders_numbers_and_strings"),
            names.end());
  EXPECT_NE(
      std::find(names.begin(), names.end(), "result_carries_errno_through_try"),
      names.end());
}

}  // namespace
}  // namespace conformance
