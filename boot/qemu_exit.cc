#include "boot/qemu_exit.h"

#include "boot/serial_console.h"
#include "boot/x86.h"

namespace boot {

void ExitQemu(Outcome outcome) {
  const bool pass = outcome == Outcome::kPass;
  SerialPrintf("boot: exit %s (QEMU status %d)\n", pass ? "pass" : "fail",
               pass ? kQemuStatusPass : kQemuStatusFail);
  Out32(kDebugExitPort, static_cast<uint32_t>(outcome));
  SerialWrite("boot: isa-debug-exit did not end QEMU; halting\n");
  HaltForever();
}

}  // namespace boot
