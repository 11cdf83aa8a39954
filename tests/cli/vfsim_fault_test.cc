// vfsim's fault plan as a user drives it: --fault, --fault_file and the fault
// command; each injected fault shows in the trace, marked.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/vfsim_runner.h"

namespace cli_test {
namespace {

using ::testing::HasSubstr;

TEST(VfsimFaultTest, FlagRulesFailTheMatchingRequestAndAreMarkedInTheTrace) {
  const std::string share = MakeTempDir();
  RunResult r = RunVfsim({"--share=" + share, "--trace",
                          "--fault=error=ENOSPC@op=MKDIR,count=1;"
                          "truncate=4@op=GETATTR,nth=99",
                          "mkdir", "/root/d"});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("mkdir: /root/d: No space left on device"));
  EXPECT_THAT(r.err, HasSubstr("MKDIR(node=1, \"d\", mode=0755) = ENOSPC"));
  EXPECT_THAT(r.err, HasSubstr("[injected: error=ENOSPC@op=MKDIR,count=1]"));
  EXPECT_TRUE(ListHostDir(share).empty());
}

TEST(VfsimFaultTest, RulesFromAFileWithASeed) {
  const std::string share = MakeTempDir();
  const std::string plan = MakeTempDir() + "/plan";
  WriteHostFile(plan,
                "# every CREATE fails at the host\n"
                "seed 42\n"
                "host-error=EDQUOT@op=CREATE\n");
  RunResult r = RunVfsim(
      {"--share=" + share, "--fault_file=" + plan, "write", "/root/f", "x"});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("Disk quota exceeded"));
  EXPECT_TRUE(ListHostDir(share).empty());
}

TEST(VfsimFaultTest, TheFaultCommandAddsListsAndClearsRules) {
  const std::string share = MakeTempDir();
  RunResult r = RunVfsim({"--share=" + share, "--attr_timeout=0", "shell"},
                         "write /root/f hello\n"
                         "fault truncate=4@op=GETATTR,count=1\n"
                         "fault list\n"
                         "stat /root/f\n"
                         "stat /root/f\n"
                         "fault clear\n"
                         "fault list\n"
                         "fault held\n");
  EXPECT_THAT(r.out, HasSubstr("fault: truncate=4@op=GETATTR,count=1"));
  EXPECT_THAT(r.err, HasSubstr("stat: /root/f: Input/output error"));
  EXPECT_THAT(r.out, HasSubstr("Size: 6"));  // The second stat works.
  EXPECT_THAT(r.out, HasSubstr("fault: no rules"));
  EXPECT_THAT(r.out, HasSubstr("0 completion(s) held"));
}

TEST(VfsimFaultTest, ABadRuleIsAUsageError) {
  RunResult r = RunVfsim({"--fault=error=EBOGUS", "ls"});
  EXPECT_EQ(r.status, 2);
  EXPECT_THAT(r.err,
              HasSubstr("--fault: fault \"error=EBOGUS\": wants an errno"));
  r = RunVfsim({"--fault_file=/nonexistent/plan", "ls"});
  EXPECT_EQ(r.status, 2);
  EXPECT_THAT(r.err, HasSubstr("cannot read /nonexistent/plan"));
}

}  // namespace
}  // namespace cli_test
