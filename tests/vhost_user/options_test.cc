// vfsim_virtiofsd's command line: the project's --[no]packed next to the
// options QEMU and libvirt pass.
#include "vhost_user/options.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace vhost_user {
namespace {

absl::StatusOr<ServerOptions> Parse(std::vector<std::string> extra) {
  std::vector<std::string> args = {"--socket-path=/tmp/s", "--shared-dir=/d"};
  args.insert(args.end(), extra.begin(), extra.end());
  return ParseServerOptions(args);
}

TEST(ServerOptionsTest, PackedRingsAreOfferedUnlessTurnedOff) {
  absl::StatusOr<ServerOptions> options = Parse({});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_TRUE(options->packed);
  options = Parse({"--nopacked"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_FALSE(options->packed);
  options = Parse({"--nopacked", "--packed"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_TRUE(options->packed);
  EXPECT_FALSE(Parse({"--packed=no"}).ok());
  EXPECT_NE(ServerUsage().find("--[no]packed"), std::string::npos);
}

TEST(ServerOptionsTest, CacheTakesVirtiofsdsNamesInEitherForm) {
  using Cache = ServerOptions::Cache;
  struct Case {
    std::vector<std::string> args;
    Cache cache;
  };
  for (const Case& c :
       std::vector<Case>{{{}, Cache::kAuto},
                         {{"--cache=auto"}, Cache::kAuto},
                         {{"--cache=metadata"}, Cache::kAuto},
                         {{"--cache=always"}, Cache::kAlways},
                         {{"--cache=never"}, Cache::kNever},
                         {{"--cache", "none"}, Cache::kNever},
                         {{"-o", "cache=always"}, Cache::kAlways},
                         {{"-o", "source=/e,cache=never"}, Cache::kNever}}) {
    absl::StatusOr<ServerOptions> options = Parse(c.args);
    ASSERT_TRUE(options.ok()) << options.status();
    EXPECT_EQ(options->cache, c.cache) << c.args.size();
  }
  absl::StatusOr<ServerOptions> bad = Parse({"--cache=sometimes"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("auto, always or never"),
            std::string::npos);
}

}  // namespace
}  // namespace vhost_user
