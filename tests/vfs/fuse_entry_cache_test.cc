// vfs::EntryCache: validity, replacement, least-recently-used eviction within
// its bound, and per-directory removal, with the references it lets go of
// handed back to the caller.
#include "vfs/fuse_entry_cache.h"

#include <gtest/gtest.h>

#include "tests/vfs/host_platform.h"
#include "vfs/node.h"

namespace vfs_test {
namespace {

using vfs::DroppedNodes;
using vfs::EntryCache;
using vfs::RefPtr;

// A node that counts how many of its kind are alive.
class CountedNode : public vfs::Node {
 public:
  explicit CountedNode(int* alive) : Node(vfs::kTypeRegular), alive_(alive) {
    ++*alive_;
  }
  ~CountedNode() override { --*alive_; }
  vfs::Result<vfs::Stat> GetAttr() override { return vfs::Stat{}; }

 private:
  int* alive_;
};

class EntryCacheTest : public ::testing::Test {
 protected:
  RefPtr<vfs::Node> NewNode() { return vfs::MakeRef<CountedNode>(&alive_); }

  HostPlatform platform_;
  int alive_ = 0;
};

TEST_F(EntryCacheTest, AnswersOnlyWhileValid) {
  EntryCache cache(platform_, 8);
  EntryCache::Children dir;
  DroppedNodes dropped;
  RefPtr<vfs::Node> node = NewNode();
  cache.Insert(dir, "a", node, /*valid_until=*/100, dropped);
  EXPECT_TRUE(dropped.empty());
  EXPECT_EQ(cache.FindValid(dir, "a", 99).get(), node.get());
  EXPECT_EQ(cache.FindValid(dir, "a", 100), nullptr);  // Expired.
  EXPECT_EQ(cache.FindValid(dir, "b", 0), nullptr);
  EntryCache::Children other;
  EXPECT_EQ(cache.FindValid(other, "a", 0), nullptr);  // Per directory.
  // Still there for removal when expired: it names the node.
  EXPECT_EQ(cache.Remove(dir, "a", dropped), node.get());
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(dropped.size(), 1u);
  EXPECT_EQ(cache.Remove(dir, "a", dropped), nullptr);
}

TEST_F(EntryCacheTest, InsertReplacesAndHandsBackTheOldNode) {
  EntryCache cache(platform_, 8);
  EntryCache::Children dir;
  DroppedNodes dropped;
  cache.Insert(dir, "a", NewNode(), 100, dropped);
  RefPtr<vfs::Node> second = NewNode();
  cache.Insert(dir, "a", second, 100, dropped);
  EXPECT_EQ(cache.size(), 1u);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(alive_, 2);  // The old node lives until `dropped` lets it go.
  dropped.clear();
  EXPECT_EQ(alive_, 1);
  EXPECT_EQ(cache.FindValid(dir, "a", 0).get(), second.get());
}

TEST_F(EntryCacheTest, EvictsTheLeastRecentlyUsedBeyondItsBound) {
  EntryCache cache(platform_, 3);
  EntryCache::Children dir;
  DroppedNodes dropped;
  cache.Insert(dir, "a", NewNode(), 100, dropped);
  cache.Insert(dir, "b", NewNode(), 100, dropped);
  cache.Insert(dir, "c", NewNode(), 100, dropped);
  ASSERT_NE(cache.FindValid(dir, "a", 0), nullptr);  // "b" is now the oldest.
  cache.Insert(dir, "d", NewNode(), 100, dropped);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(dropped.size(), 1u);
  EXPECT_EQ(cache.FindValid(dir, "b", 0), nullptr);
  EXPECT_NE(cache.FindValid(dir, "a", 0), nullptr);
  EXPECT_NE(cache.FindValid(dir, "c", 0), nullptr);
  EXPECT_NE(cache.FindValid(dir, "d", 0), nullptr);
  dropped.clear();
  EXPECT_EQ(alive_, 3);
  cache.Clear(dropped);
  dropped.clear();
  EXPECT_EQ(alive_, 0);
}

TEST_F(EntryCacheTest, RemovesOneDirectorysEntries) {
  EntryCache cache(platform_, 100);
  EntryCache::Children one, two;
  DroppedNodes dropped;
  for (int i = 0; i < 20; ++i) {
    cache.Insert(one, std::to_string(i), NewNode(), 100, dropped);
    cache.Insert(two, std::to_string(i), NewNode(), 100, dropped);
  }
  EXPECT_EQ(cache.size(), 40u);
  cache.RemoveChildren(one, dropped);
  EXPECT_EQ(dropped.size(), 20u);
  EXPECT_EQ(cache.size(), 20u);
  EXPECT_EQ(cache.FindValid(one, "3", 0), nullptr);
  EXPECT_NE(cache.FindValid(two, "3", 0), nullptr);
  dropped.clear();
  EXPECT_EQ(alive_, 20);
  cache.RemoveChildren(two, dropped);
  dropped.clear();
  EXPECT_EQ(alive_, 0);
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace vfs_test
