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
// - Completion by interrupt, once the image routed the device's interrupt
//   (boot/device_interrupts.h) and turned it on (EnableInterruptWaits): a
//   waiter sleeps in WaitForInterrupt with `sti; hlt; cli`. Interrupts are on
//   only inside that sleep, so the device's handler never finds a lock held,
//   and an interrupt that arrives after the waiter's last look stays pending
//   until the sleep and ends it at once. The local APIC timer bounds each
//   sleep (kWaitBoundNanos, one-shot), as base::Platform asks: a lost
//   interrupt costs its waiter the bound, and the sleeps the timer ended are
//   counted apart (timer_wakeups) so that lost interrupts show.
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
  bool delivers_interrupts() const override { return delivers_interrupts_; }
  void WaitForInterrupt() override;

  // How long a sleep for an interrupt lasts at most (the simulation's bound).
  static constexpr uint64_t kWaitBoundNanos = 10'000'000;

  // Makes waiters sleep for interrupts, each sleep bounded by the local APIC
  // timer, which this measures against the TSC first (~1 ms). Called once the
  // device's interrupt is routed and the local APIC enabled, before a driver
  // starts (a driver asks delivers_interrupts() once, at its start).
  void EnableInterruptWaits();

  // Bytes of DMA memory handed out and not yet freed (for leak checks).
  size_t dma_bytes_in_use() const { return dma_bytes_in_use_; }
  // Times a waiter slept in WaitForInterrupt, and how many of those sleeps
  // the timer ended: an interrupt lost, or a device slower than the bound.
  uint64_t sleeps() const { return sleeps_; }
  uint64_t timer_wakeups() const { return timer_wakeups_; }
  uint32_t wait_bound_ticks() const { return wait_bound_ticks_; }

 private:
  const MemoryMap& ram_;
  TscClock& clock_;
  size_t dma_bytes_in_use_ = 0;
  bool delivers_interrupts_ = false;
  uint32_t wait_bound_ticks_ = 0;  // kWaitBoundNanos in local APIC timer ticks.
  uint64_t sleeps_ = 0;
  uint64_t timer_wakeups_ = 0;
};

}  // namespace boot

#endif  // BOOT_BARE_METAL_PLATFORM_H_
