#include "boot/bare_metal_platform.h"

#include <linux/errno.h>

#include <new>

#include "boot/apic.h"
#include "boot/interrupts.h"
#include "boot/serial_console.h"
#include "boot/x86.h"

namespace boot {
namespace {

// Each DMA allocation records, just before the aligned region, where its heap
// block starts and how large the region is.
struct DmaHeader {
  void* block;
  size_t size;
};

constexpr size_t kMaxDmaAlignment = size_t{1} << 21;

// std::nothrow itself lives in libstdc++, which the image does not link.
constexpr std::nothrow_t kNoThrow{};

const char* LevelName(base::LogLevel level) {
  switch (level) {
    case base::LogLevel::kDebug:
      return "debug";
    case base::LogLevel::kInfo:
      return "info";
    case base::LogLevel::kWarning:
      return "warning";
    case base::LogLevel::kError:
      return "error";
  }
  return "?";
}

}  // namespace

void SpinLock::Acquire() {
  while (held_.exchange(true, std::memory_order_acquire)) {
    while (held_.load(std::memory_order_relaxed)) Pause();
  }
}

void SpinLock::Release() { held_.store(false, std::memory_order_release); }

base::Result<base::DmaRegion> BareMetalPlatform::AllocateDma(size_t size,
                                                             size_t alignment) {
  if (alignment == 0) alignment = 1;
  if (size == 0 || (alignment & (alignment - 1)) != 0 ||
      alignment > kMaxDmaAlignment || size > (size_t{1} << 40)) {
    return base::Error{EINVAL};
  }
  // The runtime's nothrow new has no aligned form: over-allocate and align by
  // hand, so that running out is ENOMEM for the driver rather than a panic.
  const size_t total = size + alignment + sizeof(DmaHeader);
  auto* block = static_cast<unsigned char*>(::operator new(total, kNoThrow));
  if (block == nullptr) return base::Error{ENOMEM};
  const uintptr_t first =
      reinterpret_cast<uintptr_t>(block) + sizeof(DmaHeader);
  const uintptr_t aligned =
      (first + alignment - 1) & ~(uintptr_t{alignment} - 1);
  reinterpret_cast<DmaHeader*>(aligned)[-1] = DmaHeader{block, size};
  dma_bytes_in_use_ += size;
  return base::DmaRegion{reinterpret_cast<void*>(aligned), aligned, size};
}

void BareMetalPlatform::FreeDma(const base::DmaRegion& region) {
  if (region.cpu == nullptr) return;
  const DmaHeader header = static_cast<const DmaHeader*>(region.cpu)[-1];
  dma_bytes_in_use_ -= header.size;
  ::operator delete(header.block);
}

base::Result<base::DmaMapping> BareMetalPlatform::MapDma(
    void* buffer, size_t size, base::DmaDirection direction) {
  if (size == 0) return base::Error{EINVAL};
  const auto address = reinterpret_cast<uintptr_t>(buffer);
  if (!ram_.IsRam(address, size)) return base::Error{EFAULT};
  return base::DmaMapping{
      .bus = address, .buffer = buffer, .size = size, .direction = direction};
}

void BareMetalPlatform::UnmapDma(const base::DmaMapping&, size_t) {
  // Mapped in place: the device's bytes are already in the buffer.
}

uint64_t BareMetalPlatform::MonotonicNanos() { return clock_.Nanos(); }

void BareMetalPlatform::Log(base::LogLevel level, const char* message) {
  SerialPrintf("[%s] %s\n", LevelName(level), message);
}

std::unique_ptr<base::Lock> BareMetalPlatform::CreateLock() {
  return std::make_unique<SpinLock>();
}

void BareMetalPlatform::Relax() { Pause(); }

void BareMetalPlatform::EnableInterruptWaits() {
  // The timer's only job is to end a sleep: a no-op handler, so that it does
  // not count as unexpected.
  SetVectorHandler(
      kWaitTimerVector, [](void*) {}, nullptr);
  constexpr uint32_t kFullCount = 0xffffffff;
  constexpr uint64_t kMeasureNanos = 1'000'000;
  const uint64_t start = clock_.Nanos();
  StartLocalApicTimer(kWaitTimerVector, kFullCount);
  uint64_t elapsed = 0;
  while ((elapsed = clock_.Nanos() - start) < kMeasureNanos) Pause();
  const uint64_t ticks = kFullCount - LocalApicTimerCount();
  StopLocalApicTimer();
  uint64_t bound = ticks * kWaitBoundNanos / elapsed;  // < 2^32 * 2^24.
  if (bound == 0) bound = 1;
  wait_bound_ticks_ =
      bound > kFullCount ? kFullCount : static_cast<uint32_t>(bound);
  delivers_interrupts_ = true;
}

void BareMetalPlatform::WaitForInterrupt() {
  if (!delivers_interrupts_) {
    Pause();  // Nothing would end the sleep.
    return;
  }
  ++sleeps_;
  const uint64_t timer_before = InterruptsTaken(kWaitTimerVector);
  StartLocalApicTimer(kWaitTimerVector, wait_bound_ticks_);
  EnableInterruptsAndHalt();
  StopLocalApicTimer();
  if (InterruptsTaken(kWaitTimerVector) != timer_before) ++timer_wakeups_;
}

}  // namespace boot
