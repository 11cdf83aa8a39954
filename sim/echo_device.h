// EchoDevice: a test device type, so transports and virtqueues can be exercised
// before a real device type exists.
//
// Virtio device id 63 (kDeviceId): unassigned in virtio 1.2/1.3, and the
// highest id the modern PCI device id range 0x1040..0x107F can carry (PCI
// device id 0x107F). Each chain's device-readable bytes are copied, in order,
// into its device-writable buffers; the used length is the number of bytes
// copied (the smaller of the two totals). In hold mode the copy is made at once
// but completion is deferred: the test completes held chains explicitly, or
// they are completed in reverse order once `release_after` are held, so drivers
// see out-of-order completion. Configuration space (16 bytes, little endian):
// u32 magic "echo" at 0, u16 num_queues at 4, u16 reserved, u32 scratch at 8
// (driver-writable), u32 chains_handled at 12.
#ifndef SIM_ECHO_DEVICE_H_
#define SIM_ECHO_DEVICE_H_

#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "sim/device_backend.h"

namespace sim {

class EchoDevice : public DeviceBackend {
 public:
  static constexpr uint32_t kDeviceId = 63;
  static constexpr uint32_t kConfigMagic =
      0x6f686365;  // "echo" read as little endian.
  static constexpr uint32_t kConfigSize = 16;
  static constexpr uint32_t kConfigMagicOffset = 0;
  static constexpr uint32_t kConfigNumQueuesOffset = 4;
  static constexpr uint32_t kConfigScratchOffset = 8;
  static constexpr uint32_t kConfigChainsHandledOffset = 12;

  struct Options {
    uint16_t num_queues = 1;
    uint16_t max_queue_size = 256;
    uint64_t features = 0;  // Device-type feature bits offered (bits 0-23).
  };

  struct HeldChain {
    uint16_t queue;
    uint16_t head;
    uint32_t length;
  };

  EchoDevice() : EchoDevice(Options{}) {}
  explicit EchoDevice(const Options& options);

  // Hold chains instead of completing them. With `release_after` > 0, once that
  // many are held they are all completed, most recent first.
  void Hold(uint32_t release_after = 0);
  // Back to completing at once (held chains stay held until completed or
  // reset).
  void CompleteImmediately();
  std::vector<HeldChain> held() const;
  // Completes the held chain (queue, head); false when no such chain is held.
  bool CompleteHeld(uint16_t queue, uint16_t head);
  // Completes every held chain, most recent first when `reverse`. Returns how
  // many.
  size_t CompleteAllHeld(bool reverse = true);
  uint64_t negotiated_features() const;
  bool active() const;

  // DeviceBackend.
  uint32_t device_id() const override { return kDeviceId; }
  uint64_t device_features() const override { return options_.features; }
  uint16_t num_queues() const override { return options_.num_queues; }
  uint16_t max_queue_size() const override { return options_.max_queue_size; }
  uint32_t config_size() const override { return kConfigSize; }
  void ReadConfig(uint32_t offset, void* out, uint32_t length) const override;
  void WriteConfig(uint32_t offset, const void* data, uint32_t length) override;
  void Activate(uint64_t negotiated_features,
                ChainCompleter& completer) override;
  void Reset() override;
  std::optional<uint32_t> HandleChain(const DescriptorChain& chain) override;

 private:
  void CompleteList(const std::vector<HeldChain>& chains);

  const Options options_;
  mutable std::mutex mutex_;
  ChainCompleter* completer_ = nullptr;
  uint64_t negotiated_features_ = 0;
  bool hold_ = false;
  uint32_t release_after_ = 0;
  std::vector<HeldChain> held_;
  uint32_t scratch_ = 0;
  uint32_t chains_handled_ = 0;
};

}  // namespace sim

#endif  // SIM_ECHO_DEVICE_H_
