#include "base/format.h"

#include <cstdint>

namespace base {
namespace {

class Sink {
 public:
  Sink(char* out, size_t capacity) : out_(out), capacity_(capacity) {}
  void Put(char c) {
    if (length_ + 1 < capacity_) out_[length_] = c;
    ++length_;
  }
  size_t Finish() {
    if (capacity_ > 0)
      out_[length_ < capacity_ ? length_ : capacity_ - 1] = '\0';
    return length_;
  }

 private:
  char* out_;
  size_t capacity_;
  size_t length_ = 0;
};

void PutNumber(Sink& sink, uint64_t value, bool negative, unsigned base,
               int width, char pad) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = "0123456789abcdef"[value % base];
    value /= base;
  } while (value);
  if (negative) digits[n++] = '-';
  for (int i = n; i < width; ++i) sink.Put(pad);
  while (n) sink.Put(digits[--n]);
}

}  // namespace

size_t FormatV(char* out, size_t capacity, const char* format, va_list args) {
  Sink sink(out, capacity);
  for (const char* p = format; *p; ++p) {
    if (*p != '%') {
      sink.Put(*p);
      continue;
    }
    ++p;
    char pad = ' ';
    if (*p == '0') pad = '0', ++p;
    int width = 0;
    while (*p >= '0' && *p <= '9') width = width * 10 + (*p++ - '0');
    int longs = 0;
    while (*p == 'l' || *p == 'z') longs += (*p++ == 'z') ? 2 : 1;
    switch (*p) {
      case 's': {
        const char* s = va_arg(args, const char*);
        if (!s) s = "(null)";
        int len = 0;
        while (s[len]) ++len;
        for (int i = len; i < width; ++i) sink.Put(' ');
        while (*s) sink.Put(*s++);
        break;
      }
      case 'c':
        sink.Put(static_cast<char>(va_arg(args, int)));
        break;
      case 'd':
      case 'i': {
        int64_t v = longs ? va_arg(args, long long) : va_arg(args, int);
        uint64_t magnitude = v < 0 ? 0 - static_cast<uint64_t>(v) : v;
        PutNumber(sink, magnitude, v < 0, 10, width, pad);
        break;
      }
      case 'u':
      case 'x': {
        uint64_t v =
            longs ? va_arg(args, unsigned long long) : va_arg(args, unsigned);
        PutNumber(sink, v, false, *p == 'u' ? 10 : 16, width, pad);
        break;
      }
      case 'p':
        sink.Put('0');
        sink.Put('x');
        PutNumber(sink, reinterpret_cast<uintptr_t>(va_arg(args, void*)), false,
                  16, width, pad);
        break;
      case '%':
        sink.Put('%');
        break;
      case '\0':
        --p;  // A lone '%' at the end: stop at the terminator.
        break;
      default:
        sink.Put('%');
        sink.Put(*p);
    }
  }
  return sink.Finish();
}

size_t Format(char* out, size_t capacity, const char* format, ...) {
  va_list args;
  va_start(args, format);
  size_t n = FormatV(out, capacity, format, args);
  va_end(args);
  return n;
}

void Logf(Platform& platform, LogLevel level, const char* format, ...) {
  char line[256];
  va_list args;
  va_start(args, format);
  FormatV(line, sizeof(line), format, args);
  va_end(args);
  platform.Log(level, line);
}

}  // namespace base
