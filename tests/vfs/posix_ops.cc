#include "tests/vfs/posix_ops.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "vfs/dirent.h"
#include "vfs/posix.h"

namespace vfs_test {

std::string PosixOps::Path(std::string_view relative) const {
  if (relative.empty()) return root_;
  return root_ + "/" + std::string(relative);
}

// ---- The VFS. ----

int64_t VfsOps::Open(const std::string& p, int flags, uint32_t mode) {
  return vfs::open(p.c_str(), flags, mode);
}
int64_t VfsOps::Close(int fd) { return vfs::close(fd); }
int64_t VfsOps::Read(int fd, void* b, size_t n) { return vfs::read(fd, b, n); }
int64_t VfsOps::Write(int fd, const void* b, size_t n) {
  return vfs::write(fd, b, n);
}
int64_t VfsOps::Pread(int fd, void* b, size_t n, int64_t o) {
  return vfs::pread(fd, b, n, o);
}
int64_t VfsOps::Pwrite(int fd, const void* b, size_t n, int64_t o) {
  return vfs::pwrite(fd, b, n, o);
}
int64_t VfsOps::Lseek(int fd, int64_t o, int w) { return vfs::lseek(fd, o, w); }
int64_t VfsOps::Stat(const std::string& p, vfs::Stat* st) {
  return vfs::stat(p.c_str(), st);
}
int64_t VfsOps::Lstat(const std::string& p, vfs::Stat* st) {
  return vfs::lstat(p.c_str(), st);
}
int64_t VfsOps::Fstat(int fd, vfs::Stat* st) { return vfs::fstat(fd, st); }
int64_t VfsOps::Mkdir(const std::string& p, uint32_t m) {
  return vfs::mkdir(p.c_str(), m);
}
int64_t VfsOps::Rmdir(const std::string& p) { return vfs::rmdir(p.c_str()); }
int64_t VfsOps::Unlink(const std::string& p) { return vfs::unlink(p.c_str()); }
int64_t VfsOps::Rename(const std::string& a, const std::string& b) {
  return vfs::rename(a.c_str(), b.c_str());
}
int64_t VfsOps::Link(const std::string& a, const std::string& b) {
  return vfs::link(a.c_str(), b.c_str());
}
int64_t VfsOps::Symlink(const std::string& t, const std::string& p) {
  return vfs::symlink(t.c_str(), p.c_str());
}
int64_t VfsOps::Readlink(const std::string& p, char* b, size_t n) {
  return vfs::readlink(p.c_str(), b, n);
}
int64_t VfsOps::Truncate(const std::string& p, int64_t l) {
  return vfs::truncate(p.c_str(), l);
}
int64_t VfsOps::Ftruncate(int fd, int64_t l) { return vfs::ftruncate(fd, l); }
int64_t VfsOps::Fsync(int fd) { return vfs::fsync(fd); }
int64_t VfsOps::Getdents64(int fd, void* b, size_t n) {
  return vfs::getdents64(fd, b, n);
}
int64_t VfsOps::Dup(int fd) { return vfs::dup(fd); }
int64_t VfsOps::Dup2(int a, int b) { return vfs::dup2(a, b); }
int64_t VfsOps::Chmod(const std::string& p, uint32_t m) {
  return vfs::chmod(p.c_str(), m);
}
int64_t VfsOps::Access(const std::string& p, int m) {
  return vfs::access(p.c_str(), m);
}

// ---- The host. ----

namespace {

int64_t Sys(int64_t r) { return r < 0 ? -errno : r; }

void Convert(const struct stat& in, vfs::Stat* out) {
  out->st_dev = in.st_dev;
  out->st_ino = in.st_ino;
  out->st_mode = in.st_mode;
  out->st_nlink = static_cast<uint32_t>(in.st_nlink);
  out->st_uid = in.st_uid;
  out->st_gid = in.st_gid;
  out->st_rdev = in.st_rdev;
  out->st_size = in.st_size;
  out->st_blksize = in.st_blksize;
  out->st_blocks = in.st_blocks;
  out->st_atim = {in.st_atim.tv_sec, in.st_atim.tv_nsec};
  out->st_mtim = {in.st_mtim.tv_sec, in.st_mtim.tv_nsec};
  out->st_ctim = {in.st_ctim.tv_sec, in.st_ctim.tv_nsec};
}

template <typename Call>
int64_t HostStat(Call call, vfs::Stat* out) {
  struct stat st;
  int64_t r = Sys(call(&st));
  if (r == 0) Convert(st, out);
  return r;
}

}  // namespace

int64_t HostOps::Open(const std::string& p, int flags, uint32_t mode) {
  return Sys(::open(p.c_str(), flags, mode));
}
int64_t HostOps::Close(int fd) { return Sys(::close(fd)); }
int64_t HostOps::Read(int fd, void* b, size_t n) {
  return Sys(::read(fd, b, n));
}
int64_t HostOps::Write(int fd, const void* b, size_t n) {
  return Sys(::write(fd, b, n));
}
int64_t HostOps::Pread(int fd, void* b, size_t n, int64_t o) {
  return Sys(::pread(fd, b, n, o));
}
int64_t HostOps::Pwrite(int fd, const void* b, size_t n, int64_t o) {
  return Sys(::pwrite(fd, b, n, o));
}
int64_t HostOps::Lseek(int fd, int64_t o, int w) {
  return Sys(::lseek(fd, o, w));
}
int64_t HostOps::Stat(const std::string& p, vfs::Stat* out) {
  return HostStat([&](struct stat* st) { return ::stat(p.c_str(), st); }, out);
}
int64_t HostOps::Lstat(const std::string& p, vfs::Stat* out) {
  return HostStat([&](struct stat* st) { return ::lstat(p.c_str(), st); }, out);
}
int64_t HostOps::Fstat(int fd, vfs::Stat* out) {
  return HostStat([&](struct stat* st) { return ::fstat(fd, st); }, out);
}
int64_t HostOps::Mkdir(const std::string& p, uint32_t m) {
  return Sys(::mkdir(p.c_str(), m));
}
int64_t HostOps::Rmdir(const std::string& p) { return Sys(::rmdir(p.c_str())); }
int64_t HostOps::Unlink(const std::string& p) {
  return Sys(::unlink(p.c_str()));
}
int64_t HostOps::Rename(const std::string& a, const std::string& b) {
  return Sys(::rename(a.c_str(), b.c_str()));
}
int64_t HostOps::Link(const std::string& a, const std::string& b) {
  return Sys(::link(a.c_str(), b.c_str()));
}
int64_t HostOps::Symlink(const std::string& t, const std::string& p) {
  return Sys(::symlink(t.c_str(), p.c_str()));
}
int64_t HostOps::Readlink(const std::string& p, char* b, size_t n) {
  return Sys(::readlink(p.c_str(), b, n));
}
int64_t HostOps::Truncate(const std::string& p, int64_t l) {
  return Sys(::truncate(p.c_str(), l));
}
int64_t HostOps::Ftruncate(int fd, int64_t l) {
  return Sys(::ftruncate(fd, l));
}
int64_t HostOps::Fsync(int fd) { return Sys(::fsync(fd)); }
int64_t HostOps::Getdents64(int fd, void* b, size_t n) {
  return Sys(::syscall(SYS_getdents64, fd, b, n));
}
int64_t HostOps::Dup(int fd) { return Sys(::dup(fd)); }
int64_t HostOps::Dup2(int a, int b) { return Sys(::dup2(a, b)); }
int64_t HostOps::Chmod(const std::string& p, uint32_t m) {
  return Sys(::chmod(p.c_str(), m));
}
int64_t HostOps::Access(const std::string& p, int m) {
  return Sys(::access(p.c_str(), m));
}

// ---- Ops. ----

std::string ResultName(int64_t result) {
  if (result >= 0) return std::to_string(result);
  const char* name = strerrorname_np(static_cast<int>(-result));
  return std::string("-") + (name ? name : std::to_string(-result));
}

namespace {

const char* KindName(Op::Kind kind) {
  switch (kind) {
    case Op::Kind::kOpen:
      return "open";
    case Op::Kind::kClose:
      return "close";
    case Op::Kind::kRead:
      return "read";
    case Op::Kind::kWrite:
      return "write";
    case Op::Kind::kPread:
      return "pread";
    case Op::Kind::kPwrite:
      return "pwrite";
    case Op::Kind::kLseek:
      return "lseek";
    case Op::Kind::kStat:
      return "stat";
    case Op::Kind::kLstat:
      return "lstat";
    case Op::Kind::kFstat:
      return "fstat";
    case Op::Kind::kMkdir:
      return "mkdir";
    case Op::Kind::kRmdir:
      return "rmdir";
    case Op::Kind::kUnlink:
      return "unlink";
    case Op::Kind::kRename:
      return "rename";
    case Op::Kind::kLink:
      return "link";
    case Op::Kind::kSymlink:
      return "symlink";
    case Op::Kind::kReadlink:
      return "readlink";
    case Op::Kind::kTruncate:
      return "truncate";
    case Op::Kind::kFtruncate:
      return "ftruncate";
    case Op::Kind::kFsync:
      return "fsync";
    case Op::Kind::kGetdents:
      return "getdents64";
    case Op::Kind::kListDir:
      return "listdir";
    case Op::Kind::kDup:
      return "dup";
    case Op::Kind::kDup2:
      return "dup2";
    case Op::Kind::kChmod:
      return "chmod";
    case Op::Kind::kAccess:
      return "access";
  }
  return "?";
}

// The stat fields both sides define the same way. A directory's size and every
// block count depend on the filesystem, so they are left out.
std::string Summary(const vfs::Stat& st) {
  char text[96];
  bool dir = (st.st_mode & S_IFMT) == S_IFDIR;
  if (dir) {
    snprintf(text, sizeof(text), "mode=0%o nlink=%u", st.st_mode, st.st_nlink);
  } else {
    snprintf(text, sizeof(text), "mode=0%o nlink=%u size=%lld", st.st_mode,
             st.st_nlink, static_cast<long long>(st.st_size));
  }
  return text;
}

std::string Quoted(const char* data, size_t size) {
  std::string out = "\"";
  for (size_t i = 0; i < size; ++i) {
    unsigned char c = static_cast<unsigned char>(data[i]);
    if (c >= 32 && c < 127 && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    }
  }
  return out + "\"";
}

// Parses getdents64 records into "name:type" strings.
void ParseDirents(const char* buffer, size_t size,
                  std::vector<std::string>* names) {
  for (size_t at = 0; at < size;) {
    const auto* d = reinterpret_cast<const vfs::Dirent64*>(buffer + at);
    names->push_back(std::string(d->d_name) + ":" + std::to_string(d->d_type));
    at += d->d_reclen;
  }
}

}  // namespace

std::string Describe(const Op& op) {
  char text[8192];
  snprintf(
      text, sizeof(text),
      "%s(path \"%s\", path2 \"%s\", target \"%s\", slot %d, slot2 %d, "
      "flags 0%o, mode 0%o, offset %lld, size %zu, data %s)",
      KindName(op.kind), op.path.c_str(), op.path2.c_str(), op.target.c_str(),
      op.slot, op.slot2, op.flags, op.mode, static_cast<long long>(op.offset),
      op.size,
      Quoted(op.data.data(), std::min<size_t>(op.data.size(), 32)).c_str());
  return text;
}

OpRunner::~OpRunner() {
  for (int fd : slots_) {
    if (fd >= 0) ops_.Close(fd);
  }
}

int OpRunner::Fd(int slot) const {
  // An unused slot names a descriptor nobody has: both sides answer EBADF.
  if (slot < 0 || static_cast<size_t>(slot) >= slots_.size() ||
      slots_[slot] < 0) {
    return 1 << 20;
  }
  return slots_[slot];
}

void OpRunner::SetSlot(int slot, int64_t fd) {
  if (static_cast<size_t>(slot) >= slots_.size()) slots_.resize(slot + 1, -1);
  slots_[slot] = fd >= 0 ? static_cast<int>(fd) : -1;
}

std::string OpRunner::Apply(const Op& op) {
  std::string p = ops_.Path(op.path);
  std::string p2 = ops_.Path(op.path2);
  vfs::Stat st;
  std::vector<char> buffer(op.size);
  int64_t r = 0;
  std::string extra;
  switch (op.kind) {
    case Op::Kind::kOpen:
      r = ops_.Open(p, op.flags, op.mode);
      SetSlot(op.slot, r);
      return r >= 0 ? "fd" : ResultName(r);
    case Op::Kind::kClose:
      r = ops_.Close(Fd(op.slot));
      if (r == 0) SetSlot(op.slot, -1);
      break;
    case Op::Kind::kRead:
      r = ops_.Read(Fd(op.slot), buffer.data(), buffer.size());
      if (r > 0) extra = Quoted(buffer.data(), r);
      break;
    case Op::Kind::kWrite:
      r = ops_.Write(Fd(op.slot), op.data.data(), op.data.size());
      break;
    case Op::Kind::kPread:
      r = ops_.Pread(Fd(op.slot), buffer.data(), buffer.size(), op.offset);
      if (r > 0) extra = Quoted(buffer.data(), r);
      break;
    case Op::Kind::kPwrite:
      r = ops_.Pwrite(Fd(op.slot), op.data.data(), op.data.size(), op.offset);
      break;
    case Op::Kind::kLseek:
      r = ops_.Lseek(Fd(op.slot), op.offset, op.flags);
      break;
    case Op::Kind::kStat:
      r = ops_.Stat(p, &st);
      if (r == 0) extra = Summary(st);
      break;
    case Op::Kind::kLstat:
      r = ops_.Lstat(p, &st);
      if (r == 0) extra = Summary(st);
      break;
    case Op::Kind::kFstat:
      r = ops_.Fstat(Fd(op.slot), &st);
      if (r == 0) extra = Summary(st);
      break;
    case Op::Kind::kMkdir:
      r = ops_.Mkdir(p, op.mode);
      break;
    case Op::Kind::kRmdir:
      r = ops_.Rmdir(p);
      break;
    case Op::Kind::kUnlink:
      r = ops_.Unlink(p);
      break;
    case Op::Kind::kRename:
      r = ops_.Rename(p, p2);
      break;
    case Op::Kind::kLink:
      r = ops_.Link(p, p2);
      break;
    case Op::Kind::kSymlink:
      r = ops_.Symlink(op.target, p);
      break;
    case Op::Kind::kReadlink:
      r = ops_.Readlink(p, buffer.data(), buffer.size());
      if (r > 0) extra = Quoted(buffer.data(), r);
      break;
    case Op::Kind::kTruncate:
      r = ops_.Truncate(p, op.offset);
      break;
    case Op::Kind::kFtruncate:
      r = ops_.Ftruncate(Fd(op.slot), op.offset);
      break;
    case Op::Kind::kFsync:
      r = ops_.Fsync(Fd(op.slot));
      break;
    case Op::Kind::kGetdents: {
      r = ops_.Getdents64(Fd(op.slot), buffer.data(), buffer.size());
      // Record sizes depend only on the names; which names come first does not.
      if (r > 0) {
        std::vector<std::string> names;
        ParseDirents(buffer.data(), r, &names);
        extra = std::to_string(names.size()) + " entries";
      }
      break;
    }
    case Op::Kind::kListDir: {
      std::vector<std::string> names;
      while ((r = ops_.Getdents64(Fd(op.slot), buffer.data(), buffer.size())) >
             0) {
        ParseDirents(buffer.data(), r, &names);
      }
      std::sort(names.begin(), names.end());
      for (const std::string& n : names) extra += n + " ";
      break;
    }
    case Op::Kind::kDup:
      r = ops_.Dup(Fd(op.slot));
      SetSlot(op.slot2, r);
      return r >= 0 ? "fd" : ResultName(r);
    case Op::Kind::kDup2: {
      int target = Op::kDup2Base + op.slot2;
      r = ops_.Dup2(Fd(op.slot), target);
      if (r >= 0) SetSlot(op.slot2, r);
      return r == target ? "target fd" : ResultName(r);
    }
    case Op::Kind::kChmod:
      r = ops_.Chmod(p, op.mode);
      break;
    case Op::Kind::kAccess:
      r = ops_.Access(p, op.flags);
      break;
  }
  return extra.empty() ? ResultName(r) : ResultName(r) + " " + extra;
}

// ---- Builders. ----

namespace {
Op Make(Op::Kind kind) {
  Op op;
  op.kind = kind;
  return op;
}
}  // namespace

Op OpenOp(int slot, std::string path, int flags, uint32_t mode) {
  Op op = Make(Op::Kind::kOpen);
  op.slot = slot;
  op.path = std::move(path);
  op.flags = flags;
  op.mode = mode;
  return op;
}
Op CloseOp(int slot) {
  Op op = Make(Op::Kind::kClose);
  op.slot = slot;
  return op;
}
Op ReadOp(int slot, size_t size) {
  Op op = Make(Op::Kind::kRead);
  op.slot = slot;
  op.size = size;
  return op;
}
Op WriteOp(int slot, std::string data) {
  Op op = Make(Op::Kind::kWrite);
  op.slot = slot;
  op.data = std::move(data);
  return op;
}
Op PreadOp(int slot, size_t size, int64_t offset) {
  Op op = Make(Op::Kind::kPread);
  op.slot = slot;
  op.size = size;
  op.offset = offset;
  return op;
}
Op PwriteOp(int slot, std::string data, int64_t offset) {
  Op op = Make(Op::Kind::kPwrite);
  op.slot = slot;
  op.data = std::move(data);
  op.offset = offset;
  return op;
}
Op LseekOp(int slot, int64_t offset, int whence) {
  Op op = Make(Op::Kind::kLseek);
  op.slot = slot;
  op.offset = offset;
  op.flags = whence;
  return op;
}
Op StatOp(std::string path) {
  Op op = Make(Op::Kind::kStat);
  op.path = std::move(path);
  return op;
}
Op LstatOp(std::string path) {
  Op op = Make(Op::Kind::kLstat);
  op.path = std::move(path);
  return op;
}
Op FstatOp(int slot) {
  Op op = Make(Op::Kind::kFstat);
  op.slot = slot;
  return op;
}
Op MkdirOp(std::string path, uint32_t mode) {
  Op op = Make(Op::Kind::kMkdir);
  op.path = std::move(path);
  op.mode = mode;
  return op;
}
Op RmdirOp(std::string path) {
  Op op = Make(Op::Kind::kRmdir);
  op.path = std::move(path);
  return op;
}
Op UnlinkOp(std::string path) {
  Op op = Make(Op::Kind::kUnlink);
  op.path = std::move(path);
  return op;
}
Op RenameOp(std::string from, std::string to) {
  Op op = Make(Op::Kind::kRename);
  op.path = std::move(from);
  op.path2 = std::move(to);
  return op;
}
Op LinkOp(std::string from, std::string to) {
  Op op = Make(Op::Kind::kLink);
  op.path = std::move(from);
  op.path2 = std::move(to);
  return op;
}
Op SymlinkOp(std::string target, std::string path) {
  Op op = Make(Op::Kind::kSymlink);
  op.target = std::move(target);
  op.path = std::move(path);
  return op;
}
Op ReadlinkOp(std::string path, size_t size) {
  Op op = Make(Op::Kind::kReadlink);
  op.path = std::move(path);
  op.size = size;
  return op;
}
Op TruncateOp(std::string path, int64_t length) {
  Op op = Make(Op::Kind::kTruncate);
  op.path = std::move(path);
  op.offset = length;
  return op;
}
Op FtruncateOp(int slot, int64_t length) {
  Op op = Make(Op::Kind::kFtruncate);
  op.slot = slot;
  op.offset = length;
  return op;
}
Op FsyncOp(int slot) {
  Op op = Make(Op::Kind::kFsync);
  op.slot = slot;
  return op;
}
Op GetdentsOp(int slot, size_t size) {
  Op op = Make(Op::Kind::kGetdents);
  op.slot = slot;
  op.size = size;
  return op;
}
Op ListDirOp(int slot, size_t size) {
  Op op = Make(Op::Kind::kListDir);
  op.slot = slot;
  op.size = size;
  return op;
}
Op DupOp(int slot, int new_slot) {
  Op op = Make(Op::Kind::kDup);
  op.slot = slot;
  op.slot2 = new_slot;
  return op;
}
Op Dup2Op(int slot, int new_slot) {
  Op op = Make(Op::Kind::kDup2);
  op.slot = slot;
  op.slot2 = new_slot;
  return op;
}
Op ChmodOp(std::string path, uint32_t mode) {
  Op op = Make(Op::Kind::kChmod);
  op.path = std::move(path);
  op.mode = mode;
  return op;
}
Op AccessOp(std::string path, int mode) {
  Op op = Make(Op::Kind::kAccess);
  op.path = std::move(path);
  op.flags = mode;
  return op;
}

}  // namespace vfs_test
