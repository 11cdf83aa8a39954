#include "sim/violation.h"

namespace sim {

const char* ViolationName(Violation violation) {
  switch (violation) {
    case Violation::kStatusDriverBeforeAcknowledge:
      return "status driver before acknowledge";
    case Violation::kStatusFeaturesOkBeforeDriver:
      return "status features_ok before driver";
    case Violation::kStatusDriverOkBeforeFeaturesOk:
      return "status driver_ok before features_ok";
    case Violation::kStatusBitCleared:
      return "status bit cleared without reset";
    case Violation::kFeaturesAfterFeaturesOk:
      return "features written after features_ok";
    case Violation::kFeaturesNotSubset:
      return "driver features not offered by device";
    case Violation::kVersion1NotAccepted:
      return "version_1 not accepted";
    case Violation::kQueueSizeInvalid:
      return "queue size invalid";
    case Violation::kQueueConfigWhileEnabled:
      return "queue configured while enabled";
    case Violation::kQueueEnableBeforeFeaturesOk:
      return "queue enabled before features_ok";
    case Violation::kQueueAddressOutOfBounds:
      return "queue address outside guest memory";
    case Violation::kQueueAddressMisaligned:
      return "queue address misaligned";
    case Violation::kNotifyNonexistentQueue:
      return "notify for nonexistent queue";
    case Violation::kNotifyQueueNotEnabled:
      return "notify for queue not enabled";
    case Violation::kNotifyBeforeDriverOk:
      return "notify before driver_ok";
    case Violation::kAvailIndexJump:
      return "avail index jump";
    case Violation::kHeadIndexOutOfRange:
      return "head index out of range";
    case Violation::kHeadAlreadyInFlight:
      return "head already in flight";
    case Violation::kNextIndexOutOfRange:
      return "next index out of range";
    case Violation::kDescriptorOutOfBounds:
      return "descriptor outside guest memory";
    case Violation::kReadableAfterWritable:
      return "readable descriptor after writable";
    case Violation::kChainLoop:
      return "descriptor chain loop";
    case Violation::kChainTooLong:
      return "descriptor chain too long";
    case Violation::kIndirectNotNegotiated:
      return "indirect descriptor not negotiated";
    case Violation::kIndirectInIndirect:
      return "indirect descriptor in indirect table";
    case Violation::kIndirectWithNext:
      return "indirect descriptor with next";
    case Violation::kIndirectTableLengthInvalid:
      return "indirect table length invalid";
    case Violation::kBufferIdOutOfRange:
      return "buffer id out of range";
    case Violation::kBufferIdInFlight:
      return "buffer id already in flight";
    case Violation::kRingOverrun:
      return "descriptor ring overrun";
    case Violation::kChainDescriptorNotAvailable:
      return "chain descriptor not available";
    case Violation::kIndirectInChain:
      return "indirect descriptor in chain";
    case Violation::kEventSuppressionInvalid:
      return "event suppression invalid";
    case Violation::kConfigAccessOutOfRange:
      return "config access out of range";
    case Violation::kRegisterAccessInvalid:
      return "register access invalid";
  }
  return "unknown violation";
}

Enforcement EnforcementOf(Violation violation) {
  switch (violation) {
    case Violation::kQueueSizeInvalid:
    case Violation::kQueueConfigWhileEnabled:
    case Violation::kQueueAddressOutOfBounds:
    case Violation::kQueueAddressMisaligned:
    case Violation::kAvailIndexJump:
    case Violation::kHeadIndexOutOfRange:
    case Violation::kHeadAlreadyInFlight:
    case Violation::kNextIndexOutOfRange:
    case Violation::kDescriptorOutOfBounds:
    case Violation::kChainLoop:
    case Violation::kChainTooLong:
    case Violation::kIndirectInIndirect:
    case Violation::kIndirectWithNext:
    case Violation::kIndirectTableLengthInvalid:
    case Violation::kBufferIdOutOfRange:
    case Violation::kBufferIdInFlight:
    case Violation::kRingOverrun:
      return Enforcement::kAlways;
    default:
      return Enforcement::kStrict;
  }
}

bool IsDeviceWide(Violation violation) {
  switch (violation) {
    case Violation::kStatusDriverBeforeAcknowledge:
    case Violation::kStatusFeaturesOkBeforeDriver:
    case Violation::kStatusDriverOkBeforeFeaturesOk:
    case Violation::kStatusBitCleared:
    case Violation::kFeaturesAfterFeaturesOk:
    case Violation::kFeaturesNotSubset:
    case Violation::kVersion1NotAccepted:
    case Violation::kConfigAccessOutOfRange:
    case Violation::kRegisterAccessInvalid:
      return true;
    default:
      return false;
  }
}

std::string ToString(const ViolationRecord& record) {
  std::string text = record.name();
  text += ": ";
  text += record.message;
  if (record.queue.has_value()) {
    text += " (queue ";
    text += std::to_string(*record.queue);
    text += ")";
  }
  return text;
}

}  // namespace sim
