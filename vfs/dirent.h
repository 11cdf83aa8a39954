// Directory entries as getdents64(2) returns them, and the writer that packs
// them.
#ifndef VFS_DIRENT_H_
#define VFS_DIRENT_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace vfs {

// The layout of Linux's struct linux_dirent64. d_reclen covers the header, the
// name, its NUL and padding up to a multiple of 8.
struct Dirent64 {
  uint64_t d_ino;
  int64_t d_off;  // The directory position of the entry after this one.
  uint16_t d_reclen;
  uint8_t d_type;  // kDirentUnknown or DirentTypeOf(st_mode).
  char d_name[];
};
static_assert(offsetof(Dirent64, d_name) == 19);

// Packs entries into a caller's getdents64 buffer. A filesystem's ReadDirectory
// calls Add for each entry from the requested position on, and stops at the
// first false.
class DirentWriter {
 public:
  explicit DirentWriter(std::span<std::byte> buffer) : buffer_(buffer) {}

  // Appends one entry; `next_position` is the position a later call resumes
  // from to get the entries after this one. False when the entry does not fit:
  // nothing was written and the caller stops.
  bool Add(uint64_t ino, uint64_t next_position, uint8_t type,
           std::string_view name);

  static size_t RecordLength(size_t name_length) {
    return (offsetof(Dirent64, d_name) + name_length + 1 + 7) & ~size_t{7};
  }

  size_t bytes_written() const { return used_; }
  // Bytes of the buffer still free (a filesystem sizes its reads by it).
  size_t room() const { return buffer_.size() - used_; }
  size_t entries() const { return entries_; }
  // True once an entry was refused for lack of space.
  bool full() const { return full_; }
  // The position after the last entry added (meaningful when entries() > 0).
  uint64_t next_position() const { return next_position_; }

 private:
  std::span<std::byte> buffer_;
  size_t used_ = 0;
  size_t entries_ = 0;
  bool full_ = false;
  uint64_t next_position_ = 0;
};

}  // namespace vfs

#endif  // VFS_DIRENT_H_
