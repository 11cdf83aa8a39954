// Intrusive reference counting for objects the VFS shares between threads and
// tables: nodes, open files, mounts and locations.
//
// The count lives in the object, so a filesystem sees the moment the VFS lets
// go of one of its objects (OnLastReference) and can act on it: the virtio-fs
// node sends FORGET there.
#ifndef VFS_REF_COUNTED_H_
#define VFS_REF_COUNTED_H_

#include <atomic>
#include <cstdint>
#include <utility>

namespace vfs {

class RefCounted {
 public:
  RefCounted(const RefCounted&) = delete;
  RefCounted& operator=(const RefCounted&) = delete;

  void AddRef() { count_.fetch_add(1, std::memory_order_relaxed); }

  // Takes a reference only if the object is still alive (count above zero). A
  // filesystem that finds objects through its own table (by inode or node id)
  // uses this, because the object it finds may be on its way to OnLastReference
  // on another thread.
  bool TryAddRef() {
    uint32_t count = count_.load(std::memory_order_relaxed);
    while (count != 0) {
      if (count_.compare_exchange_weak(count, count + 1,
                                       std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }

  void DropRef() {
    if (count_.fetch_sub(1, std::memory_order_acq_rel) == 1) OnLastReference();
  }

  // A snapshot; exact only while the caller excludes everyone who could take a
  // new one.
  uint32_t ref_count() const { return count_.load(std::memory_order_acquire); }

 protected:
  RefCounted() = default;
  virtual ~RefCounted() = default;

  // Runs when the last reference is dropped. The default deletes the object;
  // an override may first tell the filesystem or device, and must end by
  // deleting it (or handing it to someone who will).
  virtual void OnLastReference() { delete this; }

 private:
  std::atomic<uint32_t> count_{0};
};

// An owning pointer to a RefCounted object (T derives from RefCounted).
template <typename T>
class RefPtr {
 public:
  RefPtr() = default;
  RefPtr(std::nullptr_t) {}
  explicit RefPtr(T* object) : object_(object) {
    if (object_) object_->AddRef();
  }
  RefPtr(const RefPtr& other) : RefPtr(other.object_) {}
  RefPtr(RefPtr&& other) noexcept : object_(other.object_) {
    other.object_ = nullptr;
  }
  template <typename U>
  RefPtr(const RefPtr<U>& other) : RefPtr(other.get()) {}
  template <typename U>
  RefPtr(RefPtr<U>&& other) noexcept : object_(other.Leak()) {}
  ~RefPtr() { reset(); }

  RefPtr& operator=(RefPtr other) noexcept {
    std::swap(object_, other.object_);
    return *this;
  }

  // Takes over a reference the caller already holds (from TryAddRef or Leak).
  static RefPtr Adopt(T* object) {
    RefPtr p;
    p.object_ = object;
    return p;
  }
  // Gives up ownership without releasing; the caller now holds the reference.
  T* Leak() { return std::exchange(object_, nullptr); }

  void reset() {
    if (T* object = std::exchange(object_, nullptr)) object->DropRef();
  }

  T* get() const { return object_; }
  T* operator->() const { return object_; }
  T& operator*() const { return *object_; }
  explicit operator bool() const { return object_ != nullptr; }
  bool operator==(const RefPtr& other) const {
    return object_ == other.object_;
  }

 private:
  T* object_ = nullptr;
};

// Allocates a T and returns the first reference to it.
template <typename T, typename... Args>
RefPtr<T> MakeRef(Args&&... args) {
  return RefPtr<T>(new T(std::forward<Args>(args)...));
}

}  // namespace vfs

#endif  // VFS_REF_COUNTED_H_
