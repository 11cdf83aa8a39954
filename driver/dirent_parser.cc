#include "driver/dirent_parser.h"

#include <linux/fuse.h>

#include <cstddef>
#include <cstring>

#include "base/abi.h"

namespace driver {
namespace {

constexpr uint32_t kMaxDirentType = 15;  // d_type is S_IFMT >> 12.

size_t NameOffset(DirentFormat format) {
  return format == DirentFormat::kPlus ? FUSE_NAME_OFFSET_DIRENTPLUS
                                       : FUSE_NAME_OFFSET;
}

size_t DirentOffset(DirentFormat format) {
  return format == DirentFormat::kPlus ? sizeof(fuse_entry_out) : 0;
}

size_t RecordSize(DirentFormat format, uint32_t namelen) {
  return FUSE_DIRENT_ALIGN(NameOffset(format) + namelen);
}

bool IsDotOrDotDot(std::string_view name) {
  return name == "." || name == "..";
}

// Reads the fixed part of one record (`entry` only for kPlus); the caller has
// checked it lies inside the reply. memcpy because the caller's buffer need
// not be 8-byte aligned.
void ReadHeader(const uint8_t* at, DirentFormat format, fuse_dirent* dirent,
                fuse_entry_out* entry) {
  std::memcpy(dirent, at + DirentOffset(format), FUSE_NAME_OFFSET);
  if (format == DirentFormat::kPlus) std::memcpy(entry, at, sizeof(*entry));
}

const char* CheckName(std::string_view name) {
  for (char c : name) {
    if (c == '/' || c == '\0') return "dirent name holds '/' or NUL";
  }
  return nullptr;
}

}  // namespace

bool DirEntry::HoldsLookup() const {
  return nodeid != 0 && !IsDotOrDotDot(name);
}

Entry DirEntry::entry() const {
  if (plus_record == nullptr) return {};
  fuse_entry_out out;
  std::memcpy(&out, plus_record, sizeof(out));
  Entry decoded = ToEntry(out);
  // The one HoldsLookup saw, should the buffer have changed since.
  decoded.nodeid = nodeid;
  return decoded;
}

DirentCheck CheckDirents(std::span<const uint8_t> bytes, DirentFormat format) {
  DirentCheck check;
  const size_t name_offset = NameOffset(format);
  size_t at = 0;
  while (at < bytes.size()) {
    const size_t remaining = bytes.size() - at;
    if (remaining < name_offset) {
      check.malformed = "dirent header runs past the reply";
      return check;
    }
    fuse_dirent dirent;
    fuse_entry_out entry;
    ReadHeader(bytes.data() + at, format, &dirent, &entry);
    if (dirent.namelen == 0) {
      check.malformed = "dirent namelen is 0";
      return check;
    }
    if (dirent.namelen > base::kNameMax) {
      check.malformed = "dirent namelen exceeds NAME_MAX";
      return check;
    }
    if (RecordSize(format, dirent.namelen) > remaining) {
      check.malformed = "dirent record runs past the reply";
      return check;
    }
    std::string_view name(
        reinterpret_cast<const char*>(bytes.data() + at + name_offset),
        dirent.namelen);
    if (const char* reason = CheckName(name)) {
      check.malformed = reason;
      return check;
    }
    if (dirent.type > kMaxDirentType) {
      check.malformed = "dirent type is not a d_type";
      return check;
    }
    if (format == DirentFormat::kPlus && entry.nodeid != 0 &&
        !IsDotOrDotDot(name)) {
      if (const char* reason = CheckNewEntry(entry, 0)) {
        check.malformed = reason;
        return check;
      }
    }
    at += RecordSize(format, dirent.namelen);
    check.valid_bytes = at;
    check.last_offset = dirent.off;
    ++check.count;
  }
  return check;
}

size_t DirentList::Iterator::RecordLength() const {
  const size_t left = static_cast<size_t>(end_ - at_);
  if (left < NameOffset(format_)) return left;
  fuse_dirent dirent;
  std::memcpy(&dirent, at_ + DirentOffset(format_), FUSE_NAME_OFFSET);
  const size_t length =
      RecordSize(format_, dirent.namelen > base::kNameMax ? 0 : dirent.namelen);
  return length < left ? length : left;
}

DirEntry DirentList::Iterator::operator*() const {
  DirEntry out;
  const size_t left = static_cast<size_t>(end_ - at_);
  const size_t name_offset = NameOffset(format_);
  if (left < name_offset) return out;
  fuse_dirent dirent;
  std::memcpy(&dirent, at_ + DirentOffset(format_), FUSE_NAME_OFFSET);
  size_t namelen = dirent.namelen;
  if (namelen > left - name_offset) namelen = left - name_offset;
  out.ino = dirent.ino;
  out.next_offset = dirent.off;
  out.type = dirent.type;
  out.name = std::string_view(reinterpret_cast<const char*>(at_ + name_offset),
                              namelen);
  if (format_ == DirentFormat::kPlus) {
    std::memcpy(&out.nodeid, at_ + offsetof(fuse_entry_out, nodeid),
                sizeof(out.nodeid));
    out.plus_record = at_;
  }
  return out;
}

DirentList::Iterator& DirentList::Iterator::operator++() {
  const size_t length = RecordLength();
  at_ += length > 0 ? length : static_cast<size_t>(end_ - at_);
  return *this;
}

}  // namespace driver
