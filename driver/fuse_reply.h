// Checks a FUSE reply before anything in it is used, and the parsed values the
// client hands out. Each check returns nullptr when the reply is well formed,
// or a short reason (for the log) when it is not; the client then fails the
// request with EIO.
#ifndef DRIVER_FUSE_REPLY_H_
#define DRIVER_FUSE_REPLY_H_

#include <linux/fuse.h>

#include <cstddef>
#include <cstdint>

#include "driver/fuse_ops.h"

namespace driver {

// A name the device looked up (LOOKUP, MKNOD, MKDIR, SYMLINK, LINK, CREATE,
// READDIRPLUS). Each one the device returns counts one lookup the caller must
// give back with Forget.
struct Entry {
  uint64_t nodeid = 0;
  uint64_t generation = 0;
  fuse_attr attr = {};
  uint64_t entry_valid_ns = 0;  // How long the name may be cached.
  uint64_t attr_valid_ns = 0;   // How long `attr` may be cached.
};

struct Attributes {
  fuse_attr attr = {};
  uint64_t valid_ns = 0;
};

struct OpenHandle {
  uint64_t fh = 0;
  uint32_t open_flags = 0;  // FOPEN_*.
};

// A cache timeout in nanoseconds, saturating instead of wrapping.
uint64_t TimeoutNanos(uint64_t seconds, uint32_t nanoseconds);
Entry ToEntry(const fuse_entry_out& out);

// The outcome of checking a reply's fuse_out_header against its request.
struct ReplyHeaderCheck {
  int error = 0;              // 0, the device's errno, or EIO when malformed.
  uint32_t payload_size = 0;  // Bytes after the header (valid when error == 0).
  const char* malformed = nullptr;
};

// `header` holds the first bytes of the reply (read only once `used_length`
// shows the device wrote a whole header); `capacity` is the size of all reply
// buffers together.
ReplyHeaderCheck CheckReplyHeader(uint32_t used_length, size_t capacity,
                                  const fuse_out_header& header,
                                  uint64_t unique);

// A successful reply's payload against what the operation defines.
const char* CheckPayloadSize(ReplyShape shape, uint32_t payload_size,
                             size_t min_size, size_t max_size);

// An attribute block a file can have: a file type Linux knows and a size that
// fits off_t.
const char* CheckAttr(const fuse_attr& attr);

// An entry for a name the device just created (or linked): a real node (not 0,
// not the root), valid attributes, and, when `expected_type` (S_IFMT bits) is
// nonzero, that type.
const char* CheckNewEntry(const fuse_entry_out& entry, uint32_t expected_type);

// A positive LOOKUP entry (nodeid != 0): valid attributes.
const char* CheckLookupEntry(const fuse_entry_out& entry);

// A LISTXATTR reply: NUL-terminated, non-empty names back to back.
const char* CheckXattrList(const char* names, size_t size);

}  // namespace driver

#endif  // DRIVER_FUSE_REPLY_H_
