// Transport: how the driver reaches one virtio device's common registers,
// whatever the bus.
//
// A virtio 1.x device looks the same to the driver on every transport: a status
// byte, 64 feature bits, a set of queues, a doorbell per queue, an interrupt
// status and a device-specific configuration space guarded by a generation
// counter. PciTransport and MmioTransport map that onto their register layouts;
// the caller picks one at run time and everything above (VirtioDevice,
// Virtqueue, the virtio-fs glue) sees only this.
//
// A transport is not thread safe for its stateful registers (feature and queue
// select): the bring-up code uses them from one thread. ReadStatus,
// NotifyQueue, ReadAndAckInterrupt and the device config reads are single
// register accesses and may run concurrently (from an interrupt handler and the
// driver's callers).
#ifndef DRIVER_TRANSPORT_H_
#define DRIVER_TRANSPORT_H_

#include <cstddef>
#include <cstdint>

#include "base/platform.h"
#include "base/result.h"

namespace driver {

// Bus addresses of one split virtqueue's three parts.
struct QueueAddresses {
  uint64_t descriptor_table = 0;
  uint64_t driver_area = 0;  // The available ring.
  uint64_t device_area = 0;  // The used ring.
};

// Bits returned by Transport::ReadAndAckInterrupt, the same on both transports
// (the PCI ISR and the MMIO InterruptStatus register share them).
inline constexpr uint32_t kInterruptUsedBuffer = 0x1;
inline constexpr uint32_t kInterruptConfigChange = 0x2;

// How long Reset() waits for the device to read back status 0.
inline constexpr uint64_t kDefaultResetTimeoutNanos = 1'000'000'000;

class Transport {
 public:
  virtual ~Transport() = default;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // "pci" or "mmio", for log lines.
  virtual const char* name() const = 0;
  // The virtio device type (26 = file system), read at probe.
  virtual uint32_t device_id() const = 0;
  // The device's registers, also where its interrupt handler is installed.
  virtual base::RegisterIo& io() = 0;

  virtual uint8_t ReadStatus() = 0;
  virtual void WriteStatus(uint8_t status) = 0;

  // Writes status 0 and waits until the device reads back 0, so that it no
  // longer touches the queues' memory. ETIMEDOUT when it does not within
  // `timeout_nanos`.
  base::Result<void> Reset(uint64_t timeout_nanos = kDefaultResetTimeoutNanos);

  // All 64 feature bits, through the select registers.
  virtual uint64_t ReadDeviceFeatures() = 0;
  virtual void WriteDriverFeatures(uint64_t features) = 0;

  // How many queues the device has (an upper bound for virtio-mmio, which has
  // no such register: the queues up to the first absent one).
  virtual uint16_t NumQueues() = 0;
  // The largest size `queue` may have; 0 when the queue does not exist.
  virtual uint16_t MaxQueueSize(uint16_t queue) = 0;
  // Sets the size and ring addresses of `queue` and enables it. EINVAL when the
  // queue does not exist, is already enabled or `size` exceeds its maximum; EIO
  // when the device reports values the driver cannot use (a doorbell outside
  // its window).
  virtual base::Result<void> EnableQueue(uint16_t queue, uint16_t size,
                                         const QueueAddresses& addresses) = 0;
  // Rings the doorbell of an enabled queue (ignored for any other).
  virtual void NotifyQueue(uint16_t queue) = 0;

  // Reads the interrupt status (kInterrupt* bits) and acknowledges what it
  // read.
  virtual uint32_t ReadAndAckInterrupt() = 0;

  // Device-specific configuration space. One access of `width` 1, 2 or 4 bytes
  // at `offset`, naturally aligned; EINVAL outside the space or for a bad
  // width. Values spanning several accesses can tear: use ReadConfigConsistent.
  virtual uint32_t ConfigGeneration() = 0;
  virtual base::Result<uint32_t> ReadConfig(uint32_t offset,
                                            unsigned width) = 0;

  base::Result<uint8_t> ReadConfig8(uint32_t offset);
  base::Result<uint16_t> ReadConfig16(uint32_t offset);
  base::Result<uint32_t> ReadConfig32(uint32_t offset);
  // Two 32-bit accesses, low half first; only meaningful inside
  // ReadConfigConsistent.
  base::Result<uint64_t> ReadConfig64(uint32_t offset);
  // `length` bytes with byte accesses (for byte arrays such as virtio-fs's
  // tag).
  base::Result<void> ReadConfigBytes(uint32_t offset, void* out,
                                     uint32_t length);

  // Runs `read` (a callable returning Result<void> that reads config fields)
  // until the configuration generation is the same before and after it, so that
  // the fields it read belong together. EAGAIN when the device keeps changing
  // them.
  template <typename ReadFields>
  base::Result<void> ReadConfigConsistent(ReadFields&& read);

 protected:
  explicit Transport(base::Platform& platform) : platform_(platform) {}

  base::Platform& platform_;
};

template <typename ReadFields>
base::Result<void> Transport::ReadConfigConsistent(ReadFields&& read) {
  // A device updates its config rarely; a few retries are enough to get past
  // one change.
  constexpr int kAttempts = 16;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const uint32_t before = ConfigGeneration();
    TRY(read());
    if (ConfigGeneration() == before) return {};
  }
  return base::Error{EAGAIN};
}

}  // namespace driver

#endif  // DRIVER_TRANSPORT_H_
