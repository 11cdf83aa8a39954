// Interrupts on bare metal: IDT vectors 32..255 lead to one dispatcher, which
// counts the interrupt, runs the handler routed to its vector and ends it at
// the local APIC (boot/apic.h).
//
// The image runs with interrupts off (IF clear) everywhere except inside
// EnableInterruptsAndHalt (boot/x86.h), where the platform sleeps for a
// completion. A handler therefore runs only while the CPU sleeps there: never
// in the middle of code that holds a lock, never concurrently with anything,
// and never nested.
#ifndef BOOT_INTERRUPTS_H_
#define BOOT_INTERRUPTS_H_

#include <cstdint>

namespace boot {

// The vectors handed out to devices (boot/device_interrupts.h), above the
// legacy PICs' and below the local APIC's spurious vector.
inline constexpr uint8_t kFirstDeviceVector = 0x40;
inline constexpr unsigned kDeviceVectors = 32;
// The local APIC timer that bounds a sleep for an interrupt
// (BareMetalPlatform::WaitForInterrupt).
inline constexpr uint8_t kWaitTimerVector = 0x30;

using VectorHandler = void (*)(void* context);

// Points IDT vectors 32..255 at the dispatcher. Called once, after
// InstallExceptionHandlers.
void InstallInterruptVectors();
// Routes `vector` to `handler` (nullptr: none).
void SetVectorHandler(uint8_t vector, VectorHandler handler, void* context);
// Interrupts taken on `vector` since boot.
uint64_t InterruptsTaken(uint8_t vector);
// Interrupts taken on a vector without a handler (spurious ones aside).
uint64_t UnexpectedInterrupts();

// What a device's interrupt travels through (an I/O APIC input, an MSI-X
// function), as far as masking it goes.
class InterruptLine {
 public:
  virtual void SetMasked(bool masked) = 0;

 protected:
  ~InterruptLine() = default;
};

// The handler a driver installs on a bare-metal RegisterIo
// (base::RegisterIo::SetInterruptHandler), run from the vectors the image
// routed the device's interrupt to. While no handler is installed the
// connected line stays masked: a level-triggered interrupt that no driver
// acknowledges would otherwise come back after every EOI.
class DeviceInterruptHandler {
 public:
  // Installs (or, with nullptr, removes) the driver's handler. No handler is
  // running meanwhile: handlers run only while the CPU sleeps (see above).
  void Set(VectorHandler handler, void* context);
  // Connects the line the device's interrupt arrives through (nullptr: none),
  // masked or not as a handler is installed or not.
  void Connect(InterruptLine* line);
  // Runs the installed handler; false when there is none.
  bool Run();
  // A VectorHandler whose context is a DeviceInterruptHandler.
  static void RunFromVector(void* context);

 private:
  VectorHandler handler_ = nullptr;
  void* context_ = nullptr;
  InterruptLine* line_ = nullptr;
};

}  // namespace boot

#endif  // BOOT_INTERRUPTS_H_
