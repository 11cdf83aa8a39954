// Runs the same POSIX operations on the VFS (vfs::) and on the host kernel
// (real system calls), so that tests can require the VFS to answer exactly as
// Linux does.
//
// PosixOps is one side: the POSIX calls, each returning the result or a
// negative errno, with paths under that side's own root directory. OpRunner
// applies an Op (a call with its arguments, descriptors named by slot so both
// sides can use their own numbers) and describes the outcome as a string: equal
// strings on both sides mean equal behaviour.
#ifndef TESTS_VFS_POSIX_OPS_H_
#define TESTS_VFS_POSIX_OPS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vfs/stat.h"

namespace vfs_test {

class PosixOps {
 public:
  virtual ~PosixOps() = default;
  virtual std::string_view name() const = 0;

  // `relative` under this side's root ("" is the root itself).
  std::string Path(std::string_view relative) const;

  virtual int64_t Open(const std::string& path, int flags, uint32_t mode) = 0;
  virtual int64_t Close(int fd) = 0;
  virtual int64_t Read(int fd, void* buffer, size_t count) = 0;
  virtual int64_t Write(int fd, const void* buffer, size_t count) = 0;
  virtual int64_t Pread(int fd, void* buffer, size_t count, int64_t offset) = 0;
  virtual int64_t Pwrite(int fd, const void* buffer, size_t count,
                         int64_t offset) = 0;
  virtual int64_t Lseek(int fd, int64_t offset, int whence) = 0;
  virtual int64_t Stat(const std::string& path, vfs::Stat* out) = 0;
  virtual int64_t Lstat(const std::string& path, vfs::Stat* out) = 0;
  virtual int64_t Fstat(int fd, vfs::Stat* out) = 0;
  virtual int64_t Mkdir(const std::string& path, uint32_t mode) = 0;
  virtual int64_t Rmdir(const std::string& path) = 0;
  virtual int64_t Unlink(const std::string& path) = 0;
  virtual int64_t Rename(const std::string& from, const std::string& to) = 0;
  virtual int64_t Link(const std::string& from, const std::string& to) = 0;
  virtual int64_t Symlink(const std::string& target,
                          const std::string& path) = 0;
  virtual int64_t Readlink(const std::string& path, char* buffer,
                           size_t size) = 0;
  virtual int64_t Truncate(const std::string& path, int64_t length) = 0;
  virtual int64_t Ftruncate(int fd, int64_t length) = 0;
  virtual int64_t Fsync(int fd) = 0;
  virtual int64_t Getdents64(int fd, void* buffer, size_t count) = 0;
  virtual int64_t Dup(int fd) = 0;
  virtual int64_t Dup2(int old_fd, int new_fd) = 0;
  virtual int64_t Chmod(const std::string& path, uint32_t mode) = 0;
  virtual int64_t Access(const std::string& path, int mode) = 0;

 protected:
  explicit PosixOps(std::string root) : root_(std::move(root)) {}

 private:
  std::string root_;
};

// The booted VFS, under `root` (an absolute VFS path).
class VfsOps : public PosixOps {
 public:
  explicit VfsOps(std::string root) : PosixOps(std::move(root)) {}
  std::string_view name() const override { return "vfs"; }
  int64_t Open(const std::string& path, int flags, uint32_t mode) override;
  int64_t Close(int fd) override;
  int64_t Read(int fd, void* buffer, size_t count) override;
  int64_t Write(int fd, const void* buffer, size_t count) override;
  int64_t Pread(int fd, void* buffer, size_t count, int64_t offset) override;
  int64_t Pwrite(int fd, const void* buffer, size_t count,
                 int64_t offset) override;
  int64_t Lseek(int fd, int64_t offset, int whence) override;
  int64_t Stat(const std::string& path, vfs::Stat* out) override;
  int64_t Lstat(const std::string& path, vfs::Stat* out) override;
  int64_t Fstat(int fd, vfs::Stat* out) override;
  int64_t Mkdir(const std::string& path, uint32_t mode) override;
  int64_t Rmdir(const std::string& path) override;
  int64_t Unlink(const std::string& path) override;
  int64_t Rename(const std::string& from, const std::string& to) override;
  int64_t Link(const std::string& from, const std::string& to) override;
  int64_t Symlink(const std::string& target, const std::string& path) override;
  int64_t Readlink(const std::string& path, char* buffer, size_t size) override;
  int64_t Truncate(const std::string& path, int64_t length) override;
  int64_t Ftruncate(int fd, int64_t length) override;
  int64_t Fsync(int fd) override;
  int64_t Getdents64(int fd, void* buffer, size_t count) override;
  int64_t Dup(int fd) override;
  int64_t Dup2(int old_fd, int new_fd) override;
  int64_t Chmod(const std::string& path, uint32_t mode) override;
  int64_t Access(const std::string& path, int mode) override;
};

// The host kernel, under `root` (an absolute host path).
class HostOps : public PosixOps {
 public:
  explicit HostOps(std::string root) : PosixOps(std::move(root)) {}
  std::string_view name() const override { return "host"; }
  int64_t Open(const std::string& path, int flags, uint32_t mode) override;
  int64_t Close(int fd) override;
  int64_t Read(int fd, void* buffer, size_t count) override;
  int64_t Write(int fd, const void* buffer, size_t count) override;
  int64_t Pread(int fd, void* buffer, size_t count, int64_t offset) override;
  int64_t Pwrite(int fd, const void* buffer, size_t count,
                 int64_t offset) override;
  int64_t Lseek(int fd, int64_t offset, int whence) override;
  int64_t Stat(const std::string& path, vfs::Stat* out) override;
  int64_t Lstat(const std::string& path, vfs::Stat* out) override;
  int64_t Fstat(int fd, vfs::Stat* out) override;
  int64_t Mkdir(const std::string& path, uint32_t mode) override;
  int64_t Rmdir(const std::string& path) override;
  int64_t Unlink(const std::string& path) override;
  int64_t Rename(const std::string& from, const std::string& to) override;
  int64_t Link(const std::string& from, const std::string& to) override;
  int64_t Symlink(const std::string& target, const std::string& path) override;
  int64_t Readlink(const std::string& path, char* buffer, size_t size) override;
  int64_t Truncate(const std::string& path, int64_t length) override;
  int64_t Ftruncate(int fd, int64_t length) override;
  int64_t Fsync(int fd) override;
  int64_t Getdents64(int fd, void* buffer, size_t count) override;
  int64_t Dup(int fd) override;
  int64_t Dup2(int old_fd, int new_fd) override;
  int64_t Chmod(const std::string& path, uint32_t mode) override;
  int64_t Access(const std::string& path, int mode) override;
};

// One call. Paths are relative to the side's root; `target` is a symlink's
// target as given (relative targets behave alike on both sides). Descriptors
// are slots.
struct Op {
  enum class Kind {
    kOpen,       // slot <- open(path, flags, mode)
    kClose,      // close(slot)
    kRead,       // read(slot, size)
    kWrite,      // write(slot, data)
    kPread,      // pread(slot, size, offset)
    kPwrite,     // pwrite(slot, data, offset)
    kLseek,      // lseek(slot, offset, whence = flags)
    kStat,       // stat(path)
    kLstat,      // lstat(path)
    kFstat,      // fstat(slot)
    kMkdir,      // mkdir(path, mode)
    kRmdir,      // rmdir(path)
    kUnlink,     // unlink(path)
    kRename,     // rename(path, path2)
    kLink,       // link(path, path2)
    kSymlink,    // symlink(target, path)
    kReadlink,   // readlink(path, size)
    kTruncate,   // truncate(path, offset)
    kFtruncate,  // ftruncate(slot, offset)
    kFsync,      // fsync(slot)
    kGetdents,   // getdents64(slot, size) once
    kListDir,    // getdents64(slot, size) until the end; the sorted names and
                 // types
    kDup,        // slot2 <- dup(slot)
    kDup2,       // slot2 <- dup2(slot, kDup2Base + slot2)
    kChmod,      // chmod(path, mode)
    kAccess,     // access(path, flags)
  };
  static constexpr int kDup2Base = 900;

  Kind kind;
  std::string path;
  std::string path2;
  std::string target;
  int slot = 0;
  int slot2 = 0;
  int flags = 0;
  uint32_t mode = 0;
  int64_t offset = 0;
  size_t size = 0;
  std::string data;
};

// A readable form of `op`, for failure messages.
std::string Describe(const Op& op);
// "0", "-ENOENT"...
std::string ResultName(int64_t result);

// Applies ops to one side, keeping its descriptor slots.
class OpRunner {
 public:
  explicit OpRunner(PosixOps& ops) : ops_(ops) {}
  ~OpRunner();  // Closes what is still open.

  // The outcome of `op`: the result (descriptors shown as "fd", not their
  // number), and the bytes read, the stat fields both sides define, or the
  // sorted listing.
  std::string Apply(const Op& op);

 private:
  int Fd(int slot) const;
  void SetSlot(int slot, int64_t fd);

  PosixOps& ops_;
  std::vector<int> slots_;
};

// Builders, so sequences read like the calls they make.
Op OpenOp(int slot, std::string path, int flags, uint32_t mode = 0644);
Op CloseOp(int slot);
Op ReadOp(int slot, size_t size);
Op WriteOp(int slot, std::string data);
Op PreadOp(int slot, size_t size, int64_t offset);
Op PwriteOp(int slot, std::string data, int64_t offset);
Op LseekOp(int slot, int64_t offset, int whence);
Op StatOp(std::string path);
Op LstatOp(std::string path);
Op FstatOp(int slot);
Op MkdirOp(std::string path, uint32_t mode = 0755);
Op RmdirOp(std::string path);
Op UnlinkOp(std::string path);
Op RenameOp(std::string from, std::string to);
Op LinkOp(std::string from, std::string to);
Op SymlinkOp(std::string target, std::string path);
Op ReadlinkOp(std::string path, size_t size = 256);
Op TruncateOp(std::string path, int64_t length);
Op FtruncateOp(int slot, int64_t length);
Op FsyncOp(int slot);
Op GetdentsOp(int slot, size_t size);
Op ListDirOp(int slot, size_t size = 4096);
Op DupOp(int slot, int new_slot);
Op Dup2Op(int slot, int new_slot);
Op ChmodOp(std::string path, uint32_t mode);
Op AccessOp(std::string path, int mode);

}  // namespace vfs_test

#endif  // TESTS_VFS_POSIX_OPS_H_
