// READDIRPLUS against a scripted device, whose INIT reply and records the test
// chooses, and which keeps a ledger of the lookups it counted and the ones
// given back (checked after every test: each given back exactly once):
//  - a device without FUSE_DO_READDIRPLUS gets READDIR only; one with it but
//    without READDIRPLUS_AUTO gets READDIRPLUS for every listing request;
//  - records with zero timeouts cache nothing and give their lookups back
//    with the reply; ".", ".." and records without a node id give nothing;
//  - a name the cache knew as another node is replaced, and that node given
//    back, with and without timeouts; a name listed again adds a lookup to
//    the node it has.
#include <fcntl.h>
#include <linux/fuse.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "driver/fuse_client.h"
#include "gtest/gtest.h"
#include "tests/driver/scripted_fuse_device.h"
#include "tests/vfs/vfs_fixture.h"
#include "vfs/fuse_fs.h"

namespace vfs_test {
namespace {

using driver_test::Ok;
using driver_test::OkData;
using driver_test::OkEmpty;
using driver_test::ScriptedFuseDevice;
using driver_test::ScriptedReply;
using driver_test::SeenRequest;

// A name of the scripted root directory.
struct Child {
  std::string name;
  uint64_t nodeid;
  uint64_t size = 0;
  bool timeouts = true;   // Entry and attribute validity of 60 s, or zero.
  bool looked_up = true;  // READDIRPLUS records carry the entry.
};

class FuseFsReadDirPlusTest : public VfsTest {
 protected:
  void SetUp() override {
    VfsTest::SetUp();
    device_.SetHandler([this](const SeenRequest& r) { return Answer(r); });
  }
  void TearDown() override {
    kernel_.reset();  // Unmounts: the last FORGETs go out.
    fs_.reset();
    for (const auto& [nodeid, count] : lookups_) {
      EXPECT_EQ(forgotten_[nodeid], count) << "node " << nodeid;
    }
    for (const auto& [nodeid, count] : forgotten_) {
      EXPECT_EQ(lookups_[nodeid], count) << "node " << nodeid;
    }
  }

  // Mounts the share at /mnt, on a device whose INIT reply has `init_flags`.
  void Mount(uint32_t init_flags) {
    fuse_init_out init = driver_test::GoodInit();
    init.flags = FUSE_MAX_PAGES | init_flags;
    device_.SetInit(init);
    ASSERT_TRUE(client_.Init().ok());
    fs_ = vfs::FuseFs::Create(platform_, client_);
    ASSERT_EQ(vfs::mkdir("/mnt", 0755), 0);
    ASSERT_EQ(vfs::mount("/mnt", fs_->Root()), 0);
  }

  fuse_entry_out EntryOf(const Child& child) {
    fuse_entry_out out = driver_test::EntryOut(child.nodeid);
    out.attr.size = child.size;
    out.entry_valid = out.attr_valid = child.timeouts ? 60 : 0;
    return out;
  }

  ScriptedReply Answer(const SeenRequest& r) {
    switch (r.opcode()) {
      case FUSE_LOOKUP: {
        const std::string name = r.names(0).at(0);
        for (const Child& child : children_) {
          if (child.name != name) continue;
          ++lookups_[child.nodeid];
          return Ok(r, EntryOf(child));
        }
        return driver_test::Err(r, ENOENT);
      }
      case FUSE_GETATTR: {
        fuse_attr_out out{};
        out.attr = driver_test::RegularAttr(r.nodeid());
        if (r.nodeid() == FUSE_ROOT_ID) out.attr.mode = 040755;
        for (const Child& child : children_) {
          if (child.nodeid == r.nodeid()) out.attr.size = child.size;
        }
        return Ok(r, out);
      }
      case FUSE_OPENDIR:
        return Ok(r, fuse_open_out{.fh = 1});
      case FUSE_READDIR:
      case FUSE_READDIRPLUS:
        return List(r, r.opcode() == FUSE_READDIRPLUS);
      case FUSE_OPEN:
        return Ok(r, fuse_open_out{.fh = 2});
      case FUSE_RELEASEDIR:
      case FUSE_FLUSH:
      case FUSE_RELEASE:
        return OkEmpty(r);
      case FUSE_FORGET:
        forgotten_[r.nodeid()] += r.in<fuse_forget_in>().nlookup;
        return driver_test::NoReply();
      case FUSE_BATCH_FORGET: {
        const auto batch = r.in<fuse_batch_forget_in>();
        std::vector<uint8_t> tail = r.tail(sizeof(batch));
        for (uint32_t i = 0; i < batch.count; ++i) {
          fuse_forget_one one;
          std::memcpy(&one, tail.data() + i * sizeof(one), sizeof(one));
          forgotten_[one.nodeid] += one.nlookup;
        }
        return driver_test::NoReply();
      }
      default:
        return driver_test::Err(r, ENOSYS);
    }
  }

  // "." and ".." then the children, at most `per_reply_` records a reply;
  // offset k resumes after the k-th. "." claims a node id: a record that
  // holds no lookup whatever it says.
  ScriptedReply List(const SeenRequest& r, bool plus) {
    const uint64_t offset = r.in<fuse_read_in>().offset;
    std::vector<uint8_t> data;
    for (uint64_t k = offset; k < children_.size() + 2; ++k) {
      if (k - offset == per_reply_) break;
      Child child = k == 0   ? Child{".", FUSE_ROOT_ID}
                    : k == 1 ? Child{"..", 0}
                             : children_[k - 2];
      const uint32_t type = k < 2 ? 4 : 8;
      if (!plus) {
        driver_test::AppendDirent(data, child.nodeid, k + 1, child.name, type);
        continue;
      }
      fuse_entry_out entry = EntryOf(child);
      if (k < 2) entry.attr.mode = 040755;
      if (!child.looked_up || child.nodeid == 0) {
        entry.nodeid = 0;
      } else if (k >= 2) {
        ++lookups_[child.nodeid];
      }
      driver_test::AppendDirentPlus(data, entry, k + 1, child.name, type);
    }
    return OkData(r, data);
  }

  // Lists /mnt whole with `buffer_size`-byte calls; the names.
  std::vector<std::string> ListRoot(size_t buffer_size = 4096) {
    const int fd = vfs::open("/mnt", O_RDONLY | O_DIRECTORY);
    EXPECT_GE(fd, 0);
    std::vector<std::string> names;
    std::vector<char> buffer(buffer_size);
    int64_t n;
    while ((n = vfs::getdents64(fd, buffer.data(), buffer.size())) > 0) {
      for (int64_t at = 0; at < n;) {
        const auto* d = reinterpret_cast<const vfs::Dirent64*>(&buffer[at]);
        names.push_back(d->d_name);
        at += d->d_reclen;
      }
    }
    EXPECT_EQ(n, 0);
    EXPECT_EQ(vfs::close(fd), 0);
    return names;
  }

  // How many requests of `opcode` the device saw since the last ClearRequests.
  int Seen(uint32_t opcode) {
    int count = 0;
    for (const SeenRequest& r : device_.requests()) {
      count += r.opcode() == opcode;
    }
    return count;
  }

  ScriptedFuseDevice device_;
  driver::FuseClient client_{platform_, device_};
  vfs::RefPtr<vfs::FuseFs> fs_;
  std::vector<Child> children_;
  size_t per_reply_ = 3;
  std::map<uint64_t, uint64_t> lookups_;    // Counted by the device.
  std::map<uint64_t, uint64_t> forgotten_;  // Given back by the client.
};

TEST_F(FuseFsReadDirPlusTest, ADeviceWithoutItGetsReadDirOnly) {
  for (uint64_t i = 0; i < 8; ++i) {
    children_.push_back({"f" + std::to_string(i), 10 + i, i});
  }
  ASSERT_NO_FATAL_FAILURE(Mount(0));
  EXPECT_EQ(ListRoot().size(), 10u);
  EXPECT_EQ(ListRoot().size(), 10u);
  EXPECT_GE(Seen(FUSE_READDIR), 8);  // 3 records a reply, twice.
  EXPECT_EQ(Seen(FUSE_READDIRPLUS), 0);
  // Nothing was cached by the listings: each stat asks.
  vfs::Stat st;
  ASSERT_EQ(vfs::stat("/mnt/f3", &st), 0);
  EXPECT_EQ(st.st_size, 3);
  EXPECT_EQ(Seen(FUSE_LOOKUP), 1);
}

TEST_F(FuseFsReadDirPlusTest, WithoutAutoEveryListingRequestIsReadDirPlus) {
  for (uint64_t i = 0; i < 8; ++i) {
    children_.push_back({"f" + std::to_string(i), 10 + i, i});
  }
  ASSERT_NO_FATAL_FAILURE(Mount(FUSE_DO_READDIRPLUS));
  // Past the start, with nothing looked up in between, and at the end.
  EXPECT_EQ(ListRoot().size(), 10u);
  EXPECT_EQ(Seen(FUSE_READDIR), 0);
  EXPECT_GE(Seen(FUSE_READDIRPLUS), 4);
  for (uint64_t i = 0; i < 8; ++i) {
    vfs::Stat st;
    ASSERT_EQ(vfs::stat(("/mnt/f" + std::to_string(i)).c_str(), &st), 0);
    EXPECT_EQ(st.st_size, static_cast<int64_t>(i));
    EXPECT_EQ(st.st_ino, 10 + i);
  }
  EXPECT_EQ(Seen(FUSE_LOOKUP), 0);
  EXPECT_EQ(Seen(FUSE_GETATTR), 0);
}

TEST_F(FuseFsReadDirPlusTest, ZeroTimeoutsCacheNothingAndGiveLookupsBack) {
  children_ = {{"a", 10, 1, /*timeouts=*/false},
               {"b", 11, 2, /*timeouts=*/false},
               {"c", 12, 3, /*timeouts=*/false, /*looked_up=*/false},
               {"d", 13, 4}};
  per_reply_ = 16;  // One reply.
  ASSERT_NO_FATAL_FAILURE(Mount(FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO));
  EXPECT_EQ(ListRoot().size(), 6u);
  ASSERT_EQ(Seen(FUSE_READDIRPLUS), 1);
  // Given back with the reply, in one request, before the stream closed.
  EXPECT_EQ(forgotten_[10], 1u);
  EXPECT_EQ(forgotten_[11], 1u);
  EXPECT_EQ(Seen(FUSE_FORGET) + Seen(FUSE_BATCH_FORGET), 1);
  EXPECT_EQ(fs_->cached_entries(), 1u);  // "d" alone.
  device_.ClearRequests();
  vfs::Stat st;
  ASSERT_EQ(vfs::stat("/mnt/a", &st), 0);
  EXPECT_EQ(st.st_size, 1);
  ASSERT_EQ(vfs::stat("/mnt/d", &st), 0);
  EXPECT_EQ(st.st_size, 4);
  EXPECT_EQ(Seen(FUSE_LOOKUP), 1);  // "a" only.
}

TEST_F(FuseFsReadDirPlusTest,
       ANameOfAnotherNodeIsReplacedAndThatNodeForgotten) {
  children_ = {{"a", 10, 1}, {"z", 20, 1, /*timeouts=*/false}};
  per_reply_ = 16;
  ASSERT_NO_FATAL_FAILURE(Mount(FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO));
  vfs::Stat st;
  ASSERT_EQ(vfs::stat("/mnt/a", &st), 0);
  ASSERT_EQ(vfs::stat("/mnt/z", &st), 0);  // Cached, expired at once.
  ASSERT_EQ(st.st_ino, 20u);
  EXPECT_EQ(forgotten_[10], 0u);
  EXPECT_EQ(forgotten_[20], 0u);
  // Behind the VFS's back both names came to name other files.
  children_ = {{"a", 11, 5}, {"z", 21, 6, /*timeouts=*/false}};
  EXPECT_EQ(ListRoot().size(), 4u);
  // The old nodes lost their names, and nothing else held them (their
  // forgets wait for a batch: FuseFsOptions::forget_batch).
  fs_->FlushForgets();
  EXPECT_EQ(forgotten_[10], 1u);
  EXPECT_EQ(forgotten_[20], 1u);
  device_.ClearRequests();
  ASSERT_EQ(vfs::stat("/mnt/a", &st), 0);
  EXPECT_EQ(st.st_ino, 11u);
  EXPECT_EQ(st.st_size, 5);
  EXPECT_EQ(Seen(FUSE_LOOKUP) + Seen(FUSE_GETATTR), 0);
  ASSERT_EQ(vfs::stat("/mnt/z", &st), 0);
  EXPECT_EQ(st.st_ino, 21u);
  EXPECT_EQ(Seen(FUSE_LOOKUP), 1);
}

TEST_F(FuseFsReadDirPlusTest, AReplacedNodeStillOpenAsksForItsAttributes) {
  children_ = {{"a", 10, 1}};
  ASSERT_NO_FATAL_FAILURE(Mount(FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO));
  const int fd = vfs::open("/mnt/a", O_RDONLY);
  ASSERT_GE(fd, 0);
  vfs::Stat st;
  ASSERT_EQ(vfs::fstat(fd, &st), 0);
  // Its name now names another file: the open one was unlinked or renamed
  // over, which changed its link count or ctime.
  children_ = {{"a", 11, 5}};
  EXPECT_EQ(ListRoot().size(), 3u);
  device_.ClearRequests();
  ASSERT_EQ(vfs::fstat(fd, &st), 0);
  EXPECT_EQ(st.st_ino, 10u);
  EXPECT_EQ(Seen(FUSE_GETATTR), 1);
  fs_->FlushForgets();
  EXPECT_EQ(forgotten_[10], 0u);  // The open file holds it.
  EXPECT_EQ(vfs::close(fd), 0);
  fs_->FlushForgets();
  EXPECT_EQ(forgotten_[10], 1u);
}

TEST_F(FuseFsReadDirPlusTest, ListingANameAgainAddsToItsNodesLookups) {
  children_ = {{"a", 10, 1}};
  ASSERT_NO_FATAL_FAILURE(Mount(FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO));
  vfs::Stat st;
  ASSERT_EQ(vfs::stat("/mnt/a", &st), 0);
  // Listed again, and (its name used in between) again: one node whose
  // lookups add up, all given back at unmount (TearDown).
  children_[0].size = 9;
  EXPECT_EQ(ListRoot().size(), 3u);
  ASSERT_EQ(vfs::stat("/mnt/a", &st), 0);
  EXPECT_EQ(st.st_size, 9);  // The listing's attributes.
  EXPECT_EQ(ListRoot().size(), 3u);
  EXPECT_EQ(lookups_[10], 3u);
  EXPECT_EQ(forgotten_[10], 0u);
  EXPECT_EQ(fs_->live_nodes(), 2u);  // The root and "a".
}

}  // namespace
}  // namespace vfs_test
