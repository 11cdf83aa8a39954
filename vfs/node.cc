#include "vfs/node.h"

#include <new>

#include "base/platform.h"
#include "vfs/fifo.h"
#include "vfs/open_file.h"

namespace vfs {

namespace {

// The object in `slot`, made when there is none; null when out of memory.
template <typename T>
T* MadeOnFirstUse(std::atomic<T*>& slot) {
  T* existing = slot.load(std::memory_order_acquire);
  if (existing) return existing;
  T* made = new (std::nothrow) T;
  if (!made) return nullptr;
  // Another thread may have made one meanwhile: theirs wins.
  if (!slot.compare_exchange_strong(existing, made,
                                    std::memory_order_acq_rel)) {
    delete made;
    return existing;
  }
  return made;
}

// A thread's arrivals count up from its number times 2^40: a thread would
// need 2^40 arrivals to reach the next one's.
constexpr int kArrivalThreadShift = 40;
std::atomic<uint64_t> arrival_threads{0};
KERNEL_THREAD_LOCAL uint64_t thread_arrivals = 0;

uint64_t& ThreadArrivals() {
  if (thread_arrivals == 0) {
    thread_arrivals =
        (arrival_threads.fetch_add(1, std::memory_order_relaxed) + 1)
        << kArrivalThreadShift;
  }
  return thread_arrivals;
}

}  // namespace

uint64_t AttrArrivals() { return ThreadArrivals(); }

uint64_t NoteAttrArrival() { return ++ThreadArrivals(); }

bool ArrivedSince(uint64_t stamp, uint64_t arrivals_before) {
  return stamp > arrivals_before &&
         (stamp >> kArrivalThreadShift) ==
             (arrivals_before >> kArrivalThreadShift);
}

Node::~Node() {
  delete locks_.load(std::memory_order_acquire);
  delete pipe_.load(std::memory_order_acquire);
}

FileLocks* Node::locks() { return MadeOnFirstUse(locks_); }
Pipe* Node::pipe() { return MadeOnFirstUse(pipe_); }

// Without an operation Linux answers EPERM for a change of the namespace,
// ENOTDIR when the node is no directory, EINVAL for readlink of a non-symlink.
namespace {
Error DirectoryOnly(const Node& node, int otherwise) {
  return Error{node.is_directory() ? otherwise : ENOTDIR};
}
}  // namespace

Result<Stat> Node::SetAttr(const AttrChange&) { return Error{EPERM}; }
Result<RefPtr<OpenFile>> Node::Open(int) { return Error{ENXIO}; }
Result<StatFs> Node::GetFsStat() { return Error{ENOSYS}; }
Result<KString> Node::ReadLink() { return Error{EINVAL}; }

Result<size_t> Node::GetXattr(std::string_view, std::span<char>) {
  return Error{EOPNOTSUPP};
}
Result<void> Node::SetXattr(std::string_view, std::span<const char>, int) {
  return Error{EOPNOTSUPP};
}
Result<size_t> Node::ListXattr(std::span<char>) { return Error{EOPNOTSUPP}; }
Result<void> Node::RemoveXattr(std::string_view) { return Error{EOPNOTSUPP}; }

Result<RefPtr<Node>> Node::Lookup(std::string_view) {
  return DirectoryOnly(*this, ENOENT);
}
Result<RefPtr<OpenFile>> Node::Create(std::string_view, uint32_t, int) {
  return DirectoryOnly(*this, EPERM);
}
Result<void> Node::Mkdir(std::string_view, uint32_t) {
  return DirectoryOnly(*this, EPERM);
}
Result<void> Node::Mknod(std::string_view, uint32_t, uint64_t) {
  return DirectoryOnly(*this, EPERM);
}
Result<RefPtr<OpenFile>> Node::CreateUnnamed(uint32_t, int) {
  return DirectoryOnly(*this, EOPNOTSUPP);
}
Result<void> Node::Symlink(std::string_view, std::string_view) {
  return DirectoryOnly(*this, EPERM);
}
Result<void> Node::Link(std::string_view, Node&) {
  return DirectoryOnly(*this, EPERM);
}
Result<void> Node::Unlink(std::string_view) {
  return DirectoryOnly(*this, EPERM);
}
Result<void> Node::Rmdir(std::string_view) {
  return DirectoryOnly(*this, EPERM);
}
Result<void> Node::Rename(std::string_view, Node&, std::string_view, unsigned) {
  return DirectoryOnly(*this, EPERM);
}

}  // namespace vfs
