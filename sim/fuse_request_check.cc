#include "sim/fuse_request_check.h"

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace sim {
namespace {

struct ArgShape {
  bool known = false;
  size_t fixed = 0;  // bytes of the fixed argument struct libfuse reads
  int names = 0;     // NUL-terminated strings following it
};

ArgShape ShapeOf(uint32_t opcode) {
  auto shape = [](size_t fixed, int names) {
    return ArgShape{true, fixed, names};
  };
  switch (opcode) {
    case FUSE_LOOKUP:
    case FUSE_UNLINK:
    case FUSE_RMDIR:
    case FUSE_REMOVEXATTR:
      return shape(0, 1);
    case FUSE_FORGET:
      return shape(sizeof(fuse_forget_in), 0);
    case FUSE_GETATTR:
      return shape(sizeof(fuse_getattr_in), 0);
    case FUSE_SETATTR:
      return shape(sizeof(fuse_setattr_in), 0);
    case FUSE_READLINK:
    case FUSE_STATFS:
    case FUSE_DESTROY:
      return shape(0, 0);
    case FUSE_SYMLINK:
      return shape(0, 2);
    case FUSE_MKNOD:
      return shape(sizeof(fuse_mknod_in), 1);
    case FUSE_MKDIR:
      return shape(sizeof(fuse_mkdir_in), 1);
    case FUSE_RENAME:
      return shape(sizeof(fuse_rename_in), 2);
    case FUSE_RENAME2:
      return shape(sizeof(fuse_rename2_in), 2);
    case FUSE_LINK:
      return shape(sizeof(fuse_link_in), 1);
    case FUSE_OPEN:
    case FUSE_OPENDIR:
      return shape(sizeof(fuse_open_in), 0);
    case FUSE_READ:
    case FUSE_READDIR:
    case FUSE_READDIRPLUS:
      return shape(sizeof(fuse_read_in), 0);
    case FUSE_WRITE:
      return shape(sizeof(fuse_write_in), 0);
    case FUSE_RELEASE:
    case FUSE_RELEASEDIR:
      return shape(sizeof(fuse_release_in), 0);
    case FUSE_FSYNC:
    case FUSE_FSYNCDIR:
      return shape(sizeof(fuse_fsync_in), 0);
    case FUSE_SETXATTR:
      // libfuse 3.14 does not negotiate FUSE_SETXATTR_EXT: the short struct.
      return shape(FUSE_COMPAT_SETXATTR_IN_SIZE, 1);
    case FUSE_GETXATTR:
      return shape(sizeof(fuse_getxattr_in), 1);
    case FUSE_LISTXATTR:
      return shape(sizeof(fuse_getxattr_in), 0);
    case FUSE_FLUSH:
      return shape(sizeof(fuse_flush_in), 0);
    case FUSE_INIT:
      return shape(offsetof(fuse_init_in, flags2), 0);
    case FUSE_GETLK:
    case FUSE_SETLK:
    case FUSE_SETLKW:
      return shape(sizeof(fuse_lk_in), 0);
    case FUSE_ACCESS:
      return shape(sizeof(fuse_access_in), 0);
    case FUSE_CREATE:
      return shape(sizeof(fuse_create_in), 1);
    case FUSE_BMAP:
      return shape(sizeof(fuse_bmap_in), 0);
    case FUSE_IOCTL:
      return shape(sizeof(fuse_ioctl_in), 0);
    case FUSE_POLL:
      return shape(sizeof(fuse_poll_in), 0);
    case FUSE_BATCH_FORGET:
      return shape(sizeof(fuse_batch_forget_in), 0);
    case FUSE_FALLOCATE:
      return shape(sizeof(fuse_fallocate_in), 0);
    case FUSE_LSEEK:
      return shape(sizeof(fuse_lseek_in), 0);
    case FUSE_COPY_FILE_RANGE:
      return shape(sizeof(fuse_copy_file_range_in), 0);
    default:
      return ArgShape{};
  }
}

template <typename T>
T Load(const uint8_t* p) {
  T value;
  memcpy(&value, p, sizeof(value));
  return value;
}

}  // namespace

int CheckFuseRequest(const fuse_in_header& in, const uint8_t* arg,
                     size_t available, size_t arg_len) {
  const ArgShape shape = ShapeOf(in.opcode);
  if (!shape.known) return ENOSYS;
  if (arg_len < shape.fixed || available < shape.fixed) return EINVAL;
  const size_t rest = arg_len - shape.fixed;
  switch (in.opcode) {
    case FUSE_WRITE: {
      const auto write_in = Load<fuse_write_in>(arg);
      return write_in.size <= rest ? 0 : EINVAL;
    }
    case FUSE_BATCH_FORGET: {
      const auto batch = Load<fuse_batch_forget_in>(arg);
      return static_cast<uint64_t>(batch.count) * sizeof(fuse_forget_one) <=
                     rest
                 ? 0
                 : EINVAL;
    }
    case FUSE_IOCTL: {
      const auto ioctl_in = Load<fuse_ioctl_in>(arg);
      return ioctl_in.in_size <= rest ? 0 : EINVAL;
    }
    case FUSE_INIT: {
      const auto flags = Load<uint32_t>(arg + offsetof(fuse_init_in, flags));
      const size_t need =
          (flags & FUSE_INIT_EXT) ? offsetof(fuse_init_in, flags2) + 4 : 0;
      return arg_len >= need && available >= need ? 0 : EINVAL;
    }
    default:
      break;
  }
  if (shape.names == 0) return 0;
  if (available < arg_len || rest == 0) return EINVAL;
  const uint8_t* names = arg + shape.fixed;
  if (in.opcode == FUSE_SETXATTR) {
    // A NUL-terminated name, then a binary value of the announced size.
    const void* nul = memchr(names, '\0', rest);
    if (nul == nullptr) return EINVAL;
    const size_t name_len = static_cast<const uint8_t*>(nul) - names + 1;
    const auto value_size = Load<uint32_t>(arg);  // fuse_setxattr_in::size
    return static_cast<uint64_t>(name_len) + value_size <= rest ? 0 : EINVAL;
  }
  // Every name must end inside the request: the last byte is NUL and there are
  // as many NULs as names, so each name libfuse finds after the previous one's
  // NUL ends in bounds.
  if (arg[arg_len - 1] != '\0') return EINVAL;
  size_t nuls = 0;
  for (size_t i = 0; i < rest; ++i) nuls += names[i] == '\0';
  if (nuls < static_cast<size_t>(shape.names)) return EINVAL;
  return 0;
}

}  // namespace sim
