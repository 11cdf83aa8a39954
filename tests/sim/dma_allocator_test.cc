#include "sim/dma_allocator.h"

#include <gtest/gtest.h>

#include <cstring>
#include <thread>
#include <vector>

namespace sim {
namespace {

class DmaAllocatorTest : public ::testing::Test {
 protected:
  std::unique_ptr<GuestMemory> memory_ = GuestMemory::Create(1 << 16);
};

TEST_F(DmaAllocatorTest, AllocatesAlignedZeroedBlocksInsideTheRange) {
  DmaAllocator allocator(*memory_, memory_->base() + 4096, 8192);
  auto a = allocator.Allocate(100, 64);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(*a % 64, 0u);
  EXPECT_GE(*a, memory_->base() + 4096);
  std::memset(memory_->HostPointer(*a, 100), 0xAB, 100);
  ASSERT_TRUE(allocator.Free(*a));
  auto b = allocator.Allocate(100, 64);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(*b, *a);  // First fit reuses the block...
  const uint8_t* bytes = memory_->HostPointer(*b, 100);
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(bytes[i], 0) << i;  // ...zeroed again.
  auto big = allocator.Allocate(4096, 4096);
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(*big % 4096, 0u);
  EXPECT_LE(*big + 4096, memory_->base() + 4096 + 8192);
}

TEST_F(DmaAllocatorTest, RejectsBadRequestsAndRunsOut) {
  DmaAllocator allocator(*memory_, memory_->base(), 4096);
  EXPECT_FALSE(allocator.Allocate(0, 8).has_value());
  EXPECT_FALSE(allocator.Allocate(16, 3).has_value());
  EXPECT_FALSE(allocator.Allocate(4097, 1).has_value());
  auto all = allocator.Allocate(4096, 0);
  ASSERT_TRUE(all.has_value());
  EXPECT_FALSE(allocator.Allocate(1, 1).has_value());
  EXPECT_EQ(allocator.bytes_free(), 0u);
}

TEST_F(DmaAllocatorTest, FreeCoalescesAndRejectsUnknownAddresses) {
  DmaAllocator allocator(*memory_, memory_->base(), 3 * 1024);
  auto a = allocator.Allocate(1024, 1);
  auto b = allocator.Allocate(1024, 1);
  auto c = allocator.Allocate(1024, 1);
  ASSERT_TRUE(a && b && c);
  EXPECT_FALSE(allocator.Free(*a + 1));
  EXPECT_TRUE(allocator.Free(*a));
  EXPECT_FALSE(allocator.Free(*a));  // Double free.
  EXPECT_TRUE(allocator.Free(*c));
  EXPECT_TRUE(allocator.Free(*b));
  EXPECT_EQ(allocator.live_allocations(), 0u);
  EXPECT_EQ(allocator.bytes_free(), 3u * 1024);
  // Only a coalesced free list can hold the whole range again in one block.
  EXPECT_TRUE(allocator.Allocate(3 * 1024, 1).has_value());
}

TEST_F(DmaAllocatorTest, IsThreadSafe) {
  DmaAllocator allocator(*memory_);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&allocator] {
      for (int i = 0; i < 500; ++i) {
        auto block = allocator.Allocate(64 + i % 7, 16);
        ASSERT_TRUE(block.has_value());
        ASSERT_TRUE(allocator.Free(*block));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(allocator.live_allocations(), 0u);
  EXPECT_EQ(allocator.bytes_free(), memory_->size());
}

}  // namespace
}  // namespace sim
