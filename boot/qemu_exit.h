// Ending the run: QEMU's isa-debug-exit device
// (-device isa-debug-exit,iobase=0xf4,iosize=0x04) makes QEMU exit with status
// (value << 1) | 1 when the guest writes `value` to port 0xf4. The two outcomes
// map to statuses no other way of ending QEMU produces (QEMU itself exits 0 on
// a guest shutdown or a triple fault under -no-reboot, 1 on its own errors):
//
//   kPass: QEMU exits 33    kFail: QEMU exits 35
#ifndef BOOT_QEMU_EXIT_H_
#define BOOT_QEMU_EXIT_H_

#include <cstdint>

namespace boot {

enum class Outcome : uint8_t {
  kPass = 0x10,
  kFail = 0x11,
};

inline constexpr uint16_t kDebugExitPort = 0xf4;
inline constexpr int kQemuStatusPass =
    (static_cast<int>(Outcome::kPass) << 1) | 1;
inline constexpr int kQemuStatusFail =
    (static_cast<int>(Outcome::kFail) << 1) | 1;
static_assert(kQemuStatusPass == 33 && kQemuStatusFail == 35);

// Prints the outcome, then leaves QEMU. Without the debug-exit device it halts.
[[noreturn]] void ExitQemu(Outcome outcome);

}  // namespace boot

#endif  // BOOT_QEMU_EXIT_H_
