// Volatile loads and stores of device registers at identity-mapped physical
// addresses. One instruction of exactly the requested width each, so the device
// sees the access the driver asked for.
#ifndef BOOT_MMIO_H_
#define BOOT_MMIO_H_

#include <cstdint>

namespace boot {

inline uint32_t MmioRead(uint64_t address, unsigned width) {
  const auto p = static_cast<uintptr_t>(address);
  switch (width) {
    case 1:
      return *reinterpret_cast<const volatile uint8_t*>(p);
    case 2:
      return *reinterpret_cast<const volatile uint16_t*>(p);
    default:
      return *reinterpret_cast<const volatile uint32_t*>(p);
  }
}

inline void MmioWrite(uint64_t address, unsigned width, uint32_t value) {
  const auto p = static_cast<uintptr_t>(address);
  switch (width) {
    case 1:
      *reinterpret_cast<volatile uint8_t*>(p) = static_cast<uint8_t>(value);
      break;
    case 2:
      *reinterpret_cast<volatile uint16_t*>(p) = static_cast<uint16_t>(value);
      break;
    default:
      *reinterpret_cast<volatile uint32_t*>(p) = value;
      break;
  }
}

}  // namespace boot

#endif  // BOOT_MMIO_H_
