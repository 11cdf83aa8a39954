// The macro layer itself: what a failed check reports, that it ends the
// scenario, that passing checks report nothing, and that SCENARIO registers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "conformance/scenario.h"

namespace conformance {
namespace {

struct Report {
  std::string file;
  int line;
  std::string message;
};

struct Expectation {
  HostExpectation::Kind kind;
  std::string path;
  uint64_t size;
};

class RecordingReporter final : public Reporter {
 public:
  void Failure(const char* file, int line, const char* message) override {
    reports.push_back(Report{file, line, message});
  }
  void ExpectOnHost(const HostExpectation& expectation) override {
    expectations.push_back(
        Expectation{expectation.kind, expectation.path, expectation.size});
  }
  std::vector<Report> reports;
  std::vector<Expectation> expectations;
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
  CHECK_ERRNO(base::Result<int>(base::Error{ENOENT}), EEXIST);
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
  CHECK_OK(base::Result<int>(7));
  CHECK_OK(0);
  CHECK_ERRNO(-ENOTDIR, ENOTDIR);
  reached_after_check = true;
}

std::vector<Report> RunBody(ScenarioBody body, RecordingReporter* out = nullptr,
                            const char* root = "/") {
  reached_after_check = false;
  RecordingReporter reporter;
  Scenario scenario{"under_test", body, __FILE__, __LINE__, nullptr};
  Environment environment;
  environment.root = root;
  RunScenario(scenario, environment, reporter);
  if (out) *out = reporter;
  return reporter.reports;
}

std::string built_path;

void PathBody(Context& ctx) {
  built_path = ctx.Path("dir/entry-%04d", 7).c_str();
}

void LongPathBody(Context& ctx) {
  const std::string name(400, 'x');
  built_path = ctx.Path("%s", name.c_str()).c_str();
}

void ExpectationsBody(Context& ctx) {
  ctx.ExpectHostFile("big.bin", 3 << 20);
  ctx.ExpectHostAbsent("seed/gone.txt");
}

void BadExpectationBody(Context& ctx) {
  ctx.ExpectHostFile("/etc/passwd", 1);
  ctx.ExpectHostAbsent("a/../../b");
  ctx.ExpectHostAbsent("two words");
  ctx.ExpectHostAbsent("");
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

TEST(ScenarioLayerTest, PathJoinsRootAndFormattedName) {
  EXPECT_TRUE(RunBody(&PathBody, nullptr, "/root").empty());
  EXPECT_EQ(built_path, "/root/dir/entry-0007");
  EXPECT_TRUE(RunBody(&PathBody, nullptr, "/").empty());
  EXPECT_EQ(built_path, "/dir/entry-0007");
}

TEST(ScenarioLayerTest, PathThatDoesNotFitFailsTheScenario) {
  const auto reports = RunBody(&LongPathBody, nullptr, "/root");
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].message.find("does not fit"), std::string::npos)
      << reports[0].message;
  EXPECT_LT(built_path.size(), sizeof(PathText::text));
}

TEST(ScenarioLayerTest, HostExpectationsReachTheReporter) {
  RecordingReporter reporter;
  EXPECT_TRUE(RunBody(&ExpectationsBody, &reporter).empty());
  ASSERT_EQ(reporter.expectations.size(), 2u);
  EXPECT_EQ(reporter.expectations[0].kind, HostExpectation::Kind::kFile);
  EXPECT_EQ(reporter.expectations[0].path, "big.bin");
  EXPECT_EQ(reporter.expectations[0].size, uint64_t{3} << 20);
  EXPECT_EQ(reporter.expectations[1].kind, HostExpectation::Kind::kAbsent);
  EXPECT_EQ(reporter.expectations[1].path, "seed/gone.txt");
}

TEST(ScenarioLayerTest, HostExpectationsOutsideTheShareAreRefused) {
  RecordingReporter reporter;
  EXPECT_EQ(RunBody(&BadExpectationBody, &reporter).size(), 4u);
  EXPECT_TRUE(reporter.expectations.empty());
}

TEST(ScenarioLayerTest, SmokeScenariosAreRegistered) {
  // Linked in through //conformance:all (alwayslink).
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
  EXPECT_NE(std::find(names.begin(), names.end(),
                      "large_directory_listed_whole_and_once"),
            names.end());
}

}  // namespace
}  // namespace conformance
