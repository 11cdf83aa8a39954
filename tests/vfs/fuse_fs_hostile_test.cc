// A device that answers the requests behind a permission decision with broken
// or lying replies: the VFS answers EIO and grants nothing, and the next good
// reply is used as usual.
#include <fcntl.h>
#include <linux/fuse.h>

#include <atomic>
#include <memory>

#include "driver/fuse_client.h"
#include "gtest/gtest.h"
#include "tests/driver/scripted_fuse_device.h"
#include "tests/vfs/vfs_fixture.h"
#include "vfs/fuse_fs.h"

namespace vfs_test {
namespace {

using driver_test::EntryOut;
using driver_test::Ok;
using driver_test::OkEmpty;
using driver_test::ScriptedFuseDevice;
using driver_test::ScriptedReply;
using driver_test::SeenRequest;

constexpr uint64_t kFile = 2;
constexpr uint32_t kOwner = 1000;

// How the device answers GETATTR of the file.
enum class AttrReply { kGood, kTypeChanged, kTruncated };

class FuseFsHostileTest : public VfsTest {
 protected:
  void SetUp() override {
    VfsTest::SetUp();
    device_.SetHandler([this](const SeenRequest& r) { return Answer(r); });
    ASSERT_TRUE(client_.Init().ok());
    fs_ = vfs::FuseFs::Create(platform_, client_);
    ASSERT_EQ(vfs::mkdir("/mnt", 0755), 0);
    ASSERT_EQ(vfs::mount("/mnt", fs_->Root()), 0);
    vfs::Credentials creds;
    creds.uid = creds.euid = creds.suid = creds.fsuid = 2000;
    creds.gid = creds.egid = creds.sgid = creds.fsgid = 2000;
    other_ = kernel_->CreateTask(creds);
    ASSERT_NE(other_, nullptr);
  }
  void TearDown() override {
    kernel_.reset();  // Unmounts: FORGETs go to the device before it goes.
    fs_.reset();
  }

  // The file is 0640, owned by kOwner; attributes are never cached, so every
  // check asks the device.
  fuse_attr FileAttr() {
    fuse_attr attr = driver_test::RegularAttr(kFile, 3);
    attr.mode = 0100640;
    attr.uid = attr.gid = kOwner;
    return attr;
  }

  ScriptedReply Answer(const SeenRequest& r) {
    switch (r.opcode()) {
      case FUSE_INIT:
        return Ok(r, driver_test::GoodInit());
      case FUSE_LOOKUP: {
        fuse_entry_out out = EntryOut(kFile);
        out.attr = FileAttr();
        out.attr_valid = 0;
        return Ok(r, out);
      }
      case FUSE_GETATTR: {
        if (r.nodeid() != kFile) {
          fuse_attr_out out{};
          out.attr = driver_test::RegularAttr(FUSE_ROOT_ID);
          out.attr.mode = 040755;
          return Ok(r, out);
        }
        fuse_attr_out out{};
        out.attr = FileAttr();
        switch (attr_reply_.load()) {
          case AttrReply::kGood:
            return Ok(r, out);
          case AttrReply::kTypeChanged:
            out.attr.mode = 040777;  // Now a directory anyone may write.
            return Ok(r, out);
          case AttrReply::kTruncated: {
            ScriptedReply reply = Ok(r, out);
            reply.bytes.resize(reply.bytes.size() - 16);
            return reply;
          }
        }
        return OkEmpty(r);
      }
      case FUSE_FORGET:
      case FUSE_BATCH_FORGET:
        return driver_test::NoReply();
      default:
        return driver_test::Err(r, ENOSYS);
    }
  }

  ScriptedFuseDevice device_;
  driver::FuseClient client_{platform_, device_};
  vfs::RefPtr<vfs::FuseFs> fs_;
  vfs::Task* other_ = nullptr;
  std::atomic<AttrReply> attr_reply_{AttrReply::kGood};
};

TEST_F(FuseFsHostileTest, BrokenAttributesForAPermissionCheckAreEio) {
  vfs::TaskScope scope(*other_);
  EXPECT_EQ(vfs::open("/mnt/f", O_RDONLY), -EACCES);  // Good reply: others ---.
  for (AttrReply hostile : {AttrReply::kTypeChanged, AttrReply::kTruncated}) {
    attr_reply_ = hostile;
    EXPECT_EQ(vfs::open("/mnt/f", O_RDWR), -EIO);
    EXPECT_EQ(vfs::access("/mnt/f", R_OK), -EIO);
    EXPECT_EQ(vfs::chmod("/mnt/f", 0777), -EIO);
    EXPECT_EQ(vfs::chown("/mnt/f", 2000, 2000), -EIO);
    vfs::Stat st;
    EXPECT_EQ(vfs::stat("/mnt/f", &st), -EIO);
  }
  attr_reply_ = AttrReply::kGood;
  EXPECT_EQ(vfs::access("/mnt/f", R_OK), -EACCES);
}

}  // namespace
}  // namespace vfs_test
