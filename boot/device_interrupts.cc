#include "boot/device_interrupts.h"

#include "base/format.h"
#include "boot/acpi.h"
#include "boot/serial_console.h"

namespace boot {
namespace {

// QEMU's microvm without ACPI (hw/i386/microvm.c): one I/O APIC, and the
// virtio-mmio transports on GSIs 5.. in slot order, 8 of them.
constexpr uint64_t kDefaultIoApicBase = 0xfec00000;
constexpr uint32_t kMicrovmLegacyVirtioGsiBase = 5;
constexpr unsigned kMicrovmLegacyVirtioSlots = 8;

const char* TriggerName(Trigger trigger) {
  return trigger == Trigger::kLevel ? "level" : "edge";
}

const char* PolarityName(Polarity polarity) {
  return polarity == Polarity::kActiveHigh ? "active high" : "active low";
}

}  // namespace

bool DeviceInterrupts::Route(FoundDevice& device, uint64_t acpi_rsdp) {
  if (!EnableLocalApic()) {
    SerialWrite("interrupts: FAIL the CPU has no local APIC\n");
    return false;
  }
  DisableLegacyPics();
  const uint32_t apic_id = LocalApicId();
  SerialPrintf("interrupts: local APIC id %u (xAPIC), legacy PICs masked\n",
               apic_id);
  if (device.transport == base::TransportKind::kPci) {
    return RoutePci(static_cast<PciRegisterIo&>(*device.io), apic_id);
  }
  return RouteMmio(static_cast<MmioRegisterIo&>(*device.io), apic_id,
                   acpi_rsdp);
}

void DeviceInterrupts::AddRoute(uint8_t vector, DeviceInterruptHandler& handler,
                                const char* what) {
  SetVectorHandler(vector, &DeviceInterruptHandler::RunFromVector, &handler);
  RoutedVector& routed = routed_[routed_count_++];
  routed.vector = vector;
  base::Format(routed.what, sizeof(routed.what), "%s", what);
}

bool DeviceInterrupts::RoutePci(PciRegisterIo& io, uint32_t apic_id) {
  const unsigned table_size = io.msix_table_size();
  if (table_size == 0) {
    SerialWrite("interrupts: FAIL the device has no usable MSI-X table\n");
    return false;
  }
  const unsigned entries =
      table_size < kDeviceVectors ? table_size : kDeviceVectors;
  if (!io.EnableMsix(kFirstDeviceVector, entries, apic_id)) {
    SerialWrite("interrupts: FAIL enabling MSI-X\n");
    return false;
  }
  for (unsigned i = 0; i < entries; ++i) {
    char what[40];
    if (i == 0) {
      base::Format(what, sizeof(what), "msix 0, configuration");
    } else {
      base::Format(what, sizeof(what), "msix %u, queue %u", i, i - 1);
    }
    AddRoute(static_cast<uint8_t>(kFirstDeviceVector + i),
             io.interrupt_handler(), what);
  }
  SerialPrintf(
      "interrupts: MSI-X table of %u entries in BAR%u, %u routed to vectors "
      "0x%x..0x%x\n",
      table_size, io.msix_table_bar(), entries, kFirstDeviceVector,
      kFirstDeviceVector + entries - 1);
  return true;
}

bool DeviceInterrupts::RouteMmio(MmioRegisterIo& io, uint32_t apic_id,
                                 uint64_t acpi_rsdp) {
  const unsigned slot = io.microvm_slot();
  AcpiTables acpi;
  DeviceIrq irq;
  IoApicDescription serving;
  bool found = false;
  const char* source = "DSDT";
  if (acpi.Find(acpi_rsdp)) {
    if (!acpi.FindMmioDeviceIrq(io.base(), &irq)) {
      SerialPrintf(
          "interrupts: FAIL the DSDT (RSDP at 0x%llx) describes no device at "
          "0x%llx\n",
          static_cast<unsigned long long>(acpi.rsdp()),
          static_cast<unsigned long long>(io.base()));
      return false;
    }
    for (int i = 0; i < acpi.io_apic_count() && !found; ++i) {
      IoApic candidate(acpi.io_apic(i).address, acpi.io_apic(i).gsi_base);
      if (irq.gsi >= candidate.gsi_base() &&
          irq.gsi < candidate.gsi_base() + candidate.pins()) {
        serving = acpi.io_apic(i);
        found = true;
      }
    }
  } else {
    source = "QEMU's microvm rule, no ACPI";
    if (slot >= kMicrovmLegacyVirtioSlots) {
      SerialPrintf("interrupts: FAIL no ACPI, and slot %u has no GSI\n", slot);
      return false;
    }
    irq = DeviceIrq{.gsi = kMicrovmLegacyVirtioGsiBase + slot,
                    .trigger = Trigger::kLevel,
                    .polarity = Polarity::kActiveHigh};
    serving = IoApicDescription{.address = kDefaultIoApicBase};
    found = true;
  }
  if (!found) {
    SerialPrintf("interrupts: FAIL no I/O APIC serves GSI %u\n", irq.gsi);
    return false;
  }
  IoApic io_apic(serving.address, serving.gsi_base);
  const unsigned pin = irq.gsi - serving.gsi_base;
  io_apic.Route(pin, kFirstDeviceVector, irq.trigger, irq.polarity, apic_id);
  io_apic_input_.Set(io_apic, pin);
  char what[40];
  base::Format(what, sizeof(what), "GSI %u", irq.gsi);
  AddRoute(kFirstDeviceVector, io.interrupt_handler(), what);
  io.interrupt_handler().Connect(&io_apic_input_);
  SerialPrintf(
      "interrupts: virtio-mmio slot %u: GSI %u (%s), %s, %s; I/O APIC %u at "
      "0x%x input %u, vector 0x%x\n",
      slot, irq.gsi, source, TriggerName(irq.trigger),
      PolarityName(irq.polarity), serving.id, serving.address, pin,
      kFirstDeviceVector);
  return true;
}

void DeviceInterrupts::Report() const {
  for (unsigned i = 0; i < routed_count_; ++i) {
    SerialPrintf(
        "interrupts: vector 0x%x (%s): %llu\n", routed_[i].vector,
        routed_[i].what,
        static_cast<unsigned long long>(InterruptsTaken(routed_[i].vector)));
  }
  SerialPrintf(
      "interrupts: unexpected %llu, spurious %llu\n",
      static_cast<unsigned long long>(UnexpectedInterrupts()),
      static_cast<unsigned long long>(InterruptsTaken(kSpuriousVector)));
}

}  // namespace boot
