#include "sim/guest_memory.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

namespace sim {
namespace {

constexpr uint64_t kBase = 0x4000'0000;
constexpr uint64_t kSize = 1 << 20;

TEST(GuestMemoryTest, CreateRejectsBadBases) {
  EXPECT_EQ(GuestMemory::Create(kSize, 0), nullptr);
  EXPECT_EQ(GuestMemory::Create(kSize, kBase + 1), nullptr);
  EXPECT_EQ(GuestMemory::Create(0, kBase), nullptr);
  // The bus range would wrap past 2^64.
  EXPECT_EQ(GuestMemory::Create(kSize, UINT64_MAX - 4095), nullptr);
}

TEST(GuestMemoryTest, SizeRoundsUpToPagesAndIsZeroed) {
  auto memory = GuestMemory::Create(5000, kBase);
  ASSERT_NE(memory, nullptr);
  EXPECT_EQ(memory->base(), kBase);
  EXPECT_EQ(memory->size(), 8192u);
  EXPECT_EQ(memory->end(), kBase + 8192);
  EXPECT_GE(memory->fd(), 0);
  uint8_t* host = memory->HostPointer(kBase, 8192);
  ASSERT_NE(host, nullptr);
  for (int i = 0; i < 8192; ++i) ASSERT_EQ(host[i], 0) << i;
}

TEST(GuestMemoryTest, TranslatesBothWays) {
  auto memory = GuestMemory::Create(kSize, kBase);
  ASSERT_NE(memory, nullptr);
  uint8_t* first = memory->HostPointer(kBase, 1);
  uint8_t* middle = memory->HostPointer(kBase + 0x1234, 16);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(middle, first + 0x1234);
  EXPECT_EQ(memory->BusAddressOf(middle, 16), kBase + 0x1234);
  EXPECT_EQ(memory->BusAddressOf(first + kSize - 1, 1), kBase + kSize - 1);
  // A bus address is not a host pointer and the reverse.
  EXPECT_NE(reinterpret_cast<uint64_t>(first), kBase);
  int on_stack = 0;
  EXPECT_FALSE(memory->BusAddressOf(&on_stack, sizeof(on_stack)).has_value());
  EXPECT_FALSE(memory->BusAddressOf(first + kSize - 1, 2).has_value());
  EXPECT_FALSE(memory->BusAddressOf(first - 1, 1).has_value());
}

TEST(GuestMemoryTest, BoundsAreExact) {
  auto memory = GuestMemory::Create(kSize, kBase);
  ASSERT_NE(memory, nullptr);
  EXPECT_TRUE(memory->Contains(kBase, kSize));
  EXPECT_TRUE(memory->Contains(kBase + kSize - 1, 1));
  EXPECT_TRUE(memory->Contains(kBase + kSize, 0));  // Empty range at the end.
  EXPECT_FALSE(memory->Contains(kBase + kSize, 1));
  EXPECT_FALSE(memory->Contains(kBase - 1, 1));
  EXPECT_FALSE(memory->Contains(kBase - 1, 2));  // Straddles the start.
  EXPECT_FALSE(memory->Contains(kBase, kSize + 1));
  EXPECT_FALSE(memory->Contains(0, 16));
  EXPECT_EQ(memory->HostPointer(kBase + kSize, 1), nullptr);
  EXPECT_EQ(memory->HostPointer(kBase - 16, 16), nullptr);
}

TEST(GuestMemoryTest, OverflowingRangesAreRejected) {
  auto memory = GuestMemory::Create(kSize, kBase);
  ASSERT_NE(memory, nullptr);
  // addr + len wraps around to inside the region: must not be accepted.
  EXPECT_FALSE(memory->Contains(kBase + 16, UINT64_MAX));
  EXPECT_FALSE(memory->Contains(kBase + 16, UINT64_MAX - 15));
  EXPECT_FALSE(memory->Contains(UINT64_MAX, 2));
  EXPECT_FALSE(memory->Contains(UINT64_MAX - 8, UINT64_MAX));
  EXPECT_EQ(memory->HostPointer(kBase + 1, UINT64_MAX), nullptr);
  uint8_t* first = memory->HostPointer(kBase, 1);
  EXPECT_FALSE(memory->BusAddressOf(first + 16, UINT64_MAX).has_value());
}

TEST(GuestMemoryTest, ReadAndWriteAreBoundsChecked) {
  auto memory = GuestMemory::Create(kSize, kBase);
  ASSERT_NE(memory, nullptr);
  const char text[] = "guest bytes";
  ASSERT_TRUE(memory->Write(kBase + 100, text, sizeof(text)));
  char back[sizeof(text)] = {};
  ASSERT_TRUE(memory->Read(kBase + 100, back, sizeof(back)));
  EXPECT_STREQ(back, text);
  char untouched[4] = {'x', 'x', 'x', 'x'};
  EXPECT_FALSE(memory->Read(kBase + kSize - 2, untouched, 4));
  EXPECT_EQ(untouched[0], 'x');
  EXPECT_FALSE(memory->Write(kBase + kSize - 2, text, 4));
  EXPECT_EQ(memory->HostPointer(kBase + kSize - 2, 2)[0], 0);
}

TEST(GuestMemoryTest, TwoRegionsAreIndependent) {
  auto a = GuestMemory::Create(kSize, kBase);
  auto b = GuestMemory::Create(kSize, 0x8000'0000);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_FALSE(a->Contains(b->base(), 1));
  uint8_t* in_b = b->HostPointer(b->base(), 1);
  EXPECT_FALSE(a->BusAddressOf(in_b, 1).has_value());
}

}  // namespace
}  // namespace sim
