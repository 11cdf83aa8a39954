// The platform interface: the only way driver/ and vfs/ reach the world outside them.
//
// A kernel provides it from its memory manager, bus code and clock; sim/ provides it over
// simulated guest memory and register models; boot/ provides it on bare x86_64 (port I/O
// for PCI configuration space, physical memory for DMA).
#ifndef BASE_PLATFORM_H_
#define BASE_PLATFORM_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/result.h"

namespace base {

// Memory the device can reach by bus address (DMA). `cpu` is where the driver reads and
// writes it; `bus` is what goes into descriptors and queue address registers.
struct DmaRegion {
  void* cpu = nullptr;
  uint64_t bus = 0;
  size_t size = 0;
};

// Register windows of one device.
enum class RegisterSpace : uint8_t {
  kPciConfig,  // PCI configuration space of the device's function.
  kPciBar0,    // kPciBar0 + n is BAR n.
  kPciBar1,
  kPciBar2,
  kPciBar3,
  kPciBar4,
  kPciBar5,
  kMmio,  // The virtio-mmio register block.
};

inline RegisterSpace PciBar(unsigned n) {
  return static_cast<RegisterSpace>(static_cast<unsigned>(RegisterSpace::kPciBar0) + n);
}

// Register access to one device. Widths are 1, 2 or 4 bytes; virtio never needs more.
class RegisterIo {
 public:
  using InterruptHandler = void (*)(void* context);

  virtual ~RegisterIo() = default;
  virtual uint32_t Read(RegisterSpace space, uint32_t offset, unsigned width) = 0;
  virtual void Write(RegisterSpace space, uint32_t offset, unsigned width,
                     uint32_t value) = 0;
  // Installs the handler the device's interrupt runs (nullptr removes it). It may run on
  // another thread than the driver's callers, concurrently with them.
  virtual void SetInterruptHandler(InterruptHandler handler, void* context) = 0;
};

class Lock {
 public:
  virtual ~Lock() = default;
  virtual void Acquire() = 0;
  virtual void Release() = 0;
};

class LockGuard {
 public:
  explicit LockGuard(Lock& lock) : lock_(lock) { lock_.Acquire(); }
  ~LockGuard() { lock_.Release(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  Lock& lock_;
};

enum class LogLevel : uint8_t { kDebug, kInfo, kWarning, kError };

class Platform {
 public:
  virtual ~Platform() = default;

  // Device-reachable memory, zero-filled. ENOMEM when none is left.
  virtual Result<DmaRegion> AllocateDma(size_t size, size_t alignment) = 0;
  virtual void FreeDma(const DmaRegion& region) = 0;
  // The bus address of [p, p + size) when the whole range is device-reachable and
  // contiguous on the bus (a guest's own buffers are): the driver then hands it to the
  // device directly instead of copying through a bounce buffer.
  virtual bool BusAddressOf(const void* p, size_t size, uint64_t* bus) = 0;

  virtual uint64_t MonotonicNanos() = 0;
  // One line, without the trailing newline.
  virtual void Log(LogLevel level, const char* message) = 0;
  virtual std::unique_ptr<Lock> CreateLock() = 0;
  // Called on each turn of a polling loop: a CPU pause, or a yield to other threads.
  virtual void Relax() = 0;
};

// Memory barriers for cache-coherent DMA, the virtio_{w,r,}mb() of the spec: the driver's
// writes to a descriptor must be visible before the index that publishes it, and the
// device's used element must be read only after the used index that announced it.
inline void WriteBarrier() { std::atomic_thread_fence(std::memory_order_release); }
inline void ReadBarrier() { std::atomic_thread_fence(std::memory_order_acquire); }
inline void FullBarrier() { std::atomic_thread_fence(std::memory_order_seq_cst); }

}  // namespace base

#endif  // BASE_PLATFORM_H_
