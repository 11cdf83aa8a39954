// CPU exceptions end the run: the image has no use for recovering from a fault,
// but a report on the serial console (vector, error code, RIP, CR2) turns a
// triple fault's silent reset into a diagnosis.
#ifndef BOOT_EXCEPTIONS_H_
#define BOOT_EXCEPTIONS_H_

#include <cstdint>

namespace boot {

// Points vectors 0..31 at the entry stub's handlers and loads the IDT (256
// vectors; those above 31 not present until SetInterruptGate).
void InstallExceptionHandlers();

// Points `vector` at `handler` through a 64-bit interrupt gate (interrupts
// stay off in the handler).
void SetInterruptGate(uint8_t vector, uint64_t handler);

}  // namespace boot

#endif  // BOOT_EXCEPTIONS_H_
