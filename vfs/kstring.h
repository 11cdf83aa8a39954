// KString: an owned, immutable, NUL-terminated string for kernel code, which
// cannot use std::string (libstdc++ instantiates it out of line, so it does not
// link freestanding).
//
// A string of up to kInlineCapacity bytes lives inside the object, as a
// Linux dentry keeps a short name in d_iname: every step of a path walk and
// every cached directory entry holds a name, and most names are short, so
// creating and removing a file no longer allocates once per name held
// (create+close+unlink of "/root/created" made eight such allocations).
#ifndef VFS_KSTRING_H_
#define VFS_KSTRING_H_

#include <cstddef>
#include <cstring>
#include <string_view>

namespace vfs {

class KString {
 public:
  // Longest string kept inside the object; its NUL follows it there.
  static constexpr size_t kInlineCapacity = 23;

  KString() { inline_[0] = '\0'; }
  explicit KString(std::string_view text) : KString(text, {}) {}
  // The concatenation of `a` and `b`.
  KString(std::string_view a, std::string_view b) : size_(a.size() + b.size()) {
    char* bytes = is_inline() ? inline_ : (heap_ = new char[size_ + 1]);
    if (!a.empty()) memcpy(bytes, a.data(), a.size());
    if (!b.empty()) memcpy(bytes + a.size(), b.data(), b.size());
    bytes[size_] = '\0';
  }
  KString(KString&& other) noexcept { TakeFrom(other); }
  KString& operator=(KString&& other) noexcept {
    if (this != &other) {
      FreeHeap();
      TakeFrom(other);
    }
    return *this;
  }
  ~KString() { FreeHeap(); }
  KString Copy() const { return KString(view()); }

  std::string_view view() const { return {c_str(), size_}; }
  const char* c_str() const { return is_inline() ? inline_ : heap_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool operator==(std::string_view other) const { return view() == other; }

 private:
  bool is_inline() const { return size_ <= kInlineCapacity; }
  void FreeHeap() {
    if (!is_inline()) delete[] heap_;
  }
  // Takes `other`'s bytes (copied when inline, the heap block otherwise) and
  // leaves it empty.
  void TakeFrom(KString& other) {
    size_ = other.size_;
    if (other.is_inline()) {
      memcpy(inline_, other.inline_, size_ + 1);
    } else {
      heap_ = other.heap_;
    }
    other.size_ = 0;
    other.inline_[0] = '\0';
  }

  size_t size_ = 0;
  union {
    char* heap_;                        // size_ > kInlineCapacity
    char inline_[kInlineCapacity + 1];  // size_ <= kInlineCapacity
  };
};

}  // namespace vfs

#endif  // VFS_KSTRING_H_
