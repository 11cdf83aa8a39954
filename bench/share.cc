#include "bench/share.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace bench {
namespace {

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

absl::Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
    return Errno("mkdir " + path);
  return absl::OkStatus();
}

// Writes `bytes` bytes of a non-zero pattern (no holes: every page is real
// data the host reads from its page cache) into `path`.
absl::Status WriteFile(const std::string& path, int64_t bytes) {
  const int fd =
      open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create " + path);
  std::vector<char> chunk(1 << 20);
  for (size_t i = 0; i < chunk.size(); ++i)
    chunk[i] = static_cast<char>(i * 7 + 1);
  int64_t done = 0;
  while (done < bytes) {
    const size_t n = static_cast<size_t>(
        std::min<int64_t>(bytes - done, static_cast<int64_t>(chunk.size())));
    const ssize_t w = write(fd, chunk.data(), n);
    if (w <= 0) {
      absl::Status status = Errno("write " + path);
      close(fd);
      return status;
    }
    done += w;
  }
  close(fd);
  return absl::OkStatus();
}

absl::Status CreateEmptyFile(const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create " + path);
  close(fd);
  return absl::OkStatus();
}

// The tree's directories below `relative` (`levels` more levels of them),
// parents before children, appended to `dirs`; those of the bottom level,
// which hold the files, also to `bottom`.
void TreeDirs(const std::string& relative, int levels,
              std::vector<std::string>& dirs,
              std::vector<std::string>& bottom) {
  for (int i = 0; i < kTreeFanout; ++i) {
    const std::string d = absl::StrCat(relative, "/d", i);
    dirs.push_back(d);
    if (levels == 1) {
      bottom.push_back(d);
    } else {
      TreeDirs(d, levels - 1, dirs, bottom);
    }
  }
}

std::string TreeFileName(int i) {
  char name[16];
  std::snprintf(name, sizeof(name), "f-%03d", i);
  return name;
}

}  // namespace

std::string ListingDir(int entries) { return absl::StrCat("d", entries); }

absl::Status CreateShare(const std::string& dir) {
  for (const char* sub : {"a", "a/b", "data", kCreateDir, kUntarDir}) {
    if (absl::Status s = MakeDir(absl::StrCat(dir, "/", sub)); !s.ok())
      return s;
  }
  if (absl::Status s = WriteFile(absl::StrCat(dir, "/", kStatPath), 100);
      !s.ok())
    return s;
  if (absl::Status s =
          WriteFile(absl::StrCat(dir, "/", kDataPath), kDataFileBytes);
      !s.ok())
    return s;
  for (int entries : {10, 1000, 10000}) {
    const std::string sub = absl::StrCat(dir, "/", ListingDir(entries));
    if (absl::Status s = MakeDir(sub); !s.ok()) return s;
    for (int i = 0; i < entries; ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "/file-%05d", i);
      if (absl::Status s = CreateEmptyFile(sub + name); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status EnsureStreamFile(const std::string& dir, int64_t bytes) {
  const std::string path = absl::StrCat(dir, "/", kStreamPath);
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && st.st_size == bytes)
    return absl::OkStatus();
  return WriteFile(path, bytes);
}

std::vector<std::string> TreeFiles() {
  std::vector<std::string> dirs, bottom;
  TreeDirs(kTreeDir, kTreeLevels, dirs, bottom);
  std::vector<std::string> files;
  for (const std::string& d : bottom) {
    for (int i = 0; i < kTreeFilesPerDir; ++i)
      files.push_back(absl::StrCat(d, "/", TreeFileName(i)));
  }
  return files;
}

absl::Status EnsureTree(const std::string& dir) {
  const std::vector<std::string> files = TreeFiles();
  struct stat st;
  // Made in walk order: the last file exists when the tree is complete.
  if (stat(absl::StrCat(dir, "/", files.back()).c_str(), &st) == 0)
    return absl::OkStatus();
  std::vector<std::string> dirs = {kTreeDir}, bottom;
  TreeDirs(kTreeDir, kTreeLevels, dirs, bottom);
  for (const std::string& d : dirs) {
    if (absl::Status s = MakeDir(absl::StrCat(dir, "/", d)); !s.ok()) return s;
  }
  for (const std::string& f : files) {
    if (absl::Status s = CreateEmptyFile(absl::StrCat(dir, "/", f)); !s.ok())
      return s;
  }
  return absl::OkStatus();
}

void RemoveTree(const std::string& path) {
  nftw(
      path.c_str(),
      [](const char* p, const struct stat*, int, struct FTW*) {
        remove(p);
        return 0;
      },
      16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

}  // namespace bench
