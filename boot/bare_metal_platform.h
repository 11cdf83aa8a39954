// base::Platform on bare x86_64 under QEMU.
//
// - DMA memory is ordinary RAM from the kernel heap: the image identity-maps
//   RAM, so a buffer's CPU address is its bus address, and any RAM buffer of
//   the driver's callers (heap, stack, static data) is mapped for the device
//   where it is. Nothing is ever bounced; a buffer outside RAM is EFAULT.
// - Time is the TSC (boot/tsc_clock.h), calibrated against the PIT.
// - Log lines go to the serial console.
// - Locks are spinlocks. The image runs on one CPU with interrupts off, so a
//   lock is never contended; the spinlock is still a correct one.
#ifndef BOOT_BARE_METAL_PLATFORM_H_
#define BOOT_BARE_METAL_PLATFORM_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/platform.h"
#include "base/result.h"
#include "boot/memory_map.h"
#include "boot/tsc_clock.h"

namespace boot {

class SpinLock final : public base::Lock {
 public:
  void Acquire() override;
  void Release() override;

 private:
  std::atomic<bool> held_{false};
};

class BareMetalPlatform final : public base::Platform {
 public:
  // `ram` and `clock` must outlive the platform.
  BareMetalPlatform(const MemoryMap& ram, TscClock& clock)
      : ram_(ram), clock_(clock) {}

  base::Result<base::DmaRegion> AllocateDma(size_t size,
                                            size_t alignment) override;
  void FreeDma(const base::DmaRegion& region) override;
  base::Result<base::DmaMapping> MapDma(void* buffer, size_t size,
                                        base::DmaDirection direction) override;
  void UnmapDma(const base::DmaMapping& mapping, size_t device_wrote) override;
  uint64_t MonotonicNanos() override;
  void Log(base::LogLevel level, const char* message) override;
  std::unique_ptr<base::Lock> CreateLock() override;
  void Relax() override;

  // Bytes of DMA memory handed out and not yet freed (for leak checks).
  size_t dma_bytes_in_use() const { return dma_bytes_in_use_; }

 private:
  const MemoryMap& ram_;
  TscClock& clock_;
  size_t dma_bytes_in_use_ = 0;
};

}  // namespace boot

#endif  // BOOT_BARE_METAL_PLATFORM_H_
