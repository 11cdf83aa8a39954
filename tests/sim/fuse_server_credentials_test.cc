// What the device does with the requester's ids and modes, as virtiofsd does:
// objects are created with the requester's uid and gid (and a setgid
// directory's group), with exactly the permission bits the request asks for
// less its umask, never the device's own umask; device nodes are made unless
// refused.
#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "sim/raw_fuse_endpoint.h"
#include "tests/sim/fuse_test_util.h"

namespace sim {
namespace {

using testing::Bytes;
using testing::RawFuseClient;
using testing::Reply;
using testing::TempShare;

constexpr uint64_t kRoot = FUSE_ROOT_ID;
constexpr uint32_t kUser = 65534;
constexpr uint32_t kGroup = 65533;

class FuseServerCredentialsTest : public ::testing::Test {
 protected:
  void Start(bool refuse_device_nodes = false) {
    PassthroughOptions options;
    options.share_dir = share_.share();
    options.refuse_device_nodes = refuse_device_nodes;
    auto endpoint = RawFuseEndpoint::Create(options);
    ASSERT_TRUE(endpoint.ok()) << endpoint.status();
    endpoint_ = *std::move(endpoint);
    client_ = std::make_unique<RawFuseClient>(*endpoint_);
    ASSERT_EQ(client_->Init().error(), 0);
    // The share is world-writable, so that another user may create in it.
    ASSERT_EQ(chmod(share_.share().c_str(), 0777), 0);
  }

  RawFuseClient& c() { return *client_; }
  struct stat HostStat(const std::string& name) {
    struct stat st {};
    EXPECT_EQ(lstat(share_.SharePath(name).c_str(), &st), 0) << name;
    return st;
  }

  TempShare share_;
  std::unique_ptr<RawFuseEndpoint> endpoint_;
  std::unique_ptr<RawFuseClient> client_;
};

TEST_F(FuseServerCredentialsTest, ObjectsAreCreatedWithTheRequestersIds) {
  ASSERT_NO_FATAL_FAILURE(Start());
  if (geteuid() != 0) GTEST_SKIP() << "needs root to take other ids";
  c().SetRequester(kUser, kGroup);
  ASSERT_EQ(c().Mkdir(kRoot, "dir", 0755).error(), 0);
  fuse_mknod_in mknod_in{};
  mknod_in.mode = S_IFIFO | 0644;
  ASSERT_EQ(
      c().Call(FUSE_MKNOD, kRoot, Bytes().Add(mknod_in).Name("fifo")).error(),
      0);
  ASSERT_EQ(c().Create(kRoot, "file", O_RDWR, 0644).error(), 0);
  ASSERT_EQ(c().Call(FUSE_SYMLINK, kRoot, Bytes().Name("link").Name("target"))
                .error(),
            0);
  for (const char* name : {"dir", "fifo", "file", "link"}) {
    const struct stat st = HostStat(name);
    EXPECT_EQ(st.st_uid, kUser) << name;
    EXPECT_EQ(st.st_gid, kGroup) << name;
  }
  // The serving thread is back to the device's own ids: a root request
  // creates a root-owned object.
  c().SetRequester(0, 0);
  ASSERT_EQ(c().Mkdir(kRoot, "rootdir", 0755).error(), 0);
  EXPECT_EQ(HostStat("rootdir").st_uid, 0u);
  EXPECT_EQ(getuid(), 0u);
}

TEST_F(FuseServerCredentialsTest, ASetgidDirectoryPassesItsGroupOn) {
  ASSERT_NO_FATAL_FAILURE(Start());
  if (geteuid() != 0) GTEST_SKIP() << "needs root to take other ids";
  ASSERT_EQ(c().Mkdir(kRoot, "shared", 0777).error(), 0);
  const std::string shared = share_.SharePath("shared");
  ASSERT_EQ(chown(shared.c_str(), 0, 4242), 0);
  ASSERT_EQ(chmod(shared.c_str(), 02777), 0);
  const uint64_t dir = c().MustLookup(kRoot, "shared").nodeid;
  c().SetRequester(kUser, kGroup);
  ASSERT_EQ(c().Mkdir(dir, "sub", 0755).error(), 0);
  ASSERT_EQ(c().Create(dir, "f", O_RDWR, 0644).error(), 0);
  const struct stat sub = HostStat("shared/sub");
  EXPECT_EQ(sub.st_gid, 4242u);
  EXPECT_TRUE(sub.st_mode & S_ISGID);  // A directory keeps it on.
  EXPECT_EQ(sub.st_mode & 0777, 0755u);
  EXPECT_EQ(HostStat("shared/f").st_gid, 4242u);
}

TEST_F(FuseServerCredentialsTest,
       ModesAreTheRequestsLessItsUmaskNotTheDevices) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const mode_t device_umask = umask(077);  // A device umask that would bite.
  fuse_mkdir_in mkdir_in{.mode = 0775, .umask = 0};
  ASSERT_EQ(
      c().Call(FUSE_MKDIR, kRoot, Bytes().Add(mkdir_in).Name("d")).error(), 0);
  fuse_create_in create_in{};
  create_in.flags = O_RDWR | O_CREAT;
  create_in.mode = S_IFREG | 0620;
  ASSERT_EQ(
      c().Call(FUSE_CREATE, kRoot, Bytes().Add(create_in).Name("f")).error(),
      0);
  fuse_mknod_in mknod_in{};
  mknod_in.mode = S_IFIFO | 0666;
  mknod_in.umask = 022;  // The request's umask is applied.
  ASSERT_EQ(
      c().Call(FUSE_MKNOD, kRoot, Bytes().Add(mknod_in).Name("p")).error(), 0);
  umask(device_umask);
  EXPECT_EQ(HostStat("d").st_mode & 07777, 0775u);
  EXPECT_EQ(HostStat("f").st_mode & 07777, 0620u);
  EXPECT_EQ(HostStat("p").st_mode & 07777, 0644u);
  // An existing file opened through CREATE keeps its mode.
  ASSERT_EQ(chmod(share_.SharePath("f").c_str(), 0600), 0);
  create_in.mode = S_IFREG | 0666;
  ASSERT_EQ(
      c().Call(FUSE_CREATE, kRoot, Bytes().Add(create_in).Name("f")).error(),
      0);
  EXPECT_EQ(HostStat("f").st_mode & 07777, 0600u);
}

TEST_F(FuseServerCredentialsTest, DeviceNodesCanBeRefused) {
  ASSERT_NO_FATAL_FAILURE(Start(/*refuse_device_nodes=*/true));
  fuse_mknod_in in{};
  in.mode = S_IFCHR | 0644;
  in.rdev = makedev(1, 3);
  EXPECT_EQ(c().Call(FUSE_MKNOD, kRoot, Bytes().Add(in).Name("null")).error(),
            EPERM);
  struct stat st;
  EXPECT_NE(lstat(share_.SharePath("null").c_str(), &st), 0);
  in.mode = S_IFIFO | 0644;  // Other kinds are still made.
  EXPECT_EQ(c().Call(FUSE_MKNOD, kRoot, Bytes().Add(in).Name("fifo")).error(),
            0);
}

// The ids a request carries decide ownership, never reach: whatever they
// are, nothing outside the share is created, changed or opened, and a device
// node made inside it is not opened.
TEST_F(FuseServerCredentialsTest, ForgedIdsStayInsideTheShare) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const std::string outside_before = share_.SnapshotOutside();
  const uint32_t forged[][2] = {
      {0, 0}, {kUser, kGroup}, {0, kGroup}, {kUser, 0}, {12345, 54321}};
  int round = 0;
  for (const auto& ids : forged) {
    SCOPED_TRACE(::testing::Message() << "uid " << ids[0] << " gid " << ids[1]);
    c().SetRequester(ids[0], ids[1]);
    const std::string n = std::to_string(round++);
    // Names that would leave the share are refused before any id matters.
    fuse_mkdir_in mkdir_in{.mode = 0777, .umask = 0};
    EXPECT_EQ(
        c().Call(FUSE_MKDIR, kRoot, Bytes().Add(mkdir_in).Name("..")).error(),
        EINVAL);
    EXPECT_EQ(c().Call(FUSE_MKDIR, kRoot,
                       Bytes().Add(mkdir_in).Name("../outside/x" + n))
                  .error(),
              EINVAL);
    // A symlink pointing out is stored as text; the device never follows it.
    ASSERT_EQ(c().Call(FUSE_SYMLINK, kRoot,
                       Bytes().Name("out" + n).Name(share_.outside()))
                  .error(),
              0);
    const fuse_entry_out link = c().MustLookup(kRoot, "out" + n);
    EXPECT_NE(c().Open(link.nodeid, O_RDONLY).error(), 0);
    EXPECT_NE(c().Opendir(link.nodeid).error(), 0);
    // A device node naming /dev/null is made for root (the host lets no one
    // else), and never opened.
    fuse_mknod_in mknod_in{};
    mknod_in.mode = S_IFCHR | 0666;
    mknod_in.rdev = makedev(1, 3);
    const int made =
        c().Call(FUSE_MKNOD, kRoot, Bytes().Add(mknod_in).Name("null" + n))
            .error();
    if (ids[0] != 0) {
      EXPECT_EQ(made, EPERM);
      continue;
    }
    ASSERT_EQ(made, 0);
    const fuse_entry_out node = c().MustLookup(kRoot, "null" + n);
    EXPECT_EQ(c().Open(node.nodeid, O_RDWR).error(), EPERM);
  }
  // -1 would leave the device's own ids in place: refused.
  c().SetRequester(0xffffffff, 0);
  fuse_mkdir_in mkdir_in{.mode = 0777, .umask = 0};
  EXPECT_EQ(
      c().Call(FUSE_MKDIR, kRoot, Bytes().Add(mkdir_in).Name("nobody")).error(),
      EINVAL);
  c().SetRequester(0, 0xffffffff);
  fuse_create_in create_in{};
  create_in.flags = O_RDWR | O_CREAT;
  create_in.mode = S_IFREG | 0644;
  EXPECT_EQ(
      c().Call(FUSE_CREATE, kRoot, Bytes().Add(create_in).Name("f")).error(),
      EINVAL);
  struct stat st;
  EXPECT_NE(lstat(share_.SharePath("nobody").c_str(), &st), 0);
  EXPECT_EQ(share_.SnapshotOutside(), outside_before);
}

}  // namespace
}  // namespace sim
