// Checks a FUSE request's arguments before libfuse reads them.
//
// libfuse's dispatch trusts the kernel: it reads each opcode's fixed argument
// struct and its NUL-terminated names without comparing them with the request
// length. A driver is not trusted, so every request is checked here first
// against exactly what libfuse 3.14's do_* function for its opcode will read.
#ifndef SIM_FUSE_REQUEST_CHECK_H_
#define SIM_FUSE_REQUEST_CHECK_H_

#include <linux/fuse.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sim {

// `arg` holds the first `available` of the `arg_len` argument bytes that follow
// the header (all of them, except for a WRITE whose payload stays in guest
// memory). Returns 0 when the request may go to libfuse, ENOSYS for an opcode
// the device does not hand to libfuse (unknown ones, INTERRUPT, NOTIFY_REPLY,
// CUSE_INIT), or EINVAL when the arguments are shorter than the opcode needs or
// a name is not NUL-terminated.
int CheckFuseRequest(const fuse_in_header& in, const uint8_t* arg,
                     size_t available, size_t arg_len);

// A `T` read from request bytes at `p`, which need not be aligned for it.
template <typename T>
T LoadArg(const uint8_t* p) {
  T value;
  memcpy(&value, p, sizeof(value));
  return value;
}

}  // namespace sim

#endif  // SIM_FUSE_REQUEST_CHECK_H_
