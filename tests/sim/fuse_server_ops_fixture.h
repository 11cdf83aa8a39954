// The fixture of the tests of the passthrough handlers through libfuse, one
// FUSE operation at a time against what the host's own calls do: a raw
// endpoint on a temporary share, after INIT.
#ifndef TESTS_SIM_FUSE_SERVER_OPS_FIXTURE_H_
#define TESTS_SIM_FUSE_SERVER_OPS_FIXTURE_H_

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "sim/host_calls.h"
#include "sim/raw_fuse_endpoint.h"
#include "tests/sim/fuse_test_util.h"

namespace sim::ops_test {

using testing::Bytes;
using testing::DirentNames;
using testing::RawFuseClient;
using testing::Reply;
using testing::TempShare;

constexpr uint64_t kRoot = FUSE_ROOT_ID;

// errno of a host call that returned -1, or 0.
inline int HostErr(int res) { return res == 0 ? 0 : errno; }

inline struct stat HostStat(const std::string& path) {
  struct stat st;
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st;
}

inline void ExpectAttrMatches(const fuse_attr& attr, const struct stat& st) {
  EXPECT_EQ(attr.ino, st.st_ino);
  EXPECT_EQ(attr.mode, st.st_mode);
  EXPECT_EQ(attr.nlink, st.st_nlink);
  EXPECT_EQ(attr.uid, st.st_uid);
  EXPECT_EQ(attr.gid, st.st_gid);
  EXPECT_EQ(attr.size, static_cast<uint64_t>(st.st_size));
  EXPECT_EQ(attr.blocks, static_cast<uint64_t>(st.st_blocks));
  EXPECT_EQ(attr.mtime, static_cast<uint64_t>(st.st_mtim.tv_sec));
  EXPECT_EQ(attr.mtimensec, static_cast<uint32_t>(st.st_mtim.tv_nsec));
  EXPECT_EQ(attr.atime, static_cast<uint64_t>(st.st_atim.tv_sec));
}

class FuseServerOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PassthroughOptions options;
    options.share_dir = share_.share();
    options.entry_timeout = 2.5;
    options.attr_timeout = 0.0;
    auto endpoint = RawFuseEndpoint::Create(options);
    ASSERT_TRUE(endpoint.ok()) << endpoint.status();
    endpoint_ = *std::move(endpoint);
    client_ = std::make_unique<RawFuseClient>(*endpoint_);
    init_ = client_->Init();
    ASSERT_EQ(init_.error(), 0);
  }

  RawFuseClient& c() { return *client_; }
  std::string P(const std::string& rel) const { return share_.SharePath(rel); }

  // Creates `rel` on the host with `content` and looks it up: its node id.
  uint64_t HostFile(const std::string& rel, const std::string& content) {
    share_.WriteFile(rel, content);
    return c().MustLookup(kRoot, rel).nodeid;
  }

  TempShare share_;
  std::unique_ptr<RawFuseEndpoint> endpoint_;
  std::unique_ptr<RawFuseClient> client_;
  Reply init_;
};

}  // namespace sim::ops_test

#endif  // TESTS_SIM_FUSE_SERVER_OPS_FIXTURE_H_
