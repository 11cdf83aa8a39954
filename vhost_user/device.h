// vhost_user::Device: a sim::DeviceBackend (the virtio-fs device) served to a
// vhost-user front-end (QEMU) over one connection: feature and protocol
// feature negotiation, the memory table, the vrings, and the device's
// activation and reset.
//
// What the back-end offers: VIRTIO_F_VERSION_1, VIRTIO_RING_F_INDIRECT_DESC,
// VIRTIO_RING_F_EVENT_IDX, VIRTIO_F_RING_PACKED (unless
// DeviceOptions::packed_rings is off) and the device's own bits; protocol
// features MQ and REPLY_ACK. The front-end's choice of ring format holds for
// every vring (SET_FEATURES comes before the rings start, and may not change
// while one runs). The device is activated when its first ring starts and reset
// (its FUSE session ends; the next FUSE_INIT starts one) when the last running
// ring is stopped, on RESET_DEVICE/RESET_OWNER, and when the connection ends:
// a guest reboot or a front-end reconnect starts afresh.
//
// Bad input is refused, never followed: a message of the wrong size or with
// the wrong file descriptors, an unknown request, an out-of-range vring index
// or size, overlapping or unmappable memory regions, vring addresses outside
// every region. Each gets one log line; the refusal is a REPLY_ACK NACK when
// the front-end asked for one, and the end of the connection otherwise (the
// spec's two ways).
#ifndef VHOST_USER_DEVICE_H_
#define VHOST_USER_DEVICE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "sim/device_backend.h"
#include "sim/guest_memory.h"
#include "sim/violation.h"
#include "vhost_user/message.h"
#include "vhost_user/vring.h"

namespace vhost_user {

struct DeviceOptions {
  // Enforce the strict virtio rules too (the lenient ones always).
  bool strict = true;
  // Offer VIRTIO_F_RING_PACKED; the front-end decides whether the rings are
  // packed (QEMU: the device's packed=on).
  bool packed_rings = true;
  // Each refusal and each connection event, one line.
  std::function<void(const std::string&)> log;
  // Each virtio rule the guest's driver breaks (the queue then stops).
  std::function<void(const sim::ViolationRecord&)> on_violation;
};

class Device : public sim::ChainCompleter {
 public:
  Device(sim::DeviceBackend& backend, DeviceOptions options);
  ~Device() override;
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  // Serves the connected socket `fd` until the front-end closes it (OK) or a
  // message is refused by ending the connection (the reason; the caller then
  // closes `fd`). Every ring is stopped and the device reset before it
  // returns.
  absl::Status Serve(int fd);

  // Handles one message (Serve's step; public for tests): OK, or the reason
  // to end the connection. Replies go to `fd`.
  absl::Status Handle(int fd, Message& message);

  // ---- sim::ChainCompleter. ----
  void Complete(uint16_t queue, uint16_t head, uint32_t used_length) override;
  void CompleteWithoutNotification(uint16_t queue, uint16_t head,
                                   uint32_t used_length) override;

 private:
  // The request's own work: OK, or why it is refused.
  absl::Status Dispatch(int fd, Message& message, bool* replied);
  absl::Status SetMemTable(Message& message);
  absl::Status SetVringFd(Message& message);
  absl::Status StartVring(Vring& vring);
  absl::Status StopVring(int fd, const Message& message);
  // The vring a state, address or fd payload names; InvalidArgument when out
  // of range.
  absl::StatusOr<Vring*> VringAt(uint64_t index);
  // Stops every ring and resets the device when it was active.
  void StopAll();
  // Whether the negotiated features make the rings packed.
  bool packed() const;
  void Log(const std::string& line) const;

  sim::DeviceBackend& backend_;
  const DeviceOptions options_;
  const uint64_t offered_features_;
  uint64_t features_ = 0;
  uint64_t protocol_features_ = 0;
  std::unique_ptr<sim::GuestMemory> memory_;
  std::vector<std::unique_ptr<Vring>> vrings_;
  bool active_ = false;
};

}  // namespace vhost_user

#endif  // VHOST_USER_DEVICE_H_
