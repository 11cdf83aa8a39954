// Ops: what each does, how its outcome is described, and the builders.
#include "tests/vfs/posix_ops.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "vfs/dirent.h"
#include "vfs/posix.h"

namespace vfs_test {

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
