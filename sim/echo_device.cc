#include "sim/echo_device.h"

#include <algorithm>
#include <cstring>

namespace sim {

EchoDevice::EchoDevice(const Options& options) : options_(options) {}

void EchoDevice::Hold(uint32_t release_after) {
  std::lock_guard<std::mutex> lock(mutex_);
  hold_ = true;
  release_after_ = release_after;
}

void EchoDevice::CompleteImmediately() {
  std::lock_guard<std::mutex> lock(mutex_);
  hold_ = false;
}

std::vector<EchoDevice::HeldChain> EchoDevice::held() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return held_;
}

uint64_t EchoDevice::negotiated_features() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return negotiated_features_;
}

bool EchoDevice::active() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return completer_ != nullptr;
}

bool EchoDevice::CompleteHeld(uint16_t queue, uint16_t head) {
  std::vector<HeldChain> chosen;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it =
        std::find_if(held_.begin(), held_.end(), [&](const HeldChain& chain) {
          return chain.queue == queue && chain.head == head;
        });
    if (it == held_.end()) return false;
    chosen.push_back(*it);
    held_.erase(it);
  }
  CompleteList(chosen);
  return true;
}

size_t EchoDevice::CompleteAllHeld(bool reverse) {
  std::vector<HeldChain> chosen;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    chosen.swap(held_);
  }
  if (reverse) std::reverse(chosen.begin(), chosen.end());
  CompleteList(chosen);
  return chosen.size();
}

void EchoDevice::CompleteList(const std::vector<HeldChain>& chains) {
  // Called without mutex_: the model's Complete takes the model's lock, and the
  // model calls ReadConfig with its lock held.
  ChainCompleter* completer;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    completer = completer_;
  }
  if (completer == nullptr) return;
  for (const HeldChain& chain : chains)
    completer->Complete(chain.queue, chain.head, chain.length);
}

void EchoDevice::ReadConfig(uint32_t offset, void* out, uint32_t length) const {
  uint8_t config[kConfigSize] = {};
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const uint32_t magic = kConfigMagic;
    const uint16_t queues = options_.num_queues;
    std::memcpy(config + kConfigMagicOffset, &magic, 4);
    std::memcpy(config + kConfigNumQueuesOffset, &queues, 2);
    std::memcpy(config + kConfigScratchOffset, &scratch_, 4);
    std::memcpy(config + kConfigChainsHandledOffset, &chains_handled_, 4);
  }
  if (offset > kConfigSize || length > kConfigSize - offset) return;
  std::memcpy(out, config + offset, length);
}

void EchoDevice::WriteConfig(uint32_t offset, const void* data,
                             uint32_t length) {
  if (offset > kConfigSize || length > kConfigSize - offset) return;
  std::lock_guard<std::mutex> lock(mutex_);
  // Only the scratch word is writable; bytes outside it are dropped.
  uint8_t scratch[4];
  std::memcpy(scratch, &scratch_, 4);
  for (uint32_t i = 0; i < length; ++i) {
    const uint32_t at = offset + i;
    if (at >= kConfigScratchOffset && at < kConfigScratchOffset + 4) {
      scratch[at - kConfigScratchOffset] = static_cast<const uint8_t*>(data)[i];
    }
  }
  std::memcpy(&scratch_, scratch, 4);
}

void EchoDevice::Activate(uint64_t negotiated_features,
                          ChainCompleter& completer) {
  std::lock_guard<std::mutex> lock(mutex_);
  negotiated_features_ = negotiated_features;
  completer_ = &completer;
}

void EchoDevice::Reset() {
  std::lock_guard<std::mutex> lock(mutex_);
  completer_ = nullptr;
  negotiated_features_ = 0;
  held_.clear();
}

std::optional<uint32_t> EchoDevice::HandleChain(const DescriptorChain& chain) {
  // Copy readable bytes into writable bytes, buffer boundaries on both sides
  // independent.
  uint32_t copied = 0;
  size_t in = 0, out = 0;
  uint32_t in_offset = 0, out_offset = 0;
  while (in < chain.readable.size() && out < chain.writable.size()) {
    const GuestBuffer& source = chain.readable[in];
    const GuestBuffer& target = chain.writable[out];
    const uint32_t n =
        std::min(source.size - in_offset, target.size - out_offset);
    // memmove: the driver may have pointed both at overlapping guest memory.
    std::memmove(target.data + out_offset, source.data + in_offset, n);
    copied += n;
    in_offset += n;
    out_offset += n;
    if (in_offset == source.size) {
      ++in;
      in_offset = 0;
    }
    if (out_offset == target.size) {
      ++out;
      out_offset = 0;
    }
  }
  std::vector<HeldChain> release;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    chains_handled_++;
    if (!hold_) return copied;
    held_.push_back(HeldChain{chain.queue, chain.head, copied});
    if (release_after_ == 0 || held_.size() < release_after_)
      return std::nullopt;
    release.swap(held_);
  }
  // The model calls HandleChain without its lock, so completing from here is
  // allowed.
  std::reverse(release.begin(), release.end());
  CompleteList(release);
  return std::nullopt;
}

}  // namespace sim
