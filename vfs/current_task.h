// The calling thread's task: the one vfs/posix.h acts on.
//
// A thread acts as the task it entered (TaskScope, SetCurrentTask) or, having
// entered none, as the process's default task (sim::Machine offers its init
// task as the default, so that any thread of a program with one machine acts
// on it). A kernel going away takes its tasks out of both. With neither, the
// calls of vfs/posix.h fail with ENOSYS. The thread's own task lives in
// thread-local storage in a hosted build and in one variable in a freestanding
// one (the boot image runs one CPU): what a kernel's per-CPU `current` is.
#ifndef VFS_CURRENT_TASK_H_
#define VFS_CURRENT_TASK_H_

#include "vfs/kernel.h"

namespace vfs {

// The calling thread's task, else the default task; null when neither is set.
Task* CurrentTask();
// Enters `task` on the calling thread (null: leaves it); returns the previous
// one.
Task* SetCurrentTask(Task* task);
// The task threads that entered none act as (null: none); returns the
// previous one.
Task* SetDefaultTask(Task* task);
// Makes `task` the default task when there is none; whether it did.
bool OfferDefaultTask(Task* task);
Task* DefaultTask();

// Enters a task on the calling thread for a scope.
class TaskScope {
 public:
  explicit TaskScope(Task& task) : previous_(SetCurrentTask(&task)) {}
  ~TaskScope() { SetCurrentTask(previous_); }
  TaskScope(const TaskScope&) = delete;
  TaskScope& operator=(const TaskScope&) = delete;

 private:
  Task* previous_;
};

}  // namespace vfs

#endif  // VFS_CURRENT_TASK_H_
