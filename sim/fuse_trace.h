// One FUSE request as the virtio-fs device saw it, decoded from the bytes of
// its descriptor chain, and the two ways of printing it: a line that reads like
// strace, and a JSON object for tools.
//
// Text (FormatFuseTraceLine), one request per line:
//
//   0.004211 req0 #8 CREATE(node=1, "notes.txt", flags=O_WRONLY|O_CREAT,
//       mode=0644) = 0 node=2 fh=1  (80 B in, 160 B out, 21.3 us)
//   0.004630 req0 #10 LOOKUP(node=1, "missing") = ENOENT (No such file or
//       directory)  (56 B in, 16 B out, 2.0 us)
//
// (each on one line): seconds since the tracer started, the queue ("hiprio" is
// queue 0, "reqN" is request queue N, virtqueue N + 1), the request's unique,
// the opcode and the arguments that matter for it, then the result: 0, a byte
// count (READ, WRITE, READDIR, READLINK, ...) or the errno name with its text,
// what the reply named (node, fh, offset), the bytes of the request and of the
// reply, and how long the device took.
//
// JSON (FormatFuseTraceJson): one object per request, with these fields; the
// optional ones appear only when the opcode carries them:
//   "t_ns"       nanoseconds since the tracer started (request taken)
//   "queue"      "hiprio" | "req0" | "req1" ...
//   "vq"         virtqueue index
//   "unique"     fuse_in_header.unique
//   "op"         opcode name, e.g. "LOOKUP" ("OP_<n>" when unknown)
//   "opcode"     opcode number
//   "node"       fuse_in_header.nodeid
//   "name", "name2"         names (RENAME: old and new; SYMLINK: link name and
//                           target; LINK: the new name)
//   "new_parent" RENAME / RENAME2 target directory, LINK source node
//   "fh", "offset", "size", "length", "nlookup", "count", "mask", "whence",
//   "valid"      numbers
//   "flags"      open(2) flags, symbolic ("O_RDWR|O_CREAT")
//   "mode"       octal string ("0644")
//   "version"    INIT: the protocol version the driver offers ("7.38")
//   "replied"    whether the device wrote a reply header
//   "result"     0 or the byte count / value of a successful reply
//   "error"      errno name ("ENOENT") on failure, else absent
//   "errno"      the positive errno on failure, else absent
//   "out_node", "out_fh"    what a successful reply named
//   "in_bytes", "out_bytes" request length and used length
//   "latency_ns" time the device took
//   "malformed"  true when the chain did not hold a whole fuse_in_header
#ifndef SIM_FUSE_TRACE_H_
#define SIM_FUSE_TRACE_H_

#include <cstdint>
#include <optional>
#include <string>

namespace sim {

// The request arguments worth showing; each is set only for opcodes that carry
// it.
struct FuseTraceArgs {
  std::string name;
  std::string name2;
  std::optional<uint64_t> new_parent;
  std::optional<uint64_t> fh;
  std::optional<uint64_t> offset;
  std::optional<uint64_t> size;
  std::optional<uint64_t> length;
  std::optional<uint64_t> nlookup;
  std::optional<uint64_t> count;
  std::optional<uint32_t> flags;  // open(2) flags.
  std::optional<uint32_t> mode;
  std::optional<uint32_t> mask;
  std::optional<uint32_t> whence;
  std::optional<uint32_t> valid;  // SETATTR FATTR_* bits.
  std::optional<uint32_t> major;  // INIT.
  std::optional<uint32_t> minor;  // INIT.
  // INIT: the flags the driver offers (flags2 in the high word).
  std::optional<uint64_t> init_flags;
};

struct FuseTraceEvent {
  uint64_t time_nanos = 0;  // Since the tracer started.
  uint16_t queue = 0;       // Virtqueue index: 0 is hiprio.
  uint64_t unique = 0;
  uint32_t opcode = 0;
  uint64_t nodeid = 0;
  bool malformed = false;  // No whole fuse_in_header in the chain.
  FuseTraceArgs args;
  uint32_t in_bytes = 0;  // fuse_in_header.len, capped at the chain's size.
  // The reply, as the device wrote it.
  bool replied = false;
  int32_t error = 0;  // fuse_out_header.error: 0 or a negative errno.
  std::optional<uint64_t> result;  // A byte count or value (see above).
  std::optional<uint64_t> out_node;
  std::optional<uint64_t> out_fh;
  std::optional<uint64_t> out_init_flags;  // INIT: what the device accepted.
  uint32_t out_bytes = 0;                  // The chain's used length.
  uint64_t latency_nanos = 0;
  // The fault the device injected into this request (sim/fault_plan.h text
  // form); empty when none.
  std::string injected;
};

// "LOOKUP", "BATCH_FORGET", ... for every opcode of <linux/fuse.h> (the opcode
// table's names); "OP_<n>" for others.
std::string FuseOpcodeName(uint32_t opcode);
// "ENOENT", ...; "E<n>" when the number has no name.
std::string ErrnoName(int error);
// "O_WRONLY|O_CREAT|O_TRUNC"; unnamed bits are appended in octal.
std::string OpenFlagsString(uint32_t flags);
// "hiprio", "req0", "req1", ...
std::string QueueName(uint16_t queue);
// SETATTR's FATTR_* bits: "MODE|SIZE"; unnamed bits in hex.
std::string SetattrValidString(uint32_t valid);
// INIT's FUSE_* flags (flags2 in the high word): "ASYNC_READ|DO_READDIRPLUS".
std::string InitFlagsString(uint64_t flags);

// Decodes the request: `request` holds the first bytes of the chain's readable
// part (possibly fewer than the request has), `total_bytes` how many it has.
// Sets everything up to the reply fields.
FuseTraceEvent DecodeFuseRequest(const uint8_t* request, size_t size,
                                 uint64_t total_bytes);
// Adds the reply: `reply` holds the first bytes the device wrote (at most the
// used length), `used_length` the used length.
void DecodeFuseReply(const uint8_t* reply, size_t size, uint32_t used_length,
                     FuseTraceEvent& event);

std::string FormatFuseTraceLine(const FuseTraceEvent& event);
std::string FormatFuseTraceJson(const FuseTraceEvent& event);

}  // namespace sim

#endif  // SIM_FUSE_TRACE_H_
