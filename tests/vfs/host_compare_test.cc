// The same sequences of POSIX calls on memfs (through vfs::) and on a host
// directory (through the host kernel): every result, errno, byte read and
// comparable stat field must be the same.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/vfs/posix_ops.h"
#include "tests/vfs/posix_sequences.h"
#include "tests/vfs/vfs_fixture.h"

namespace vfs_test {
namespace {

class HostCompareTest : public VfsTest,
                        public ::testing::WithParamInterface<PosixSequence> {
 protected:
  void SetUp() override {
    VfsTest::SetUp();
    ASSERT_EQ(vfs::mkdir("/tmp/cmp", 0755), 0);
    const char* base = getenv("TEST_TMPDIR");
    std::string templ = std::string(base ? base : "/tmp") + "/cmpXXXXXX";
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    host_root_ = templ;
    ASSERT_EQ(::chmod(host_root_.c_str(), 0755), 0);
    ::umask(022);
    vfs::umask(022);
  }
  void TearDown() override {
    std::string command = "rm -rf '" + host_root_ + "'";
    EXPECT_EQ(system(command.c_str()), 0);
    VfsTest::TearDown();
  }

  // Runs `ops` on both sides, in lockstep, and expects the same outcome of
  // each.
  void Compare(const std::vector<Op>& ops) {
    HostOps host(host_root_);
    VfsOps vfs("/tmp/cmp");
    OpRunner host_runner(host);
    OpRunner vfs_runner(vfs);
    for (size_t i = 0; i < ops.size(); ++i) {
      std::string expected = host_runner.Apply(ops[i]);
      std::string actual = vfs_runner.Apply(ops[i]);
      EXPECT_EQ(actual, expected) << "op #" << i << ": " << Describe(ops[i]);
    }
  }

  std::string host_root_;
};

TEST_P(HostCompareTest, SameAsTheHost) { Compare(GetParam().ops()); }

INSTANTIATE_TEST_SUITE_P(Sequences, HostCompareTest,
                         ::testing::ValuesIn(PosixSequences()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace vfs_test
