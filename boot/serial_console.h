// The image's console: the first serial port (COM1, I/O port 0x3f8), 115200
// baud 8N1, polled. QEMU's -serial connects it to the runner. Writes are whole
// lines or pieces of them; "\n" goes out as "\r\n".
#ifndef BOOT_SERIAL_CONSOLE_H_
#define BOOT_SERIAL_CONSOLE_H_

#include <cstddef>

namespace boot {

void SerialInit();
void SerialWrite(const char* text, size_t length);
void SerialWrite(const char* text);
[[gnu::format(printf, 1, 2)]] void SerialPrintf(const char* format, ...);

}  // namespace boot

#endif  // BOOT_SERIAL_CONSOLE_H_
