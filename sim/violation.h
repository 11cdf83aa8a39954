// The virtio rules a device can observe the driver breaking, each with a stable
// name.
//
// Two kinds of rule (see Enforcement):
//  - kAlways: breaking it would make the device touch memory it must not, loop
//  forever or
//    hand a backend a malformed chain. These checks run in every mode. The
//    device records the violation, sets DEVICE_NEEDS_RESET, raises a
//    configuration change interrupt and stops using the queue (or the whole
//    device) until the driver resets it.
//  - kStrict: pure protocol rules a lenient device could ignore (status
//  ordering, notify
//    before DRIVER_OK, readable after writable...). In strict mode they are
//    handled like kAlways ones. In lenient mode they are neither recorded nor
//    acted on; the device does the forgiving thing instead (documented at each
//    enumerator).
#ifndef SIM_VIOLATION_H_
#define SIM_VIOLATION_H_

#include <cstdint>
#include <optional>
#include <string>

namespace sim {

enum class Violation : uint8_t {
  // Device status (device-wide).
  kStatusDriverBeforeAcknowledge,   // Strict. Lenient: status taken as written.
  kStatusFeaturesOkBeforeDriver,    // Strict. Lenient: status taken as written.
  kStatusDriverOkBeforeFeaturesOk,  // Strict. Lenient: status taken as written.
  kStatusBitCleared,  // Strict: a bit cleared other than by reset (write 0).
  // Features (device-wide).
  kFeaturesAfterFeaturesOk,  // Strict. Lenient: the write is ignored.
  kFeaturesNotSubset,        // Strict. Both modes: FEATURES_OK is not latched.
  kVersion1NotAccepted,      // Strict. Both modes: FEATURES_OK is not latched.
  // Queue configuration.
  kQueueSizeInvalid,  // Always: 0, not a power of two or above the maximum.
  kQueueConfigWhileEnabled,      // Always: the write is ignored.
  kQueueEnableBeforeFeaturesOk,  // Strict. Lenient: the queue is enabled.
  kQueueAddressOutOfBounds,      // Always: a ring is not inside guest memory.
  kQueueAddressMisaligned,       // Always: a ring is not aligned as the spec
                                 // requires.
  // Notifications.
  kNotifyNonexistentQueue,  // Strict. Lenient: ignored.
  kNotifyQueueNotEnabled,   // Strict. Lenient: ignored.
  kNotifyBeforeDriverOk,    // Strict. Lenient: the queue is processed at
                            // DRIVER_OK.
  // Rings and descriptor chains (always: the chain is dropped, the queue
  // stops). Split and packed rings share those that mean the same.
  kAvailIndexJump,         // avail idx moved by more than the queue size.
  kHeadIndexOutOfRange,    // an avail ring entry >= queue size.
  kHeadAlreadyInFlight,    // a head made available again before it was used.
  kNextIndexOutOfRange,    // a `next` >= the size of its table.
  kDescriptorOutOfBounds,  // a buffer (or indirect table) outside guest memory.
  kReadableAfterWritable,  // Strict. Lenient: buffers are sorted by their flag.
  kChainLoop,              // following `next` revisits a descriptor.
  kChainTooLong,  // more buffers (packed: ring descriptors) than the queue
                  // size.
  kIndirectNotNegotiated,  // Strict. Lenient: the table is followed anyway.
  kIndirectInIndirect,     // an indirect descriptor inside an indirect table.
  kIndirectWithNext,       // INDIRECT and NEXT both set.
  kIndirectTableLengthInvalid,  // 0 or not a multiple of 16.
  // Packed rings only (spec 2.8).
  kBufferIdOutOfRange,  // a chain's buffer id >= queue size.
  kBufferIdInFlight,    // a buffer id made available again before it was used.
  kRingOverrun,  // a descriptor made available in a ring slot the device still
                 // holds: more descriptors in flight than the queue size.
  kChainDescriptorNotAvailable,  // Strict: a descriptor after NEXT is not
                                 // available with the wrap counter of its
                                 // position. Lenient: it is read as written
                                 // (as QEMU does).
  kIndirectInChain,  // Strict: an INDIRECT descriptor after NEXT ones (it must
                     // be alone). Lenient: its table is followed.
  kEventSuppressionInvalid,  // Strict: the driver event area holds the
                             // reserved flags 3, DESC without EVENT_IDX, or an
                             // offset >= queue size. Lenient: notify as for
                             // ENABLE.
  // Registers.
  kConfigAccessOutOfRange,  // Strict. Lenient: reads 0, writes ignored.
  kRegisterAccessInvalid,  // Strict: bad offset, width or direction. Reads 0 in
                           // any mode.
};

enum class Enforcement : uint8_t { kAlways, kStrict };

// A stable lowercase name, e.g. "status driver before acknowledge".
const char* ViolationName(Violation violation);
Enforcement EnforcementOf(Violation violation);
// Whether the violation concerns the whole device (status, features) rather
// than a queue.
bool IsDeviceWide(Violation violation);

struct ViolationRecord {
  Violation violation;
  std::string message;  // What exactly the driver did, with the values.
  std::optional<uint16_t> queue;  // The queue concerned, when there is one.

  const char* name() const { return ViolationName(violation); }
};

// "name: message (queue N)", for logs and test failure messages.
std::string ToString(const ViolationRecord& record);

}  // namespace sim

#endif  // SIM_VIOLATION_H_
