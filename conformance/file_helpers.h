// Small building blocks the file-system scenarios share: a byte pattern whose
// misplaced chunks show, whole-buffer reads and writes through vfs/posix.h, and
// a walk over a getdents64 buffer. Kernel code, like the scenarios.
#ifndef CONFORMANCE_FILE_HELPERS_H_
#define CONFORMANCE_FILE_HELPERS_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "vfs/dirent.h"
#include "vfs/posix.h"

namespace conformance {

// The byte at `offset` of the pattern `seed`. Not periodic (at any power of
// two up to the sizes scenarios use): a chunk written or read at the wrong
// offset, or from the wrong request, differs.
uint8_t PatternByte(uint64_t offset, uint32_t seed);
// Fills `out` with the pattern from `offset` on.
void FillPattern(std::span<uint8_t> out, uint64_t offset, uint32_t seed);
// The index of the first byte of `data` that differs from the pattern at
// `offset`, or -1 when all match.
int64_t FindPatternMismatch(std::span<const uint8_t> data, uint64_t offset,
                            uint32_t seed);

// Writes all `size` bytes at the descriptor's position, looping over short
// writes: `size`, or a negative errno (-EIO for a write that makes no
// progress).
int64_t WriteAll(int fd, const void* data, size_t size);
// Reads until `size` bytes or the end of the file: the count, or a negative
// errno.
int64_t ReadAll(int fd, void* data, size_t size);

// Restores the umask a scenario changed, however it ends.
class UmaskScope {
 public:
  explicit UmaskScope(uint32_t mask) : previous_(vfs::umask(mask)) {}
  ~UmaskScope() { vfs::umask(previous_); }
  UmaskScope(const UmaskScope&) = delete;
  UmaskScope& operator=(const UmaskScope&) = delete;

 private:
  uint32_t previous_;
};

// Creates or truncates `path` (mode 0644) holding `content`: 0 or a negative
// errno.
int WriteFile(const char* path, std::string_view content);
// Reads at most `capacity` bytes of `path`: the count, or a negative errno.
int64_t ReadFile(const char* path, char* buffer, size_t capacity);

// One record of a getdents64 buffer.
struct DirectoryEntry {
  uint64_t ino;
  uint8_t type;
  std::string_view name;
};

// Walks the records getdents64 put in `buffer` (its return value `length`
// bytes), calling `visit` on each. False when a record is malformed (a length
// too short, not a multiple of 8, past the end, or an unterminated name).
template <typename Visit>
bool ForEachDirent(const void* buffer, size_t length, Visit&& visit);

}  // namespace conformance

// ---- Implementation of the template. ----
namespace conformance {

bool ParseDirent(const uint8_t* record, size_t left, DirectoryEntry* entry,
                 size_t* record_length);

template <typename Visit>
bool ForEachDirent(const void* buffer, size_t length, Visit&& visit) {
  const auto* bytes = static_cast<const uint8_t*>(buffer);
  for (size_t at = 0; at < length;) {
    DirectoryEntry entry;
    size_t record_length = 0;
    if (!ParseDirent(bytes + at, length - at, &entry, &record_length)) {
      return false;
    }
    visit(entry);
    at += record_length;
  }
  return true;
}

}  // namespace conformance

#endif  // CONFORMANCE_FILE_HELPERS_H_
