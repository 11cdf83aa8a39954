#include "vhost_user/device.h"

#include <linux/virtio_config.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace vhost_user {
namespace {

constexpr uint64_t kProtocolFeatures = kProtocolMq | kProtocolReplyAck;

absl::Status Refuse(const Message& message, const std::string& why) {
  return absl::InvalidArgumentError(
      absl::StrCat(RequestName(message.header.request), ": ", why));
}

// The payload as `T`, or why not.
template <typename T>
absl::StatusOr<T> Payload(const Message& message) {
  std::optional<T> value = message.PayloadAs<T>();
  if (!value) {
    return Refuse(message, absl::StrCat("payload of ", message.payload.size(),
                                        " bytes, ", sizeof(T), " expected"));
  }
  return *value;
}

// Requests the spec answers with a reply of their own.
bool ExpectsReply(uint32_t request) {
  switch (request) {
    case kGetFeatures:
    case kGetProtocolFeatures:
    case kGetQueueNum:
    case kGetVringBase:
    case kGetConfig:
    case kGetMaxMemSlots:
    case kGetStatus:
      return true;
    default:
      return false;
  }
}

// Requests that carry file descriptors, and how many.
size_t FdsExpected(const Message& message) {
  switch (message.header.request) {
    case kSetMemTable: {
      uint32_t regions = 0;
      if (message.payload.size() >= sizeof(regions)) {
        std::memcpy(&regions, message.payload.data(), sizeof(regions));
      }
      return regions;
    }
    case kSetVringKick:
    case kSetVringCall:
    case kSetVringErr: {
      std::optional<uint64_t> value = message.PayloadAs<uint64_t>();
      return value && !(*value & kVringNoFdFlag) ? 1 : 0;
    }
    default:
      return 0;
  }
}

// The negotiated features for the log: the transport and ring bits by name,
// the device's own by number.
std::string FeatureNames(uint64_t features) {
  static constexpr struct {
    uint64_t mask;
    const char* name;
  } kNames[] = {
      {1ull << VIRTIO_F_VERSION_1, "VERSION_1"},
      {1ull << VIRTIO_F_RING_PACKED, "RING_PACKED"},
      {1ull << VIRTIO_RING_F_INDIRECT_DESC, "INDIRECT_DESC"},
      {1ull << VIRTIO_RING_F_EVENT_IDX, "EVENT_IDX"},
      {kFeatureProtocolFeatures, "PROTOCOL_FEATURES"},
  };
  std::string names;
  uint64_t rest = features;
  for (const auto& [mask, name] : kNames) {
    if (!(features & mask)) continue;
    absl::StrAppend(&names, names.empty() ? "" : "|", name);
    rest &= ~mask;
  }
  for (int bit = 0; bit < 64; ++bit) {
    if (rest & (1ull << bit)) {
      absl::StrAppend(&names, names.empty() ? "" : "|", "bit ", bit);
    }
  }
  return absl::StrFormat("%s (0x%x)", names.empty() ? "none" : names, features);
}

}  // namespace

Device::Device(sim::DeviceBackend& backend, DeviceOptions options)
    : backend_(backend),
      options_(std::move(options)),
      offered_features_(
          (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
          (1ull << VIRTIO_RING_F_EVENT_IDX) |
          (options_.packed_rings ? 1ull << VIRTIO_F_RING_PACKED : 0) |
          kFeatureProtocolFeatures | backend.device_features()) {
  const uint16_t max_size = backend_.max_queue_size() < sim::kMaxQueueSize
                                ? backend_.max_queue_size()
                                : sim::kMaxQueueSize;
  for (uint16_t i = 0; i < backend_.num_queues(); ++i) {
    vrings_.push_back(
        std::make_unique<Vring>(i, max_size, options_.on_violation));
  }
}

Device::~Device() { StopAll(); }

void Device::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

absl::Status Device::Serve(int fd) {
  absl::Status ended;
  for (;;) {
    absl::StatusOr<Message> message = ReceiveMessage(fd);
    if (!message.ok()) {
      if (!absl::IsNotFound(message.status())) ended = message.status();
      break;
    }
    ended = Handle(fd, *message);
    if (!ended.ok()) break;
  }
  if (!ended.ok())
    Log(absl::StrCat("closing the connection: ", ended.message()));
  StopAll();
  memory_.reset();
  features_ = protocol_features_ = 0;
  return ended;
}

absl::Status Device::Handle(int fd, Message& message) {
  const bool need_reply = (message.header.flags & kNeedReplyFlag) &&
                          (protocol_features_ & kProtocolReplyAck);
  absl::Status status;
  if (message.fds.size() != FdsExpected(message)) {
    status =
        Refuse(message, absl::StrCat(message.fds.size(), " file descriptors, ",
                                     FdsExpected(message), " expected"));
  }
  bool replied = false;
  if (status.ok()) status = Dispatch(fd, message, &replied);
  if (!status.ok()) Log(absl::StrCat("refused ", status.message()));
  // A request whose reply is its answer (GET_*) cannot be NACKed with a u64:
  // refusing it ends the connection.
  if (!status.ok() && ExpectsReply(message.header.request)) return status;
  if (need_reply && !replied) {
    // REPLY_ACK: 0 for success, non-zero for a refusal; the connection stays.
    absl::Status sent = SendU64Reply(fd, message.header, status.ok() ? 0 : 1);
    return sent;
  }
  return status;
}

absl::Status Device::Dispatch(int fd, Message& message, bool* replied) {
  const Header& header = message.header;
  switch (header.request) {
    case kGetFeatures:
      *replied = true;
      return SendU64Reply(fd, header, offered_features_);
    case kSetFeatures: {
      absl::StatusOr<uint64_t> features = Payload<uint64_t>(message);
      if (!features.ok()) return features.status();
      if (*features & ~offered_features_) {
        return Refuse(message, absl::StrFormat(
                                   "features 0x%x include some not offered "
                                   "(0x%x)",
                                   *features, *features & ~offered_features_));
      }
      if (active_) return Refuse(message, "features changed while running");
      features_ = *features;
      Log(absl::StrCat("features: ", FeatureNames(features_)));
      return absl::OkStatus();
    }
    case kGetProtocolFeatures:
      *replied = true;
      return SendU64Reply(fd, header, kProtocolFeatures);
    case kSetProtocolFeatures: {
      absl::StatusOr<uint64_t> features = Payload<uint64_t>(message);
      if (!features.ok()) return features.status();
      if (*features & ~kProtocolFeatures) {
        return Refuse(message,
                      absl::StrFormat("protocol features 0x%x not offered",
                                      *features & ~kProtocolFeatures));
      }
      protocol_features_ = *features;
      return absl::OkStatus();
    }
    case kGetQueueNum:
      *replied = true;
      return SendU64Reply(fd, header, backend_.num_queues());
    case kSetOwner:
      return absl::OkStatus();
    case kResetOwner:
    case kResetDevice:
      StopAll();
      return absl::OkStatus();
    case kSetMemTable:
      return SetMemTable(message);
    case kSetVringNum:
    case kSetVringBase:
    case kSetVringEnable: {
      absl::StatusOr<vhost_vring_state> state =
          Payload<vhost_vring_state>(message);
      if (!state.ok()) return state.status();
      absl::StatusOr<Vring*> vring = VringAt(state->index);
      if (!vring.ok())
        return Refuse(message, std::string(vring.status().message()));
      if (header.request == kSetVringNum) {
        return (*vring)->SetSize(state->num, packed());
      }
      if (header.request == kSetVringBase) {
        return (*vring)->SetBase(state->num, packed());
      }
      if (state->num > 1) {
        return Refuse(message, absl::StrCat("enable value ", state->num));
      }
      (*vring)->SetEnabled(state->num == 1);
      return absl::OkStatus();
    }
    case kSetVringAddr: {
      absl::StatusOr<vhost_vring_addr> addr =
          Payload<vhost_vring_addr>(message);
      if (!addr.ok()) return addr.status();
      absl::StatusOr<Vring*> vring = VringAt(addr->index);
      if (!vring.ok())
        return Refuse(message, std::string(vring.status().message()));
      if (addr->flags & (1u << VHOST_VRING_F_LOG)) {
        return Refuse(message, "dirty logging is not offered");
      }
      return (*vring)->SetAddresses(
          {addr->desc_user_addr, addr->avail_user_addr, addr->used_user_addr});
    }
    case kGetVringBase: {
      absl::Status stopped = StopVring(fd, message);
      *replied = stopped.ok();
      return stopped;
    }
    case kSetVringKick:
    case kSetVringCall:
    case kSetVringErr:
      return SetVringFd(message);
    default:
      // Nothing else was offered: a request that expects a reply cannot be
      // answered, so the connection ends (unless REPLY_ACK can say no).
      return Refuse(message, absl::StrCat("request ", header.request,
                                          " is not supported"));
  }
}

absl::StatusOr<Vring*> Device::VringAt(uint64_t index) {
  if (index >= vrings_.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "vring ", index, " does not exist (", vrings_.size(), " queues)"));
  }
  return vrings_[index].get();
}

absl::Status Device::SetMemTable(Message& message) {
  if (message.payload.size() < 8) {
    return Refuse(message, "payload shorter than the region count");
  }
  uint32_t count;
  std::memcpy(&count, message.payload.data(), sizeof(count));
  if (count == 0 || count > kMaxMemoryRegions) {
    return Refuse(message, absl::StrCat(count, " regions (1 to ",
                                        kMaxMemoryRegions, ")"));
  }
  if (message.payload.size() != 8 + count * sizeof(MemoryRegion)) {
    return Refuse(message, absl::StrCat("payload of ", message.payload.size(),
                                        " bytes for ", count, " regions"));
  }
  std::vector<sim::GuestMemory::RegionSpec> specs;
  for (uint32_t i = 0; i < count; ++i) {
    MemoryRegion region;
    std::memcpy(&region, message.payload.data() + 8 + i * sizeof(region),
                sizeof(region));
    specs.push_back({region.guest_address, region.size, region.user_address,
                     region.mmap_offset, message.fds[i].get()});
  }
  absl::StatusOr<std::unique_ptr<sim::GuestMemory>> memory =
      sim::GuestMemory::MapRegions(specs);
  if (!memory.ok()) {
    return Refuse(message, std::string(memory.status().message()));
  }
  // The rings point into the old table: they stop, then resume on the new.
  std::vector<Vring*> resume;
  for (auto& vring : vrings_) {
    if (vring->running()) {
      vring->Stop();
      resume.push_back(vring.get());
    }
  }
  memory_ = std::move(*memory);
  for (Vring* vring : resume) {
    if (absl::Status started = StartVring(*vring); !started.ok()) {
      Log(absl::StrCat("vring ", vring->index(),
                       " not resumed: ", started.message()));
    }
  }
  Log(absl::StrCat("memory table: ", memory_->Describe()));
  return absl::OkStatus();
}

absl::Status Device::SetVringFd(Message& message) {
  absl::StatusOr<uint64_t> value = Payload<uint64_t>(message);
  if (!value.ok()) return value.status();
  if (*value & ~(kVringIndexMask | kVringNoFdFlag)) {
    return Refuse(message, absl::StrFormat("reserved bits in 0x%x", *value));
  }
  absl::StatusOr<Vring*> found = VringAt(*value & kVringIndexMask);
  if (!found.ok())
    return Refuse(message, std::string(found.status().message()));
  Vring& vring = **found;
  UniqueFd fd = message.fds.empty() ? UniqueFd() : std::move(message.fds[0]);
  switch (message.header.request) {
    case kSetVringCall:
      vring.SetCall(std::move(fd));
      return absl::OkStatus();
    case kSetVringErr:
      vring.SetErr(std::move(fd));
      return absl::OkStatus();
    default:
      break;
  }
  if (!fd.valid()) {
    return Refuse(message,
                  "polling a ring without a kick eventfd is not offered");
  }
  // A new kick eventfd (re)starts the ring.
  vring.Stop();
  vring.SetKick(std::move(fd));
  return StartVring(vring);
}

absl::Status Device::StartVring(Vring& vring) {
  if (!memory_) {
    return absl::InvalidArgumentError(
        absl::StrCat("vring ", vring.index(), " started before SET_MEM_TABLE"));
  }
  // Without protocol features a ring is enabled as it starts.
  if (!(features_ & kFeatureProtocolFeatures)) vring.SetEnabled(true);
  if (!active_) {
    backend_.Activate(features_, *this);
    active_ = true;
  }
  const sim::QueueFeatures features{
      .indirect_desc = ((features_ >> VIRTIO_RING_F_INDIRECT_DESC) & 1) != 0,
      .event_idx = ((features_ >> VIRTIO_RING_F_EVENT_IDX) & 1) != 0,
      .packed = packed(),
      .strict = options_.strict};
  absl::Status started = vring.Start(*memory_, features, backend_);
  if (started.ok()) {
    Log(absl::StrCat("vring ", vring.index(), " started: ", vring.Describe()));
  }
  return started;
}

bool Device::packed() const {
  return ((features_ >> VIRTIO_F_RING_PACKED) & 1) != 0;
}

absl::Status Device::StopVring(int fd, const Message& message) {
  absl::StatusOr<vhost_vring_state> state = Payload<vhost_vring_state>(message);
  if (!state.ok()) return state.status();
  absl::StatusOr<Vring*> vring = VringAt(state->index);
  if (!vring.ok())
    return Refuse(message, std::string(vring.status().message()));
  vhost_vring_state reply{state->index, (*vring)->Stop()};
  bool any_running = false;
  for (auto& other : vrings_) any_running |= other->running();
  if (!any_running && active_) {
    // The front-end stopped the device: its FUSE session ends.
    backend_.Reset();
    active_ = false;
  }
  return SendReply(fd, message.header, &reply, sizeof(reply));
}

void Device::StopAll() {
  for (auto& vring : vrings_) {
    if (!vring->running()) continue;
    // Not stopped by the front-end first (QEMU killed, say): how the ring
    // stood tells a guest stuck waiting for a completion apart from one that
    // had all it asked for.
    Log(absl::StrCat("vring ", vring->index(),
                     " stopped while running: ", vring->DescribeState()));
    vring->Stop();
  }
  if (active_) {
    backend_.Reset();
    active_ = false;
  }
}

void Device::Complete(uint16_t queue, uint16_t head, uint32_t used_length) {
  if (queue < vrings_.size()) vrings_[queue]->Complete(head, used_length);
}

void Device::CompleteWithoutNotification(uint16_t queue, uint16_t head,
                                         uint32_t used_length) {
  if (queue < vrings_.size()) {
    vrings_[queue]->Complete(head, used_length, /*notify=*/false);
  }
}

}  // namespace vhost_user
