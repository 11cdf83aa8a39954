// Accessors for the ring fields the driver shares with a device, for both ring
// formats.
#ifndef DRIVER_SHARED_FIELDS_H_
#define DRIVER_SHARED_FIELDS_H_

#include <cstdint>

namespace driver {

// Fields shared with the device are accessed once each, so that the compiler
// neither tears nor repeats the access; the barriers around them order them.
inline uint16_t LoadShared(const uint16_t* field) {
  return __atomic_load_n(field, __ATOMIC_RELAXED);
}
inline void StoreShared(uint16_t* field, uint16_t value) {
  __atomic_store_n(field, value, __ATOMIC_RELAXED);
}
// The fields that hand ring entries to the other side (a split ring's indices,
// a packed descriptor's flags) also carry acquire/release ordering
// themselves: free on x86, and visible to thread sanitizers, which do not
// model the stand-alone barriers.
inline uint16_t LoadPublished(const uint16_t* field) {
  return __atomic_load_n(field, __ATOMIC_ACQUIRE);
}
inline void StorePublished(uint16_t* field, uint16_t value) {
  __atomic_store_n(field, value, __ATOMIC_RELEASE);
}

// Rings are allocated page-aligned (more than any format needs).
inline constexpr uint64_t kRingAlignment = 4096;

}  // namespace driver

#endif  // DRIVER_SHARED_FIELDS_H_
