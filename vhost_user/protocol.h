// The vhost-user protocol as QEMU's docs/interop/vhost-user.rst specifies it:
// message header, request codes, flags, feature bits and payload layouts, for
// the back-end side. The vring state and address payloads are the kernel's
// <linux/vhost_types.h> structs, which the spec reuses; the memory table has
// its own layout (the fourth field is an mmap offset, not the kernel's flags).
#ifndef VHOST_USER_PROTOCOL_H_
#define VHOST_USER_PROTOCOL_H_

// <linux/vhost_types.h> includes <linux/virtio_ring.h>, whose legacy part
// (vring_init) is C that C++ rejects.
#ifndef VIRTIO_RING_NO_LEGACY
#define VIRTIO_RING_NO_LEGACY
#endif
#include <linux/vhost_types.h>

#include <cstddef>
#include <cstdint>

namespace vhost_user {

// Front-end requests (the "id" of each message type in the spec).
enum Request : uint32_t {
  kGetFeatures = 1,
  kSetFeatures = 2,
  kSetOwner = 3,
  kResetOwner = 4,
  kSetMemTable = 5,
  kSetLogBase = 6,
  kSetLogFd = 7,
  kSetVringNum = 8,
  kSetVringAddr = 9,
  kSetVringBase = 10,
  kGetVringBase = 11,
  kSetVringKick = 12,
  kSetVringCall = 13,
  kSetVringErr = 14,
  kGetProtocolFeatures = 15,
  kSetProtocolFeatures = 16,
  kGetQueueNum = 17,
  kSetVringEnable = 18,
  kSetBackendReqFd = 21,
  kGetConfig = 24,
  kSetConfig = 25,
  kResetDevice = 34,
  kGetMaxMemSlots = 36,
  kSetStatus = 39,
  kGetStatus = 40,
};

// Header flags: the version (1) in the low two bits, the reply bit on every
// back-end reply, and need_reply (REPLY_ACK) from the front-end.
inline constexpr uint32_t kVersionMask = 0x3;
inline constexpr uint32_t kVersion = 0x1;
inline constexpr uint32_t kReplyFlag = 1u << 2;
inline constexpr uint32_t kNeedReplyFlag = 1u << 3;

// Virtio feature bit 30, reused by vhost-user: the back-end speaks protocol
// features.
inline constexpr uint64_t kFeatureProtocolFeatures = 1ull << 30;

// Protocol feature bits.
inline constexpr uint64_t kProtocolMq = 1ull << 0;
inline constexpr uint64_t kProtocolReplyAck = 1ull << 3;

// SET_VRING_KICK / CALL / ERR: the vring index in bits 0-7, and bit 8 when no
// file descriptor comes with the message (polling).
inline constexpr uint64_t kVringIndexMask = 0xff;
inline constexpr uint64_t kVringNoFdFlag = 1ull << 8;

// SET_VRING_BASE / GET_VRING_BASE of a packed ring carry two cursors, each a
// ring position in bits 0-14 and its wrap counter in bit 15: where the
// back-end takes the next available descriptor in bits 0-15, where it puts
// the next used one in bits 16-31 (the spec's "vring descriptor indices for
// packed virtqueues"; QEMU's virtio_queue_packed_get_last_avail_idx). Both
// are needed because, unlike a split ring's used index, neither is in guest
// memory. A split ring's base is the next avail index alone, bits 16-31
// reserved.
inline constexpr uint32_t PackedVringBase(uint16_t avail, uint16_t used) {
  return avail | uint32_t{used} << 16;
}
inline constexpr uint16_t PackedAvailCursor(uint32_t base) {
  return static_cast<uint16_t>(base);
}
inline constexpr uint16_t PackedUsedCursor(uint32_t base) {
  return static_cast<uint16_t>(base >> 16);
}

// SET_MEM_TABLE carries at most this many regions (without
// CONFIGURE_MEM_SLOTS, which this back-end does not offer).
inline constexpr uint32_t kMaxMemoryRegions = 8;
// At most this many file descriptors travel with one message.
inline constexpr size_t kMaxFds = 8;

struct Header {
  uint32_t request;
  uint32_t flags;
  uint32_t size;  // Of the payload that follows.
};
static_assert(sizeof(Header) == 12);

struct MemoryRegion {
  uint64_t guest_address;
  uint64_t size;
  uint64_t user_address;  // Where the front-end maps it: vring addresses.
  uint64_t mmap_offset;   // Where in the passed fd the region starts.
};

struct MemoryTable {
  uint32_t num_regions;
  uint32_t padding;
  MemoryRegion regions[kMaxMemoryRegions];
};
static_assert(sizeof(MemoryRegion) == 32 && sizeof(MemoryTable) == 264);

// The payload sizes the spec gives each layout.
static_assert(sizeof(vhost_vring_state) == 8);
static_assert(sizeof(vhost_vring_addr) == 40);

// A payload larger than this is refused before it is read (the spec's largest,
// a device configuration space, is 268 bytes).
inline constexpr uint32_t kMaxPayload = 4096;

// The request's name for log lines ("SET_VRING_ADDR"), or "UNKNOWN".
const char* RequestName(uint32_t request);

}  // namespace vhost_user

#endif  // VHOST_USER_PROTOCOL_H_
