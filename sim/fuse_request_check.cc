#include "sim/fuse_request_check.h"

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "driver/fuse_opcodes.h"

namespace sim {
namespace {

using driver::FindFuseOpcode;
using driver::FuseOpcodeInfo;
using driver::FuseTail;

// Opcodes of <linux/fuse.h> the device does not hand to libfuse: 3.14 does not
// dispatch the DAX mapping requests, SYNCFS or TMPFILE, and an INTERRUPT or
// NOTIFY_REPLY has no request of this device's to refer to.
bool HandedToLibfuse(uint32_t opcode) {
  switch (opcode) {
    case FUSE_INTERRUPT:
    case FUSE_NOTIFY_REPLY:
    case FUSE_SETUPMAPPING:
    case FUSE_REMOVEMAPPING:
    case FUSE_SYNCFS:
    case FUSE_TMPFILE:
    case CUSE_INIT:
      return false;
    default:
      return true;
  }
}

// The bytes of the variable tail the fixed struct announces, for the tails
// libfuse trusts; `rest` is what follows the struct.
bool TailFits(const FuseOpcodeInfo& info, const uint8_t* arg, size_t rest) {
  switch (info.tail) {
    case FuseTail::kWriteData:
      return LoadArg<fuse_write_in>(arg).size <= rest;
    case FuseTail::kForgets:
      return uint64_t{LoadArg<fuse_batch_forget_in>(arg).count} *
                 sizeof(fuse_forget_one) <=
             rest;
    case FuseTail::kIoctlData:
      return LoadArg<fuse_ioctl_in>(arg).in_size <= rest;
    default:
      return true;
  }
}

}  // namespace

int CheckFuseRequest(const fuse_in_header& in, const uint8_t* arg,
                     size_t available, size_t arg_len) {
  const FuseOpcodeInfo* info = FindFuseOpcode(in.opcode);
  if (info == nullptr || !HandedToLibfuse(in.opcode)) return ENOSYS;
  // libfuse 3.14 negotiates neither FUSE_SETXATTR_EXT nor reads more of INIT
  // than its compat form unless FUSE_INIT_EXT says so: the compat forms are
  // what it reads.
  const size_t fixed = info->compat_in_size;
  if (arg_len < fixed || available < fixed) return EINVAL;
  const size_t rest = arg_len - fixed;
  if (in.opcode == FUSE_INIT) {
    const auto flags = LoadArg<uint32_t>(arg + offsetof(fuse_init_in, flags));
    const size_t need =
        (flags & FUSE_INIT_EXT) ? offsetof(fuse_init_in, flags2) + 4 : 0;
    return arg_len >= need && available >= need ? 0 : EINVAL;
  }
  if (!TailFits(*info, arg, rest)) return EINVAL;
  if (info->names == 0) return 0;
  if (available < arg_len || rest == 0) return EINVAL;
  const uint8_t* names = arg + fixed;
  if (info->tail == FuseTail::kXattrValue) {
    // A NUL-terminated name, then a binary value of the announced size.
    const void* nul = memchr(names, '\0', rest);
    if (nul == nullptr) return EINVAL;
    const size_t name_len = static_cast<const uint8_t*>(nul) - names + 1;
    const auto value_size = LoadArg<uint32_t>(arg);  // fuse_setxattr_in::size
    return static_cast<uint64_t>(name_len) + value_size <= rest ? 0 : EINVAL;
  }
  // Every name must end inside the request: the last byte is NUL and there are
  // as many NULs as names, so each name libfuse finds after the previous one's
  // NUL ends in bounds.
  if (arg[arg_len - 1] != '\0') return EINVAL;
  size_t nuls = 0;
  for (size_t i = 0; i < rest; ++i) nuls += names[i] == '\0';
  return nuls < info->names ? EINVAL : 0;
}

}  // namespace sim
