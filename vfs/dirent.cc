#include "vfs/dirent.h"

#include <cstring>

namespace vfs {

bool DirentWriter::Add(uint64_t ino, uint64_t next_position, uint8_t type,
                       std::string_view name) {
  size_t length = RecordLength(name.size());
  if (full_ || length > buffer_.size() - used_) {
    full_ = true;
    return false;
  }
  // Field by field, since the caller's buffer need not be 8-byte aligned.
  std::byte* record = buffer_.data() + used_;
  int64_t off = static_cast<int64_t>(next_position);
  auto reclen = static_cast<uint16_t>(length);
  // The name's NUL and the padding (1 to 8 bytes at the end of a record of at
  // least 24) zeroed by one store first, which the fields and the name then
  // overwrite where they reach.
  const uint64_t zero = 0;
  memcpy(record + length - sizeof(zero), &zero, sizeof(zero));
  memcpy(record + offsetof(Dirent64, d_ino), &ino, sizeof(ino));
  memcpy(record + offsetof(Dirent64, d_off), &off, sizeof(off));
  memcpy(record + offsetof(Dirent64, d_reclen), &reclen, sizeof(reclen));
  memcpy(record + offsetof(Dirent64, d_type), &type, sizeof(type));
  size_t name_at = offsetof(Dirent64, d_name);
  if (!name.empty()) memcpy(record + name_at, name.data(), name.size());
  used_ += length;
  ++entries_;
  next_position_ = next_position;
  return true;
}

}  // namespace vfs
