// A simulated virtio device as a driver sees it: a base::RegisterIo (PCI
// function or virtio-mmio block) over a VirtioDeviceModel running a
// DeviceBackend on guest memory.
//
//   auto memory = sim::GuestMemory::Create(64 << 20);
//   sim::SimPlatform platform(*memory);
//   auto device = sim::MakeDevice(*memory, std::make_unique<sim::EchoDevice>(),
//                                 {.transport = base::TransportKind::kMmio});
//   SomeTransport transport(platform, *device);   // the driver sees a
//   RegisterIo
//   ... device->model().violations() ...
#ifndef SIM_SIM_DEVICE_H_
#define SIM_SIM_DEVICE_H_

#include <functional>
#include <memory>

#include "base/platform.h"
#include "sim/device_backend.h"
#include "sim/guest_memory.h"
#include "sim/violation.h"
#include "sim/virtio_device_model.h"

namespace sim {

struct DeviceOptions {
  base::TransportKind transport = base::TransportKind::kPci;
  NotifyMode notify_mode = NotifyMode::kInline;
  bool strict = true;
  bool offer_indirect_desc = true;  // VIRTIO_RING_F_INDIRECT_DESC
  bool offer_event_idx = true;      // VIRTIO_RING_F_EVENT_IDX
  bool offer_packed_ring = false;   // VIRTIO_F_RING_PACKED
  std::function<void(const ViolationRecord&)> on_violation;
  std::function<void()> after_interrupt;  // ModelOptions::after_interrupt
  uint64_t hold_posted_nanos = kHoldPostedNanos;  // ModelOptions's
};

class SimDevice : public base::RegisterIo {
 public:
  SimDevice(const GuestMemory& memory, std::unique_ptr<DeviceBackend> backend,
            const DeviceOptions& options);
  ~SimDevice() override;

  uint32_t Read(base::RegisterSpace space, uint32_t offset,
                unsigned width) override;
  void Write(base::RegisterSpace space, uint32_t offset, unsigned width,
             uint32_t value) override;
  void SetInterruptHandler(InterruptHandler handler, void* context) override;

  base::TransportKind transport() const { return transport_; }
  VirtioDeviceModel& model() { return *model_; }
  DeviceBackend& backend() { return model_->backend(); }
  std::vector<ViolationRecord> violations() const {
    return model_->violations();
  }

 private:
  const base::TransportKind transport_;
  std::unique_ptr<VirtioDeviceModel> model_;
  std::unique_ptr<base::RegisterIo> registers_;
};

std::unique_ptr<SimDevice> MakeDevice(const GuestMemory& memory,
                                      std::unique_ptr<DeviceBackend> backend,
                                      const DeviceOptions& options = {});

}  // namespace sim

#endif  // SIM_SIM_DEVICE_H_
