// The virtio-fs share's caches and node lifetimes, counted in the requests the
// device saw:
//  - with non-zero timeouts a repeated stat sends nothing; with zero ones it
//    always asks; an expired entry is asked again; changes made through the
//    VFS show at once, changes behind its back once the validity runs out;
//  - a path is looked up one component at a time, each under its parent's
//    node id (reference defect 3);
//  - every lookup is given back: after unmount or shutdown the device's inode
//    table is back to the root alone, with BATCH_FORGET when many nodes go at
//    once; the name cache is bounded (reference defect 4);
//  - a symlink loop is ELOOP, not a recursion (reference defect 9);
//  - after a device reset the share resolves again and old descriptors are
//    stale.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/vfs/share_fixture.h"
#include "vfs/fuse_fs.h"
#include "vfs/memfs.h"
#include "vfs/posix.h"
#include "vfs/task.h"

namespace vfs_test {
namespace {

void WriteHostFile(const std::string& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::write(fd, data.data(), data.size()),
            static_cast<ssize_t>(data.size()));
  ::close(fd);
}

class ShareCacheTest : public ShareTest {
 protected:
  void SetUp() override {
    ASSERT_EQ(::mkdir(share_.Path("d1").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(share_.Path("d1/d2").c_str(), 0755), 0);
    ASSERT_NO_FATAL_FAILURE(WriteHostFile(share_.Path("d1/d2/f"), "12345"));
  }
};

TEST_F(ShareCacheTest, CachedStatSendsNoRequest) {
  ASSERT_NO_FATAL_FAILURE(BootMachine(kCached));
  vfs::Stat st;
  ASSERT_EQ(vfs::stat("/root/d1/d2/f", &st), 0);
  EXPECT_EQ(st.st_size, 5);
  const uint64_t lookups = Requests(FUSE_LOOKUP);
  const uint64_t getattrs = Requests(FUSE_GETATTR);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(vfs::stat("/root/d1/d2/f", &st), 0);
    ASSERT_EQ(vfs::stat("/root/d1", &st), 0);
  }
  EXPECT_EQ(Requests(FUSE_LOOKUP), lookups);
  EXPECT_EQ(Requests(FUSE_GETATTR), getattrs);
  EXPECT_EQ(st.st_mode, S_IFDIR | 0755u);
}

TEST_F(ShareCacheTest, ZeroTimeoutsAskEveryTime) {
  ASSERT_NO_FATAL_FAILURE(BootMachine(kNoCache));
  vfs::Stat st;
  ASSERT_EQ(vfs::stat("/root/d1/d2/f", &st), 0);
  for (int i = 0; i < 5; ++i) {
    const uint64_t lookups = Requests(FUSE_LOOKUP);
    const uint64_t getattrs = Requests(FUSE_GETATTR);
    ASSERT_EQ(vfs::stat("/root/d1/d2/f", &st), 0);
    EXPECT_EQ(Requests(FUSE_LOOKUP), lookups + 3);  // d1, d2, f.
    // The stat reports what the LOOKUP of f brought during this very call,
    // as Linux does within the jiffy: no GETATTR.
    EXPECT_EQ(Requests(FUSE_GETATTR), getattrs);
  }
  // The host changes the file: the next stat's LOOKUP brings the change.
  ASSERT_NO_FATAL_FAILURE(WriteHostFile(share_.Path("d1/d2/f"), "1234567890"));
  ASSERT_EQ(vfs::stat("/root/d1/d2/f", &st), 0);
  EXPECT_EQ(st.st_size, 10);
  // Attributes that came in an earlier call are not kept: fstat asks.
  const int fd = vfs::open("/root/d1/d2/f", O_RDONLY);
  ASSERT_GE(fd, 0);
  const uint64_t getattrs = Requests(FUSE_GETATTR);
  ASSERT_EQ(vfs::fstat(fd, &st), 0);
  EXPECT_EQ(Requests(FUSE_GETATTR), getattrs + 1);
  ASSERT_NO_FATAL_FAILURE(WriteHostFile(share_.Path("d1/d2/f"), "123"));
  ASSERT_EQ(vfs::fstat(fd, &st), 0);
  EXPECT_EQ(st.st_size, 3);
  EXPECT_EQ(vfs::close(fd), 0);
}

TEST_F(ShareCacheTest, AWalkIsSearchCheckedWithTheAttributesItsLookupsBrought) {
  ASSERT_NO_FATAL_FAILURE(BootMachine(kNoCache));
  vfs::Stat st;
  ASSERT_EQ(vfs::stat("/root/d1/d2/f", &st), 0);
  ASSERT_EQ(vfs::seteuid(65534), 0);  // Search permission is checked.
  const uint64_t lookups = Requests(FUSE_LOOKUP);
  const uint64_t getattrs = Requests(FUSE_GETATTR);
  EXPECT_EQ(vfs::stat("/root/d1/d2/f", &st), 0);
  EXPECT_EQ(Requests(FUSE_LOOKUP), lookups + 3);
  // Only the share's root, which no LOOKUP of this call brought, is asked.
  EXPECT_EQ(Requests(FUSE_GETATTR), getattrs + 1);
  // So do access(2) and open(2), which check the file itself too.
  EXPECT_EQ(vfs::faccessat(AT_FDCWD, "/root/d1/d2/f", R_OK, AT_EACCESS), 0);
  EXPECT_EQ(Requests(FUSE_GETATTR), getattrs + 2);
  EXPECT_EQ(vfs::faccessat(AT_FDCWD, "/root/d1/d2/f", W_OK, AT_EACCESS),
            -EACCES);
  EXPECT_EQ(Requests(FUSE_GETATTR), getattrs + 3);
  const int fd = vfs::open("/root/d1/d2/f", O_RDONLY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(Requests(FUSE_GETATTR), getattrs + 4);
  EXPECT_EQ(vfs::close(fd), 0);
  EXPECT_EQ(vfs::open("/root/d1/d2/f", O_WRONLY), -EACCES);
  EXPECT_EQ(Requests(FUSE_GETATTR), getattrs + 5);
  // A directory the host made unsearchable refuses the next walk.
  ASSERT_EQ(::chmod(share_.Path("d1").c_str(), 0700), 0);
  EXPECT_EQ(vfs::stat("/root/d1/d2/f", &st), -EACCES);
  ASSERT_EQ(vfs::seteuid(0), 0);
}

TEST_F(ShareCacheTest, AnExpiredEntryIsAskedAgain) {
  ASSERT_NO_FATAL_FAILURE(BootMachine(
      {base::TransportKind::kMmio, sim::NotifyMode::kThread, 0.05}));
  vfs::Stat st;
  ASSERT_EQ(vfs::stat("/root/d1/d2/f", &st), 0);
  uint64_t asked = Requests(FUSE_LOOKUP);
  ASSERT_EQ(vfs::stat("/root/d1/d2/f", &st), 0);
  // Well within 50 ms of the first, nothing asked (a slow machine may have
  // let it expire, so only the later check is strict).
  const uint64_t within = Requests(FUSE_LOOKUP) - asked;
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  asked = Requests(FUSE_LOOKUP);
  ASSERT_EQ(vfs::stat("/root/d1/d2/f", &st), 0);
  // Every component again (the LOOKUP replies refresh the attributes too).
  EXPECT_EQ(Requests(FUSE_LOOKUP) - asked, 3u);
  EXPECT_LE(within, 3u);
}

TEST_F(ShareCacheTest, ChangesBehindTheCacheShowOnceItExpires) {
  ASSERT_NO_FATAL_FAILURE(BootMachine(kCached));
  vfs::Stat st;
  ASSERT_EQ(vfs::stat("/root/d1/d2/f", &st), 0);
  ASSERT_EQ(st.st_size, 5);
  // The host changes the file: within the validity, the VFS still answers
  // from its cache, as Linux's FUSE client does.
  ASSERT_NO_FATAL_FAILURE(WriteHostFile(share_.Path("d1/d2/f"), "1234567890"));
  ASSERT_EQ(vfs::stat("/root/d1/d2/f", &st), 0);
  EXPECT_EQ(st.st_size, 5);
  // Without caching, the change shows at once.
  machine_.reset();
  ASSERT_NO_FATAL_FAILURE(BootMachine(kNoCache));
  ASSERT_EQ(vfs::stat("/root/d1/d2/f", &st), 0);
  EXPECT_EQ(st.st_size, 10);
  ASSERT_NO_FATAL_FAILURE(WriteHostFile(share_.Path("d1/d2/f"), "1"));
  ASSERT_EQ(vfs::stat("/root/d1/d2/f", &st), 0);
  EXPECT_EQ(st.st_size, 1);
}

TEST_F(ShareCacheTest, OwnChangesShowDespiteTheCache) {
  ASSERT_NO_FATAL_FAILURE(BootMachine(kCached));
  vfs::Stat st;
  ASSERT_EQ(vfs::stat("/root/d1/d2/f", &st), 0);
  ASSERT_EQ(vfs::stat("/root/d1", &st), 0);
  ASSERT_EQ(st.st_nlink, 3u);
  // Writing changes the size.
  int fd = vfs::open("/root/d1/d2/f", O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(vfs::write(fd, "678", 3), 3);
  ASSERT_EQ(vfs::stat("/root/d1/d2/f", &st), 0);
  EXPECT_EQ(st.st_size, 8);
  // A new link changes the count seen through either name.
  ASSERT_EQ(vfs::link("/root/d1/d2/f", "/root/d1/g"), 0);
  ASSERT_EQ(vfs::stat("/root/d1/d2/f", &st), 0);
  EXPECT_EQ(st.st_nlink, 2u);
  ASSERT_EQ(vfs::unlink("/root/d1/g"), 0);
  ASSERT_EQ(vfs::fstat(fd, &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
  ASSERT_EQ(vfs::stat("/root/d1/g", &st), -ENOENT);
  // A new subdirectory changes its parent's link count.
  ASSERT_EQ(vfs::mkdir("/root/d1/d3", 0755), 0);
  ASSERT_EQ(vfs::stat("/root/d1", &st), 0);
  EXPECT_EQ(st.st_nlink, 4u);
  ASSERT_EQ(vfs::rmdir("/root/d1/d3"), 0);
  ASSERT_EQ(vfs::stat("/root/d1", &st), 0);
  EXPECT_EQ(st.st_nlink, 3u);
  // Renaming over a name: the old name is gone, the new one is the moved file.
  ASSERT_EQ(vfs::mkdir("/root/d1/d3", 0700), 0);
  ASSERT_EQ(vfs::rename("/root/d1/d2/f", "/root/d1/f2"), 0);
  ASSERT_EQ(vfs::stat("/root/d1/d2/f", &st), -ENOENT);
  ASSERT_EQ(vfs::stat("/root/d1/f2", &st), 0);
  EXPECT_EQ(st.st_size, 8);
  ASSERT_EQ(vfs::rename("/root/d1/d2", "/root/d1/d3"), 0);
  ASSERT_EQ(vfs::stat("/root/d1/d3", &st), 0);
  EXPECT_EQ(st.st_mode, S_IFDIR | 0755u);
  ASSERT_EQ(vfs::stat("/root/d1/d2", &st), -ENOENT);
  // Truncate and chmod through the path.
  ASSERT_EQ(vfs::truncate("/root/d1/f2", 2), 0);
  ASSERT_EQ(vfs::chmod("/root/d1/f2", 0600), 0);
  ASSERT_EQ(vfs::fstat(fd, &st), 0);
  EXPECT_EQ(st.st_size, 2);
  EXPECT_EQ(st.st_mode, S_IFREG | 0600u);
  EXPECT_EQ(vfs::close(fd), 0);
}

TEST_F(ShareCacheTest, PathsAreLookedUpOneComponentUnderItsParent) {
  struct Lookup {
    uint64_t parent;
    std::string name;
    uint64_t node;
  };
  std::mutex mu;
  std::vector<Lookup> lookups;
  ASSERT_NO_FATAL_FAILURE(
      BootMachine(kNoCache, {}, [&](const sim::FuseTraceEvent& e) {
        if (e.opcode != FUSE_LOOKUP) return;
        std::lock_guard<std::mutex> lock(mu);
        lookups.push_back({e.nodeid, e.args.name, e.out_node.value_or(0)});
      }));
  vfs::Stat st;
  ASSERT_EQ(vfs::stat("/root/d1/d2/f", &st), 0);
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(lookups.size(), 3u);
  EXPECT_EQ(lookups[0].parent, FUSE_ROOT_ID);
  EXPECT_EQ(lookups[0].name, "d1");
  EXPECT_EQ(lookups[1].parent, lookups[0].node);
  EXPECT_EQ(lookups[1].name, "d2");
  EXPECT_EQ(lookups[2].parent, lookups[1].node);
  EXPECT_EQ(lookups[2].name, "f");
  EXPECT_NE(lookups[2].node, 0u);
}

TEST_F(ShareCacheTest, SymlinkLoopsAreEloop) {
  ASSERT_EQ(::symlink("loop2", share_.Path("loop1").c_str()), 0);
  ASSERT_EQ(::symlink("loop1", share_.Path("loop2").c_str()), 0);
  ASSERT_EQ(::symlink("self", share_.Path("self").c_str()), 0);
  ASSERT_EQ(::symlink("d1/../self/x", share_.Path("through").c_str()), 0);
  ASSERT_NO_FATAL_FAILURE(BootMachine(kNoCache));
  vfs::Stat st;
  EXPECT_EQ(vfs::stat("/root/loop1", &st), -ELOOP);
  EXPECT_EQ(vfs::stat("/root/self", &st), -ELOOP);
  EXPECT_EQ(vfs::stat("/root/through", &st), -ELOOP);
  EXPECT_EQ(vfs::open("/root/loop2", O_RDONLY), -ELOOP);
  EXPECT_EQ(vfs::open("/root/self", O_RDONLY | O_CREAT, 0644), -ELOOP);
  EXPECT_EQ(vfs::lstat("/root/loop1", &st), 0);
  EXPECT_EQ(st.st_mode & S_IFMT, static_cast<uint32_t>(S_IFLNK));
  char target[16];
  EXPECT_EQ(vfs::readlink("/root/loop1", target, sizeof(target)), 5);
}

TEST_F(ShareCacheTest, UnmountForgetsEveryLookup) {
  ASSERT_NO_FATAL_FAILURE(BootMachine(kNoCache));
  const size_t before = DeviceInodes();
  ASSERT_EQ(before, 1u);
  for (int i = 0; i < 300; ++i) {
    ASSERT_NO_FATAL_FAILURE(
        WriteHostFile(share_.Path("d1/n" + std::to_string(i)), "x"));
  }
  vfs::Stat st;
  // The same names many times (the lookups add up on each node), and many
  // names once.
  for (int round = 0; round < 5; ++round) {
    ASSERT_EQ(vfs::stat("/root/d1/d2/f", &st), 0);
  }
  for (int i = 0; i < 300; ++i) {
    std::string path = "/root/d1/n" + std::to_string(i);
    ASSERT_EQ(vfs::stat(path.c_str(), &st), 0);
  }
  ASSERT_EQ(vfs::mkdir("/root/made", 0755), 0);
  ASSERT_EQ(vfs::symlink("d1", "/root/sl"), 0);
  ASSERT_EQ(vfs::link("/root/d1/d2/f", "/root/hard"), 0);
  int fd = vfs::open("/root/created", O_CREAT | O_RDWR, 0644);
  ASSERT_GE(fd, 0);
  EXPECT_GT(DeviceInodes(), 300u);
  EXPECT_EQ(vfs::umount("/root"), -EBUSY);  // The open file holds it.
  EXPECT_EQ(vfs::close(fd), 0);
  const uint64_t batches = Requests(FUSE_BATCH_FORGET);
  ASSERT_EQ(vfs::umount("/root"), 0);
  EXPECT_EQ(DeviceInodes(), 1u);
  EXPECT_GT(Requests(FUSE_BATCH_FORGET), batches);  // Many went at once.
  EXPECT_EQ(machine().share_fs()->live_nodes(), 0u);
  EXPECT_EQ(machine().share_fs()->cached_entries(), 0u);
  EXPECT_EQ(machine().fs_device().server().fs().open_file_count(), 0u);
  // Mounted again, it works as before.
  ASSERT_EQ(vfs::mount("/root", machine().share_fs()->Root()), 0);
  ASSERT_EQ(vfs::stat("/root/hard", &st), 0);
  EXPECT_EQ(st.st_nlink, 2u);
}

TEST_F(ShareCacheTest, ShutdownForgetsAndReleasesEverything) {
  ASSERT_NO_FATAL_FAILURE(BootMachine(kCached));
  int file = vfs::open("/root/d1/d2/f", O_RDWR);
  int dir = vfs::open("/root/d1", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(file, 0);
  ASSERT_GE(dir, 0);
  ASSERT_EQ(vfs::chdir("/root/d1/d2"), 0);
  const uint64_t releases = Requests(FUSE_RELEASE);
  const uint64_t releasedirs = Requests(FUSE_RELEASEDIR);
  const uint64_t flushes = Requests(FUSE_FLUSH);
  EXPECT_GT(DeviceInodes(), 3u);
  machine().kernel()->Teardown();  // The machine's VFS shuts down.
  EXPECT_EQ(DeviceInodes(), 1u);
  EXPECT_EQ(Requests(FUSE_FLUSH), flushes + (FlushesWrites() ? 1 : 0));
  EXPECT_EQ(Requests(FUSE_RELEASE), releases + 1);
  EXPECT_EQ(Requests(FUSE_RELEASEDIR), releasedirs + 1);
  EXPECT_EQ(machine().fs_device().server().fs().open_file_count(), 0u);
}

TEST_F(ShareCacheTest, TheNameCacheIsBounded) {
  ASSERT_NO_FATAL_FAILURE(BootMachine(kCached, {.max_cached_entries = 16}));
  for (int i = 0; i < 200; ++i) {
    ASSERT_NO_FATAL_FAILURE(
        WriteHostFile(share_.Path("d1/n" + std::to_string(i)), "x"));
  }
  vfs::Stat st;
  for (int i = 0; i < 200; ++i) {
    std::string path = "/root/d1/n" + std::to_string(i);
    ASSERT_EQ(vfs::stat(path.c_str(), &st), 0);
    EXPECT_LE(machine().share_fs()->cached_entries(), 16u);
  }
  // Evicted names were forgotten (184 of the 200, in batches): the device
  // holds no more than the cache and the forgets that wait for a batch.
  const size_t batch = vfs::FuseFsOptions{}.forget_batch;
  EXPECT_LE(DeviceInodes(), 1u + 16u + (batch - 1));
  EXPECT_GE(Requests(FUSE_BATCH_FORGET), 184u / batch);
  // The most recent names are still answered from the cache.
  const uint64_t lookups = Requests(FUSE_LOOKUP);
  ASSERT_EQ(vfs::stat("/root/d1/n199", &st), 0);
  EXPECT_EQ(Requests(FUSE_LOOKUP), lookups);
}

// The lookups of retired nodes go back in batches: an unlinked file's FORGET
// waits until forget_batch of them are due, then one BATCH_FORGET carries
// them; a statfs sends those waiting first (the host frees a deleted file's
// blocks once the device closes its last descriptor of it).
TEST_F(ShareCacheTest, RetiredNodesAreForgottenInBatches) {
  ASSERT_NO_FATAL_FAILURE(BootMachine(kCached));
  const size_t batch = vfs::FuseFsOptions{}.forget_batch;
  ASSERT_GT(batch, 1u);
  const size_t before = DeviceInodes();
  const uint64_t forgets = Requests(FUSE_FORGET);
  const uint64_t batches = Requests(FUSE_BATCH_FORGET);
  const auto create_and_unlink = [](int i) {
    const std::string path = "/root/gone" + std::to_string(i);
    const int fd = vfs::open(path.c_str(), O_CREAT | O_WRONLY, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(vfs::close(fd), 0);
    ASSERT_EQ(vfs::unlink(path.c_str()), 0);
  };
  for (size_t i = 0; i + 1 < batch; ++i) {
    ASSERT_NO_FATAL_FAILURE(create_and_unlink(i));
  }
  EXPECT_EQ(DeviceInodes(), before + batch - 1);  // Held back.
  EXPECT_EQ(Requests(FUSE_BATCH_FORGET), batches);
  ASSERT_NO_FATAL_FAILURE(create_and_unlink(batch));
  EXPECT_EQ(DeviceInodes(), before);
  EXPECT_EQ(Requests(FUSE_BATCH_FORGET), batches + 1);
  for (int i = 0; i < 3; ++i) ASSERT_NO_FATAL_FAILURE(create_and_unlink(i));
  EXPECT_EQ(DeviceInodes(), before + 3);
  vfs::StatFs fs;
  ASSERT_EQ(vfs::statfs("/root", &fs), 0);
  EXPECT_EQ(DeviceInodes(), before);
  EXPECT_EQ(Requests(FUSE_BATCH_FORGET), batches + 2);
  EXPECT_EQ(Requests(FUSE_FORGET), forgets);
}

// With forget_batch 1 each node's lookups go back as it retires, as Linux's
// virtio-fs sends them.
TEST_F(ShareCacheTest, ABatchOfOneForgetsEachNodeAsItGoes) {
  ASSERT_NO_FATAL_FAILURE(BootMachine(kCached, {.forget_batch = 1}));
  const size_t before = DeviceInodes();
  const uint64_t forgets = Requests(FUSE_FORGET);
  const int fd = vfs::open("/root/gone", O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(vfs::close(fd), 0);
  EXPECT_EQ(DeviceInodes(), before + 1);
  ASSERT_EQ(vfs::unlink("/root/gone"), 0);
  EXPECT_EQ(DeviceInodes(), before);
  EXPECT_EQ(Requests(FUSE_FORGET), forgets + 1);
}

TEST_F(ShareCacheTest, OneNodePerNodeIdKeepsMountPoints) {
  ASSERT_EQ(::symlink("d1/d2", share_.Path("to_d2").c_str()), 0);
  ASSERT_NO_FATAL_FAILURE(BootMachine(kNoCache));
  // memfs mounted on a directory of the share: reached by another path (a
  // fresh LOOKUP each time), the node is the same, so the mount is crossed.
  ASSERT_EQ(vfs::mount("/root/d1/d2", vfs::MemFs::Create(machine().platform())),
            0);
  int fd = vfs::open("/root/d1/d2/in_memfs", O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(vfs::close(fd), 0);
  vfs::Stat st;
  EXPECT_EQ(vfs::stat("/root/to_d2/in_memfs", &st), 0);
  EXPECT_EQ(vfs::stat("/root/to_d2/f", &st), -ENOENT);  // Covered.
  struct stat host;
  EXPECT_NE(::stat(share_.Path("d1/d2/in_memfs").c_str(), &host), 0);
  ASSERT_EQ(vfs::umount("/root/d1/d2"), 0);
  EXPECT_EQ(vfs::stat("/root/to_d2/f", &st), 0);
}

TEST_F(ShareCacheTest, AfterADeviceResetPathsResolveAndOldFilesAreStale) {
  ASSERT_NO_FATAL_FAILURE(BootMachine(kCached));
  int fd = vfs::open("/root/d1/d2/f", O_RDWR);
  ASSERT_GE(fd, 0);
  int dir = vfs::open("/root/d1", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(dir, 0);
  const uint64_t forgets = Requests(FUSE_FORGET) + Requests(FUSE_BATCH_FORGET);
  ASSERT_TRUE(machine().Recover().ok());
  char buffer[16];
  EXPECT_EQ(vfs::read(fd, buffer, sizeof(buffer)), -ESTALE);
  EXPECT_EQ(vfs::write(fd, "x", 1), -ESTALE);
  vfs::Stat st;
  EXPECT_EQ(vfs::fstat(fd, &st), -ESTALE);
  EXPECT_EQ(vfs::getdents64(dir, buffer, sizeof(buffer)), -ESTALE);
  // Paths resolve again in the new session.
  ASSERT_EQ(vfs::stat("/root/d1/d2/f", &st), 0);
  EXPECT_EQ(st.st_size, 5);
  int again = vfs::open("/root/d1/d2/f", O_RDONLY);
  ASSERT_GE(again, 0);
  EXPECT_EQ(vfs::read(again, buffer, sizeof(buffer)), 5);
  EXPECT_EQ(vfs::close(again), 0);
  EXPECT_EQ(vfs::close(fd), 0);
  EXPECT_EQ(vfs::close(dir), 0);
  // The old session's nodes were never forgotten to the new one.
  EXPECT_EQ(Requests(FUSE_FORGET) + Requests(FUSE_BATCH_FORGET), forgets);
  ASSERT_EQ(vfs::umount("/root"), 0);
  EXPECT_EQ(DeviceInodes(), 1u);
}

// Threads looking up, opening and dropping the same few nodes while a tiny name
// cache evicts them: nodes are found while others retire them, and still
// every lookup is given back exactly.
TEST_F(ShareCacheTest, ConcurrentLookupsAndRetirementsLoseNoLookup) {
  ASSERT_NO_FATAL_FAILURE(
      BootMachine({base::TransportKind::kPci, sim::NotifyMode::kThread, 0},
                  {.max_cached_entries = 4}));
  for (int i = 0; i < 8; ++i) {
    ASSERT_NO_FATAL_FAILURE(
        WriteHostFile(share_.Path("d1/n" + std::to_string(i)), "data"));
  }
  constexpr int kThreads = 4, kRounds = 300;
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        std::string path = "/root/d1/n" + std::to_string((r * 7 + t) % 8);
        vfs::Stat st;
        if (vfs::stat(path.c_str(), &st) != 0 || st.st_size != 4) {
          ++failures[t];
        }
        if (r % 5 == 0) {
          int fd = vfs::open(path.c_str(), O_RDONLY);
          char buffer[8];
          if (fd < 0 || vfs::read(fd, buffer, sizeof(buffer)) != 4) {
            ++failures[t];
          }
          if (fd >= 0) vfs::close(fd);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << t;
  ASSERT_EQ(vfs::umount("/root"), 0);
  EXPECT_EQ(DeviceInodes(), 1u);
  EXPECT_EQ(machine().share_fs()->live_nodes(), 0u);
}

// Two machines in one process on one host directory: two guests sharing it.
// Each has its own driver and VFS; what one writes the other sees only once
// its cached attributes expire, as with two virtio-fs guests on one share.
class TwoMachinesTest : public ::testing::Test {
 protected:
  std::unique_ptr<sim::Machine> Boot(const char* tag, double attr_timeout) {
    auto machine = sim::Machine::Create({.share_dir = share_.path(),
                                         .tag = tag,
                                         .entry_timeout = attr_timeout,
                                         .attr_timeout = attr_timeout});
    EXPECT_TRUE(machine.ok()) << machine.status();
    return machine.ok() ? std::move(*machine) : nullptr;
  }

  // The size of `path` as `machine`'s VFS reports it, or -errno.
  static int64_t SizeOn(sim::Machine& machine, const char* path) {
    vfs::TaskScope scope(machine.task());
    vfs::Stat st;
    const int r = vfs::stat(path, &st);
    return r < 0 ? r : st.st_size;
  }

  // Appends `data` to `path` through `machine`'s VFS; the bytes written.
  static int64_t AppendOn(sim::Machine& machine, const char* path,
                          const std::string& data) {
    vfs::TaskScope scope(machine.task());
    const int fd = vfs::open(path, O_WRONLY | O_APPEND);
    if (fd < 0) return fd;
    const int64_t written = vfs::write(fd, data.data(), data.size());
    vfs::close(fd);
    return written;
  }

  ScratchDir share_{"share"};
};

TEST_F(TwoMachinesTest, EachHasItsOwnVfsOnTheSameHostDirectory) {
  ASSERT_NO_FATAL_FAILURE(WriteHostFile(share_.Path("f"), "1234"));
  auto a = Boot("a", 60);
  auto b = Boot("b", 60);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a->kernel(), b->kernel());
  // Each VFS has only its own mount, and its own descriptors.
  EXPECT_EQ(SizeOn(*a, "/a/f"), 4);
  EXPECT_EQ(SizeOn(*a, "/b/f"), -ENOENT);
  EXPECT_EQ(SizeOn(*b, "/b/f"), 4);
  EXPECT_EQ(SizeOn(*b, "/a/f"), -ENOENT);
  int fd_on_a;
  {
    vfs::TaskScope scope(a->task());
    fd_on_a = vfs::open("/a/f", O_RDONLY);
    ASSERT_GE(fd_on_a, 0);
  }
  {
    vfs::TaskScope scope(b->task());
    char byte;
    EXPECT_EQ(vfs::read(fd_on_a, &byte, 1), -EBADF);
  }
  // The first machine is the process's default task: a thread that entered
  // none acts on it, and on the other only once it does.
  EXPECT_EQ(vfs::DefaultTask(), &a->task());
  vfs::Stat st;
  EXPECT_EQ(vfs::stat("/a/f", &st), 0);
  EXPECT_EQ(vfs::stat("/b/f", &st), -ENOENT);
  // Destroying the default machine leaves the process with none; the other
  // machine runs on.
  a.reset();
  EXPECT_EQ(vfs::DefaultTask(), nullptr);
  EXPECT_EQ(vfs::stat("/a/f", &st), -ENOSYS);
  EXPECT_EQ(SizeOn(*b, "/b/f"), 4);
}

TEST_F(TwoMachinesTest, AWriteOnOneIsSeenByTheOtherWhenItsCacheExpires) {
  ASSERT_NO_FATAL_FAILURE(WriteHostFile(share_.Path("f"), "1234"));
  constexpr double kShortTimeout = 0.2;
  auto writer = Boot("w", 60);
  auto patient = Boot("p", 3600);         // Caches for an hour.
  auto quick = Boot("q", kShortTimeout);  // Caches for 200 ms.
  ASSERT_NE(writer, nullptr);
  ASSERT_NE(patient, nullptr);
  ASSERT_NE(quick, nullptr);
  ASSERT_EQ(SizeOn(*patient, "/p/f"), 4);  // Both now hold the attributes.
  ASSERT_EQ(SizeOn(*quick, "/q/f"), 4);

  ASSERT_EQ(AppendOn(*writer, "/w/f", "5678"), 4);
  EXPECT_EQ(SizeOn(*writer, "/w/f"), 8);  // The writer knows at once.
  // The others still see what they cached, until it expires.
  EXPECT_EQ(SizeOn(*quick, "/q/f"), 4);
  EXPECT_EQ(SizeOn(*patient, "/p/f"), 4);
  std::this_thread::sleep_for(
      std::chrono::milliseconds(static_cast<int>(kShortTimeout * 1000) + 50));
  EXPECT_EQ(SizeOn(*quick, "/q/f"), 8);
  EXPECT_EQ(SizeOn(*patient, "/p/f"), 4);  // An hour is not over.
}

}  // namespace
}  // namespace vfs_test
