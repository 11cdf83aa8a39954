// KString: an owned, immutable, NUL-terminated string for kernel code, which
// cannot use std::string (libstdc++ instantiates it out of line, so it does not
// link freestanding).
#ifndef VFS_KSTRING_H_
#define VFS_KSTRING_H_

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace vfs {

class KString {
 public:
  KString() = default;
  explicit KString(std::string_view text)
      : data_(new char[text.size() + 1]), size_(text.size()) {
    if (size_) memcpy(data_.get(), text.data(), size_);
    data_[size_] = '\0';
  }
  // The concatenation of `a` and `b`.
  KString(std::string_view a, std::string_view b)
      : data_(new char[a.size() + b.size() + 1]), size_(a.size() + b.size()) {
    if (!a.empty()) memcpy(data_.get(), a.data(), a.size());
    if (!b.empty()) memcpy(data_.get() + a.size(), b.data(), b.size());
    data_[size_] = '\0';
  }
  KString(KString&&) noexcept = default;
  KString& operator=(KString&&) noexcept = default;
  KString Copy() const { return KString(view()); }

  std::string_view view() const { return {data_ ? data_.get() : "", size_}; }
  const char* c_str() const { return data_ ? data_.get() : ""; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool operator==(std::string_view other) const { return view() == other; }

 private:
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
};

}  // namespace vfs

#endif  // VFS_KSTRING_H_
