#include "driver/transport.h"

#include "base/format.h"

namespace driver {

base::Result<void> Transport::Reset(uint64_t timeout_nanos) {
  WriteStatus(0);
  const uint64_t start = platform_.MonotonicNanos();
  // A device may take a while to finish in-flight work before it reads back 0;
  // until it does, it may still write to the rings.
  while (ReadStatus() != 0) {
    if (platform_.MonotonicNanos() - start > timeout_nanos) {
      base::Logf(platform_, base::LogLevel::kError,
                 "virtio-%s: device did not complete reset (status 0x%x)",
                 name(), ReadStatus());
      return base::Error{ETIMEDOUT};
    }
    platform_.Relax();
  }
  return {};
}

base::Result<uint8_t> Transport::ReadConfig8(uint32_t offset) {
  return static_cast<uint8_t>(TRY(ReadConfig(offset, 1)));
}

base::Result<uint16_t> Transport::ReadConfig16(uint32_t offset) {
  return static_cast<uint16_t>(TRY(ReadConfig(offset, 2)));
}

base::Result<uint32_t> Transport::ReadConfig32(uint32_t offset) {
  return ReadConfig(offset, 4);
}

base::Result<uint64_t> Transport::ReadConfig64(uint32_t offset) {
  if (offset > UINT32_MAX - 4) return base::Error{EINVAL};
  const uint64_t low = TRY(ReadConfig(offset, 4));
  const uint64_t high = TRY(ReadConfig(offset + 4, 4));
  return low | (high << 32);
}

base::Result<void> Transport::ReadConfigBytes(uint32_t offset, void* out,
                                              uint32_t length) {
  if (length > UINT32_MAX - offset) return base::Error{EINVAL};
  auto* bytes = static_cast<uint8_t*>(out);
  for (uint32_t i = 0; i < length; ++i) {
    bytes[i] = static_cast<uint8_t>(TRY(ReadConfig(offset + i, 1)));
  }
  return {};
}

}  // namespace driver
