// The fixture of the FuseClient tests against a scripted device: a client
// after INIT, and the one request the device saw.
#ifndef TESTS_DRIVER_FUSE_CLIENT_FIXTURE_H_
#define TESTS_DRIVER_FUSE_CLIENT_FIXTURE_H_

#include <fcntl.h>
#include <linux/fs.h>
#include <linux/fuse.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "driver/fuse_client.h"
#include "gtest/gtest.h"
#include "tests/driver/scripted_fuse_device.h"

namespace driver_test {

using driver::Credentials;
using driver::DirentList;
using driver::DirEntry;
using driver::FuseClient;
using driver::FuseLane;
using driver::SetAttrRequest;

class FuseClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(client_.Init().ok());
    device_.ClearRequests();
  }

  SeenRequest Only() {
    auto requests = device_.requests();
    EXPECT_EQ(requests.size(), 1u);
    return requests.empty() ? SeenRequest{} : requests.back();
  }

  LogPlatform platform_;
  ScriptedFuseDevice device_;
  FuseClient client_{platform_, device_};
};

}  // namespace driver_test

#endif  // TESTS_DRIVER_FUSE_CLIENT_FIXTURE_H_
