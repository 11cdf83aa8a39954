// Helpers shared by the system-call entry points of posix_*.cc (internal to
// vfs/).
#ifndef VFS_SYSCALL_H_
#define VFS_SYSCALL_H_

#include <cstdint>
#include <string_view>

#include "base/abi.h"
#include "base/result.h"
#include "vfs/current_task.h"
#include "vfs/kernel.h"

namespace vfs::syscall {

// The calling thread's task; ENOSYS when it has none.
inline Result<Task*> CurrentTaskOrError() {
  Task* task = CurrentTask();
  if (!task) return Error{ENOSYS};
  return task;
}

// A path argument, checked as Linux's getname does: EFAULT for null,
// ENAMETOOLONG when it does not fit in kPathMax bytes with its NUL, ENOENT when
// empty.
inline Result<std::string_view> UserPath(const char* path) {
  if (!path) return Error{EFAULT};
  size_t length = 0;
  while (path[length] != '\0') {
    if (++length >= base::kPathMax) return Error{ENAMETOOLONG};
  }
  if (length == 0) return Error{ENOENT};
  return std::string_view(path, length);
}

// A result as the system call returns it.
template <typename T>
int64_t Return(const Result<T>& result) {
  if (!result.ok()) return result.negated_error();
  return static_cast<int64_t>(result.value());
}
inline int64_t Return(const Result<void>& result) {
  return result.ok() ? 0 : result.negated_error();
}

}  // namespace vfs::syscall

#endif  // VFS_SYSCALL_H_
