// sim::FaultingBackend: a DeviceBackend that wraps the virtio-fs device and
// makes it misbehave as a sim::FaultPlan says (sim/fault_plan.h has the
// faults): wrong or missing replies, late or reordered completions, lost
// notifications, stalls, host errors, a device that needs a reset or loses its
// FUSE session. Requests no rule matches go straight through, and a plan
// without rules costs one check per request.
//
// Held completions (delay, delay-ms, hold, needs-reset) are completed through
// the completer Activate gave, later: after N more requests, after a time (a
// timer thread), or when the test or the shell releases them, in an order it
// chooses or a random one. A device reset drops them. The reply to a held
// request was written when it was held; only its completion waits.
//
// Each fault injected is recorded for the chain it hit, so that the FUSE trace
// can mark it (TakeInjected).
#ifndef SIM_FAULTING_BACKEND_H_
#define SIM_FAULTING_BACKEND_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sim/device_backend.h"
#include "sim/fault_plan.h"

namespace sim {

class FaultingBackend : public DeviceBackend {
 public:
  struct Hooks {
    // Sets DEVICE_NEEDS_RESET (the device model's).
    std::function<void()> needs_reset;
    // Ends the FUSE session (the virtio-fs device's server).
    std::function<void()> reset_session;
  };

  FaultingBackend(std::unique_ptr<DeviceBackend> inner, Hooks hooks);
  ~FaultingBackend() override;

  FaultPlan& plan() { return plan_; }
  DeviceBackend& inner() { return *inner_; }

  // Completions held now.
  size_t held() const;
  // Completes the held chains in `order` (indices into the held list as it is
  // now, oldest first; the ones not named stay held). False, and nothing
  // released, for an index out of range or named twice.
  bool ReleaseHeld(const std::vector<size_t>& order);
  // Completes every held chain, in a random order drawn from `seed`.
  void ReleaseAllRandomly(uint64_t seed);
  // The fault injected into the chain `head` of `queue`, and forgets it; empty
  // when none was.
  std::string TakeInjected(uint16_t queue, uint16_t head);

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
  struct Held {
    uint16_t queue;
    uint16_t head;
    uint32_t used_length;
    // Released after this many more requests (delay), at this time
    // (delay-ms), or only by hand (both unset).
    std::optional<uint64_t> after_requests;
    std::optional<std::chrono::steady_clock::time_point> at;
  };

  // Runs the inner backend on `chain` with `rule` applied; nullopt when the
  // completion is held or made here.
  std::optional<uint32_t> Apply(const FaultRule& rule,
                                const DescriptorChain& chain);
  void Hold(Held held);
  // Counts one request for delay=N, releasing what is due.
  void CountRequest();
  // Completes `held` (the lock held: a completion may not race a reset).
  void CompleteLocked(const Held& held);
  void TimerMain();

  std::unique_ptr<DeviceBackend> inner_;
  const Hooks hooks_;
  FaultPlan plan_;

  mutable std::mutex mutex_;
  std::condition_variable timer_wake_;
  ChainCompleter* completer_ = nullptr;  // Under mutex_.
  std::vector<Held> held_;
  // False only when held_ is empty (written under mutex_, read without it).
  std::atomic<bool> has_held_{false};
  std::map<std::pair<uint16_t, uint16_t>, std::string> injected_;
  bool stopping_ = false;
  std::thread timer_;
};

}  // namespace sim

#endif  // SIM_FAULTING_BACKEND_H_
