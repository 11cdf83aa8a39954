#include "kernel/runtime.h"

#include <cstddef>
#include <cstdint>
#include <new>

// ---- Memory and string functions ----
// The compiler may emit calls to them.
extern "C" {

void* memcpy(void* dst, const void* src, std::size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  auto* s = static_cast<const unsigned char*>(src);
  while (n--) *d++ = *s++;
  return dst;
}

void* memmove(void* dst, const void* src, std::size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  auto* s = static_cast<const unsigned char*>(src);
  if (d == s || n == 0) return dst;
  if (d < s) {
    while (n--) *d++ = *s++;
  } else {
    d += n;
    s += n;
    while (n--) *--d = *--s;
  }
  return dst;
}

void* memset(void* dst, int c, std::size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  while (n--) *d++ = static_cast<unsigned char>(c);
  return dst;
}

int memcmp(const void* a, const void* b, std::size_t n) {
  auto* x = static_cast<const unsigned char*>(a);
  auto* y = static_cast<const unsigned char*>(b);
  for (; n; --n, ++x, ++y) {
    if (*x != *y) return *x < *y ? -1 : 1;
  }
  return 0;
}

void* memchr(const void* s, int c, std::size_t n) {
  auto* p = static_cast<const unsigned char*>(s);
  for (; n; --n, ++p) {
    if (*p == static_cast<unsigned char>(c))
      return const_cast<unsigned char*>(p);
  }
  return nullptr;
}

std::size_t strlen(const char* s) {
  std::size_t n = 0;
  while (s[n]) ++n;
  return n;
}

int strcmp(const char* a, const char* b) {
  while (*a && *a == *b) ++a, ++b;
  return static_cast<unsigned char>(*a) - static_cast<unsigned char>(*b);
}

int strncmp(const char* a, const char* b, std::size_t n) {
  for (; n; --n, ++a, ++b) {
    if (*a != *b || !*a) {
      return static_cast<unsigned char>(*a) - static_cast<unsigned char>(*b);
    }
  }
  return 0;
}

}  // extern "C"

// ---- The heap ----
// First fit over an address-ordered free list, coalescing on free.
namespace kernel {
namespace {

constexpr std::size_t kAlign = 16;

struct Block {
  std::size_t size;  // Bytes including this header; a multiple of kAlign.
  Block* next;       // Next free block (free blocks only).
};
static_assert(sizeof(Block) <= kAlign);

alignas(kAlign) unsigned char early_arena[256 * 1024];
Block* free_list = nullptr;
bool initialized = false;
std::size_t in_use = 0;

std::size_t RoundUp(std::size_t n, std::size_t a) {
  return (n + a - 1) / a * a;
}

void AddRegion(void* base, std::size_t size) {
  auto start = RoundUp(reinterpret_cast<std::uintptr_t>(base), kAlign);
  auto end = (reinterpret_cast<std::uintptr_t>(base) + size) / kAlign * kAlign;
  if (end <= start + kAlign) return;
  auto* block = reinterpret_cast<Block*>(start);
  block->size = end - start;
  block->next = free_list;
  free_list = block;
}

void EnsureInitialized() {
  if (initialized) return;
  initialized = true;
  AddRegion(early_arena, sizeof(early_arena));
}

void* Allocate(std::size_t bytes, std::size_t align) {
  EnsureInitialized();
  if (align < kAlign) align = kAlign;
  if (bytes > (std::size_t{1} << 46)) return nullptr;
  // Over-allocate for alignment: the user pointer is the first `align`-aligned
  // address after the header, and the word before it records the block's start.
  std::size_t need = RoundUp(bytes + kAlign + (align - kAlign), kAlign);
  for (Block** link = &free_list; *link; link = &(*link)->next) {
    Block* block = *link;
    if (block->size < need) continue;
    if (block->size - need >= 2 * kAlign) {
      auto* rest = reinterpret_cast<Block*>(
          reinterpret_cast<unsigned char*>(block) + need);
      rest->size = block->size - need;
      rest->next = block->next;
      *link = rest;
      block->size = need;
    } else {
      *link = block->next;
    }
    in_use += block->size;
    auto user =
        RoundUp(reinterpret_cast<std::uintptr_t>(block) + kAlign, align);
    reinterpret_cast<Block**>(user)[-1] = block;
    return reinterpret_cast<void*>(user);
  }
  return nullptr;
}

void Free(void* p) {
  if (!p) return;
  Block* block = static_cast<Block**>(p)[-1];
  in_use -= block->size;
  // Insert in address order, then merge with the neighbours.
  Block** link = &free_list;
  while (*link && *link < block) link = &(*link)->next;
  block->next = *link;
  *link = block;
  auto end = [](Block* b) {
    return reinterpret_cast<unsigned char*>(b) + b->size;
  };
  if (block->next &&
      end(block) == reinterpret_cast<unsigned char*>(block->next)) {
    block->size += block->next->size;
    block->next = block->next->next;
  }
  if (link != &free_list) {
    // Find the predecessor to merge backwards.
    for (Block* prev = free_list; prev; prev = prev->next) {
      if (prev->next == block &&
          end(prev) == reinterpret_cast<unsigned char*>(block)) {
        prev->size += block->size;
        prev->next = block->next;
        break;
      }
    }
  }
}

void* AllocateOrPanic(std::size_t bytes, std::size_t align) {
  void* p = Allocate(bytes, align);
  if (!p) Panic("kernel heap exhausted");
  return p;
}

}  // namespace

void HeapInit(void* base, std::size_t size) {
  EnsureInitialized();
  AddRegion(base, size);
}

std::size_t HeapBytesInUse() { return in_use; }

[[gnu::weak, noreturn]] void Panic(const char*) {
  for (;;) __builtin_ia32_pause();
}

}  // namespace kernel

// ---- operator new/delete ----
// Allocation failure panics: kernel code checks sizes first.
void* operator new(std::size_t n) { return kernel::AllocateOrPanic(n, 16); }
void* operator new[](std::size_t n) { return kernel::AllocateOrPanic(n, 16); }
void* operator new(std::size_t n, std::align_val_t a) {
  return kernel::AllocateOrPanic(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return kernel::AllocateOrPanic(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return kernel::Allocate(n, 16);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return kernel::Allocate(n, 16);
}
void* operator new(std::size_t n, std::align_val_t a,
                   const std::nothrow_t&) noexcept {
  return kernel::Allocate(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a,
                     const std::nothrow_t&) noexcept {
  return kernel::Allocate(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { kernel::Free(p); }
void operator delete[](void* p) noexcept { kernel::Free(p); }
void operator delete(void* p, std::size_t) noexcept { kernel::Free(p); }
void operator delete[](void* p, std::size_t) noexcept { kernel::Free(p); }
void operator delete(void* p, std::align_val_t) noexcept { kernel::Free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { kernel::Free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  kernel::Free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  kernel::Free(p);
}

// ---- C++ ABI and libstdc++ support ----
// Symbols referenced by header-only code.
extern "C" {
void* __dso_handle = nullptr;
int __cxa_atexit(void (*)(void*), void*, void*) {
  return 0;
}  // Kernels never exit.
void __cxa_pure_virtual() { kernel::Panic("pure virtual call"); }
// libstdc++ built without exceptions aborts where it would throw
// (bad_optional_access).
void abort() { kernel::Panic("abort"); }
}

namespace std {
const nothrow_t nothrow{};
void __throw_bad_alloc() { kernel::Panic("bad_alloc"); }
void __throw_bad_array_new_length() { kernel::Panic("bad_array_new_length"); }
void __throw_length_error(const char* what) { kernel::Panic(what); }
void __throw_logic_error(const char* what) { kernel::Panic(what); }
void __throw_out_of_range(const char* what) { kernel::Panic(what); }
void __throw_out_of_range_fmt(const char* what, ...) { kernel::Panic(what); }
void __throw_invalid_argument(const char* what) { kernel::Panic(what); }
void __throw_bad_function_call() { kernel::Panic("bad_function_call"); }
void __glibcxx_assert_fail(const char*, int, const char*,
                           const char* condition) noexcept {
  kernel::Panic(condition);
}
}  // namespace std
