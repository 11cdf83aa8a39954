// vfsim driven as a user drives it: flags, usage errors, the shell and scripts
// on the memory filesystem (/tmp), tracing, statistics, violations, and the
// sample share's cleanup.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/vfsim_runner.h"

namespace cli_test {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

// Usage errors: exit status 2, exactly one line on stderr, nothing on stdout.
void ExpectUsageError(const RunResult& result, const std::string& line) {
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, line + "\n");
}

TEST(VfsimUsageTest, UnknownFlagIsOneLineAndStatusTwo) {
  ExpectUsageError(
      RunVfsim({"--bogus", "ls"}),
      "vfsim: unknown flag --bogus (vfsim --help lists the flags)");
}

TEST(VfsimUsageTest, BadFlagValuesAreOneLineAndStatusTwo) {
  ExpectUsageError(RunVfsim({"--transport=usb", "ls"}),
                   "vfsim: --transport=usb: use pci or mmio");
  ExpectUsageError(RunVfsim({"--notify=later", "ls"}),
                   "vfsim: --notify=later: use inline or thread");
  ExpectUsageError(
      RunVfsim({"--queue_size=100", "ls"}),
      "vfsim: --queue_size=100: must be a power of two from 2 to 1024");
  ExpectUsageError(RunVfsim({"--request_queues=0", "ls"}),
                   "vfsim: --request_queues=0: must be 1 to 64");
  ExpectUsageError(
      RunVfsim({"--data_caching=sometimes", "ls"}),
      "vfsim: --data_caching=sometimes: use auto, always or never");
  RunResult not_a_number = RunVfsim({"--queue_size=abc", "ls"});
  EXPECT_EQ(not_a_number.status, 2);
  EXPECT_THAT(Lines(not_a_number.err), SizeIs(1));
  EXPECT_THAT(not_a_number.err, HasSubstr("--queue_size=abc"));
  ExpectUsageError(RunVfsim({"--trace_json"}),
                   "vfsim: --trace_json needs a value");
}

TEST(VfsimUsageTest, MissingShareIsStatusTwo) {
  std::string missing = MakeTempDir() + "/no-such-dir";
  ExpectUsageError(RunVfsim({"--share=" + missing, "ls"}),
                   "vfsim: --share=" + missing + ": No such file or directory");
}

TEST(VfsimUsageTest, ShareThatIsAFileIsStatusTwo) {
  std::string file = MakeTempDir() + "/plain";
  WriteHostFile(file, "x");
  ExpectUsageError(RunVfsim({"--share", file, "ls"}),
                   "vfsim: --share=" + file + ": Not a directory");
}

TEST(VfsimUsageTest, UnwritableTraceJsonIsStatusTwo) {
  std::string path = MakeTempDir() + "/missing/trace.json";
  ExpectUsageError(
      RunVfsim({"--trace_json=" + path, "ls", "/tmp"}),
      "vfsim: --trace_json=" + path + ": No such file or directory");
}

TEST(VfsimUsageTest, UnknownAndMissingCommands) {
  ExpectUsageError(
      RunVfsim({"frobnicate"}),
      "vfsim: unknown command 'frobnicate' (vfsim --help lists them)");
  ExpectUsageError(
      RunVfsim({}),
      "vfsim: no command given (try: vfsim demo, or vfsim --help)");
  ExpectUsageError(RunVfsim({"run"}), "vfsim: usage: vfsim run SCRIPT");
}

TEST(VfsimUsageTest, UnknownCommandOptionIsOneLine) {
  RunResult result = RunVfsim({"ls", "-q", "/tmp"});
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err,
            "ls: unknown option -q (usage: ls [-l] [-a] [PATH...])\n");
}

TEST(VfsimUsageTest, HelpListsCommandsAndFlags) {
  RunResult result = RunVfsim({"--help"});
  EXPECT_EQ(result.status, 0);
  for (const char* word :
       {"demo", "shell", "run SCRIPT", "bench", "--share", "--transport",
        "--notify", "--queue_size", "--request_queues", "--entry_timeout",
        "--attr_timeout", "--strict", "--trace_json"}) {
    EXPECT_THAT(result.out, HasSubstr(word));
  }
}

TEST(VfsimUsageTest, ShellReportsErrorsLikeCoreutils) {
  RunResult result = RunVfsim({"shell"}, "mkdir /tmp/a\nmkdir /tmp/a\n");
  EXPECT_EQ(result.err, "mkdir: /tmp/a: File exists\n");
  EXPECT_EQ(result.status, 1);  // The status of the last command, as sh.
}

TEST(VfsimUsageTest, ShellHasCurrentDirectoryAndRelativePaths) {
  RunResult result =
      RunVfsim({"shell"},
               "cd /tmp\nmkdir -p d/e\ncd d\npwd\nwrite e/f.txt 'two words' "
               "three\ncat e/f.txt\n"
               "ls e\ncd ..\nrm d/e/f.txt\nls d/e\nrm d/nothing\n");
  EXPECT_EQ(result.out, "/tmp/d\ntwo words three\nf.txt\n");
  EXPECT_EQ(result.err, "rm: /tmp/d/nothing: No such file or directory\n");
  EXPECT_EQ(result.status, 1);
}

TEST(VfsimUsageTest, ShellLinksRenamesAndTrees) {
  RunResult result = RunVfsim({"shell"},
                              "cd /tmp\nmkdir top top/sub\nwrite top/a.txt "
                              "alpha\nln -s a.txt top/link\n"
                              "mv top/a.txt top/sub\ncat top/sub/a.txt\ntree "
                              "top\nrm top\nrm -r top\nls /tmp\n");
  EXPECT_THAT(result.out, HasSubstr("alpha\n"));
  EXPECT_THAT(result.out,
              HasSubstr("|-- link -> a.txt\n`-- sub\n    `-- a.txt\n"));
  EXPECT_THAT(result.out, HasSubstr("1 directory, 2 files"));
  EXPECT_EQ(result.err, "rm: /tmp/top: Is a directory\n");
  EXPECT_EQ(result.status, 0);
}

TEST(VfsimUsageTest, ShellHelpAndExit) {
  RunResult result = RunVfsim(
      {"shell"}, "help\nexit\nmkdir /tmp/after-exit\nmkdir /tmp/after-exit\n");
  EXPECT_THAT(result.out, HasSubstr("trace [on|off]"));
  EXPECT_EQ(result.err, "");  // Nothing after exit ran.
  EXPECT_EQ(result.status, 0);
}

TEST(VfsimUsageTest, ShellUnterminatedQuoteIsReported) {
  RunResult result = RunVfsim({"shell"}, "write /tmp/x 'oops\n");
  EXPECT_EQ(result.err, "vfsim: unterminated ' quote\n");
  EXPECT_EQ(result.status, 2);
}

TEST(VfsimUsageTest, RunStopsAtTheFirstFailingCommand) {
  std::string script = MakeTempDir() + "/script.vfsim";
  WriteHostFile(
      script,
      "# make a directory twice\nmkdir /tmp/x\n\nmkdir /tmp/x\nls /tmp\n");
  RunResult result = RunVfsim({"run", script});
  EXPECT_EQ(result.status, 1);
  EXPECT_EQ(result.out, "");  // `ls` never ran.
  EXPECT_THAT(result.err, HasSubstr("mkdir: /tmp/x: File exists"));
  EXPECT_THAT(result.err, HasSubstr(script + ":4: stopped"));
}

TEST(VfsimUsageTest, RunOfAGoodScriptSucceeds) {
  std::string script = MakeTempDir() + "/ok.vfsim";
  WriteHostFile(
      script,
      "mkdir /tmp/x  # trailing comment\nwrite /tmp/x/y hi\ncat /tmp/x/y\n");
  RunResult result = RunVfsim({"run", script});
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.out, "hi\n");
}

TEST(VfsimUsageTest, RunOfAMissingScriptIsStatusTwo) {
  RunResult result = RunVfsim({"run", "/nonexistent/script"});
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err,
            "vfsim: run: /nonexistent/script: No such file or directory\n");
}

TEST(VfsimUsageTest, TraceLinesGoToStderrWithQueueOpcodeAndLatency) {
  RunResult result = RunVfsim({"--trace", "ls", "/tmp"});
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.out, "");  // /tmp is empty.
  EXPECT_THAT(result.err,
              AllOf(HasSubstr("req0"), HasSubstr("INIT(node=0, version=7."),
                    HasSubstr(" = 0 "), HasSubstr(" us)")));
}

TEST(VfsimUsageTest, TraceJsonWritesOneObjectPerRequest) {
  std::string json = MakeTempDir() + "/trace.json";
  for (const char* transport : {"--transport=pci", "--transport=mmio"}) {
    RunResult result =
        RunVfsim({transport, "--trace_json=" + json, "ls", "/tmp"});
    ASSERT_EQ(result.status, 0) << result.err;
    std::vector<std::string> lines = Lines(ReadHostFile(json));
    ASSERT_FALSE(lines.empty());
    bool saw_init = false;
    for (const std::string& line : lines) {
      std::map<std::string, std::string> fields;
      ASSERT_TRUE(ParseFlatJsonObject(line, &fields)) << line;
      for (const char* key :
           {"t_ns", "queue", "vq", "unique", "op", "opcode", "node", "replied",
            "in_bytes", "out_bytes", "latency_ns"}) {
        EXPECT_EQ(fields.count(key), 1u) << key << " missing in " << line;
      }
      if (fields["op"] == "INIT") {
        saw_init = true;
        EXPECT_EQ(fields["queue"], "req0");
        EXPECT_EQ(fields["vq"], "1");
        EXPECT_EQ(fields["replied"], "true");
        EXPECT_EQ(fields["result"], "0");
        EXPECT_EQ(fields.count("error"), 0u);
      }
    }
    EXPECT_TRUE(saw_init);
  }
}

TEST(VfsimUsageTest, StatsShowsPerOpcodeCountsAndPercentiles) {
  RunResult result = RunVfsim({"shell"}, "stats\n");
  EXPECT_EQ(result.status, 0);
  EXPECT_THAT(result.out, HasSubstr("p50 us"));
  EXPECT_THAT(result.out, HasSubstr("p99 us"));
  EXPECT_THAT(result.out, testing::ContainsRegex("INIT +1 +0 "));
  EXPECT_THAT(result.out, HasSubstr("violations: 0"));

  RunResult flag = RunVfsim({"--stats", "ls", "/tmp"});
  EXPECT_EQ(flag.status, 0);
  EXPECT_THAT(flag.err, testing::ContainsRegex("INIT +1 +0 "));
}

TEST(VfsimUsageTest, ViolationIsReportedPlainlyAndTheDeviceRecovers) {
  for (const char* notify : {"--notify=inline", "--notify=thread"}) {
    RunResult result = RunVfsim({notify, "shell"}, "fault avail-jump\nstats\n");
    EXPECT_EQ(result.status, 0)
        << notify;  // The last command, stats, succeeded.
    EXPECT_THAT(
        result.err,
        HasSubstr("virtio: strict-mode violation \"avail index jump\": "));
    EXPECT_THAT(result.err, HasSubstr("DEVICE_NEEDS_RESET"));
    EXPECT_THAT(result.err,
                HasSubstr("virtio: device reset, FUSE session re-initialized"));
    EXPECT_THAT(result.err, HasSubstr("fault: failed:"));
    // The new session's INIT went through the reset device.
    EXPECT_THAT(result.out, testing::ContainsRegex("INIT +2 +0 "));
    EXPECT_THAT(result.out, HasSubstr("violations: 1"));
    EXPECT_THAT(result.err, Not(HasSubstr("Segmentation")));
  }
}

TEST(VfsimUsageTest, SampleShareIsRemovedOnExitAndOnErrors) {
  std::string tmp = MakeTempDir();
  RunResult ok = RunVfsim({"ls", "/tmp"}, "", {{"TMPDIR", tmp}});
  EXPECT_EQ(ok.status, 0);
  RunResult failed = RunVfsim({"cat", "/tmp/none"}, "", {{"TMPDIR", tmp}});
  EXPECT_EQ(failed.status, 1);
  EXPECT_EQ(failed.err, "cat: /tmp/none: No such file or directory\n");
  EXPECT_THAT(ListHostDir(tmp), testing::IsEmpty());
}

TEST(VfsimUsageTest, SampleShareIsRemovedOnSigint) {
  std::string tmp = MakeTempDir();
  int input[2];
  ASSERT_EQ(pipe(input), 0);
  std::string binary = VfsimPath();
  pid_t child = fork();
  if (child == 0) {
    setenv("TMPDIR", tmp.c_str(), 1);
    dup2(input[0], 0);
    close(input[1]);
    char shell[] = "shell";
    char* argv[] = {binary.data(), shell, nullptr};
    execv(binary.c_str(), argv);
    _exit(127);
  }
  close(input[0]);
  // Wait until the share exists and the machine is up (the sample tree is
  // complete once the link exists).
  bool ready = false;
  for (int i = 0; i < 500 && !ready; ++i) {
    std::vector<std::string> entries = ListHostDir(tmp);
    ready = entries.size() == 1 &&
            !ListHostDir(tmp + "/" + entries[0]).empty() &&
            ListHostDir(tmp + "/" + entries[0]).size() >= 5;
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(ready);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(kill(child, SIGINT), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  close(input[1]);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT);
  EXPECT_THAT(ListHostDir(tmp), testing::IsEmpty());
}

}  // namespace
}  // namespace cli_test
