// HashName: the hash of a name in a directory, for the VFS's hash tables
// (memfs's entries, the FUSE entry cache).
#ifndef VFS_NAME_HASH_H_
#define VFS_NAME_HASH_H_

#include <cstdint>
#include <string_view>

namespace vfs {

// FNV-1a, seeded with `seed` (which tells apart equal names of different
// directories); the final shift brings high bits down to the low ones, which
// tables take as the bucket.
inline uint64_t HashName(std::string_view name, uint64_t seed = 0) {
  uint64_t hash = 14695981039346656037ull ^ seed;
  for (char c : name) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash ^ (hash >> 29);
}

}  // namespace vfs

#endif  // VFS_NAME_HASH_H_
