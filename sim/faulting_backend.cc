#include "sim/faulting_backend.h"

#include <linux/fuse.h>

#include <algorithm>
#include <cerrno>
#include <random>
#include <set>

#include "sim/chain_io.h"
#include "sim/host_faults.h"

namespace sim {
namespace {

// The request's header, when the chain has one.
std::optional<fuse_in_header> RequestHeader(const DescriptorChain& chain) {
  ChainReader reader(chain.readable);
  fuse_in_header header;
  if (!reader.Read(&header, sizeof(header))) return std::nullopt;
  return header;
}

// The reply header the device wrote, when there is one.
std::optional<fuse_out_header> ReplyHeader(const DescriptorChain& chain,
                                           uint32_t used_length) {
  if (used_length < sizeof(fuse_out_header)) return std::nullopt;
  ChainReader reader(chain.writable);
  fuse_out_header header;
  if (!reader.Read(&header, sizeof(header))) return std::nullopt;
  return header;
}

void WriteReplyHeader(const DescriptorChain& chain,
                      const fuse_out_header& header) {
  ChainWriter(chain.writable).WriteAt(0, &header, sizeof(header));
}

}  // namespace

FaultingBackend::FaultingBackend(std::unique_ptr<DeviceBackend> inner,
                                 Hooks hooks)
    : inner_(std::move(inner)), hooks_(std::move(hooks)) {
  timer_ = std::thread(&FaultingBackend::TimerMain, this);
}

FaultingBackend::~FaultingBackend() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  timer_wake_.notify_all();
  timer_.join();
}

void FaultingBackend::Activate(uint64_t negotiated_features,
                               ChainCompleter& completer) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    completer_ = &completer;
  }
  inner_->Activate(negotiated_features, completer);
}

void FaultingBackend::Reset() {
  {
    // The reset returns every chain: held completions are dropped, never
    // completed into the next session's rings.
    std::lock_guard<std::mutex> lock(mutex_);
    completer_ = nullptr;
    held_.clear();
    has_held_.store(false, std::memory_order_relaxed);
    injected_.clear();
  }
  inner_->Reset();
}

std::optional<uint32_t> FaultingBackend::HandleChain(
    const DescriptorChain& chain) {
  std::optional<FaultRule> rule;
  if (!plan_.empty()) {
    if (std::optional<fuse_in_header> header = RequestHeader(chain)) {
      rule = plan_.Match({.opcode = header->opcode,
                          .nodeid = header->nodeid,
                          .queue = chain.queue});
    }
  }
  std::optional<uint32_t> used;
  if (rule) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      injected_[{chain.queue, chain.head}] = rule->ToString();
    }
    used = Apply(*rule, chain);
  } else {
    used = inner_->HandleChain(chain);
  }
  CountRequest();
  return used;
}

std::optional<uint32_t> FaultingBackend::Apply(const FaultRule& rule,
                                               const DescriptorChain& chain) {
  const uint32_t writable = static_cast<uint32_t>(
      std::min<uint64_t>(chain.writable_bytes, UINT32_MAX));
  switch (rule.kind) {
    case FaultKind::kError:
    case FaultKind::kResetSession: {
      const int error = rule.kind == FaultKind::kError
                            ? static_cast<int>(rule.value)
                            : ENOTCONN;
      const std::optional<fuse_in_header> request = RequestHeader(chain);
      const fuse_out_header reply{sizeof(fuse_out_header), -error,
                                  request ? request->unique : 0};
      const uint32_t used = writable < sizeof(reply) ? 0 : sizeof(reply);
      if (used) WriteReplyHeader(chain, reply);
      if (rule.kind == FaultKind::kError) return used;
      // The session ends; this request is answered first, then the device
      // says it needs a reset, the only way a virtio device can say that it
      // lost its state.
      if (hooks_.reset_session) hooks_.reset_session();
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (completer_) completer_->Complete(chain.queue, chain.head, used);
      }
      if (hooks_.needs_reset) hooks_.needs_reset();
      return std::nullopt;
    }
    case FaultKind::kHostError: {
      ArmHostFault(static_cast<int>(rule.value));
      std::optional<uint32_t> used = inner_->HandleChain(chain);
      ArmHostFault(0);  // A request that made no host call leaves it unused.
      return used;
    }
    case FaultKind::kStallMillis:
      std::this_thread::sleep_for(std::chrono::milliseconds(rule.value));
      return inner_->HandleChain(chain);
    default:
      break;
  }
  std::optional<uint32_t> used = inner_->HandleChain(chain);
  if (!used) return used;  // The inner backend completes it itself.
  std::optional<fuse_out_header> reply = ReplyHeader(chain, *used);
  switch (rule.kind) {
    case FaultKind::kTruncateReply:
      return std::min<uint32_t>(*used, static_cast<uint32_t>(rule.value));
    case FaultKind::kWrongUnique:
      if (reply) {
        reply->unique += 2;
        WriteReplyHeader(chain, *reply);
      }
      return used;
    case FaultKind::kWrongLen:
      if (reply) {
        reply->len += 1;
        WriteReplyHeader(chain, *reply);
      }
      return used;
    case FaultKind::kOversize:
      return writable;
    case FaultKind::kDropNotification: {
      std::lock_guard<std::mutex> lock(mutex_);
      if (completer_) {
        completer_->CompleteWithoutNotification(chain.queue, chain.head, *used);
      }
      return std::nullopt;
    }
    case FaultKind::kDelayRequests:
      Hold({chain.queue, chain.head, *used, static_cast<uint64_t>(rule.value),
            std::nullopt});
      return std::nullopt;
    case FaultKind::kDelayMillis:
      Hold({chain.queue, chain.head, *used, std::nullopt,
            std::chrono::steady_clock::now() +
                std::chrono::milliseconds(rule.value)});
      return std::nullopt;
    case FaultKind::kHold:
      Hold({chain.queue, chain.head, *used, std::nullopt, std::nullopt});
      return std::nullopt;
    case FaultKind::kNeedsReset:
      Hold({chain.queue, chain.head, *used, std::nullopt, std::nullopt});
      if (hooks_.needs_reset) hooks_.needs_reset();
      return std::nullopt;
    default:
      return used;
  }
}

void FaultingBackend::Hold(Held held) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    held_.push_back(held);
    has_held_.store(true, std::memory_order_relaxed);
  }
  timer_wake_.notify_all();
}

void FaultingBackend::CountRequest() {
  // Most requests find nothing held: no lock for them.
  if (!has_held_.load(std::memory_order_relaxed)) return;
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = held_.begin(); it != held_.end();) {
    if (it->after_requests && (*it->after_requests)-- == 0) {
      CompleteLocked(*it);
      it = held_.erase(it);
    } else {
      ++it;
    }
  }
  has_held_.store(!held_.empty(), std::memory_order_relaxed);
}

void FaultingBackend::CompleteLocked(const Held& held) {
  if (completer_) completer_->Complete(held.queue, held.head, held.used_length);
}

size_t FaultingBackend::held() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return held_.size();
}

bool FaultingBackend::ReleaseHeld(const std::vector<size_t>& order) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::set<size_t> seen;
  for (size_t index : order) {
    if (index >= held_.size() || !seen.insert(index).second) return false;
  }
  for (size_t index : order) CompleteLocked(held_[index]);
  std::vector<Held> kept;
  for (size_t i = 0; i < held_.size(); ++i) {
    if (!seen.count(i)) kept.push_back(held_[i]);
  }
  held_ = std::move(kept);
  has_held_.store(!held_.empty(), std::memory_order_relaxed);
  return true;
}

void FaultingBackend::ReleaseAllRandomly(uint64_t seed) {
  std::vector<size_t> order(held());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
  ReleaseHeld(order);
}

std::string FaultingBackend::TakeInjected(uint16_t queue, uint16_t head) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = injected_.find({queue, head});
  if (it == injected_.end()) return {};
  std::string fault = std::move(it->second);
  injected_.erase(it);
  return fault;
}

void FaultingBackend::TimerMain() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    std::optional<std::chrono::steady_clock::time_point> next;
    const auto now = std::chrono::steady_clock::now();
    for (auto it = held_.begin(); it != held_.end();) {
      if (it->at && *it->at <= now) {
        CompleteLocked(*it);
        it = held_.erase(it);
        continue;
      }
      if (it->at && (!next || *it->at < *next)) next = it->at;
      ++it;
    }
    if (next) {
      timer_wake_.wait_until(lock, *next);
    } else {
      timer_wake_.wait(lock);
    }
  }
}

}  // namespace sim
