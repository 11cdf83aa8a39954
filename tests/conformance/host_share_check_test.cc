// The hosted share check must catch what boot/run_qemu.sh catches after a QEMU
// run: expectations not met, and any change nobody declared.
#include "tests/conformance/host_share_check.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "conformance/host_share.h"

namespace conformance_test {
namespace {

using Kind = conformance::HostExpectation::Kind;

void Write(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

std::string Joined(const std::vector<std::string>& problems) {
  std::string all;
  for (const std::string& p : problems) all += p + "\n";
  return all;
}

class HostShareCheckTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(share_.path().empty());
    before_ = TakeManifest(share_.path());
  }
  std::string Path(const std::string& relative) {
    return share_.path() + "/" + relative;
  }
  std::vector<std::string> Check(std::vector<DeclaredExpectation> e = {}) {
    return CheckShare(share_.path(), before_, e);
  }

  SeededShare share_;
  Manifest before_;
};

TEST_F(HostShareCheckTest, SeedsTheFilesTheScenariosRead) {
  EXPECT_EQ(before_.count(conformance::kSeedDirectory), 1u);
  EXPECT_EQ(before_.count(conformance::kSeedReadPath), 1u);
  EXPECT_EQ(before_.count(conformance::kSeedRemovePath), 1u);
  std::ifstream in(Path(conformance::kSeedReadPath));
  std::string content((std::istreambuf_iterator<char>(in)),
                      std::istreambuf_iterator<char>());
  EXPECT_EQ(content, conformance::kSeedReadContent);
}

TEST_F(HostShareCheckTest, UntouchedSharePasses) {
  EXPECT_TRUE(Check().empty()) << Joined(Check());
}

TEST_F(HostShareCheckTest, DeclaredFileAndRemovalPass) {
  Write(Path("left.bin"), std::string(1000, 'x'));
  ASSERT_EQ(unlink(Path(conformance::kSeedRemovePath).c_str()), 0);
  const auto problems =
      Check({{Kind::kFile, "left.bin", 1000},
             {Kind::kAbsent, conformance::kSeedRemovePath, 0}});
  EXPECT_TRUE(problems.empty()) << Joined(problems);
}

TEST_F(HostShareCheckTest, UndeclaredLeftoverFails) {
  ASSERT_EQ(mkdir(Path("forgotten").c_str(), 0755), 0);
  const auto problems = Check();
  ASSERT_EQ(problems.size(), 1u) << Joined(problems);
  EXPECT_NE(problems[0].find("forgotten: left behind"), std::string::npos);
}

TEST_F(HostShareCheckTest, UndeclaredRemovalAndChangeFail) {
  ASSERT_EQ(unlink(Path(conformance::kSeedRemovePath).c_str()), 0);
  Write(Path(conformance::kSeedReadPath),
        "HELLO FROM THE HOST\n");  // Same size.
  const auto problems = Check();
  EXPECT_EQ(problems.size(), 2u) << Joined(problems);
}

TEST_F(HostShareCheckTest, ChangedPermissionsFail) {
  ASSERT_EQ(chmod(Path(conformance::kSeedReadPath).c_str(), 0600), 0);
  EXPECT_EQ(Check().size(), 1u);
}

TEST_F(HostShareCheckTest, UnmetExpectationsFail) {
  Write(Path("short.bin"), "abc");
  const auto problems = Check({{Kind::kFile, "short.bin", 4},
                               {Kind::kFile, "missing.bin", 1},
                               {Kind::kAbsent, conformance::kSeedReadPath, 0}});
  EXPECT_EQ(problems.size(), 3u) << Joined(problems);
}

}  // namespace
}  // namespace conformance_test
