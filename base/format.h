// A small snprintf for kernel code, which has no libc. Supports %s %c %d %i %u
// %x %p %%, the length modifiers l, ll and z, a field width and the '0' flag.
// Always terminates the output; returns the length the full output would have
// had, like snprintf.
#ifndef BASE_FORMAT_H_
#define BASE_FORMAT_H_

#include <cstdarg>
#include <cstddef>

#include "base/platform.h"

namespace base {

size_t FormatV(char* out, size_t capacity, const char* format, va_list args);
[[gnu::format(printf, 3, 4)]] size_t Format(char* out, size_t capacity,
                                            const char* format, ...);

// Formats one line (truncated at 256 bytes) and hands it to the platform's log.
[[gnu::format(printf, 3, 4)]] void Logf(Platform& platform, LogLevel level,
                                        const char* format, ...);

}  // namespace base

#endif  // BASE_FORMAT_H_
