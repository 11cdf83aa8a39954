#include "sim/tracing_backend.h"

#include "sim/chain_io.h"

namespace sim {

TracingBackend::TracingBackend(std::unique_ptr<DeviceBackend> inner,
                               Observer observer, FaultAnnotator annotator)
    : inner_(std::move(inner)),
      observer_(std::move(observer)),
      annotator_(std::move(annotator)),
      start_(std::chrono::steady_clock::now()),
      completer_(*this) {}

TracingBackend::~TracingBackend() = default;

void TracingBackend::Activate(uint64_t negotiated_features,
                              ChainCompleter& completer) {
  completer_.outer = &completer;
  inner_->Activate(negotiated_features, completer_);
}

void TracingBackend::Reset() {
  inner_->Reset();
  // The chains the inner backend held are dropped with it.
  std::lock_guard<std::mutex> lock(pending_mutex_);
  pending_.clear();
}

std::optional<uint32_t> TracingBackend::HandleChain(
    const DescriptorChain& chain) {
  uint8_t request[kMaxRequestCopy];
  const size_t copied =
      ChainReader(chain.readable).ReadUpTo(request, sizeof(request));
  FuseTraceEvent event =
      DecodeFuseRequest(request, copied, chain.readable_bytes);
  event.queue = chain.queue;
  std::chrono::steady_clock::time_point started =
      std::chrono::steady_clock::now();
  event.time_nanos = NanosSinceStart(started);

  if (!observer_) return inner_->HandleChain(chain);
  {
    // Registered before the inner backend runs: it may complete the chain
    // from another thread before HandleChain returns.
    std::lock_guard<std::mutex> lock(pending_mutex_);
    pending_[{chain.queue, chain.head}] =
        Pending{event, chain.writable, started};
  }
  std::optional<uint32_t> used = inner_->HandleChain(chain);
  if (!used) return used;  // Reported when the completer is called.
  {
    std::lock_guard<std::mutex> lock(pending_mutex_);
    pending_.erase({chain.queue, chain.head});
  }
  if (annotator_) event.injected = annotator_(chain.queue, chain.head);
  Finish(event, chain.writable, *used, started);
  return used;
}

void TracingBackend::TracingCompleter::Complete(uint16_t queue, uint16_t head,
                                                uint32_t used_length) {
  Report(queue, head, used_length);
  if (outer != nullptr) outer->Complete(queue, head, used_length);
}

void TracingBackend::TracingCompleter::CompleteWithoutNotification(
    uint16_t queue, uint16_t head, uint32_t used_length) {
  Report(queue, head, used_length);
  if (outer != nullptr) {
    outer->CompleteWithoutNotification(queue, head, used_length);
  }
}

void TracingBackend::TracingCompleter::Report(uint16_t queue, uint16_t head,
                                              uint32_t used_length) {
  std::optional<Pending> pending;
  {
    std::lock_guard<std::mutex> lock(owner_.pending_mutex_);
    auto it = owner_.pending_.find({queue, head});
    if (it != owner_.pending_.end()) {
      pending = std::move(it->second);
      owner_.pending_.erase(it);
    }
  }
  // The reply is read before the chain is handed back to the driver, which may
  // reuse its buffers at once.
  if (pending) {
    if (owner_.annotator_) {
      pending->event.injected = owner_.annotator_(queue, head);
    }
    owner_.Finish(pending->event, pending->writable, used_length,
                  pending->started);
  }
}

uint64_t TracingBackend::NanosSinceStart(
    std::chrono::steady_clock::time_point t) const {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t - start_).count());
}

void TracingBackend::Finish(FuseTraceEvent& event,
                            const std::vector<GuestBuffer>& writable,
                            uint32_t used_length,
                            std::chrono::steady_clock::time_point started) {
  event.latency_nanos = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now() - started)
          .count());
  uint8_t reply[kMaxReplyCopy];
  const size_t limit =
      used_length < sizeof(reply) ? used_length : sizeof(reply);
  const size_t copied = ChainReader(writable).ReadUpTo(reply, limit);
  DecodeFuseReply(reply, copied, used_length, event);
  observer_(event);
}

}  // namespace sim
