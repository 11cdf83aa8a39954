#include "vfs/file_locks.h"

#include <algorithm>
#include <utility>

namespace vfs {

namespace {

using Record = FileLocks::Record;

bool Overlap(const Record& a, const Record& b) {
  return a.start <= b.end && b.start <= a.end;
}

bool Conflict(const Record& held, const Record& want) {
  return held.owner != want.owner && Overlap(held, want) &&
         (held.type == base::kLockWrite || want.type == base::kLockWrite);
}

}  // namespace

Record FileLocks::Test(const Record& want) {
  SpinGuard guard(lock_);
  for (const Record& held : records_) {
    if (Conflict(held, want)) return held;
  }
  Record none = want;
  none.type = base::kLockUnlock;
  return none;
}

base::Result<void> FileLocks::Set(const Record& want) {
  SpinGuard guard(lock_);
  if (want.type != base::kLockUnlock) {
    for (const Record& held : records_) {
      if (Conflict(held, want)) return base::Error{EAGAIN};
    }
  }
  // The owner's locks lose [start, end]; the parts outside it stay.
  std::vector<Record> next;
  next.reserve(records_.size() + 2);
  for (const Record& held : records_) {
    if (held.owner != want.owner || !Overlap(held, want)) {
      next.push_back(held);
      continue;
    }
    if (held.start < want.start) {
      Record left = held;
      left.end = want.start - 1;
      next.push_back(left);
    }
    if (held.end > want.end) {
      Record right = held;
      right.start = want.end + 1;
      next.push_back(right);
    }
  }
  if (want.type != base::kLockUnlock) {
    // Merge with the owner's touching locks of the same type.
    Record merged = want;
    auto touches = [&](const Record& r) {
      return r.owner == merged.owner && r.type == merged.type &&
             (r.end == kToEnd || r.end + 1 >= merged.start) &&
             (merged.end == kToEnd || merged.end + 1 >= r.start);
    };
    for (auto it = next.begin(); it != next.end();) {
      if (touches(*it)) {
        merged.start = std::min(merged.start, it->start);
        merged.end = std::max(merged.end, it->end);
        it = next.erase(it);
      } else {
        ++it;
      }
    }
    next.push_back(merged);
  }
  records_ = std::move(next);
  return {};
}

void FileLocks::ReleaseRecords(const void* owner) {
  SpinGuard guard(lock_);
  std::erase_if(records_, [&](const Record& r) { return r.owner == owner; });
}

base::Result<void> FileLocks::Flock(const void* file, int16_t type) {
  SpinGuard guard(lock_);
  if (type != base::kLockUnlock) {
    for (const WholeFileLock& held : flocks_) {
      if (held.file != file &&
          (held.type == base::kLockWrite || type == base::kLockWrite)) {
        return base::Error{EWOULDBLOCK};
      }
    }
  }
  std::erase_if(flocks_,
                [&](const WholeFileLock& l) { return l.file == file; });
  if (type != base::kLockUnlock) flocks_.push_back({file, type});
  return {};
}

}  // namespace vfs
