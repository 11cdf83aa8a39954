#include "boot/interrupts.h"

#include "boot/apic.h"
#include "boot/exceptions.h"

// One entry address per vector 32..255, from boot/pvh_entry.S.
extern "C" const uint64_t boot_interrupt_stubs[224];

namespace boot {
namespace {

constexpr unsigned kFirstInterruptVector = 32;

struct Route {
  VectorHandler handler = nullptr;
  void* context = nullptr;
};

Route routes[256];
uint64_t taken[256];
uint64_t unexpected = 0;

bool FromLegacyPic(uint8_t vector) {
  return vector >= kLegacyPicVectorBase && vector < kLegacyPicVectorBase + 16;
}

}  // namespace

void InstallInterruptVectors() {
  for (unsigned vector = kFirstInterruptVector; vector < 256; ++vector) {
    SetInterruptGate(static_cast<uint8_t>(vector),
                     boot_interrupt_stubs[vector - kFirstInterruptVector]);
  }
}

void SetVectorHandler(uint8_t vector, VectorHandler handler, void* context) {
  routes[vector] = Route{handler, context};
}

uint64_t InterruptsTaken(uint8_t vector) { return taken[vector]; }

uint64_t UnexpectedInterrupts() { return unexpected; }

void DeviceInterruptHandler::Set(VectorHandler handler, void* context) {
  handler_ = handler;
  context_ = context;
  if (line_ != nullptr) line_->SetMasked(handler == nullptr);
}

void DeviceInterruptHandler::Connect(InterruptLine* line) {
  line_ = line;
  if (line_ != nullptr) line_->SetMasked(handler_ == nullptr);
}

bool DeviceInterruptHandler::Run() {
  if (handler_ == nullptr) return false;
  handler_(context_);
  return true;
}

void DeviceInterruptHandler::RunFromVector(void* context) {
  if (!static_cast<DeviceInterruptHandler*>(context)->Run()) ++unexpected;
}

}  // namespace boot

// Called by boot_interrupt_common with interrupts off.
extern "C" void boot_interrupt(uint64_t vector_number) {
  using namespace boot;
  const auto vector = static_cast<uint8_t>(vector_number);
  ++taken[vector];
  // A spurious interrupt is none: nothing is in service to end.
  if (vector == kSpuriousVector) return;
  const Route& route = routes[vector];
  if (route.handler != nullptr) {
    route.handler(route.context);
  } else {
    ++unexpected;
  }
  // The masked PICs deliver at most a spurious IRQ 7 or 15, which the PIC
  // wants no EOI for and the local APIC (ExtINT delivery) none either.
  if (!FromLegacyPic(vector)) SignalEndOfInterrupt();
}
