#include "vfs/attr_cache.h"

#include <limits>

namespace vfs {

uint64_t ValidUntil(uint64_t now, uint64_t seconds, uint32_t nanoseconds) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  uint64_t span;
  if (__builtin_mul_overflow(seconds, uint64_t{1000000000}, &span) ||
      __builtin_add_overflow(span, uint64_t{nanoseconds}, &span)) {
    return kMax;
  }
  uint64_t until;
  if (__builtin_add_overflow(now, span, &until)) return kMax;
  return until;
}

AttrCache::AttrCache(base::Platform& platform)
    : platform_(platform), lock_(platform.CreateLock()) {}

bool AttrCache::Get(Stat* out) {
  base::LockGuard guard(*lock_);
  if (!StillValid(valid_until_, platform_.MonotonicNanos())) return false;
  *out = attributes_;
  return true;
}

void AttrCache::Set(const Stat& attributes, uint64_t valid_until) {
  base::LockGuard guard(*lock_);
  attributes_ = attributes;
  valid_until_ = valid_until;
}

void AttrCache::Invalidate() {
  base::LockGuard guard(*lock_);
  valid_until_ = 0;
}

}  // namespace vfs
