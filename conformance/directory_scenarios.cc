// Directories: mkdir and rmdir with their errors, and a directory too large for
// one READDIR reply listed through a small getdents64 buffer: every entry
// exactly once, with its type.
#include <cerrno>
#include <cstdint>
#include <string_view>
#include <vector>

#include "base/abi.h"
#include "conformance/file_helpers.h"
#include "conformance/scenario.h"
#include "vfs/posix.h"
#include "vfs/stat.h"

namespace conformance {
namespace {

using base::kOpenCreate;
using base::kOpenDirectory;
using base::kOpenExclusive;
using base::kOpenReadOnly;
using base::kOpenWriteOnly;

SCENARIO(mkdir_and_rmdir) {
  const PathText dir = ctx.Path("mkdir_and_rmdir");
  const PathText sub = ctx.Path("mkdir_and_rmdir/sub");
  const PathText file = ctx.Path("mkdir_and_rmdir/file");
  CHECK_OK(vfs::mkdir(dir, 0755));
  vfs::Stat st;
  CHECK_OK(vfs::stat(dir, &st));
  CHECK_EQ(st.st_mode & base::kTypeMask, base::kTypeDirectory);
  CHECK_ERRNO(vfs::mkdir(dir, 0755), EEXIST);
  CHECK_OK(vfs::mkdir(sub, 0700));
  CHECK_OK(WriteFile(file, "x"));

  // Not empty, then wrong types, then empty.
  CHECK_ERRNO(vfs::rmdir(dir), ENOTEMPTY);
  CHECK_ERRNO(vfs::rmdir(file), ENOTDIR);
  CHECK_ERRNO(vfs::unlink(sub), EISDIR);
  CHECK_OK(vfs::rmdir(sub));
  CHECK_ERRNO(vfs::rmdir(dir), ENOTEMPTY);
  CHECK_OK(vfs::unlink(file));
  CHECK_OK(vfs::rmdir(dir));
  CHECK_ERRNO(vfs::stat(dir, &st), ENOENT);
  CHECK_ERRNO(vfs::rmdir(dir), ENOENT);
  // The share's root is a mount point.
  CHECK_ERRNO(vfs::rmdir(ctx.environment().root), EBUSY);
}

SCENARIO(empty_directory_lists_dot_and_dot_dot) {
  const PathText dir = ctx.Path("empty_directory");
  CHECK_OK(vfs::mkdir(dir, 0755));
  const int fd = vfs::open(dir, kOpenReadOnly | kOpenDirectory);
  CHECK_OK(fd);
  alignas(8) char buffer[512];
  const int64_t length = vfs::getdents64(fd, buffer, sizeof(buffer));
  CHECK_TRUE(length > 0);
  int dot = 0, dot_dot = 0, other = 0;
  CHECK_TRUE(ForEachDirent(buffer, length, [&](const DirectoryEntry& e) {
    if (e.name == ".") {
      ++dot;
    } else if (e.name == "..") {
      ++dot_dot;
    } else {
      ++other;
    }
  }));
  CHECK_EQ(dot, 1);
  CHECK_EQ(dot_dot, 1);
  CHECK_EQ(other, 0);
  CHECK_EQ(vfs::getdents64(fd, buffer, sizeof(buffer)), int64_t{0});
  // A buffer too small for one record.
  CHECK_EQ(vfs::lseek(fd, 0, base::kSeekSet), int64_t{0});
  CHECK_ERRNO(vfs::getdents64(fd, buffer, 8), EINVAL);
  CHECK_OK(vfs::close(fd));
  CHECK_OK(vfs::rmdir(dir));
}

// Enough entries for many READDIR round trips through a small buffer; small
// enough to take seconds under QEMU's TCG.
constexpr int kEntries = 2000;
constexpr int kDirectoryEvery = 10;  // Every tenth entry is a directory.

// The entry number in a name "entry-NNNN", or -1.
int EntryNumber(std::string_view name) {
  constexpr std::string_view kPrefix = "entry-";
  if (name.size() != kPrefix.size() + 4 || name.substr(0, 6) != kPrefix) {
    return -1;
  }
  int number = 0;
  for (const char c : name.substr(kPrefix.size())) {
    if (c < '0' || c > '9') return -1;
    number = number * 10 + (c - '0');
  }
  return number < kEntries ? number : -1;
}

bool IsDirectoryEntry(int number) { return number % kDirectoryEvery == 0; }

SCENARIO(large_directory_listed_whole_and_once) {
  const PathText dir = ctx.Path("large_directory");
  CHECK_OK(vfs::mkdir(dir, 0755));
  for (int i = 0; i < kEntries; ++i) {
    const PathText entry = ctx.Path("large_directory/entry-%04d", i);
    if (IsDirectoryEntry(i)) {
      CHECK_OK(vfs::mkdir(entry, 0755));
    } else {
      const int fd =
          vfs::open(entry, kOpenCreate | kOpenExclusive | kOpenWriteOnly, 0644);
      CHECK_OK(fd);
      CHECK_OK(vfs::close(fd));
    }
  }

  const int fd = vfs::open(dir, kOpenReadOnly | kOpenDirectory);
  CHECK_OK(fd);
  std::vector<uint8_t> seen(kEntries, 0);
  int dots = 0, calls = 0, listed = 0;
  bool well_formed = true, known_names = true, right_types = true;
  // A few records per call: the listing resumes from its position many times.
  alignas(8) char buffer[400];
  for (;;) {
    const int64_t length = vfs::getdents64(fd, buffer, sizeof(buffer));
    CHECK_OK(length);
    if (length == 0) break;
    ++calls;
    well_formed &= ForEachDirent(buffer, length, [&](const DirectoryEntry& e) {
      if (e.name == "." || e.name == "..") {
        ++dots;
        return;
      }
      const int number = EntryNumber(e.name);
      if (number < 0) {
        known_names = false;
        return;
      }
      ++seen[number];
      ++listed;
      // DT_UNKNOWN is what a host filesystem without d_type reports.
      const uint8_t type = base::DirentTypeOf(
          IsDirectoryEntry(number) ? base::kTypeDirectory : base::kTypeRegular);
      if (e.type != type && e.type != base::kDirentUnknown) right_types = false;
    });
    CHECK_TRUE(calls <= 4 * kEntries);  // Not looping forever.
  }
  CHECK_TRUE(well_formed);
  CHECK_TRUE(known_names);
  CHECK_TRUE(right_types);
  CHECK_EQ(dots, 2);
  CHECK_EQ(listed, kEntries);
  for (int i = 0; i < kEntries; ++i) CHECK_EQ(seen[i], uint8_t{1});
  CHECK_TRUE(calls >= kEntries * 32 / int{sizeof(buffer)});

  // Rewound, the whole listing again, in bigger steps.
  CHECK_EQ(vfs::lseek(fd, 0, base::kSeekSet), int64_t{0});
  std::vector<char> big(16384);
  int again = 0;
  for (;;) {
    const int64_t length = vfs::getdents64(fd, big.data(), big.size());
    CHECK_OK(length);
    if (length == 0) break;
    CHECK_TRUE(ForEachDirent(big.data(), length,
                             [&](const DirectoryEntry&) { ++again; }));
  }
  CHECK_EQ(again, kEntries + 2);
  CHECK_OK(vfs::close(fd));

  CHECK_ERRNO(vfs::rmdir(dir), ENOTEMPTY);
  for (int i = 0; i < kEntries; ++i) {
    const PathText entry = ctx.Path("large_directory/entry-%04d", i);
    CHECK_OK(IsDirectoryEntry(i) ? vfs::rmdir(entry) : vfs::unlink(entry));
  }
  CHECK_OK(vfs::rmdir(dir));
}

}  // namespace
}  // namespace conformance
