// sim::TracingBackend: a DeviceBackend that wraps another (the virtio-fs
// device) and reports each FUSE request it handles, as the device saw it, to
// an observer: the request's header and arguments copied out of the chain's
// readable buffers, the reply header read back from its writable buffers, and
// how long the inner backend took.
//
//   auto traced = std::make_unique<sim::TracingBackend>(
//       std::move(fs_device), [](const sim::FuseTraceEvent& e) {
//         fprintf(stderr, "%s\n", sim::FormatFuseTraceLine(e).c_str());
//       });
//
// Every other method is forwarded unchanged. The copies are bounded by the
// buffers the model handed over and by the used length; nothing the driver put
// in a header is trusted. Chains the inner backend defers are reported when it
// completes them (the completer given to Activate is wrapped).
//
// The observer runs on the thread that handles the chain (the notifying thread
// in inline mode, the device thread otherwise) and may run concurrently for
// different queues: it must be thread-safe and must not call into the device.
#ifndef SIM_TRACING_BACKEND_H_
#define SIM_TRACING_BACKEND_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "sim/device_backend.h"
#include "sim/fuse_trace.h"

namespace sim {

class TracingBackend : public DeviceBackend {
 public:
  using Observer = std::function<void(const FuseTraceEvent&)>;
  // The fault injected into a chain, for its event (sim::FaultingBackend's
  // TakeInjected); empty when none was.
  using FaultAnnotator =
      std::function<std::string(uint16_t queue, uint16_t head)>;

  // Request bytes copied per chain: the header, the largest fixed argument
  // struct and two names of up to NAME_MAX, with room to spare.
  static constexpr size_t kMaxRequestCopy = 1024;
  // Reply bytes read back: the header and the largest fixed reply decoded
  // (fuse_entry_out + fuse_open_out).
  static constexpr size_t kMaxReplyCopy = 256;

  TracingBackend(std::unique_ptr<DeviceBackend> inner, Observer observer,
                 FaultAnnotator annotator = {});
  ~TracingBackend() override;

  DeviceBackend& inner() { return *inner_; }

  uint32_t device_id() const override { return inner_->device_id(); }
  uint64_t device_features() const override {
    return inner_->device_features();
  }
  uint16_t num_queues() const override { return inner_->num_queues(); }
  uint16_t ThreadQueue(uint16_t queue) const override {
    return inner_->ThreadQueue(queue);
  }
  uint16_t max_queue_size() const override { return inner_->max_queue_size(); }
  uint32_t config_size() const override { return inner_->config_size(); }
  void ReadConfig(uint32_t offset, void* out, uint32_t length) const override {
    inner_->ReadConfig(offset, out, length);
  }
  void WriteConfig(uint32_t offset, const void* data,
                   uint32_t length) override {
    inner_->WriteConfig(offset, data, length);
  }
  void Activate(uint64_t negotiated_features,
                ChainCompleter& completer) override;
  void Reset() override;
  std::optional<uint32_t> HandleChain(const DescriptorChain& chain) override;
  bool MayHandleLater(const DescriptorChain& chain) const override {
    return inner_->MayHandleLater(chain);
  }
  void Idle() override { inner_->Idle(); }

 private:
  // Completes deferred chains for the inner backend, reporting each.
  class TracingCompleter : public ChainCompleter {
   public:
    explicit TracingCompleter(TracingBackend& owner) : owner_(owner) {}
    void Complete(uint16_t queue, uint16_t head, uint32_t used_length) override;
    void CompleteWithoutNotification(uint16_t queue, uint16_t head,
                                     uint32_t used_length) override;
    ChainCompleter* outer = nullptr;

   private:
    // Reports the deferred chain's event.
    void Report(uint16_t queue, uint16_t head, uint32_t used_length);

    TracingBackend& owner_;
  };

  // A chain the inner backend deferred: its event so far and where its reply
  // will be written.
  struct Pending {
    FuseTraceEvent event;
    std::vector<GuestBuffer> writable;
    std::chrono::steady_clock::time_point started;
  };

  uint64_t NanosSinceStart(std::chrono::steady_clock::time_point t) const;
  // Reads the reply out of `writable` and reports the finished event.
  void Finish(FuseTraceEvent& event, const std::vector<GuestBuffer>& writable,
              uint32_t used_length,
              std::chrono::steady_clock::time_point started);

  std::unique_ptr<DeviceBackend> inner_;
  Observer observer_;
  FaultAnnotator annotator_;
  const std::chrono::steady_clock::time_point start_;
  TracingCompleter completer_;

  std::mutex pending_mutex_;
  std::map<std::pair<uint16_t, uint16_t>, Pending> pending_;
};

}  // namespace sim

#endif  // SIM_TRACING_BACKEND_H_
