#include "sim/handle_shards.h"

#include <barrier>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sim/handle_table.h"

namespace sim {
namespace {

using Handles = HandleShards<int>;
using Table = HandleTable<int>;

uint32_t ShardOf(uint64_t handle) {
  return Table::IndexOf(handle) & (Handles::kShards - 1);
}

TEST(HandleTableTest, AShardHandsOutItsOwnIndicesAndRefusesOthers) {
  Table shard(/*reserved=*/0, /*shard_bits=*/4, /*shard=*/5);
  const uint64_t first = shard.Insert(std::make_shared<int>(1));
  const uint64_t second = shard.Insert(std::make_shared<int>(2));
  EXPECT_EQ(Table::IndexOf(first), (1u << 4) | 5);
  EXPECT_EQ(Table::IndexOf(second), (2u << 4) | 5);
  std::shared_ptr<int> out;
  ASSERT_EQ(shard.Get(second, &out), 0);
  EXPECT_EQ(*out, 2);
  // The same slot seen from another shard's index, and the index 5 of the
  // slot 0 that is never used, were never handed out.
  EXPECT_EQ(shard.Get(Table::Pack((1u << 4) | 6, 1), &out), EINVAL);
  EXPECT_EQ(shard.Get(Table::Pack(5, 1), &out), EINVAL);
  EXPECT_EQ(shard.Get(first + (1ull << 32), &out), ESTALE);
  std::vector<uint64_t> seen;
  shard.ForEach(
      [&](uint64_t h, const std::shared_ptr<int>&) { seen.push_back(h); });
  EXPECT_EQ(seen, (std::vector<uint64_t>{first, second}));
  ASSERT_NE(shard.Remove(first), nullptr);
  EXPECT_EQ(shard.Get(first, &out), ESTALE);
}

TEST(HandleShardsTest, EachThreadAddsToItsOwnShard) {
  Handles handles;
  constexpr int kThreads = 4;
  std::vector<uint64_t> made(kThreads);
  // Alive at once: a thread that exited gives its slot, and so its shard, to
  // the next.
  std::barrier all_added(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&handles, &made, &all_added, t] {
      made[t] = handles.Insert(std::make_shared<int>(t));
      // A thread's next object goes where its first went.
      const uint64_t again = handles.Insert(std::make_shared<int>(t));
      EXPECT_EQ(ShardOf(again), ShardOf(made[t]));
      all_added.arrive_and_wait();
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::set<uint32_t> shards;
  for (int t = 0; t < kThreads; ++t) {
    shards.insert(ShardOf(made[t]));
    std::shared_ptr<int> out;
    ASSERT_EQ(handles.Get(made[t], &out), 0);
    EXPECT_EQ(*out, t);
  }
  EXPECT_EQ(shards.size(), static_cast<size_t>(kThreads));
  EXPECT_EQ(handles.size(), 2u * kThreads);
}

TEST(HandleShardsTest, ChecksAnyHandleAndRemovesAll) {
  Handles handles;
  const uint64_t h = handles.Insert(std::make_shared<int>(7));
  std::shared_ptr<int> out;
  EXPECT_EQ(handles.Get(0, &out), EINVAL);
  EXPECT_EQ(handles.Get(Table::Pack(12345, 1), &out), EINVAL);
  EXPECT_EQ(handles.Get(h + (1ull << 32), &out), ESTALE);
  EXPECT_EQ(handles.Remove(h + (1ull << 32)), nullptr);
  const uint64_t other = handles.Insert(std::make_shared<int>(8));
  std::vector<std::shared_ptr<int>> removed = handles.RemoveAll();
  EXPECT_EQ(removed.size(), 2u);
  EXPECT_EQ(handles.size(), 0u);
  EXPECT_EQ(handles.Get(h, &out), ESTALE);
  EXPECT_EQ(handles.Get(other, &out), ESTALE);
}

}  // namespace
}  // namespace sim
