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

}  // namespace

std::string ListingDir(int entries) { return absl::StrCat("d", entries); }

absl::Status CreateShare(const std::string& dir) {
  for (const char* sub : {"a", "a/b", "data", kCreateDir}) {
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
      const std::string path = sub + name;
      const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0) return Errno("create " + path);
      close(fd);
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
