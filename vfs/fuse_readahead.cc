#include "vfs/fuse_readahead.h"

#include <cstring>
#include <utility>

namespace vfs::fusefs {
namespace {

std::span<uint8_t> AsBytes(std::span<std::byte> buffer) {
  return {reinterpret_cast<uint8_t*>(buffer.data()), buffer.size()};
}

}  // namespace

Readahead::~Readahead() {
  pending_.Drop();  // The device stops writing into the window first.
  for (Window& window : windows_) {
    if (window.memory.has_value()) budget_.Give(window_bytes_);
  }
}

void Readahead::Drop() {
  pending_.Drop();
  SpinGuard guard(lock_);
  ahead_ = false;
}

base::Result<size_t> Readahead::Read(std::span<std::byte> buffer,
                                     uint64_t offset, uint64_t data_version,
                                     uint64_t version,
                                     const ReadTarget& target) {
  const size_t size = buffer.size();
  const bool small = size > 0 && size <= window_bytes_ / 8;
  Plan plan = Plan::kDirect;
  if (window_bytes_ != 0) {
    SpinGuard guard(lock_);
    const bool sequential = offset == next_offset_;
    next_offset_ = offset + size;
    if (small && CopyLocked(buffer, offset, data_version)) {
      plan = sequential && TakeToSendAheadLocked() ? Plan::kServedSendAhead
                                                   : Plan::kServed;
    } else if (small && sequential && !busy_) {
      busy_ = true;
      plan = Plan::kTakeOver;
    }
  }
  switch (plan) {
    case Plan::kServed:
      return size;
    case Plan::kServedSendAhead:
      SendAhead(version, target);
      return size;
    case Plan::kTakeOver:
      return Refill(buffer, offset, data_version, version, target);
    case Plan::kDirect:
      break;
  }
  return target.client.Read(target.nodeid, target.fh, offset, AsBytes(buffer));
}

bool Readahead::CopyLocked(std::span<std::byte> buffer, uint64_t offset,
                           uint64_t data_version) {
  const Window& window = windows_[current_];
  if (!window.valid || window.version < data_version || offset < window.start ||
      offset + buffer.size() > window.start + window.length) {
    return false;
  }
  memcpy(buffer.data(), window.memory->data() + (offset - window.start),
         buffer.size());
  return true;
}

bool Readahead::CanSendAheadLocked() const {
  const Window& window = windows_[current_];
  return !ahead_ && window.valid && window.length == window_bytes_;
}

bool Readahead::TakeToSendAheadLocked() {
  if (busy_ || !CanSendAheadLocked()) return false;
  busy_ = true;
  return true;
}

base::Result<size_t> Readahead::Refill(std::span<std::byte> buffer,
                                       uint64_t offset, uint64_t data_version,
                                       uint64_t version,
                                       const ReadTarget& target) {
  // Whether the window sent ahead serves this read: made current when the
  // reader went there, dropped otherwise.
  bool served = false;
  if (ahead_) {
    base::Result<size_t> got = target.client.FinishRead(pending_);
    SpinGuard guard(lock_);
    ahead_ = false;
    if (got.ok() && offset >= ahead_start_ &&
        offset - ahead_start_ < window_bytes_) {
      windows_[current_].valid = false;
      current_ = 1 - current_;
      Window& window = windows_[current_];
      window.valid = true;
      window.start = ahead_start_;
      window.length = got.value();
      window.version = ahead_version_;
    }
    served = CopyLocked(buffer, offset, data_version);
  }
  size_t copied = buffer.size();
  if (!served) {
    // Filled now, in the current window, which nobody copies from meanwhile.
    Window& window = windows_[current_];
    {
      SpinGuard guard(lock_);
      window.valid = false;
    }
    if (!window.memory.has_value() && !Allocate(window, 0)) {
      // No memory for a window: this read goes as it is.
      GiveBack();
      return target.client.Read(target.nodeid, target.fh, offset,
                                AsBytes(buffer));
    }
    base::Result<size_t> got = target.client.Read(
        target.nodeid, target.fh, offset, AsBytes(Memory(window)));
    if (!got.ok()) {
      GiveBack();
      return got;
    }
    copied = got.value() < buffer.size() ? got.value() : buffer.size();
    memcpy(buffer.data(), window.memory->data(), copied);
    SpinGuard guard(lock_);
    window.valid = true;
    window.start = offset;
    window.length = got.value();
    window.version = version;
  }
  // The first read out of a window read ahead sends the next one's READ (a
  // window filled now waits for its first read, as Linux's initial
  // read-ahead marks the page after the one asked for).
  bool send_ahead = false;
  {
    SpinGuard guard(lock_);
    send_ahead = served && CanSendAheadLocked();
    if (!send_ahead) busy_ = false;
  }
  if (send_ahead) SendAhead(version, target);
  return copied;
}

void Readahead::GiveBack() {
  SpinGuard guard(lock_);
  busy_ = false;
}

void Readahead::SendAhead(uint64_t version, const ReadTarget& target) {
  // The window that is not current holds nothing valid: it is the one sent
  // ahead, received and made current, or never filled.
  const Window& current = windows_[current_];
  const uint64_t start = current.start + current.length;
  Window& next = windows_[1 - current_];
  bool sent = false;
  if (next.memory.has_value() ||
      Allocate(next, ReadaheadBudget::kMaxBytes / 2)) {
    sent = target.client
               .StartRead(target.nodeid, target.fh, start,
                          AsBytes(Memory(next)), pending_)
               .ok();
  }
  SpinGuard guard(lock_);
  ahead_ = sent;
  ahead_start_ = start;
  ahead_version_ = version;
  busy_ = false;
}

bool Readahead::Allocate(Window& window, size_t keep_free) {
  if (!budget_.Take(window_bytes_, keep_free)) return false;
  base::Result<base::DmaBuffer> memory =
      base::DmaBuffer::Allocate(platform_, window_bytes_);
  if (!memory.ok()) {
    budget_.Give(window_bytes_);
    return false;
  }
  window.memory.emplace(std::move(memory.value()));
  return true;
}

}  // namespace vfs::fusefs
