#include "sim/sim_platform.h"

#include <gtest/gtest.h>

#include <string>
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
  uint64_t bus = 0;
  EXPECT_TRUE(platform.BusAddressOf(
      static_cast<uint8_t*>(region.value().cpu) + 10, 20, &bus));
  EXPECT_EQ(bus, region.value().bus + 10);
  int outside = 0;
  EXPECT_FALSE(platform.BusAddressOf(&outside, sizeof(outside), &bus));
  platform.FreeDma(region.value());
  EXPECT_EQ(platform.allocator().live_allocations(), 0u);
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

}  // namespace
}  // namespace sim
