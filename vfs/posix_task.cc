// System calls on the calling task: its current directory, umask, ids and
// groups (the rules of Linux's kernel/sys.c and kernel/groups.c), and mounts.
#include <cstring>
#include <utility>
#include <vector>

#include "vfs/posix.h"
#include "vfs/syscall.h"

namespace vfs {
namespace {

using syscall::AsInt;
using syscall::CurrentTaskOrError;
using syscall::Return;
using syscall::UserPath;

constexpr uint32_t kNoChange = 0xffffffff;

Result<void> Chdir(const char* path) {
  Task* task = TRY(CurrentTaskOrError());
  RefPtr<Location> location =
      TRY(syscall::ResolveAt(*task, base::kAtFdCwd, path, 0, 0));
  if (!location->node()->is_directory()) return Error{ENOTDIR};
  TRY(CheckNodeAccess(task->credentials(), *location->node(), kMayExec));
  task->set_cwd(std::move(location));
  return {};
}

Result<void> Fchdir(int fd) {
  Task* task = TRY(CurrentTaskOrError());
  RefPtr<OpenFile> file = TRY(syscall::FileOf(*task, fd, /*allow_path=*/true));
  if (!file->node().is_directory()) return Error{ENOTDIR};
  TRY(CheckNodeAccess(task->credentials(), file->node(), kMayExec));
  task->set_cwd(file->location());
  return {};
}

Result<size_t> Getcwd(char* buffer, size_t size) {
  Task* task = TRY(CurrentTaskOrError());
  RefPtr<Location> cwd = task->cwd();
  std::vector<std::string_view> names;  // Leaf first.
  size_t length = 1;                    // The NUL.
  for (const Location* at = cwd.get(); at->parent(); at = at->parent().get()) {
    names.push_back(at->name());
    length += 1 + at->name().size();
  }
  if (names.empty()) length = 2;  // "/"
  if (length > size) return Error{ERANGE};
  if (!buffer) return Error{EFAULT};
  size_t at = 0;
  buffer[at++] = '/';
  for (size_t i = names.size(); i-- > 0;) {
    memcpy(buffer + at, names[i].data(), names[i].size());
    at += names[i].size();
    if (i != 0) buffer[at++] = '/';
  }
  buffer[at] = '\0';
  return length;
}

// Changes the task's credentials with `change` (a function editing a copy and
// answering whether the change is allowed).
template <typename Change>
Result<void> ChangeCredentials(Change change) {
  Task* task = TRY(CurrentTaskOrError());
  Credentials next = task->credentials();
  TRY(change(next));
  return task->SetCredentials(next);
}

// The user ids or the group ids of a set of credentials: the set*uid and
// set*gid calls follow the same rules, each on its own kind.
struct IdKind {
  uint32_t Credentials::*real;
  uint32_t Credentials::*effective;
  uint32_t Credentials::*saved;
  uint32_t Credentials::*filesystem;
};
constexpr IdKind kUserIds{&Credentials::uid, &Credentials::euid,
                          &Credentials::suid, &Credentials::fsuid};
constexpr IdKind kGroupIds{&Credentials::gid, &Credentials::egid,
                           &Credentials::sgid, &Credentials::fsgid};

// Sets the effective id, and the filesystem id that follows it.
void SetEffective(Credentials& creds, const IdKind& kind, uint32_t id) {
  creds.*kind.effective = id;
  creds.*kind.filesystem = id;
}

// Whether `id` is one of the real, effective and saved ids: those a task may
// switch among without CAP_SETUID / CAP_SETGID (root's effective uid).
bool OwnId(const Credentials& creds, const IdKind& kind, uint32_t id) {
  return id == creds.*kind.real || id == creds.*kind.effective ||
         id == creds.*kind.saved;
}

// setuid(2) / setgid(2): root sets all three; others set the effective id to
// the real or saved one.
Result<void> SetId(Credentials& creds, const IdKind& kind, uint32_t id) {
  if (id == kNoChange) return Error{EINVAL};
  if (creds.id_privileged()) {
    creds.*kind.real = creds.*kind.saved = id;
  } else if (id != creds.*kind.real && id != creds.*kind.saved) {
    return Error{EPERM};
  }
  SetEffective(creds, kind, id);
  return {};
}

// seteuid(2) / setegid(2), as glibc's setresuid(-1, id, -1): without the
// capability, to one of the task's own ids.
Result<void> SetEffectiveId(Credentials& creds, const IdKind& kind,
                            uint32_t id) {
  if (id == kNoChange) return Error{EINVAL};
  if (!creds.id_privileged() && !OwnId(creds, kind, id)) return Error{EPERM};
  SetEffective(creds, kind, id);
  return {};
}

// setreuid(2) / setregid(2): -1 keeps an id. Without the capability the real
// id may become the effective one, and the effective id any of the three; the
// saved id follows the effective one when the real id is set or the effective
// one leaves it.
Result<void> SetRealAndEffective(Credentials& creds, const IdKind& kind,
                                 uint32_t real, uint32_t effective) {
  const Credentials old = creds;
  if (real != kNoChange) {
    if (!old.id_privileged() && real != old.*kind.real &&
        real != old.*kind.effective) {
      return Error{EPERM};
    }
    creds.*kind.real = real;
  }
  if (effective != kNoChange) {
    if (!old.id_privileged() && !OwnId(old, kind, effective)) {
      return Error{EPERM};
    }
    creds.*kind.effective = effective;
  }
  if (real != kNoChange ||
      (effective != kNoChange && effective != old.*kind.real)) {
    creds.*kind.saved = creds.*kind.effective;
  }
  creds.*kind.filesystem = creds.*kind.effective;
  return {};
}

Result<void> SetGroups(Credentials& creds, size_t size, const uint32_t* list) {
  if (!creds.id_privileged()) return Error{EPERM};
  if (size > Credentials::kMaxGroups) return Error{EINVAL};
  if (size != 0 && !list) return Error{EFAULT};
  for (size_t i = 0; i < size; ++i) creds.groups[i] = list[i];
  creds.group_count = size;
  return {};
}

Result<int> GetGroups(int size, uint32_t* list) {
  Task* task = TRY(CurrentTaskOrError());
  if (size < 0) return Error{EINVAL};
  const Credentials& creds = task->credentials();
  const int count = static_cast<int>(creds.group_count);
  if (size == 0) return count;
  if (size < count) return Error{EINVAL};
  if (!list) return Error{EFAULT};
  for (int i = 0; i < count; ++i) list[i] = creds.groups[i];
  return count;
}

// An id of the calling task, or -1 when it has none.
template <typename Field>
uint32_t IdOf(Field field) {
  Task* task = CurrentTask();
  return task ? field(task->credentials()) : kNoChange;
}

Result<void> MountAt(const char* user_path, RefPtr<Node> root) {
  std::string_view path = TRY(UserPath(user_path));
  Task* task = TRY(CurrentTaskOrError());
  if (!task->credentials().id_privileged()) return Error{EPERM};
  if (!root) return Error{EINVAL};
  return task->Mount(path, std::move(root));
}

Result<void> Umount(const char* user_path) {
  std::string_view path = TRY(UserPath(user_path));
  Task* task = TRY(CurrentTaskOrError());
  if (!task->credentials().id_privileged()) return Error{EPERM};
  return task->Unmount(path);
}

}  // namespace

int chdir(const char* path) { return AsInt(Chdir(path)); }
int fchdir(int fd) { return AsInt(Fchdir(fd)); }
int64_t getcwd(char* buffer, size_t size) {
  return Return(Getcwd(buffer, size));
}

uint32_t umask(uint32_t mask) {
  Task* task = CurrentTask();
  return task ? task->set_umask(mask) : 0;
}

uint32_t getuid() {
  return IdOf([](const Credentials& c) { return c.uid; });
}
uint32_t geteuid() {
  return IdOf([](const Credentials& c) { return c.euid; });
}
uint32_t getgid() {
  return IdOf([](const Credentials& c) { return c.gid; });
}
uint32_t getegid() {
  return IdOf([](const Credentials& c) { return c.egid; });
}
int getgroups(int size, uint32_t* list) { return AsInt(GetGroups(size, list)); }

int setuid(uint32_t uid) {
  return AsInt(ChangeCredentials(
      [&](Credentials& creds) { return SetId(creds, kUserIds, uid); }));
}
int setgid(uint32_t gid) {
  return AsInt(ChangeCredentials(
      [&](Credentials& creds) { return SetId(creds, kGroupIds, gid); }));
}
int seteuid(uint32_t euid) {
  return AsInt(ChangeCredentials([&](Credentials& creds) {
    return SetEffectiveId(creds, kUserIds, euid);
  }));
}
int setegid(uint32_t egid) {
  return AsInt(ChangeCredentials([&](Credentials& creds) {
    return SetEffectiveId(creds, kGroupIds, egid);
  }));
}
int setreuid(uint32_t ruid, uint32_t euid) {
  return AsInt(ChangeCredentials([&](Credentials& creds) {
    return SetRealAndEffective(creds, kUserIds, ruid, euid);
  }));
}
int setregid(uint32_t rgid, uint32_t egid) {
  return AsInt(ChangeCredentials([&](Credentials& creds) {
    return SetRealAndEffective(creds, kGroupIds, rgid, egid);
  }));
}
int setgroups(size_t size, const uint32_t* list) {
  return AsInt(ChangeCredentials(
      [&](Credentials& creds) { return SetGroups(creds, size, list); }));
}

int mount(const char* target, RefPtr<Node> root) {
  return AsInt(MountAt(target, std::move(root)));
}
int umount(const char* target) { return AsInt(Umount(target)); }

}  // namespace vfs
