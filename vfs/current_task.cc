#include "vfs/current_task.h"

#include <atomic>

namespace vfs {
namespace {

#if __STDC_HOSTED__
thread_local Task* thread_task = nullptr;
#else
Task* thread_task = nullptr;
#endif
std::atomic<Task*> default_task{nullptr};

}  // namespace

Task* CurrentTask() {
  if (thread_task != nullptr) return thread_task;
  return default_task.load(std::memory_order_acquire);
}

Task* SetCurrentTask(Task* task) {
  Task* previous = thread_task;
  thread_task = task;
  return previous;
}

Task* SetDefaultTask(Task* task) {
  return default_task.exchange(task, std::memory_order_acq_rel);
}

bool OfferDefaultTask(Task* task) {
  Task* none = nullptr;
  return default_task.compare_exchange_strong(none, task,
                                              std::memory_order_acq_rel);
}

Task* DefaultTask() { return default_task.load(std::memory_order_acquire); }

}  // namespace vfs
