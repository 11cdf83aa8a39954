// What OPEN, CREATE and OPENDIR tell the driver about caching data, per
// PassthroughOptions::data_caching (virtiofsd's cache=auto|always|never).
#include <fcntl.h>
#include <linux/fuse.h>

#include <cstring>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "sim/passthrough_fs.h"
#include "sim/raw_fuse_endpoint.h"
#include "tests/sim/fuse_test_util.h"

namespace sim {
namespace {

using testing::RawFuseClient;
using testing::Reply;
using testing::TempShare;

constexpr uint64_t kRoot = FUSE_ROOT_ID;

// The open flags each kind of open is answered with.
struct Answered {
  uint32_t open = 0;
  uint32_t create = 0;
  uint32_t opendir = 0;
};

Answered OpenFlagsWith(DataCaching caching) {
  TempShare share;
  share.WriteFile("file", "contents");
  PassthroughOptions options;
  options.share_dir = share.share();
  options.data_caching = caching;
  auto endpoint = RawFuseEndpoint::Create(options);
  EXPECT_TRUE(endpoint.ok()) << endpoint.status();
  if (!endpoint.ok()) return {};
  RawFuseClient client(**endpoint);
  EXPECT_EQ(client.Init().error(), 0);
  Answered answered;
  const uint64_t file = client.MustLookup(kRoot, "file").nodeid;
  const Reply opened = client.Open(file, O_RDWR);
  EXPECT_EQ(opened.error(), 0);
  answered.open = opened.As<fuse_open_out>().open_flags;
  const Reply created = client.Create(kRoot, "new", O_RDWR | O_CREAT);
  EXPECT_EQ(created.error(), 0);
  fuse_open_out create_out{};
  if (created.payload_size() >= sizeof(fuse_entry_out) + sizeof(create_out)) {
    memcpy(&create_out, created.payload() + sizeof(fuse_entry_out),
           sizeof(create_out));
  } else {
    ADD_FAILURE() << "CREATE reply of " << created.payload_size() << " bytes";
  }
  answered.create = create_out.open_flags;
  const Reply dir = client.Opendir(kRoot);
  EXPECT_EQ(dir.error(), 0);
  answered.opendir = dir.As<fuse_open_out>().open_flags;
  return answered;
}

constexpr uint32_t kCachingFlags =
    FOPEN_DIRECT_IO | FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR;

TEST(DataCachingTest, AutoSaysNothingOfCaching) {
  const Answered answered = OpenFlagsWith(DataCaching::kAuto);
  EXPECT_EQ(answered.open & kCachingFlags, 0u);
  EXPECT_EQ(answered.create & kCachingFlags, 0u);
  EXPECT_EQ(answered.opendir & kCachingFlags, 0u);
}

TEST(DataCachingTest, AlwaysKeepsFilesAndDirectoriesCached) {
  const Answered answered = OpenFlagsWith(DataCaching::kAlways);
  EXPECT_EQ(answered.open & kCachingFlags, uint32_t{FOPEN_KEEP_CACHE});
  EXPECT_EQ(answered.create & kCachingFlags, uint32_t{FOPEN_KEEP_CACHE});
  EXPECT_EQ(answered.opendir & kCachingFlags, uint32_t{FOPEN_CACHE_DIR});
}

TEST(DataCachingTest, NeverAsksForDirectIoOnFiles) {
  const Answered answered = OpenFlagsWith(DataCaching::kNever);
  EXPECT_EQ(answered.open & kCachingFlags, uint32_t{FOPEN_DIRECT_IO});
  EXPECT_EQ(answered.create & kCachingFlags, uint32_t{FOPEN_DIRECT_IO});
  EXPECT_EQ(answered.opendir & kCachingFlags, 0u);
}

}  // namespace
}  // namespace sim
