// base::Platform for the simulation: DMA memory from guest memory (a DmaPool),
// streaming mappings that bounce whatever lies outside guest memory, host
// clock, a log sink, std::mutex locks.
#ifndef SIM_SIM_PLATFORM_H_
#define SIM_SIM_PLATFORM_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "base/platform.h"
#include "sim/cpu_sharing.h"
#include "sim/dma_allocator.h"
#include "sim/dma_pool.h"
#include "sim/guest_memory.h"

namespace sim {

class SimPlatform : public base::Platform {
 public:
  using LogSink = std::function<void(base::LogLevel, const char*)>;

  // DMA allocations come from all of `memory`. Logs go to `sink`, or to stderr
  // when empty.
  explicit SimPlatform(const GuestMemory& memory, LogSink sink = {});

  base::Result<base::DmaRegion> AllocateDma(size_t size,
                                            size_t alignment) override;
  void FreeDma(const base::DmaRegion& region) override;
  // A buffer in guest memory is mapped where it is (a guest's own buffers
  // are); any other goes through a bounce buffer from the pool.
  base::Result<base::DmaMapping> MapDma(void* buffer, size_t size,
                                        base::DmaDirection direction) override;
  void UnmapDma(const base::DmaMapping& mapping, size_t device_wrote) override;
  uint64_t MonotonicNanos() override;
  uint64_t CoarseMonotonicNanos() override;
  void Log(base::LogLevel level, const char* message) override;
  std::unique_ptr<base::Lock> CreateLock() override;
  // Both yield as a waiter (cpu_sharing.h); Spin only when a polling device
  // thread shares the caller's CPU or busy threads outnumber the CPUs, and
  // there only when the device helper (if set) finds nothing to process and
  // no other waiter on another CPU processing a queue.
  void Relax() override;
  void Spin(uint16_t queue) override;
  // A polling waiter counts among the busy threads (SetWaiterPolling).
  void PollingWaitBegins() override { SetWaiterPolling(true); }
  void PollingWaitEnds() override { SetWaiterPolling(false); }
  // NotifyMode::kThread: what a waiting turn does where it would give its CPU
  // to a device thread (VirtioDeviceModel::ProcessForWaiter), given the queue
  // Spin was for: the device's work on the waiter's CPU, which saves both
  // threads a switch.
  void set_device_helper(std::function<WaiterHelp(uint16_t queue)> helper) {
    device_helper_ = std::move(helper);
  }
  uint32_t CurrentCpu() const override;

  // Completion by interrupt (MachineOptions::completion): when on, a waiter
  // that asked for an interrupt sleeps in WaitForInterrupt until the device
  // model has delivered one (InterruptDelivered, called after each interrupt
  // handler). An interrupt delivered since the calling thread last returned
  // from WaitForInterrupt ends the wait at once, as a pending interrupt ends a
  // CPU's HLT: none is lost between the waiter's last look and its sleep. The
  // sleep ends after kInterruptWaitBound without one.
  static constexpr std::chrono::milliseconds kInterruptWaitBound{10};
  void set_delivers_interrupts(bool on) { delivers_interrupts_ = on; }
  bool delivers_interrupts() const override { return delivers_interrupts_; }
  void WaitForInterrupt() override;
  void InterruptDelivered();

  const GuestMemory& memory() const { return memory_; }
  // DMA allocations and bounce buffers handed out and not given back: back to
  // its earlier value when nothing leaked.
  size_t dma_in_use() const { return pool_.in_use(); }

 private:
  const GuestMemory& memory_;
  DmaAllocator allocator_;
  DmaPool pool_;
  LogSink sink_;
  bool delivers_interrupts_ = false;
  std::function<WaiterHelp(uint16_t queue)> device_helper_;
  std::mutex interrupt_mutex_;
  std::condition_variable interrupt_delivered_;
  uint64_t interrupts_ = 0;  // Delivered so far; under interrupt_mutex_.
};

}  // namespace sim

#endif  // SIM_SIM_PLATFORM_H_
