// vfs::EntryCache: validity, replacement (none for the same node),
// least-recently-used eviction within its bound, and per-directory removal,
// with the references it lets go of handed back to the caller.
#include "vfs/fuse_entry_cache.h"

#include <gtest/gtest.h>

#include "tests/vfs/host_platform.h"
#include "vfs/node.h"

namespace vfs_test {
namespace {

using vfs::DroppedNodes;
using vfs::EntryCache;
using vfs::RefPtr;

// The node a valid positive entry names, null otherwise.
RefPtr<vfs::Node> FoundNode(EntryCache& cache, const EntryCache::Children& dir,
                            std::string_view name, uint64_t now) {
  EntryCache::Answer answer = cache.Find(dir, name, now);
  return answer.kind == EntryCache::Answer::Kind::kPresent ? answer.node
                                                           : nullptr;
}

// A node that counts how many of its kind are alive.
class CountedNode : public vfs::Node {
 public:
  explicit CountedNode(int* alive) : Node(base::kTypeRegular), alive_(alive) {
    ++*alive_;
  }
  ~CountedNode() override { --*alive_; }
  vfs::Result<vfs::Stat> GetAttr() override { return vfs::Stat{}; }

 private:
  int* alive_;
};

using Kind = EntryCache::Answer::Kind;

class EntryCacheTest : public ::testing::Test {
 protected:
  RefPtr<vfs::Node> NewNode() { return vfs::MakeRef<CountedNode>(&alive_); }

  HostPlatform platform_;
  int alive_ = 0;
};

TEST_F(EntryCacheTest, AnswersOnlyWhileValid) {
  EntryCache cache(platform_, 8);
  EntryCache::Children dir;
  DroppedNodes dropped(platform_);
  RefPtr<vfs::Node> node = NewNode();
  cache.Insert(dir, "a", node, /*now=*/0, /*valid_ns=*/100, dropped);
  EXPECT_TRUE(dropped.empty());
  EXPECT_EQ(FoundNode(cache, dir, "a", 99).get(), node.get());
  EXPECT_EQ(FoundNode(cache, dir, "a", 100), nullptr);  // Expired.
  EXPECT_EQ(FoundNode(cache, dir, "b", 0), nullptr);
  EntryCache::Children other;
  EXPECT_EQ(FoundNode(cache, other, "a", 0), nullptr);  // Per directory.
  // Still there for removal when expired: it names the node.
  EXPECT_EQ(cache.Remove(dir, "a", dropped), node.get());
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(dropped.size(), 1u);
  EXPECT_EQ(cache.Remove(dir, "a", dropped), nullptr);
}

TEST_F(EntryCacheTest, InsertReplacesAndHandsBackTheOldNode) {
  EntryCache cache(platform_, 8);
  EntryCache::Children dir;
  DroppedNodes dropped(platform_);
  cache.Insert(dir, "a", NewNode(), 0, 100, dropped);
  RefPtr<vfs::Node> second = NewNode();
  cache.Insert(dir, "a", second, 0, 100, dropped);
  EXPECT_EQ(cache.size(), 1u);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(alive_, 2);  // The old node lives until `dropped` lets it go.
  dropped.clear();
  EXPECT_EQ(alive_, 1);
  EXPECT_EQ(FoundNode(cache, dir, "a", 0).get(), second.get());
  // The same node again (a listing renewing the name) drops nothing: no
  // node to wait for the walks with.
  cache.Insert(dir, "a", second, 0, 200, dropped);
  EXPECT_TRUE(dropped.empty());
  EXPECT_EQ(FoundNode(cache, dir, "a", 150).get(), second.get());
  second.reset();
  EXPECT_EQ(alive_, 1);  // The entry's reference.
}

TEST_F(EntryCacheTest, EvictsTheLeastRecentlyUsedBeyondItsBound) {
  EntryCache cache(platform_, 3);
  EntryCache::Children dir;
  DroppedNodes dropped(platform_);
  cache.Insert(dir, "a", NewNode(), 0, 100, dropped);
  cache.Insert(dir, "b", NewNode(), 0, 100, dropped);
  cache.Insert(dir, "c", NewNode(), 0, 100, dropped);
  ASSERT_NE(FoundNode(cache, dir, "a", 0), nullptr);  // "b" is now the oldest.
  cache.Insert(dir, "d", NewNode(), 0, 100, dropped);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(dropped.size(), 1u);
  EXPECT_EQ(FoundNode(cache, dir, "b", 0), nullptr);
  EXPECT_NE(FoundNode(cache, dir, "a", 0), nullptr);
  EXPECT_NE(FoundNode(cache, dir, "c", 0), nullptr);
  EXPECT_NE(FoundNode(cache, dir, "d", 0), nullptr);
  dropped.clear();
  EXPECT_EQ(alive_, 3);
  cache.Clear(dropped);
  dropped.clear();
  EXPECT_EQ(alive_, 0);
}

// A hit only marks its entry; eviction then gives it one more round at the
// young end, so the order of what goes is still least recently used first,
// however many hits an entry had.
TEST_F(EntryCacheTest, AHitKeepsItsEntryOneRoundMore) {
  EntryCache cache(platform_, 3);
  EntryCache::Children dir;
  DroppedNodes dropped(platform_);
  for (const char* name : {"a", "b", "c"}) {
    cache.Insert(dir, name, NewNode(), 0, 100, dropped);
  }
  for (int i = 0; i < 3; ++i) ASSERT_NE(FoundNode(cache, dir, "a", 0), nullptr);
  ASSERT_NE(FoundNode(cache, dir, "c", 0), nullptr);
  // Oldest first: b (never used), then a and c by their last use.
  cache.Insert(dir, "d", NewNode(), 0, 100, dropped);
  EXPECT_EQ(cache.Find(dir, "b", 0).kind, Kind::kUnknown);
  cache.Insert(dir, "e", NewNode(), 0, 100, dropped);
  EXPECT_EQ(cache.Find(dir, "a", 0).kind, Kind::kUnknown);
  EXPECT_NE(FoundNode(cache, dir, "c", 0), nullptr);
  cache.Insert(dir, "f", NewNode(), 0, 100, dropped);
  EXPECT_EQ(cache.Find(dir, "d", 0).kind, Kind::kUnknown);
  EXPECT_NE(FoundNode(cache, dir, "c", 0), nullptr);
  EXPECT_NE(FoundNode(cache, dir, "e", 0), nullptr);
  EXPECT_NE(FoundNode(cache, dir, "f", 0), nullptr);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(dropped.size(), 3u);
  dropped.clear();
  cache.Clear(dropped);
  dropped.clear();
  EXPECT_EQ(alive_, 0);
}

TEST_F(EntryCacheTest, AReplacedOrRemovedNameIsTheMostRecentlyUsed) {
  EntryCache cache(platform_, 3);
  EntryCache::Children dir;
  DroppedNodes dropped(platform_);
  RefPtr<vfs::Node> a = NewNode();
  cache.Insert(dir, "a", a, 0, 100, dropped);
  cache.Insert(dir, "b", NewNode(), 0, 100, dropped);
  cache.Insert(dir, "c", NewNode(), 0, 100, dropped);
  // "a" is replaced and "b" made absent in place: "c" is now the oldest.
  cache.Insert(dir, "a", NewNode(), 0, 100, dropped);
  cache.RemoveAsAbsent(dir, "b", FoundNode(cache, dir, "b", 0).get(), 0,
                       dropped);
  EXPECT_EQ(dropped.size(), 2u);
  cache.Insert(dir, "d", NewNode(), 0, 100, dropped);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(dropped.size(), 3u);  // "c", evicted, after "a" and "b".
  EXPECT_EQ(cache.Find(dir, "c", 0).kind, Kind::kUnknown);
  EXPECT_EQ(cache.Find(dir, "b", 0).kind, Kind::kAbsent);
  EXPECT_NE(FoundNode(cache, dir, "a", 0).get(), a.get());
  EXPECT_NE(FoundNode(cache, dir, "d", 0), nullptr);
  a.reset();
  EXPECT_EQ(alive_, 5);  // Three let go of but held by `dropped`, two cached.
  dropped.clear();
  EXPECT_TRUE(dropped.empty());
  EXPECT_EQ(alive_, 2);
  cache.Clear(dropped);
  dropped.clear();
  EXPECT_EQ(alive_, 0);
}

TEST_F(EntryCacheTest, RemovesOneDirectorysEntries) {
  EntryCache cache(platform_, 100);
  EntryCache::Children one, two;
  DroppedNodes dropped(platform_);
  for (int i = 0; i < 20; ++i) {
    cache.Insert(one, std::to_string(i), NewNode(), 0, 100, dropped);
    cache.Insert(two, std::to_string(i), NewNode(), 0, 100, dropped);
  }
  EXPECT_EQ(cache.size(), 40u);
  cache.RemoveChildren(one, dropped);
  EXPECT_EQ(dropped.size(), 20u);
  EXPECT_EQ(cache.size(), 20u);
  EXPECT_EQ(FoundNode(cache, one, "3", 0), nullptr);
  EXPECT_NE(FoundNode(cache, two, "3", 0), nullptr);
  dropped.clear();
  EXPECT_EQ(alive_, 20);
  cache.RemoveChildren(two, dropped);
  dropped.clear();
  EXPECT_EQ(alive_, 0);
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(EntryCacheTest, ARemovedNameIsAbsentForTheValidityItHad) {
  EntryCache cache(platform_, 8);
  EntryCache::Children dir;
  DroppedNodes dropped(platform_);
  RefPtr<vfs::Node> node = NewNode();
  cache.Insert(dir, "a", node, /*now=*/0, /*valid_ns=*/100, dropped);
  EXPECT_EQ(cache.RemoveAsAbsent(dir, "a", node.get(), /*now=*/50, dropped),
            node.get());
  EXPECT_EQ(dropped.size(), 1u);  // The node is let go of.
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.Find(dir, "a", 149).kind, Kind::kAbsent);
  EXPECT_EQ(cache.Find(dir, "a", 150).kind, Kind::kUnknown);  // Expired.
  EXPECT_EQ(cache.Peek(dir, "a"), nullptr);
  // Creating the name replaces the negative entry.
  RefPtr<vfs::Node> again = NewNode();
  cache.Insert(dir, "a", again, /*now=*/60, /*valid_ns=*/100, dropped);
  EntryCache::Answer answer = cache.Find(dir, "a", 70);
  EXPECT_EQ(answer.kind, Kind::kPresent);
  EXPECT_EQ(answer.node.get(), again.get());
  EXPECT_EQ(cache.Peek(dir, "a").get(), again.get());
}

TEST_F(EntryCacheTest, NoNegativeEntryWithoutValidityOrForAnotherNode) {
  EntryCache cache(platform_, 8);
  EntryCache::Children dir;
  DroppedNodes dropped(platform_);
  // Zero validity (the device wants every lookup asked): nothing stays.
  RefPtr<vfs::Node> uncached = NewNode();
  cache.Insert(dir, "a", uncached, 0, /*valid_ns=*/0, dropped);
  EXPECT_EQ(cache.RemoveAsAbsent(dir, "a", uncached.get(), 0, dropped),
            uncached.get());
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Find(dir, "a", 0).kind, Kind::kUnknown);
  // The entry names another node than the one removed (the name was made
  // again meanwhile): it is only dropped.
  RefPtr<vfs::Node> removed = NewNode();
  RefPtr<vfs::Node> newer = NewNode();
  cache.Insert(dir, "b", newer, 0, 100, dropped);
  EXPECT_EQ(cache.RemoveAsAbsent(dir, "b", removed.get(), 0, dropped),
            newer.get());
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Find(dir, "b", 0).kind, Kind::kUnknown);
  // No entry: nothing to say.
  EXPECT_EQ(cache.RemoveAsAbsent(dir, "c", removed.get(), 0, dropped), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(EntryCacheTest, NegativeEntriesCountTowardTheBound) {
  EntryCache cache(platform_, 2);
  EntryCache::Children dir;
  DroppedNodes dropped(platform_);
  for (int i = 0; i < 10; ++i) {
    RefPtr<vfs::Node> node = NewNode();
    const std::string name = std::to_string(i);
    cache.Insert(dir, name, node, 0, 100, dropped);
    cache.RemoveAsAbsent(dir, name, node.get(), 0, dropped);
    EXPECT_LE(cache.size(), 2u);
  }
  EXPECT_EQ(cache.Find(dir, "9", 0).kind, Kind::kAbsent);
  EXPECT_EQ(cache.Find(dir, "0", 0).kind, Kind::kUnknown);  // Evicted.
  cache.RemoveChildren(dir, dropped);
  EXPECT_EQ(cache.size(), 0u);
  dropped.clear();
  EXPECT_EQ(alive_, 0);
}

}  // namespace
}  // namespace vfs_test
