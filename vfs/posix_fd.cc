// System calls on file descriptors.
#include <cstddef>
#include <span>

#include "vfs/posix.h"
#include "vfs/syscall.h"

namespace vfs {
namespace {

using syscall::CurrentTaskOrError;
using syscall::Return;

Result<RefPtr<OpenFile>> FileOf(int fd) {
  Task* task = TRY(CurrentTaskOrError());
  return task->files().Get(fd);
}

template <typename Byte>
Result<std::span<Byte>> UserBuffer(Byte* buffer, size_t count) {
  if (!buffer && count != 0) return Error{EFAULT};
  return std::span<Byte>(buffer, count);
}

Result<size_t> Read(int fd, void* buffer, size_t count) {
  RefPtr<OpenFile> file = TRY(FileOf(fd));
  auto bytes = TRY(UserBuffer(static_cast<std::byte*>(buffer), count));
  return file->Read(bytes);
}

Result<size_t> Write(int fd, const void* buffer, size_t count) {
  RefPtr<OpenFile> file = TRY(FileOf(fd));
  auto bytes = TRY(UserBuffer(static_cast<const std::byte*>(buffer), count));
  return file->Write(bytes);
}

Result<size_t> Pread(int fd, void* buffer, size_t count, int64_t offset) {
  RefPtr<OpenFile> file = TRY(FileOf(fd));
  auto bytes = TRY(UserBuffer(static_cast<std::byte*>(buffer), count));
  return file->Pread(bytes, offset);
}

Result<size_t> Pwrite(int fd, const void* buffer, size_t count,
                      int64_t offset) {
  RefPtr<OpenFile> file = TRY(FileOf(fd));
  auto bytes = TRY(UserBuffer(static_cast<const std::byte*>(buffer), count));
  return file->Pwrite(bytes, offset);
}

Result<size_t> Getdents64(int fd, void* buffer, size_t count) {
  RefPtr<OpenFile> file = TRY(FileOf(fd));
  auto bytes = TRY(UserBuffer(static_cast<std::byte*>(buffer), count));
  return file->Getdents64(bytes);
}

Result<void> Fstat(int fd, Stat* out) {
  RefPtr<OpenFile> file = TRY(FileOf(fd));
  if (!out) return Error{EFAULT};
  *out = TRY(file->Fstat());
  return {};
}

Result<void> Fstatfs(int fd, StatFs* out) {
  RefPtr<OpenFile> file = TRY(FileOf(fd));
  if (!out) return Error{EFAULT};
  *out = TRY(file->node().GetFsStat());
  return {};
}

}  // namespace

int close(int fd) {
  auto close = [](int fd) -> Result<void> {
    Task* task = TRY(CurrentTaskOrError());
    return task->files().Close(fd);
  };
  return static_cast<int>(Return(close(fd)));
}

int64_t read(int fd, void* buffer, size_t count) {
  return Return(Read(fd, buffer, count));
}

int64_t write(int fd, const void* buffer, size_t count) {
  return Return(Write(fd, buffer, count));
}

int64_t pread(int fd, void* buffer, size_t count, int64_t offset) {
  return Return(Pread(fd, buffer, count, offset));
}

int64_t pwrite(int fd, const void* buffer, size_t count, int64_t offset) {
  return Return(Pwrite(fd, buffer, count, offset));
}

int64_t lseek(int fd, int64_t offset, int whence) {
  auto seek = [&]() -> Result<uint64_t> {
    RefPtr<OpenFile> file = TRY(FileOf(fd));
    return file->Lseek(offset, whence);
  };
  return Return(seek());
}

int fstat(int fd, Stat* out) {
  return static_cast<int>(Return(Fstat(fd, out)));
}

int fstatfs(int fd, StatFs* out) {
  return static_cast<int>(Return(Fstatfs(fd, out)));
}

int ftruncate(int fd, int64_t length) {
  auto truncate = [&]() -> Result<void> {
    if (length < 0) return Error{EINVAL};
    RefPtr<OpenFile> file = TRY(FileOf(fd));
    return file->Ftruncate(length);
  };
  return static_cast<int>(Return(truncate()));
}

int fsync(int fd) {
  auto sync = [&]() -> Result<void> {
    RefPtr<OpenFile> file = TRY(FileOf(fd));
    return file->Fsync(/*data_only=*/false);
  };
  return static_cast<int>(Return(sync()));
}

int fdatasync(int fd) {
  auto sync = [&]() -> Result<void> {
    RefPtr<OpenFile> file = TRY(FileOf(fd));
    return file->Fsync(/*data_only=*/true);
  };
  return static_cast<int>(Return(sync()));
}

int fchmod(int fd, uint32_t mode) {
  auto chmod = [&]() -> Result<void> {
    RefPtr<OpenFile> file = TRY(FileOf(fd));
    return file->Fchmod(mode);
  };
  return static_cast<int>(Return(chmod()));
}

int64_t getdents64(int fd, void* buffer, size_t count) {
  return Return(Getdents64(fd, buffer, count));
}

int dup(int fd) {
  auto dup = [&]() -> Result<int> {
    Task* task = TRY(CurrentTaskOrError());
    return task->files().Dup(fd);
  };
  return static_cast<int>(Return(dup()));
}

int dup2(int old_fd, int new_fd) {
  auto dup2 = [&]() -> Result<int> {
    Task* task = TRY(CurrentTaskOrError());
    return task->files().Dup2(old_fd, new_fd);
  };
  return static_cast<int>(Return(dup2()));
}

int poll_one(int fd, uint32_t events) {
  auto poll = [&]() -> Result<uint32_t> {
    RefPtr<OpenFile> file = TRY(FileOf(fd));
    return file->Poll(events);
  };
  return static_cast<int>(Return(poll()));
}

}  // namespace vfs
