// sim::FaultPlan: the rule syntax (round trip and precise errors), the
// selectors, and a seeded probability that repeats.
#include "sim/fault_plan.h"

#include <linux/fuse.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sim {
namespace {

FaultRule Rule(const std::string& text) {
  absl::StatusOr<FaultRule> rule = ParseFaultRule(text);
  EXPECT_TRUE(rule.ok()) << rule.status();
  return rule.ok() ? *rule : FaultRule{};
}

TEST(FaultPlanTest, RulesRoundTripThroughTheirText) {
  for (const char* text :
       {"error=EIO", "host-error=ENOSPC@op=WRITE",
        "truncate=8@op=GETATTR,nth=3", "wrong-unique@queue=1",
        "wrong-len@node=5,count=2", "oversize", "delay=4@op=LOOKUP",
        "delay-ms=20", "hold@p=0.5", "drop-notify", "stall-ms=10",
        "needs-reset@op=READ,nth=1", "reset-session"}) {
    EXPECT_EQ(Rule(text).ToString(), text);
  }
  EXPECT_EQ(Rule("error=28").ToString(), "error=ENOSPC");
  EXPECT_EQ(Rule("error=EDQUOT").value, EDQUOT);
}

TEST(FaultPlanTest, BadRulesSayWhatIsWrong) {
  for (const auto& [text, why] :
       std::vector<std::pair<std::string, std::string>>{
           {"explode", "no fault \"explode\""},
           {"error", "wants an errno"},
           {"error=ENOTANERRNO", "wants an errno"},
           {"truncate=-1", "wants a number"},
           {"hold=3", "takes no value"},
           {"error=EIO@op=FROB", "no opcode FROB"},
           {"error=EIO@nth=0", "bad selector"},
           {"error=EIO@p=1.5", "bad selector"},
           {"error=EIO@colour=red", "bad selector"}}) {
    absl::StatusOr<FaultRule> rule = ParseFaultRule(text);
    ASSERT_FALSE(rule.ok()) << text;
    EXPECT_NE(rule.status().message().find(why), std::string::npos)
        << rule.status().message();
  }
}

TEST(FaultPlanTest, SelectorsPickTheRequests) {
  FaultPlan plan;
  plan.Add(Rule("error=EIO@op=WRITE,nth=2"));
  plan.Add(Rule("error=ENOSPC@node=7,count=1"));
  const FaultRequest write{FUSE_WRITE, 3, 1};
  EXPECT_FALSE(plan.Match(write));
  EXPECT_EQ(plan.Match(write)->value, EIO);  // The second write.
  EXPECT_FALSE(plan.Match(write));
  const FaultRequest on_seven{FUSE_GETATTR, 7, 1};
  EXPECT_EQ(plan.Match(on_seven)->value, ENOSPC);
  EXPECT_FALSE(plan.Match(on_seven));  // count=1.
  EXPECT_FALSE(plan.Match({FUSE_GETATTR, 8, 1}));
}

TEST(FaultPlanTest, ASeedMakesProbabilitiesRepeat) {
  auto draw = [](uint64_t seed) {
    FaultPlan plan(seed);
    plan.Add(Rule("error=EIO@p=0.3"));
    std::vector<bool> fired;
    for (int i = 0; i < 200; ++i) fired.push_back(plan.Match({}).has_value());
    return fired;
  };
  const std::vector<bool> a = draw(5);
  EXPECT_EQ(a, draw(5));
  EXPECT_NE(a, draw(6));
  const long hits = std::count(a.begin(), a.end(), true);
  EXPECT_GT(hits, 30);
  EXPECT_LT(hits, 90);
}

TEST(FaultPlanTest, FilesHoldRulesCommentsAndASeed) {
  const std::string path =
      std::string(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp") +
      "/plan";
  std::ofstream(path) << "# a plan\n\nseed 9\n  error=EIO@op=READ  \n";
  FaultPlan plan;
  ASSERT_TRUE(plan.AddFile(path).ok());
  ASSERT_EQ(plan.rules().size(), 1u);
  EXPECT_EQ(plan.rules()[0].ToString(), "error=EIO@op=READ");
  std::ofstream(path) << "error=EIO\nbogus\n";
  absl::Status bad = FaultPlan().AddFile(path);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find(":2: "), std::string::npos) << bad.message();
}

}  // namespace
}  // namespace sim
