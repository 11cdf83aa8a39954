// vfsim on a share mounted at /root: the demo, file commands through the
// driver reaching the host directory, the trace of real file requests, stats,
// bench, and every transport and notify mode.
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/vfsim_runner.h"

namespace cli_test {
namespace {

using ::testing::AllOf;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

class VfsimShareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    share_ = MakeTempDir();
    WriteHostFile(share_ + "/hello.txt", "hi there\n");
    ASSERT_EQ(mkdir((share_ + "/dir").c_str(), 0755), 0);
    WriteHostFile(share_ + "/dir/inner.txt", "inner\n");
  }

  RunResult Run(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), "--share=" + share_);
    return RunVfsim(args, input);
  }

  std::string share_;
};

TEST(VfsimDemoTest, DemoWalksThroughEveryStepOnTheSampleShare) {
  std::string tmp = MakeTempDir();
  RunResult result = RunVfsim({"demo"}, "", {{"TMPDIR", tmp}});
  EXPECT_EQ(result.status, 0) << result.out << result.err;
  for (const char* step :
       {"[0/9] Boot", "[1/9] List the share",
        "[2/9] Create a file and write to it", "[3/9] Read it back",
        "[4/9] Make a directory and move the file into it",
        "[5/9] Create a symbolic link", "[6/9] Look at attributes",
        "[7/9] Open a file that does not exist", "[8/9] Delete everything",
        "[9/9] Summary"}) {
    EXPECT_THAT(result.out, HasSubstr(step));
  }
  for (const char* op :
       {"INIT(", "LOOKUP(", "CREATE(", "WRITE(", "READ(", "MKDIR(", "RENAME(",
        "SYMLINK(", "READLINK(", "UNLINK(", "RMDIR("}) {
    EXPECT_THAT(result.out, HasSubstr(op));
  }
  EXPECT_THAT(result.out, HasSubstr("the bytes written"));
  EXPECT_THAT(result.out, HasSubstr("= ENOENT (No such file or directory)"));
  EXPECT_THAT(result.out, HasSubstr("violations: none"));
  EXPECT_THAT(result.out, Not(HasSubstr("The demo stopped")));
  // The sample share is gone.
  EXPECT_THAT(ListHostDir(tmp), testing::IsEmpty());
}

TEST_F(VfsimShareTest, DemoOnAUserShareWorksInItsOwnDirectoryAndCleansUp) {
  RunResult result = Run({"demo"});
  EXPECT_EQ(result.status, 0) << result.out << result.err;
  EXPECT_THAT(result.out, HasSubstr("/root/vfsim-demo"));
  EXPECT_EQ(ListHostDir(share_),
            (std::vector<std::string>{"dir", "hello.txt"}));
}

TEST_F(VfsimShareTest, CatPrintsAFileOfTheShare) {
  RunResult result = Run({"cat", "/root/hello.txt"});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "hi there\n");
  // Relative paths start at the share.
  EXPECT_EQ(Run({"cat", "dir/inner.txt"}).out, "inner\n");
}

TEST_F(VfsimShareTest, CatOfAMissingFileFailsWithTheErrnoText) {
  RunResult result = Run({"cat", "/root/nope.txt"});
  EXPECT_EQ(result.status, 1);
  EXPECT_EQ(result.err, "cat: /root/nope.txt: No such file or directory\n");
}

TEST_F(VfsimShareTest, WriteReachesTheHostDirectory) {
  EXPECT_EQ(Run({"write", "/root/new.txt", "some", "text"}).status, 0);
  EXPECT_EQ(ReadHostFile(share_ + "/new.txt"), "some text\n");
  EXPECT_EQ(Run({"write", "/root/stdin.txt"}, "from stdin").status, 0);
  EXPECT_EQ(ReadHostFile(share_ + "/stdin.txt"), "from stdin");
}

TEST_F(VfsimShareTest, ShellMkdirTwiceSaysFileExists) {
  RunResult result = Run({"shell"}, "mkdir /root/a\nmkdir /root/a\n");
  EXPECT_EQ(result.err, "mkdir: /root/a: File exists\n");
  EXPECT_EQ(result.status, 1);
  struct stat st;
  EXPECT_EQ(stat((share_ + "/a").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
}

TEST_F(VfsimShareTest, ShellWorksOnTheShareWithRelativePaths) {
  RunResult result =
      Run({"shell"},
          "pwd\nmkdir sub\ncd sub\nwrite f.txt one\nln -s f.txt l\n"
          "mv f.txt g.txt\ncd ..\nls sub\nrm -r dir\nls\n");
  EXPECT_EQ(result.err, "");
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.out, "/root\ng.txt\nl\nhello.txt\nsub/\n");
  EXPECT_EQ(ReadHostFile(share_ + "/sub/g.txt"), "one\n");
  char target[64] = {};
  EXPECT_EQ(readlink((share_ + "/sub/l").c_str(), target, sizeof(target) - 1),
            5);
  EXPECT_STREQ(target, "f.txt");
  EXPECT_EQ(ListHostDir(share_),
            (std::vector<std::string>{"hello.txt", "sub"}));
}

TEST_F(VfsimShareTest, LsLongStatTreeAndDf) {
  RunResult ls = Run({"ls", "-l", "/root"});
  EXPECT_EQ(ls.status, 0) << ls.err;
  EXPECT_THAT(ls.out, ContainsRegex("drwx.* dir\n"));
  EXPECT_THAT(ls.out, ContainsRegex("-rw.* 9 .* hello.txt\n"));
  RunResult stat_result = Run({"stat", "/root/hello.txt"});
  EXPECT_THAT(stat_result.out,
              AllOf(HasSubstr("Size: 9 "), HasSubstr("regular file")));
  RunResult tree = Run({"tree", "/root"});
  EXPECT_THAT(tree.out, HasSubstr("`-- inner.txt"));
  EXPECT_THAT(tree.out, HasSubstr("1 directory, 2 files"));
  RunResult df = Run({"df", "/root"});
  EXPECT_EQ(df.status, 0) << df.err;
  EXPECT_THAT(df.out, HasSubstr("/root "));
}

TEST_F(VfsimShareTest, TraceShowsTheFileRequests) {
  RunResult result = Run({"--trace", "cat", "/root/hello.txt"});
  EXPECT_EQ(result.out, "hi there\n");
  EXPECT_THAT(
      result.err,
      ContainsRegex("LOOKUP\\(node=1, \"hello.txt\"\\) = 0 node=[0-9]+"));
  EXPECT_THAT(
      result.err,
      ContainsRegex("OPEN\\(node=[0-9]+, flags=O_RDONLY[^)]*\\) = 0 fh="));
  EXPECT_THAT(
      result.err,
      ContainsRegex(
          "READ\\(node=[0-9]+, fh=[0-9]+, offset=0, size=[0-9]+\\) = 9"));
  EXPECT_THAT(result.err, HasSubstr("RELEASE("));
}

// Listings kept across opens (FOPEN_CACHE_DIR) only where the device allows
// it: the second `ls` of an unchanged directory sends no READDIR.
TEST_F(VfsimShareTest, DataCachingAlwaysKeepsListings) {
  const auto listing_requests = [](const std::string& trace) {
    int count = 0;
    for (const std::string& line : Lines(trace)) {
      if (line.find("READDIR") != std::string::npos) ++count;
    }
    return count;
  };
  const std::string twice = "ls /root/dir\nls /root/dir\n";
  RunResult once = Run({"--trace", "shell"}, "ls /root/dir\n");
  RunResult kept = Run({"--trace", "--data_caching=always", "shell"}, twice);
  RunResult asked = Run({"--trace", "--data_caching=auto", "shell"}, twice);
  ASSERT_EQ(kept.status, 0) << kept.err;
  ASSERT_EQ(asked.status, 0) << asked.err;
  EXPECT_EQ(kept.out, asked.out);
  EXPECT_THAT(kept.out, HasSubstr("inner.txt"));
  const int one_listing = listing_requests(once.err);
  EXPECT_GE(one_listing, 1);
  EXPECT_EQ(listing_requests(kept.err), one_listing);
  EXPECT_GT(listing_requests(asked.err), one_listing);
}

TEST_F(VfsimShareTest, TraceShowsErrnoNames) {
  RunResult result = Run({"--trace", "--entry_timeout=0", "cat", "/root/nope"});
  EXPECT_EQ(result.status, 1);
  EXPECT_THAT(
      result.err,
      HasSubstr(
          "LOOKUP(node=1, \"nope\") = ENOENT (No such file or directory)"));
}

TEST_F(VfsimShareTest, TraceJsonHasTheReadOfTheFile) {
  std::string json = MakeTempDir() + "/trace.json";
  RunResult result = Run({"--trace_json=" + json, "cat", "/root/hello.txt"});
  EXPECT_EQ(result.status, 0) << result.err;
  bool saw_lookup = false, saw_read = false;
  for (const std::string& line : Lines(ReadHostFile(json))) {
    std::map<std::string, std::string> fields;
    ASSERT_TRUE(ParseFlatJsonObject(line, &fields)) << line;
    if (fields["op"] == "LOOKUP" && fields["name"] == "hello.txt") {
      saw_lookup = true;
      EXPECT_EQ(fields["node"], "1");
      EXPECT_EQ(fields.count("out_node"), 1u);
    }
    if (fields["op"] == "READ" && fields["offset"] == "0") {
      // cat reads on to the end of the file: a later READ returns 0.
      saw_read = true;
      EXPECT_EQ(fields["result"], "9");
      EXPECT_EQ(fields.count("fh"), 1u);
    }
  }
  EXPECT_TRUE(saw_lookup);
  EXPECT_TRUE(saw_read);
}

TEST_F(VfsimShareTest, StatsCountsTheRequestsOfTheSession) {
  RunResult result =
      Run({"shell"}, "cat /root/hello.txt\ncat /root/hello.txt\nstats\n");
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_THAT(result.out, ContainsRegex("READ +[1-9][0-9]* +0 "));
  EXPECT_THAT(result.out, ContainsRegex("OPEN +2 +0 "));
  EXPECT_THAT(result.out, ContainsRegex("RELEASE +2 +0 "));
}

TEST_F(VfsimShareTest, StatsShowsTheHandOffOfTheTimedRequests) {
  // Without caches each cat is a LOOKUP, an OPEN, READs, a RELEASE and more:
  // enough requests for the driver and the device to time some each.
  std::string script;
  for (int i = 0; i < 100; ++i) script += "cat /root/hello.txt\n";
  script += "stats\nstats reset\nstats\n";
  for (const char* notify : {"--notify=inline", "--notify=thread"}) {
    RunResult result =
        Run({notify, "--attr_timeout=0", "--entry_timeout=0", "shell"}, script);
    EXPECT_EQ(result.status, 0) << notify << ": " << result.err;
    EXPECT_THAT(result.out,
                ContainsRegex("hand-off: -?[0-9]+\\.[0-9]{2} us per request "
                              "beyond the device's work \\(mean round trip "
                              "[0-9]+\\.[0-9]{2} us, device [0-9]+\\.[0-9]{2} "
                              "us; [1-9][0-9]* requests timed\\)\n"))
        << notify;
    // After the reset nothing is timed yet.
    EXPECT_THAT(result.out,
                HasSubstr("hand-off: too few requests timed (0 by the driver, "
                          "0 by the device; 8 of each needed)\n"))
        << notify;
  }
}

TEST_F(VfsimShareTest, EveryTransportAndNotifyModeWorks) {
  for (const char* transport : {"pci", "mmio"}) {
    for (const char* notify : {"inline", "thread"}) {
      RunResult result =
          Run({std::string("--transport=") + transport,
               std::string("--notify=") + notify, "--queue_size=16",
               "--request_queues=2", "--attr_timeout=0", "--entry_timeout=0",
               "--nostrict", "shell"},
              "write /root/t.txt mode test\ncat /root/t.txt\nrm /root/t.txt\n");
      EXPECT_EQ(result.status, 0)
          << transport << "/" << notify << ": " << result.err;
      EXPECT_EQ(result.out, "mode test\n") << transport << "/" << notify;
    }
  }
  EXPECT_EQ(ListHostDir(share_),
            (std::vector<std::string>{"dir", "hello.txt"}));
}

TEST_F(VfsimShareTest, ViolationThenRecoveryLeavesTheShareUsable) {
  RunResult result =
      Run({"shell"},
          "cd dir\nfault avail-jump\ncat /root/hello.txt\ncat inner.txt\n");
  EXPECT_THAT(result.err,
              HasSubstr("virtio: strict-mode violation \"avail index jump\""));
  EXPECT_THAT(result.err,
              HasSubstr("virtio: device reset, FUSE session re-initialized"));
  // Absolute paths and the current directory both work in the new session.
  EXPECT_THAT(result.out, HasSubstr("hi there\ninner\n"));
  EXPECT_EQ(result.status, 0);
}

TEST_F(VfsimShareTest, BenchComparesDriverAndHost) {
  RunResult result = Run({"bench", "1"});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_THAT(result.out,
              AllOf(HasSubstr("sequential write 1 MiB"),
                    HasSubstr("sequential read 1 MiB"), HasSubstr("MB/s"),
                    HasSubstr("stat x"), HasSubstr("us/op")));
  // 500 creates are enough requests to time: their row has a hand-off.
  EXPECT_THAT(result.out, HasSubstr("hand-off/req"));
  EXPECT_THAT(result.out, ContainsRegex("create\\+close\\+unlink x 500 .* "
                                        "-?[0-9]+\\.[0-9]{2} us\n"));
  // bench leaves nothing behind.
  EXPECT_EQ(ListHostDir(share_),
            (std::vector<std::string>{"dir", "hello.txt"}));
}

}  // namespace
}  // namespace cli_test
