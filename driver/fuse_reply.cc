#include "driver/fuse_reply.h"

#include <linux/errno.h>

#include <cstdint>

#include "base/abi.h"

namespace driver {
namespace {

// The errno range Linux reserves (-MAX_ERRNO..-1): anything else in `error` is
// not one.
constexpr int32_t kMaxErrno = 4095;
constexpr uint64_t kNanosPerSecond = 1'000'000'000;
constexpr uint64_t kMaxFileSize = INT64_MAX;

bool IsKnownFileType(uint32_t mode) {
  switch (mode & base::kTypeMask) {
    case base::kTypeRegular:
    case base::kTypeDirectory:
    case base::kTypeSymlink:
    case base::kTypeCharDevice:
    case base::kTypeBlockDevice:
    case base::kTypeFifo:
    case base::kTypeSocket:
      return true;
    default:
      return false;
  }
}

}  // namespace

uint64_t TimeoutNanos(uint64_t seconds, uint32_t nanoseconds) {
  if (nanoseconds >= kNanosPerSecond) nanoseconds = kNanosPerSecond - 1;
  if (seconds >= (UINT64_MAX - nanoseconds) / kNanosPerSecond)
    return UINT64_MAX;
  return seconds * kNanosPerSecond + nanoseconds;
}

Entry ToEntry(const fuse_entry_out& out) {
  Entry entry;
  entry.nodeid = out.nodeid;
  entry.generation = out.generation;
  entry.attr = out.attr;
  entry.entry_valid_ns = TimeoutNanos(out.entry_valid, out.entry_valid_nsec);
  entry.attr_valid_ns = TimeoutNanos(out.attr_valid, out.attr_valid_nsec);
  return entry;
}

ReplyHeaderCheck CheckReplyHeader(uint32_t used_length, size_t capacity,
                                  const fuse_out_header& header,
                                  uint64_t unique) {
  ReplyHeaderCheck check;
  check.error = EIO;
  if (used_length < sizeof(fuse_out_header)) {
    check.malformed = "used length shorter than fuse_out_header";
  } else if (used_length > capacity) {
    check.malformed = "used length larger than the reply buffers";
  } else if (header.len != used_length) {
    check.malformed = "out_header.len differs from the used length";
  } else if (header.unique != unique) {
    check.malformed = "out_header.unique is not the request's";
  } else if (header.error > 0 || header.error < -kMaxErrno) {
    check.malformed = "out_header.error is not a negative errno";
  } else if (header.error != 0 && used_length != sizeof(fuse_out_header)) {
    check.malformed = "error reply carries a payload";
  } else {
    check.error = -header.error;
    check.payload_size =
        used_length - static_cast<uint32_t>(sizeof(fuse_out_header));
  }
  return check;
}

const char* CheckPayloadSize(ReplyShape shape, uint32_t payload_size,
                             size_t min_size, size_t max_size) {
  if (shape == ReplyShape::kFixed) {
    if (payload_size < min_size)
      return "payload shorter than the operation's reply";
    if (payload_size > max_size)
      return "payload longer than the operation's reply";
    return nullptr;
  }
  if (payload_size > max_size) return "payload larger than the size asked for";
  return nullptr;
}

const char* CheckAttr(const fuse_attr& attr) {
  if (!IsKnownFileType(attr.mode)) return "attr.mode has no valid file type";
  if (attr.size > kMaxFileSize) return "attr.size does not fit off_t";
  return nullptr;
}

const char* CheckNewEntry(const fuse_entry_out& entry, uint32_t expected_type) {
  if (entry.nodeid == 0 || entry.nodeid == FUSE_ROOT_ID) {
    return "new entry has nodeid 0 or the root's";
  }
  if (const char* reason = CheckAttr(entry.attr)) return reason;
  if (expected_type != 0 &&
      (entry.attr.mode & base::kTypeMask) != expected_type) {
    return "new entry has another file type than was created";
  }
  return nullptr;
}

const char* CheckLookupEntry(const fuse_entry_out& entry) {
  return CheckAttr(entry.attr);
}

const char* CheckXattrList(const char* names, size_t size) {
  if (size == 0) return nullptr;
  if (names[size - 1] != '\0') return "xattr list is not NUL-terminated";
  size_t start = 0;
  for (size_t i = 0; i < size; ++i) {
    if (names[i] != '\0') continue;
    if (i == start) return "xattr list has an empty name";
    start = i + 1;
  }
  return nullptr;
}

}  // namespace driver
