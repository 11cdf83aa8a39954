// Validity-limited caching of attributes, for filesystems whose truth lives
// elsewhere (FUSE returns entry_valid and attr_valid with each reply; zero
// means "ask every time").
#ifndef VFS_ATTR_CACHE_H_
#define VFS_ATTR_CACHE_H_

#include <cstdint>
#include <memory>

#include "base/platform.h"
#include "vfs/stat.h"

namespace vfs {

// The monotonic time until which something fetched at `now` stays valid, given
// a validity of `seconds` + `nanoseconds` (saturating). A zero validity gives
// `now`, which is already expired: the next use asks again.
uint64_t ValidUntil(uint64_t now, uint64_t seconds, uint32_t nanoseconds);

// Whether a deadline from ValidUntil has not yet passed at `now`.
inline bool StillValid(uint64_t valid_until, uint64_t now) {
  return now < valid_until;
}

// A node's cached attributes and how long they hold (thread-safe).
class AttrCache {
 public:
  explicit AttrCache(base::Platform& platform);

  // The cached attributes when they are still valid; false when the caller must
  // ask.
  bool Get(Stat* out);
  void Set(const Stat& attributes, uint64_t valid_until);
  // Forgets them (after a change whose result the device did not report).
  void Invalidate();

 private:
  base::Platform& platform_;
  std::unique_ptr<base::Lock> lock_;
  Stat attributes_;
  uint64_t valid_until_ = 0;
};

}  // namespace vfs

#endif  // VFS_ATTR_CACHE_H_
