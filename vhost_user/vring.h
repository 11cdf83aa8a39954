// vhost_user::Vring: one virtqueue of a vhost-user device, as the front-end
// configures it (size, base, ring addresses in its own address space, kick,
// call and error eventfds, enable) and as the back-end runs it: started when
// its kick eventfd arrives, a thread that waits for kicks and hands each
// available chain to the device backend, stopped by GET_VRING_BASE.
//
// The ring itself is a sim::DeviceQueue over the front-end's guest memory, of
// the format the features negotiated (split, or packed with
// VIRTIO_F_RING_PACKED), with every rule of the simulation's strict checker: a
// violation is reported with the queue and the descriptor, and the ring stops
// taking chains (a vhost-user device has no status to set NEEDS_RESET in: the
// guest sees the queue's requests never complete).
//
// The format decides what size, base and addresses mean. The setters check a
// value against the format negotiated when it arrives, so that a bad one is
// refused by the message that carried it; Start checks them all again
// against the format it runs, since the spec orders none of these messages
// after SET_FEATURES.
#ifndef VHOST_USER_VRING_H_
#define VHOST_USER_VRING_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "sim/device_backend.h"
#include "sim/device_queue.h"
#include "sim/guest_memory.h"
#include "sim/violation.h"
#include "vhost_user/message.h"

namespace vhost_user {

// The ring addresses SET_VRING_ADDR gives, in the front-end's address space.
struct VringAddresses {
  uint64_t desc = 0;
  uint64_t avail = 0;
  uint64_t used = 0;
};

class Vring {
 public:
  using ViolationSink = std::function<void(const sim::ViolationRecord&)>;

  Vring(uint16_t index, uint16_t max_size, ViolationSink on_violation);
  ~Vring();  // Stops the thread.
  Vring(const Vring&) = delete;
  Vring& operator=(const Vring&) = delete;

  uint16_t index() const { return index_; }
  bool running() const { return thread_.joinable(); }

  // ---- Configuration, while stopped (InvalidArgument otherwise, or for a
  // value out of range). `packed`: VIRTIO_F_RING_PACKED is negotiated. ----
  // A power of two (split) or any size (packed) up to the maximum.
  absl::Status SetSize(uint32_t size, bool packed);
  // Where the ring resumes (protocol.h: PackedVringBase for packed rings);
  // a packed base's cursors are checked against the size once it is known.
  absl::Status SetBase(uint32_t base, bool packed);
  // The descriptor table, available and used rings (split), or the
  // descriptor ring and the driver and device event suppression areas
  // (packed); translated and checked by Start.
  absl::Status SetAddresses(const VringAddresses& addresses);
  void SetKick(UniqueFd kick) { kick_ = std::move(kick); }
  // The call eventfd may change while the ring runs (the front-end masks
  // and unmasks the guest's interrupt): an invalid one means no
  // notifications.
  void SetCall(UniqueFd call);
  void SetErr(UniqueFd err) { err_ = std::move(err); }
  // Disabled rings take no chains; enabling wakes the thread to look.
  void SetEnabled(bool enabled);

  // Starts taking chains for `backend` from `memory` (which must outlive the
  // run) in the format `features.packed` names: size, base and ring layout
  // are checked for it and the layout translated first. InvalidArgument (and
  // nothing started) when size, addresses or kick are missing or wrong for
  // the format, or the rings are not inside `memory`.
  absl::Status Start(const sim::GuestMemory& memory,
                     const sim::QueueFeatures& features,
                     sim::DeviceBackend& backend);
  // Stops the thread; returns the ring's base for GET_VRING_BASE, which is
  // also where a later Start resumes: the next avail index of a split ring,
  // both cursors of a packed one.
  uint32_t Stop();

  // The format, size and base of the last Start, for the log.
  std::string Describe() const;
  // While running: where the ring stands (sim::DeviceQueue::DescribeState).
  std::string DescribeState();

  // Puts a chain the backend completed on the used ring and signals the call
  // eventfd when the driver wants it (and `notify`). Thread-safe.
  void Complete(uint16_t head, uint32_t used_length, bool notify = true);

 private:
  void Run(sim::DeviceBackend* backend);
  // Takes every available chain; false when a violation stopped the ring.
  bool Drain(sim::DeviceBackend& backend);
  void Wake();
  absl::Status CheckSize(uint32_t size, bool packed) const;
  absl::Status CheckBase(uint32_t base, uint32_t size, bool packed) const;

  const uint16_t index_;
  const uint16_t max_size_;
  const ViolationSink on_violation_;

  uint32_t size_ = 0;
  uint32_t base_ = 0;
  bool packed_ = false;  // The format of the last Start.
  std::optional<VringAddresses> addresses_;
  UniqueFd kick_;
  UniqueFd err_;
  std::atomic<bool> enabled_{false};

  std::mutex call_mutex_;
  UniqueFd call_;

  // While running:
  UniqueFd wake_;  // An eventfd: stop, or enabled.
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex queue_mutex_;  // The DeviceQueue is not thread-safe.
  std::unique_ptr<sim::DeviceQueue> queue_;
};

}  // namespace vhost_user

#endif  // VHOST_USER_VRING_H_
