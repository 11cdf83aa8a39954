#include "sim/sim_platform.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace sim {
namespace {

TEST(SimPlatformTest, DmaComesFromGuestMemory) {
  auto memory = GuestMemory::Create(1 << 16);
  SimPlatform platform(*memory);
  base::Result<base::DmaRegion> region = platform.AllocateDma(300, 256);
  ASSERT_TRUE(region.ok());
  EXPECT_EQ(region.value().size, 300u);
  EXPECT_EQ(region.value().bus % 256, 0u);
  EXPECT_EQ(region.value().cpu, memory->HostPointer(region.value().bus, 300));
  platform.FreeDma(region.value());
  EXPECT_EQ(platform.dma_in_use(), 0u);
}

TEST(SimPlatformTest, GuestBuffersMapInPlace) {
  auto memory = GuestMemory::Create(1 << 16);
  SimPlatform platform(*memory);
  base::DmaRegion region = platform.AllocateDma(300, 8).value();
  auto* inside = static_cast<uint8_t*>(region.cpu) + 10;
  base::Result<base::DmaMapping> mapping =
      platform.MapDma(inside, 20, base::DmaDirection::kFromDevice);
  ASSERT_TRUE(mapping.ok());
  EXPECT_EQ(mapping.value().bus, region.bus + 10);
  EXPECT_EQ(mapping.value().bounce, nullptr);
  EXPECT_EQ(platform.dma_in_use(), 1u);  // No bounce buffer taken.
  platform.UnmapDma(mapping.value(), 20);
  platform.FreeDma(region);
  EXPECT_EQ(platform.dma_in_use(), 0u);
}

TEST(SimPlatformTest, OtherBuffersBounceBothWays) {
  auto memory = GuestMemory::Create(1 << 16);
  SimPlatform platform(*memory);
  std::string out = "to the device";
  base::DmaMapping to =
      platform.MapDma(out.data(), out.size(), base::DmaDirection::kToDevice)
          .value();
  ASSERT_NE(to.bounce, nullptr);
  EXPECT_EQ(to.bounce, memory->HostPointer(to.bus, out.size()));
  EXPECT_EQ(std::string(static_cast<char*>(to.bounce), out.size()), out);
  platform.UnmapDma(to, 0);

  // The device writes 4 of 8 bytes: only those reach the caller, and the
  // bounce buffer showed the device zeros, not the previous transfer's bytes.
  char in[8] = {'k', 'e', 'e', 'p', 'k', 'e', 'e', 'p'};
  base::DmaMapping from =
      platform.MapDma(in, sizeof(in), base::DmaDirection::kFromDevice).value();
  ASSERT_NE(from.bounce, nullptr);
  EXPECT_EQ(std::string(static_cast<char*>(from.bounce), 8),
            std::string(8, '\0'));
  memcpy(from.bounce, "NEWX", 4);
  platform.UnmapDma(from, 4);
  EXPECT_EQ(std::string(in, 8), "NEWXkeep");
  EXPECT_EQ(platform.dma_in_use(), 0u);
  EXPECT_EQ(platform.MapDma(in, 0, base::DmaDirection::kToDevice).error(),
            EINVAL);
}

TEST(SimPlatformTest, FreedMemoryIsReusedWithoutTheAllocator) {
  auto memory = GuestMemory::Create(1 << 16);
  SimPlatform platform(*memory);
  base::DmaRegion first = platform.AllocateDma(1000, 64).value();
  platform.FreeDma(first);
  base::DmaRegion second = platform.AllocateDma(900, 64).value();
  EXPECT_EQ(second.bus, first.bus);  // The same 1 KiB block, kept.
  EXPECT_EQ(second.bus % 64, 0u);
  platform.FreeDma(second);
}

TEST(SimPlatformTest, AllocationFailureIsEnomem) {
  auto memory = GuestMemory::Create(1 << 16);
  SimPlatform platform(*memory);
  base::Result<base::DmaRegion> region = platform.AllocateDma(1 << 20, 8);
  ASSERT_FALSE(region.ok());
  EXPECT_EQ(region.error(), ENOMEM);
}

TEST(SimPlatformTest, ClockLogAndLock) {
  auto memory = GuestMemory::Create(1 << 16);
  std::vector<std::string> lines;
  SimPlatform platform(*memory, [&](base::LogLevel level, const char* message) {
    lines.push_back(std::to_string(static_cast<int>(level)) + ":" + message);
  });
  uint64_t before = platform.MonotonicNanos();
  platform.Relax();
  EXPECT_GE(platform.MonotonicNanos(), before);
  platform.Log(base::LogLevel::kWarning, "hello");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "2:hello");
  std::unique_ptr<base::Lock> lock = platform.CreateLock();
  { base::LockGuard guard(*lock); }
  lock->Acquire();
  lock->Release();
}

// The cache clock is the monotonic clock, a tick behind at most: never ahead
// of it (a deadline set with it and checked with the other would outlive its
// timeout), and moving with it.
TEST(SimPlatformTest, CoarseClockFollowsTheMonotonicClock) {
  auto memory = GuestMemory::Create(1 << 16);
  SimPlatform platform(*memory);
  const uint64_t coarse = platform.CoarseMonotonicNanos();
  const uint64_t fine = platform.MonotonicNanos();
  EXPECT_LE(coarse, fine);
  EXPECT_LT(fine - coarse, 100'000'000u);  // A tick is 1-10 ms.
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_GE(platform.CoarseMonotonicNanos(), fine + 10'000'000u);
}

TEST(SimPlatformTest, EachLockHasACacheLineOfItsOwn) {
  auto memory = GuestMemory::Create(1 << 20);
  SimPlatform platform(*memory);
  // Between other small allocations, as in a process that has run for a
  // while: the heap alone would place some locks side by side.
  std::vector<std::unique_ptr<base::Lock>> locks;
  std::vector<std::unique_ptr<char[]>> others;
  for (int i = 0; i < 4; ++i) {
    locks.push_back(platform.CreateLock());
    others.push_back(std::make_unique<char[]>(24));
  }
  for (const std::unique_ptr<base::Lock>& lock : locks) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(lock.get()) % 64, 0u);
  }
}

}  // namespace
}  // namespace sim
