#include "cli/guest_fs.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/abi.h"
#include "vfs/dirent.h"
#include "vfs/posix.h"

namespace cli {

int ListDirectory(const std::string& path, std::vector<GuestDirEntry>* out) {
  out->clear();
  int fd = vfs::open(path.c_str(), base::kOpenReadOnly | base::kOpenDirectory);
  if (fd < 0) return fd;
  alignas(8) char buffer[8192];
  for (;;) {
    int64_t n = vfs::getdents64(fd, buffer, sizeof(buffer));
    if (n < 0) {
      vfs::close(fd);
      return static_cast<int>(n);
    }
    if (n == 0) break;
    for (int64_t offset = 0; offset < n;) {
      const auto* entry =
          reinterpret_cast<const vfs::Dirent64*>(buffer + offset);
      if (entry->d_reclen == 0) break;
      std::string name = entry->d_name;
      if (name != "." && name != "..") {
        out->push_back({std::move(name), entry->d_ino, entry->d_type});
      }
      offset += entry->d_reclen;
    }
  }
  vfs::close(fd);
  std::sort(out->begin(), out->end(),
            [](const GuestDirEntry& a, const GuestDirEntry& b) {
              return a.name < b.name;
            });
  return 0;
}

int ReadWholeFile(const std::string& path, std::string* out) {
  out->clear();
  int fd = vfs::open(path.c_str(), base::kOpenReadOnly);
  if (fd < 0) return fd;
  char buffer[65536];
  for (;;) {
    int64_t n = vfs::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      vfs::close(fd);
      return static_cast<int>(n);
    }
    if (n == 0) break;
    out->append(buffer, static_cast<size_t>(n));
  }
  return vfs::close(fd);
}

int WriteWholeFile(const std::string& path, const std::string& data,
                   int flags) {
  int fd = vfs::open(path.c_str(), flags, 0644);
  if (fd < 0) return fd;
  size_t done = 0;
  while (done < data.size()) {
    int64_t n = vfs::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      vfs::close(fd);
      return static_cast<int>(n);
    }
    if (n == 0) {
      vfs::close(fd);
      return -EIO;
    }
    done += static_cast<size_t>(n);
  }
  return vfs::close(fd);
}

int ReadLinkTarget(const std::string& path, std::string* out) {
  char buffer[base::kPathMax];
  int64_t n = vfs::readlink(path.c_str(), buffer, sizeof(buffer));
  if (n < 0) return static_cast<int>(n);
  out->assign(buffer, static_cast<size_t>(n));
  return 0;
}

int RemoveTree(const std::string& path) {
  vfs::Stat st;
  int result = vfs::lstat(path.c_str(), &st);
  if (result < 0) return result;
  if ((st.st_mode & base::kTypeMask) != base::kTypeDirectory) {
    return vfs::unlink(path.c_str());
  }
  std::vector<GuestDirEntry> entries;
  result = ListDirectory(path, &entries);
  if (result < 0) return result;
  for (const GuestDirEntry& entry : entries) {
    result = RemoveTree(JoinPath(path, entry.name));
    if (result < 0) return result;
  }
  return vfs::rmdir(path.c_str());
}

std::string ErrorText(int negative_errno) {
  return std::strerror(-negative_errno);
}

std::string DisplayPath(const std::string& path) {
  std::string full = path;
  if (full.empty() || full[0] != '/') {
    char cwd[base::kPathMax];
    std::string base = vfs::getcwd(cwd, sizeof(cwd)) > 0 ? cwd : "/";
    full = JoinPath(base, path);
  }
  std::vector<std::string> parts;
  for (absl::string_view part : absl::StrSplit(full, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.emplace_back(part);
  }
  return "/" + absl::StrJoin(parts, "/");
}

std::string ModeString(uint32_t mode) {
  std::string out(10, '-');
  switch (mode & base::kTypeMask) {
    case base::kTypeDirectory:
      out[0] = 'd';
      break;
    case base::kTypeSymlink:
      out[0] = 'l';
      break;
    case base::kTypeCharDevice:
      out[0] = 'c';
      break;
    case base::kTypeBlockDevice:
      out[0] = 'b';
      break;
    case base::kTypeFifo:
      out[0] = 'p';
      break;
    case base::kTypeSocket:
      out[0] = 's';
      break;
    default:
      break;
  }
  static constexpr char kLetters[] = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) {
    if (mode & (0400u >> i)) out[1 + i] = kLetters[i];
  }
  if (mode & 04000) out[3] = (mode & 0100) ? 's' : 'S';
  if (mode & 02000) out[6] = (mode & 0010) ? 's' : 'S';
  if (mode & 01000) out[9] = (mode & 0001) ? 't' : 'T';
  return out;
}

std::string FileTypeName(uint32_t mode) {
  switch (mode & base::kTypeMask) {
    case base::kTypeDirectory:
      return "directory";
    case base::kTypeSymlink:
      return "symbolic link";
    case base::kTypeRegular:
      return "regular file";
    case base::kTypeCharDevice:
      return "character special file";
    case base::kTypeBlockDevice:
      return "block special file";
    case base::kTypeFifo:
      return "fifo";
    case base::kTypeSocket:
      return "socket";
    default:
      return "unknown";
  }
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

}  // namespace cli
