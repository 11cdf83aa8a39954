// The records of a READDIR or READDIRPLUS reply. CheckDirents validates a whole
// reply first; a DirentList then walks the validated bytes, so iterating can
// never read past the buffer however the device filled it.
#ifndef DRIVER_DIRENT_PARSER_H_
#define DRIVER_DIRENT_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <string_view>

#include "driver/fuse_reply.h"

namespace driver {

enum class DirentFormat : uint8_t {
  kPlain,  // fuse_dirent records (READDIR).
  kPlus,   // fuse_direntplus records (READDIRPLUS).
};

struct DirEntry {
  uint64_t ino = 0;
  // Where to continue reading to get the entries after this one.
  uint64_t next_offset = 0;
  uint32_t type = 0;  // DT_* (S_IFMT >> 12).
  // Points into the reply buffer; valid while it is. Never empty, never holds
  // '/' or NUL.
  std::string_view name;
  // READDIRPLUS only. nodeid != 0 means the device looked the name up and
  // counted a lookup the caller must Forget (never for "." and "..", see
  // HoldsLookup).
  uint64_t nodeid = 0;
  // READDIRPLUS only: the record's fuse_entry_out in the reply buffer, which
  // entry() decodes; most walks of a listing want only the fields above.
  const uint8_t* plus_record = nullptr;

  bool HoldsLookup() const;
  // The looked-up entry of a READDIRPLUS record (with the node id above), read
  // from the reply buffer at each call; zeros for a READDIR record.
  Entry entry() const;
};

struct DirentCheck {
  size_t valid_bytes = 0;  // The well-formed records before the first bad one.
  size_t count = 0;        // How many records those are.
  uint64_t last_offset = 0;  // The next_offset of the last of them.
  const char* malformed = nullptr;
};

// Every record's header, namelen and aligned record length inside `bytes`,
// namelen > 0 and <= 255, no '/' or NUL in a name, a known d_type; for
// READDIRPLUS a looked-up entry must be a valid node with valid attributes.
DirentCheck CheckDirents(std::span<const uint8_t> bytes, DirentFormat format);

// The records of a reply that passed CheckDirents.
class DirentList {
 public:
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = DirEntry;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = DirEntry;

    Iterator(const uint8_t* at, const uint8_t* end, DirentFormat format)
        : at_(at), end_(end), format_(format) {}
    DirEntry operator*() const;
    Iterator& operator++();
    Iterator operator++(int) {
      Iterator before = *this;
      ++*this;
      return before;
    }
    bool operator==(const Iterator& other) const { return at_ == other.at_; }
    bool operator!=(const Iterator& other) const { return at_ != other.at_; }

   private:
    // Record lengths are re-read from the buffer: `end_` keeps even a buffer
    // the device rewrote after validation from being walked past.
    size_t RecordLength() const;

    const uint8_t* at_;
    const uint8_t* end_;
    DirentFormat format_;
  };

  DirentList() = default;
  DirentList(std::span<const uint8_t> validated, size_t count,
             DirentFormat format)
      : bytes_(validated), count_(count), format_(format) {}

  Iterator begin() const {
    return Iterator(bytes_.data(), EndPointer(), format_);
  }
  Iterator end() const { return Iterator(EndPointer(), EndPointer(), format_); }
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }

 private:
  const uint8_t* EndPointer() const { return bytes_.data() + bytes_.size(); }

  std::span<const uint8_t> bytes_;
  size_t count_ = 0;
  DirentFormat format_ = DirentFormat::kPlain;
};

}  // namespace driver

#endif  // DRIVER_DIRENT_PARSER_H_
