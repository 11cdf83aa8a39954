#include "sim/sim_device.h"

#include <utility>

#include "sim/mmio_registers.h"
#include "sim/pci_registers.h"

namespace sim {

SimDevice::SimDevice(const GuestMemory& memory,
                     std::unique_ptr<DeviceBackend> backend,
                     const DeviceOptions& options)
    : transport_(options.transport),
      model_(std::make_unique<VirtioDeviceModel>(
          memory, std::move(backend),
          ModelOptions{.notify_mode = options.notify_mode,
                       .strict = options.strict,
                       .offer_indirect_desc = options.offer_indirect_desc,
                       .offer_event_idx = options.offer_event_idx,
                       .offer_packed_ring = options.offer_packed_ring,
                       .on_violation = options.on_violation,
                       .after_interrupt = options.after_interrupt,
                       .hold_posted_nanos = options.hold_posted_nanos})) {
  if (transport_ == base::TransportKind::kPci) {
    registers_ = std::make_unique<PciRegisters>(*model_);
  } else {
    registers_ = std::make_unique<MmioRegisters>(*model_);
  }
}

// The registers refer to the model: drop them first.
SimDevice::~SimDevice() { registers_.reset(); }

uint32_t SimDevice::Read(base::RegisterSpace space, uint32_t offset,
                         unsigned width) {
  return registers_->Read(space, offset, width);
}

void SimDevice::Write(base::RegisterSpace space, uint32_t offset,
                      unsigned width, uint32_t value) {
  registers_->Write(space, offset, width, value);
}

void SimDevice::SetInterruptHandler(InterruptHandler handler, void* context) {
  registers_->SetInterruptHandler(handler, context);
}

std::unique_ptr<SimDevice> MakeDevice(const GuestMemory& memory,
                                      std::unique_ptr<DeviceBackend> backend,
                                      const DeviceOptions& options) {
  return std::make_unique<SimDevice>(memory, std::move(backend), options);
}

}  // namespace sim
