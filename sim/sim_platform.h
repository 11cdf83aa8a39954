// base::Platform for the simulation: DMA memory from guest memory, host
// clock, a log sink, std::mutex locks.
#ifndef SIM_SIM_PLATFORM_H_
#define SIM_SIM_PLATFORM_H_

#include <functional>
#include <memory>

#include "base/platform.h"
#include "sim/dma_allocator.h"
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
  bool BusAddressOf(const void* p, size_t size, uint64_t* bus) override;
  uint64_t MonotonicNanos() override;
  void Log(base::LogLevel level, const char* message) override;
  std::unique_ptr<base::Lock> CreateLock() override;
  void Relax() override;

  const GuestMemory& memory() const { return memory_; }
  DmaAllocator& allocator() { return allocator_; }

 private:
  const GuestMemory& memory_;
  DmaAllocator allocator_;
  LogSink sink_;
};

}  // namespace sim

#endif  // SIM_SIM_PLATFORM_H_
