#include "boot/serial_console.h"

#include <cstdarg>
#include <cstdint>

#include "base/format.h"
#include "boot/x86.h"

namespace boot {
namespace {

constexpr uint16_t kCom1 = 0x3f8;
// Register offsets from the base port (16550 UART).
constexpr uint16_t kData = 0;  // DLAB=0: transmit/receive; DLAB=1: divisor low.
constexpr uint16_t kInterrupts =
    1;  // DLAB=0: interrupt enable; DLAB=1: divisor high.
constexpr uint16_t kFifoControl = 2;
constexpr uint16_t kLineControl = 3;
constexpr uint16_t kModemControl = 4;
constexpr uint16_t kLineStatus = 5;

constexpr uint8_t kLineControlDlab = 0x80;
constexpr uint8_t kLineControl8N1 = 0x03;
constexpr uint8_t kLineStatusTransmitEmpty = 0x20;
// 115200 baud = the UART's 1.8432 MHz clock / 16 / 1.
constexpr uint16_t kDivisor115200 = 1;

bool initialized = false;

void PutByte(uint8_t byte) {
  // Bounded, so that a missing UART (all ones, or never ready) cannot hang the
  // image.
  for (int spins = 0; spins < 100000; ++spins) {
    if (In8(kCom1 + kLineStatus) & kLineStatusTransmitEmpty) break;
    Pause();
  }
  Out8(kCom1 + kData, byte);
}

}  // namespace

void SerialInit() {
  Out8(kCom1 + kInterrupts, 0x00);  // Polled: no interrupts.
  Out8(kCom1 + kLineControl, kLineControlDlab);
  Out8(kCom1 + kData, kDivisor115200 & 0xff);
  Out8(kCom1 + kInterrupts, kDivisor115200 >> 8);
  Out8(kCom1 + kLineControl, kLineControl8N1);
  Out8(kCom1 + kFifoControl,
       0xc7);  // Enable and clear the FIFOs, 14-byte threshold.
  Out8(kCom1 + kModemControl, 0x03);  // DTR and RTS.
  initialized = true;
}

void SerialWrite(const char* text, size_t length) {
  if (!initialized) SerialInit();
  for (size_t i = 0; i < length; ++i) {
    if (text[i] == '\n') PutByte('\r');
    PutByte(static_cast<uint8_t>(text[i]));
  }
}

void SerialWrite(const char* text) {
  size_t length = 0;
  while (text[length]) ++length;
  SerialWrite(text, length);
}

void SerialPrintf(const char* format, ...) {
  char line[512];
  va_list args;
  va_start(args, format);
  size_t length = base::FormatV(line, sizeof(line), format, args);
  va_end(args);
  if (length >= sizeof(line)) length = sizeof(line) - 1;
  SerialWrite(line, length);
}

}  // namespace boot
