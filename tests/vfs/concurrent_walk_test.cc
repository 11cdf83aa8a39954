// Path walks while other threads change the names they walk through.
//  - Cached walks (PathWalker's walk in a WalkSection, which holds no reference
//    on the nodes it passes through) while those nodes' names go: on memfs
//    (unlink, rename over, rmdir), across a mount that comes and goes, and on
//    the virtio-fs share (a name cache small enough to evict at every lookup).
//    A stat finds the file or ENOENT, never a node on its way out;
//    AddressSanitizer and ThreadSanitizer (CI runs this test under both) see
//    any use after the last reference.
//  - LOOKUPs out while another thread renames and unlinks the name: an answer
//    the device gave before the change must not be cached after it (the name
//    would lead to the renamed file, and a create of the name truncate it).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "tests/vfs/share_fixture.h"
#include "tests/vfs/vfs_fixture.h"
#include "vfs/memfs.h"
#include "vfs/posix.h"

namespace vfs_test {
namespace {

using namespace std::chrono_literals;

// Runs `change` over and over on this thread while two threads stat each of
// `paths` in turn, for `duration`; every stat must find the path (empty, as
// a file being written is for a moment, or with a size in `sizes`) or
// ENOENT. Returns how many stats found it.
uint64_t StatWhileChanging(const std::vector<std::string>& paths,
                           const std::vector<int64_t>& sizes,
                           const std::function<void()>& change,
                           std::chrono::milliseconds duration = 300ms) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> found{0}, wrong{0};
  std::vector<std::thread> walkers;
  for (int t = 0; t < 2; ++t) {
    walkers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        for (const std::string& path : paths) {
          vfs::Stat st;
          const int r = vfs::stat(path.c_str(), &st);
          bool expected = r == -ENOENT || (r == 0 && st.st_size == 0);
          for (int64_t size : sizes) expected |= r == 0 && st.st_size == size;
          if (!expected) {
            ADD_FAILURE() << path << ": " << r << ", size " << st.st_size;
            wrong++;
          } else if (r == 0) {
            found++;
          }
        }
      }
    });
  }
  const auto until = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < until) change();
  stop = true;
  for (std::thread& walker : walkers) walker.join();
  EXPECT_EQ(wrong.load(), 0u);
  return found.load();
}

class CachedWalkTest : public VfsTest {
 protected:
  // Creates `path` with `size` bytes.
  void Create(const std::string& path, int64_t size) {
    WriteFile(path.c_str(), std::string(static_cast<size_t>(size), 'x'));
  }
};

TEST_F(CachedWalkTest, StatsWhileMemfsNamesGo) {
  ASSERT_EQ(vfs::mkdir("/tmp/d", 0755), 0);
  ASSERT_EQ(vfs::mkdir("/tmp/d/sub", 0755), 0);
  // Names enough for long hash chains, which the table outgrows and rehashes
  // as they come back.
  std::vector<std::string> paths = {"/tmp/d/f", "/tmp/d/g", "/tmp/d/sub/h"};
  for (int i = 0; i < 48; ++i) paths.push_back("/tmp/d/n" + std::to_string(i));
  int round = 0;
  const uint64_t found = StatWhileChanging(paths, {1, 2, 3}, [&] {
    Create("/tmp/d/f", 1 + round % 2);
    EXPECT_EQ(vfs::rename("/tmp/d/f", "/tmp/d/g"), 0);  // Over the last g.
    if (round % 2) EXPECT_EQ(vfs::unlink("/tmp/d/g"), 0);
    Create("/tmp/d/sub/h", 3);
    EXPECT_EQ(vfs::unlink("/tmp/d/sub/h"), 0);
    EXPECT_EQ(vfs::rmdir("/tmp/d/sub"), 0);
    EXPECT_EQ(vfs::mkdir("/tmp/d/sub", 0755), 0);
    for (size_t i = 3; i < paths.size(); ++i) Create(paths[i], 1);
    for (size_t i = 3; i < paths.size(); ++i) {
      EXPECT_EQ(vfs::unlink(paths[i].c_str()), 0);
    }
    ++round;
  });
  EXPECT_GT(found, 0u);
  EXPECT_GT(round, 0);
}

TEST_F(CachedWalkTest, StatsWhileAMountComesAndGoes) {
  ASSERT_EQ(vfs::mkdir("/mnt", 0755), 0);
  Create("/mnt/f", 2);  // Covered while the mount is there.
  int round = 0;
  const uint64_t found = StatWhileChanging({"/mnt/f"}, {1, 2}, [&] {
    ASSERT_EQ(vfs::mount("/mnt", vfs::MemFs::Create(platform_)), 0);
    Create("/mnt/f", 1);
    // A cached walk holds no reference on the mount (the unmount waits for
    // it instead); one walking again with references, or a stat's result,
    // holds it for a moment (EBUSY).
    int unmounted;
    while ((unmounted = vfs::umount("/mnt")) == -EBUSY) {
    }
    ASSERT_EQ(unmounted, 0);
    ++round;
  });
  EXPECT_GT(found, 0u);
  EXPECT_GT(round, 0);
}

class CachedShareWalkTest : public ShareTest {};

TEST_F(CachedShareWalkTest, StatsWhileTheNameCacheEvictsAtEveryLookup) {
  ASSERT_EQ(::mkdir(share_.Path("d").c_str(), 0755), 0);
  std::vector<std::string> paths;
  for (const char* name : {"a", "b", "c", "e", "f"}) {
    std::ofstream(share_.Path("d/") + name) << "1";
    paths.push_back(std::string("/root/d/") + name);
  }
  // Room for fewer names than the walks use: most lookups evict a name, and
  // let go of its node, which another walk may be passing through.
  ASSERT_NO_FATAL_FAILURE(BootMachine(kCached, {.max_cached_entries = 3}));
  int round = 0;
  const uint64_t found = StatWhileChanging(paths, {1}, [&] {
    vfs::Stat st;
    EXPECT_EQ(vfs::stat(paths[round % paths.size()].c_str(), &st), 0);
    ++round;
  });
  EXPECT_GT(found, 0u);
  // Names looked up again, once evicted.
  EXPECT_GT(Requests(FUSE_LOOKUP), 2 * paths.size());
}

TEST_F(CachedShareWalkTest, ALookupAnsweredBeforeARenameIsNotCachedAfterIt) {
  ASSERT_EQ(::mkdir(share_.Path("d").c_str(), 0755), 0);
  ASSERT_NO_FATAL_FAILURE(BootMachine(kCached));
  int round = 0;
  StatWhileChanging(
      {"/root/d/f", "/root/d/g"}, {2},
      [&] {
        int fd = vfs::open("/root/d/f", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(vfs::write(fd, "22", 2), 2);
        ASSERT_EQ(vfs::close(fd), 0);
        // A stale entry would have led the create to the file now called g.
        ASSERT_EQ(::access(share_.Path("d/f").c_str(), F_OK), 0)
            << "round " << round;
        ASSERT_EQ(vfs::rename("/root/d/f", "/root/d/g"), 0);
        if (round % 2) ASSERT_EQ(vfs::unlink("/root/d/g"), 0);
        ++round;
      },
      1000ms);
  EXPECT_GT(round, 0);
}

}  // namespace
}  // namespace vfs_test
