#include "conformance/file_helpers.h"

#include <cerrno>
#include <cstring>

#include "base/abi.h"
#include "vfs/posix.h"

namespace conformance {

uint8_t PatternByte(uint64_t offset, uint32_t seed) {
  // splitmix64 of the offset: every byte depends on every bit of its offset.
  uint64_t x = offset + 0x9e3779b97f4a7c15ull * (uint64_t{seed} + 1);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return static_cast<uint8_t>(x ^ (x >> 31));
}

void FillPattern(std::span<uint8_t> out, uint64_t offset, uint32_t seed) {
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = PatternByte(offset + i, seed);
}

int64_t FindPatternMismatch(std::span<const uint8_t> data, uint64_t offset,
                            uint32_t seed) {
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] != PatternByte(offset + i, seed))
      return static_cast<int64_t>(i);
  }
  return -1;
}

int64_t WriteAll(int fd, const void* data, size_t size) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  size_t done = 0;
  while (done < size) {
    const int64_t n = vfs::write(fd, bytes + done, size - done);
    if (n < 0) return n;
    if (n == 0) return -EIO;
    done += static_cast<size_t>(n);
  }
  return static_cast<int64_t>(done);
}

int64_t ReadAll(int fd, void* data, size_t size) {
  auto* bytes = static_cast<uint8_t*>(data);
  size_t done = 0;
  while (done < size) {
    const int64_t n = vfs::read(fd, bytes + done, size - done);
    if (n < 0) return n;
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return static_cast<int64_t>(done);
}

int WriteFile(const char* path, std::string_view content) {
  const int fd = vfs::open(
      path, base::kOpenWriteOnly | base::kOpenCreate | base::kOpenTruncate,
      0644);
  if (fd < 0) return fd;
  const int64_t written = WriteAll(fd, content.data(), content.size());
  const int closed = vfs::close(fd);
  if (written < 0) return static_cast<int>(written);
  return closed;
}

int64_t ReadFile(const char* path, char* buffer, size_t capacity) {
  const int fd = vfs::open(path, base::kOpenReadOnly);
  if (fd < 0) return fd;
  const int64_t count = ReadAll(fd, buffer, capacity);
  const int closed = vfs::close(fd);
  if (count < 0) return count;
  if (closed < 0) return closed;
  return count;
}

bool ParseDirent(const uint8_t* record, size_t left, DirectoryEntry* entry,
                 size_t* record_length) {
  constexpr size_t kNameAt = offsetof(vfs::Dirent64, d_name);
  if (left < kNameAt + 1) return false;
  uint16_t reclen;
  memcpy(&reclen, record + offsetof(vfs::Dirent64, d_reclen), sizeof(reclen));
  if (reclen < kNameAt + 1 || reclen % 8 != 0 || reclen > left) return false;
  const auto* name = reinterpret_cast<const char*>(record + kNameAt);
  const size_t name_room = reclen - kNameAt;
  const void* nul = memchr(name, '\0', name_room);
  if (nul == nullptr) return false;  // No NUL inside the record.
  const size_t name_length = static_cast<const char*>(nul) - name;
  memcpy(&entry->ino, record + offsetof(vfs::Dirent64, d_ino),
         sizeof(entry->ino));
  entry->type = record[offsetof(vfs::Dirent64, d_type)];
  entry->name = std::string_view(name, name_length);
  *record_length = reclen;
  return true;
}

}  // namespace conformance
