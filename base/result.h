// Result<T>: a value or a kernel error (a positive errno value, as in
// <linux/errno.h>). Kernel code returns errors, never throws. TRY() keeps the
// error paths short:
//
//   base::Result<Node*> Walk(...) {
//     Node* dir = TRY(Lookup(parent, name));
//     ...
//   }
//
// At the system call boundary an error becomes the negative errno:
// `r.negated_error()`. T need not be default-constructible: an error holds no
// T at all.
#ifndef BASE_RESULT_H_
#define BASE_RESULT_H_

#include <linux/errno.h>

#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace base {

// A positive errno value. Constructing one from 0 or a negative value is a
// bug: the Result then carries EIO.
struct Error {
  int code;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(const T& value) : code_(0) { new (&value_) T(value); }
  Result(T&& value) : code_(0) { new (&value_) T(std::move(value)); }
  Result(Error error) : code_(error.code > 0 ? error.code : EIO) {}
  Result(const Result& other) : code_(other.code_) {
    if (ok()) new (&value_) T(other.value_);
  }
  Result(Result&& other) : code_(other.code_) {
    if (ok()) new (&value_) T(std::move(other.value_));
  }
  Result& operator=(const Result& other) {
    if (this != &other) {
      Destroy();
      code_ = other.code_;
      if (ok()) new (&value_) T(other.value_);
    }
    return *this;
  }
  Result& operator=(Result&& other) {
    if (this != &other) {
      Destroy();
      code_ = other.code_;
      if (ok()) new (&value_) T(std::move(other.value_));
    }
    return *this;
  }
  ~Result() { Destroy(); }

  bool ok() const { return code_ == 0; }
  int error() const { return code_; }
  int negated_error() const { return -code_; }
  // Only when ok().
  T& value() & { return value_; }
  const T& value() const& { return value_; }
  T&& value() && { return std::move(value_); }
  T value_or(T fallback) const { return ok() ? value_ : fallback; }

 private:
  void Destroy() {
    if (ok()) std::destroy_at(&value_);
  }

  int code_;
  union {
    T value_;
  };
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() : code_(0) {}
  Result(Error error) : code_(error.code > 0 ? error.code : EIO) {}

  bool ok() const { return code_ == 0; }
  int error() const { return code_; }
  int negated_error() const { return -code_; }
  void value() const {}

 private:
  int code_;
};

// Converts a system-call style return (>= 0 success, < 0 negative errno) into
// a Result.
inline Result<void> FromNegatedErrno(long r) {
  if (r < 0) return Error{static_cast<int>(-r)};
  return {};
}

}  // namespace base

// Evaluates `expr` (a Result); on error returns the error from the enclosing
// function, otherwise yields the value. A GNU statement expression, as kernels
// use. Give it a statement of its own (`T x = TRY(...);`), never a place in an
// initializer or an argument list after something that owns a resource: GCC
// does not destroy what the expression around it built before the return
// (`Placed found{mount, TRY(Lookup(name))}` kept a reference to `mount`).
#define TRY(expr)                                \
  ({                                             \
    auto&& try_result_ = (expr);                 \
    if (!try_result_.ok()) {                     \
      return ::base::Error{try_result_.error()}; \
    }                                            \
    std::move(try_result_).value();              \
  })

#endif  // BASE_RESULT_H_
