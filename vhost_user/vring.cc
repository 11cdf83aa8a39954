#include "vhost_user/vring.h"

#include <linux/virtio_ring.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/packed_device_queue.h"
#include "sim/split_device_queue.h"

namespace vhost_user {
namespace {

void Signal(int eventfd) {
  const uint64_t one = 1;
  // A full counter (never in practice) still leaves the fd readable.
  [[maybe_unused]] ssize_t written = write(eventfd, &one, sizeof(one));
}

void ConsumeEvent(int eventfd) {
  uint64_t count;
  [[maybe_unused]] ssize_t read_bytes = read(eventfd, &count, sizeof(count));
}

// "position 3 (wrap 1)" for an encoded packed cursor.
constexpr uint16_t kPositionMask = sim::kPackedWrapBit - 1;
std::string DescribeCursor(uint16_t cursor) {
  return absl::StrCat("position ", cursor & kPositionMask, " (wrap ",
                      (cursor & sim::kPackedWrapBit) ? 1 : 0, ")");
}

}  // namespace

Vring::Vring(uint16_t index, uint16_t max_size, ViolationSink on_violation)
    : index_(index),
      max_size_(max_size),
      on_violation_(std::move(on_violation)) {}

Vring::~Vring() { Stop(); }

absl::Status Vring::CheckSize(uint32_t size, bool packed) const {
  if (sim::IsValidQueueSize(size, max_size_, packed)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("vring ", index_, " size ", size, " is not ",
                   packed ? "from 1 to " : "a power of two from 1 to ",
                   max_size_, " (", packed ? "packed" : "split", " ring)"));
}

absl::Status Vring::CheckBase(uint32_t base, uint32_t size, bool packed) const {
  if (!packed) {
    if (base <= UINT16_MAX) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrFormat(
        "vring %d base 0x%x of a split ring is above 65535 (bits 16-31 are "
        "reserved)",
        index_, base));
  }
  if (size == 0) return absl::OkStatus();  // Start checks it with the size.
  const uint16_t avail = PackedAvailCursor(base);
  const uint16_t used = PackedUsedCursor(base);
  for (const auto& [cursor, name] :
       {std::pair{avail, "avail"}, std::pair{used, "used"}}) {
    if (!sim::IsValidPackedQueueCursor(cursor, size)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "vring %d base 0x%08x: the %s cursor (%s) is beyond the packed "
          "ring's %d entries",
          index_, base, name, DescribeCursor(cursor), size));
    }
  }
  // The device holds the descriptors from the used cursor up to the avail
  // one, at most a ring's worth: counted on two laps, where the wrap counters
  // tell the laps apart (both cursors start at position 0 with wrap 1).
  const auto on_two_laps = [size](uint16_t cursor) {
    return (cursor & kPositionMask) +
           ((cursor & sim::kPackedWrapBit) ? 0 : size);
  };
  const uint32_t held =
      (on_two_laps(avail) + 2 * size - on_two_laps(used)) % (2 * size);
  if (held > size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "vring %d base 0x%08x: the used cursor (%s) is ahead of the avail "
        "cursor (%s)",
        index_, base, DescribeCursor(used), DescribeCursor(avail)));
  }
  return absl::OkStatus();
}

absl::Status Vring::SetSize(uint32_t size, bool packed) {
  if (running()) {
    return absl::InvalidArgumentError(
        absl::StrCat("vring ", index_, " size set while it runs"));
  }
  if (absl::Status valid = CheckSize(size, packed); !valid.ok()) return valid;
  size_ = size;
  return absl::OkStatus();
}

absl::Status Vring::SetBase(uint32_t base, bool packed) {
  if (running()) {
    return absl::InvalidArgumentError(
        absl::StrCat("vring ", index_, " base set while it runs"));
  }
  if (absl::Status valid = CheckBase(base, size_, packed); !valid.ok()) {
    return valid;
  }
  base_ = base;
  return absl::OkStatus();
}

absl::Status Vring::SetAddresses(const VringAddresses& addresses) {
  if (running()) {
    return absl::InvalidArgumentError(
        absl::StrCat("vring ", index_, " addresses set while it runs"));
  }
  addresses_ = addresses;
  return absl::OkStatus();
}

void Vring::SetCall(UniqueFd call) {
  std::lock_guard<std::mutex> lock(call_mutex_);
  call_ = std::move(call);
}

void Vring::SetEnabled(bool enabled) {
  enabled_.store(enabled, std::memory_order_release);
  if (enabled && running()) Wake();
}

void Vring::Wake() { Signal(wake_.get()); }

absl::Status Vring::Start(const sim::GuestMemory& memory,
                          const sim::QueueFeatures& features,
                          sim::DeviceBackend& backend) {
  if (running()) return absl::OkStatus();
  if (size_ == 0 || !addresses_ || !kick_.valid()) {
    return absl::InvalidArgumentError(
        absl::StrCat("vring ", index_, " started without ",
                     size_ == 0    ? "a size"
                     : !addresses_ ? "addresses"
                                   : "a kick eventfd"));
  }
  if (absl::Status valid = CheckSize(size_, features.packed); !valid.ok()) {
    return valid;
  }
  if (absl::Status valid = CheckBase(base_, size_, features.packed);
      !valid.ok()) {
    return valid;
  }
  // The ring addresses are the front-end's: each part must lie in one region.
  sim::QueueLayout layout;
  layout.size = static_cast<uint16_t>(size_);
  struct Part {
    const char* name;
    uint64_t address;
    uint64_t bytes;
    uint64_t* bus;
  };
  const Part split[] = {
      {"descriptor table", addresses_->desc, sizeof(vring_desc) * size_,
       &layout.desc},
      {"available ring", addresses_->avail, 6 + 2ull * size_, &layout.driver},
      {"used ring", addresses_->used, 6 + sizeof(vring_used_elem) * size_,
       &layout.device},
  };
  const Part packed[] = {
      {"descriptor ring", addresses_->desc, sizeof(vring_packed_desc) * size_,
       &layout.desc},
      {"driver event suppression area", addresses_->avail,
       sizeof(vring_packed_desc_event), &layout.driver},
      {"device event suppression area", addresses_->used,
       sizeof(vring_packed_desc_event), &layout.device},
  };
  for (const Part& part : features.packed ? packed : split) {
    std::optional<uint64_t> bus =
        memory.BusAddressOfFrontend(part.address, part.bytes);
    if (!bus) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "vring %d %s at front-end address 0x%x (+%d) is outside every memory "
          "region",
          index_, part.name, part.address, part.bytes));
    }
    *part.bus = *bus;
  }
  if (std::optional<sim::ViolationRecord> bad =
          sim::CheckQueueLayout(memory, layout, features.packed)) {
    return absl::InvalidArgumentError(
        absl::StrCat("vring ", index_, ": ", bad->message));
  }
  UniqueFd wake(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) {
    return absl::InternalError(absl::StrCat("eventfd: ", strerror(errno)));
  }
  std::unique_ptr<sim::DeviceQueue> queue;
  if (features.packed) {
    // Neither cursor is in guest memory: both come from the base.
    queue = std::make_unique<sim::PackedDeviceQueue>(
        memory, index_, layout, features, PackedAvailCursor(base_),
        PackedUsedCursor(base_));
  } else {
    // The driver may have used elements already (a ring taken over): carry
    // on from the used ring's own index.
    uint16_t used_idx;
    memory.Read(layout.device + offsetof(vring_used, idx), &used_idx,
                sizeof(used_idx));
    queue = std::make_unique<sim::SplitDeviceQueue>(
        memory, index_, layout, features, static_cast<uint16_t>(base_),
        used_idx);
  }
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    queue_ = std::move(queue);
  }
  packed_ = features.packed;
  wake_ = std::move(wake);
  stop_.store(false);
  thread_ = std::thread(&Vring::Run, this, &backend);
  return absl::OkStatus();
}

uint32_t Vring::Stop() {
  if (running()) {
    stop_.store(true);
    Wake();
    thread_.join();
    wake_.Reset();
  }
  std::lock_guard<std::mutex> lock(queue_mutex_);
  if (queue_) {
    base_ = packed_
                ? PackedVringBase(queue_->last_avail_idx(), queue_->used_idx())
                : queue_->last_avail_idx();
    queue_.reset();
  }
  return base_;
}

std::string Vring::Describe() const {
  if (!packed_) {
    return absl::StrCat("split ring of ", size_, " from avail index ", base_);
  }
  return absl::StrCat("packed ring of ", size_, " from avail ",
                      DescribeCursor(PackedAvailCursor(base_)), ", used ",
                      DescribeCursor(PackedUsedCursor(base_)));
}

std::string Vring::DescribeState() {
  std::lock_guard<std::mutex> lock(queue_mutex_);
  return queue_ ? queue_->DescribeState() : "not started";
}

void Vring::Run(sim::DeviceBackend* backend) {
  pollfd fds[2] = {{kick_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  // A kick may have come before the thread: look once at the start.
  bool look = true;
  while (!stop_.load()) {
    if (look && enabled_.load(std::memory_order_acquire) && !Drain(*backend)) {
      return;  // Stopped by a violation: wait for Stop.
    }
    backend->Idle();
    if (poll(fds, 2, -1) < 0 && errno != EINTR) return;
    look = false;
    if (fds[0].revents & POLLIN) {
      ConsumeEvent(kick_.get());
      look = true;
    }
    if (fds[1].revents & POLLIN) {
      ConsumeEvent(wake_.get());
      look = true;
    }
    if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) return;
  }
}

bool Vring::Drain(sim::DeviceBackend& backend) {
  for (;;) {
    sim::DescriptorChain chain;
    sim::ViolationRecord violation;
    sim::DeviceQueue::PopStatus status;
    {
      std::lock_guard<std::mutex> lock(queue_mutex_);
      status = queue_->Pop(&chain, &violation);
    }
    if (status == sim::DeviceQueue::PopStatus::kEmpty) return true;
    if (status == sim::DeviceQueue::PopStatus::kViolation) {
      violation.queue = index_;
      if (on_violation_) on_violation_(violation);
      return false;
    }
    if (std::optional<uint32_t> used = backend.HandleChain(chain)) {
      Complete(chain.head, *used);
    }
  }
}

void Vring::Complete(uint16_t head, uint32_t used_length, bool notify) {
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    if (!queue_ || !queue_->PushUsed(head, used_length)) return;
    notify = notify && queue_->TakeInterruptDue();
  }
  if (!notify) return;
  std::lock_guard<std::mutex> lock(call_mutex_);
  if (call_.valid()) Signal(call_.get());
}

}  // namespace vhost_user
