// The minimal runtime that freestanding kernel code links against: memory and
// string functions, operator new/delete over a fixed heap, and the libstdc++
// support symbols that header-only containers reference. Hosted builds get all
// of this from libc and libstdc++ instead; this header only declares what an
// image's start-up code calls.
#ifndef KERNEL_RUNTIME_H_
#define KERNEL_RUNTIME_H_

#include <cstddef>

namespace kernel {

// Hands [base, base + size) to the heap. Until it is called the heap uses a
// small static arena, enough for early start-up.
void HeapInit(void* base, std::size_t size);

// Bytes currently allocated from the heap (for leak checks in images).
std::size_t HeapBytesInUse();

// Called when the runtime cannot continue (heap exhausted, pure virtual call, a
// container's bounds check). An image defines it (print and halt); the
// runtime's default just halts.
[[noreturn]] void Panic(const char* message);

}  // namespace kernel

#endif  // KERNEL_RUNTIME_H_
