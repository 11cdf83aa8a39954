// The platform interface: the only way kernel code (driver/, vfs/) reaches the
// world outside it.
//
// A kernel provides it from its memory manager, bus code and clock; sim/
// provides it over simulated guest memory and register models; boot/ provides
// it on bare x86_64 (port I/O for PCI configuration space, physical memory for
// DMA).
#ifndef BASE_PLATFORM_H_
#define BASE_PLATFORM_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/result.h"

// Per-thread storage in kernel code: thread_local where the code runs hosted,
// on the simulation's threads; a plain variable in the freestanding image,
// which runs one CPU and sets up no thread-local storage.
#if __STDC_HOSTED__
#define KERNEL_THREAD_LOCAL thread_local
#else
#define KERNEL_THREAD_LOCAL
#endif

namespace base {

// Memory the device can reach by bus address. `cpu` is where the driver reads
// and writes it; `bus` is what goes into descriptors and queue address
// registers.
struct DmaRegion {
  void* cpu = nullptr;
  uint64_t bus = 0;
  size_t size = 0;
};

// Which way a mapped buffer's bytes travel (Linux's DMA_TO_DEVICE and
// DMA_FROM_DEVICE).
enum class DmaDirection : uint8_t {
  kToDevice,    // The device reads the buffer.
  kFromDevice,  // The device writes the buffer.
};

// A buffer of the caller's, made reachable by the device for one transfer.
// `bounce` is null when the device reaches the buffer where it is; otherwise
// the device reads or writes `bounce`, which the platform owns.
struct DmaMapping {
  uint64_t bus = 0;
  void* buffer = nullptr;
  void* bounce = nullptr;
  size_t size = 0;
  DmaDirection direction = DmaDirection::kToDevice;
};

// The virtio transports (spec 4.1 "Virtio Over PCI Bus", 4.2 "Virtio Over
// MMIO"): how a device's registers are laid out.
enum class TransportKind : uint8_t { kPci, kMmio };

// The virtqueue formats (spec 2.7 "Split Virtqueues", 2.8 "Packed
// Virtqueues"); packed is used when both sides offer VIRTIO_F_RING_PACKED.
enum class RingFormat : uint8_t { kSplit, kPacked };

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
  return static_cast<RegisterSpace>(
      static_cast<unsigned>(RegisterSpace::kPciBar0) + n);
}

// Register access to one device. Widths are 1, 2 or 4 bytes; virtio never
// needs more.
class RegisterIo {
 public:
  using InterruptHandler = void (*)(void* context);

  virtual ~RegisterIo() = default;
  virtual uint32_t Read(RegisterSpace space, uint32_t offset,
                        unsigned width) = 0;
  virtual void Write(RegisterSpace space, uint32_t offset, unsigned width,
                     uint32_t value) = 0;
  // Installs the handler the device's interrupt runs (nullptr removes it). It
  // may run on another thread than the driver's callers, concurrently with
  // them.
  virtual void SetInterruptHandler(InterruptHandler handler, void* context) = 0;

  // PCI with MSI-X: the entry of the function's MSI-X table the platform
  // routed to the installed handler for the device's configuration changes,
  // and for queue `queue`'s used buffers. kNoMsixVector (virtio's
  // VIRTIO_MSI_NO_VECTOR) when it routed none: no MSI-X, the device's
  // interrupt (if the platform takes it at all) is its INTx line. The PCI
  // transport writes them to msix_config and queue_msix_vector.
  static constexpr uint16_t kNoMsixVector = 0xffff;
  virtual uint16_t ConfigMsixVector() const { return kNoMsixVector; }
  virtual uint16_t QueueMsixVector(uint16_t /*queue*/) const {
    return kNoMsixVector;
  }
};

// Each lock has a cache line of its own: the locks of different queues are
// taken on different CPUs at once, and two allocated side by side would bounce
// one line between those CPUs (pread 4 KiB on 2 threads and 2 queues: 1.24 us
// per op against 0.67 us).
class alignas(64) Lock {
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

  // Kernel memory the device can reach where it is (a guest's RAM): rings,
  // request slots, buffers kernel code hands to the device. Its contents are
  // undefined (not zeroed): a caller that exposes it to the device before
  // writing all of it clears it first. ENOMEM when none is left.
  virtual Result<DmaRegion> AllocateDma(size_t size, size_t alignment) = 0;
  virtual void FreeDma(const DmaRegion& region) = 0;

  // Makes [buffer, buffer + size) reachable by the device for one transfer
  // (Linux's dma_map_single): in place when the device can reach it there,
  // otherwise through a bounce buffer the platform owns, into which a
  // kToDevice buffer is copied now. EINVAL for size 0, ENOMEM when no bounce
  // buffer is left.
  virtual Result<DmaMapping> MapDma(void* buffer, size_t size,
                                    DmaDirection direction) = 0;
  // Ends a mapping once the device no longer holds it. For kFromDevice, the
  // first `device_wrote` bytes (at most the mapping's size) reach the caller's
  // buffer; 0 when the caller no longer wants them.
  virtual void UnmapDma(const DmaMapping& mapping, size_t device_wrote) = 0;

  virtual uint64_t MonotonicNanos() = 0;
  // A monotonic clock for cache timeouts, which may lag MonotonicNanos by up
  // to a tick of a few milliseconds and is read on every cached lookup and
  // stat (Linux's FUSE times its entries and attributes in jiffies): Linux's
  // CLOCK_MONOTONIC_COARSE costs 4 ns here against CLOCK_MONOTONIC's 25.
  // Deadlines set with it are checked with it only, never with
  // MonotonicNanos, which may run ahead of it.
  virtual uint64_t CoarseMonotonicNanos() { return MonotonicNanos(); }
  // One line, without the trailing newline.
  virtual void Log(LogLevel level, const char* message) = 0;
  virtual std::unique_ptr<Lock> CreateLock() = 0;
  // Called on each turn of a polling loop: a CPU pause, or a yield to other
  // threads.
  virtual void Relax() = 0;
  // A turn of a wait that is expected to end within microseconds (a device
  // answering on another CPU) for a chain on virtqueue `queue` (kAnyQueue:
  // chains on several): a CPU pause, not a yield, unless the platform knows
  // that the device runs on the caller's CPU and cannot answer while it
  // spins. Callers spin for a bounded time before they Relax.
  static constexpr uint16_t kAnyQueue = 0xffff;
  virtual void Spin(uint16_t /*queue*/) { Relax(); }
  // Around a polling wait for the device, from its first turn (Spin or
  // Relax) to its end: where the device's threads share CPUs with the
  // driver's, a busy thread the platform may count (the simulation does).
  virtual void PollingWaitBegins() {}
  virtual void PollingWaitEnds() {}
  // The CPU the caller runs on (0 on a single CPU), to spread work over
  // per-CPU resources such as request queues. The simulation answers the host
  // CPU its thread runs on.
  virtual uint32_t CurrentCpu() const { return 0; }

  // Completion by interrupt. A platform that delivers device interrupts to
  // the RegisterIo handlers, and can sleep until the next one, says so here;
  // a waiter that asked its device for an interrupt (and found nothing to
  // reap after asking) then sleeps in WaitForInterrupt instead of polling.
  // The platform must not lose an interrupt that arrives between the
  // waiter's last check and the sleep (x86: the check runs with interrupts
  // off, the sleep is `sti; hlt`). The sleep is bounded (a timer): an
  // interrupt the device never sends costs the waiter that bound, not a hang,
  // and the waiter then finds its completion by looking (counted as found
  // without an interrupt, VirtioFs::completion_counts). It may also return
  // early: the waiter looks again either way.
  virtual bool delivers_interrupts() const { return false; }
  virtual void WaitForInterrupt() { Relax(); }
};

// Memory barriers for cache-coherent DMA, the virtio_{w,r,}mb() of the spec:
// the driver's writes to a descriptor must be visible before the index that
// publishes it, and the device's used element must be read only after the
// used index that announced it.
inline void WriteBarrier() {
  std::atomic_thread_fence(std::memory_order_release);
}
inline void ReadBarrier() {
  std::atomic_thread_fence(std::memory_order_acquire);
}
inline void FullBarrier() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

}  // namespace base

#endif  // BASE_PLATFORM_H_
