// Peak resident memory of this process, per measured interval: Linux keeps a
// high-water mark (VmHWM) that /proc/self/clear_refs can reset to the current
// resident size, so a benchmark's peak is its own, not an earlier one's.
//
// Only touched pages count: the simulated machine's guest memory is one big
// mmap, and its untouched pages are not resident.
#ifndef BENCH_MEMORY_USAGE_H_
#define BENCH_MEMORY_USAGE_H_

#include <cstdint>

namespace bench {

// Gives the heap's free memory back to the kernel (malloc_trim), then resets
// the high-water mark to the current resident size. False when the kernel
// refuses (before Linux 4.0, or no access to /proc).
bool ResetPeakResident();
// VmHWM in bytes, or -1 when /proc/self/status cannot be read.
int64_t PeakResidentBytes();

}  // namespace bench

#endif  // BENCH_MEMORY_USAGE_H_
