// CPU exceptions end the run: the image has no use for recovering from a fault,
// but a report on the serial console (vector, error code, RIP, CR2) turns a
// triple fault's silent reset into a diagnosis.
#ifndef BOOT_EXCEPTIONS_H_
#define BOOT_EXCEPTIONS_H_

namespace boot {

// Points vectors 0..31 at the entry stub's handlers and loads the IDT.
void InstallExceptionHandlers();

}  // namespace boot

#endif  // BOOT_EXCEPTIONS_H_
