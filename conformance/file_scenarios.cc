// Regular files: create, write, read back (by position, by offset, appending),
// files the host wrote, a file larger than one FUSE request in each direction,
// truncate and ftruncate.
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "base/abi.h"
#include "conformance/file_helpers.h"
#include "conformance/host_share.h"
#include "conformance/scenario.h"
#include "vfs/posix.h"
#include "vfs/stat.h"

namespace conformance {
namespace {

using base::kOpenAppend;
using base::kOpenCreate;
using base::kOpenExclusive;
using base::kOpenReadOnly;
using base::kOpenReadWrite;
using base::kOpenTruncate;
using base::kOpenWriteOnly;
using base::kSeekCur;
using base::kSeekEnd;
using base::kSeekSet;

std::string_view Text(const char* buffer, int64_t length) {
  return std::string_view(buffer, length < 0 ? 0 : static_cast<size_t>(length));
}

SCENARIO(create_write_read_back) {
  const PathText path = ctx.Path("create_write_read_back.txt");
  const int fd =
      vfs::open(path, kOpenCreate | kOpenExclusive | kOpenReadWrite, 0644);
  CHECK_OK(fd);
  constexpr std::string_view kHello = "hello, virtio-fs\n";
  CHECK_EQ(vfs::write(fd, kHello.data(), kHello.size()),
           int64_t(kHello.size()));
  CHECK_EQ(vfs::lseek(fd, 0, kSeekCur), int64_t(kHello.size()));
  char buffer[128] = {};
  CHECK_EQ(vfs::read(fd, buffer, sizeof(buffer)), int64_t{0});  // At the end.
  CHECK_EQ(vfs::pread(fd, buffer, sizeof(buffer), 0), int64_t(kHello.size()));
  CHECK_EQ(Text(buffer, kHello.size()), kHello);

  // Positioned reads and writes, and the file position they leave alone.
  CHECK_EQ(vfs::lseek(fd, 7, kSeekSet), int64_t{7});
  CHECK_EQ(vfs::read(fd, buffer, 6), int64_t{6});
  CHECK_EQ(Text(buffer, 6), std::string_view("virtio"));
  CHECK_EQ(vfs::pwrite(fd, "VIRTIO", 6, 7), int64_t{6});
  CHECK_EQ(vfs::lseek(fd, 0, kSeekCur), int64_t{13});
  CHECK_EQ(vfs::pread(fd, buffer, sizeof(buffer), 0), int64_t(kHello.size()));
  CHECK_EQ(Text(buffer, kHello.size()), std::string_view("hello, VIRTIO-fs\n"));

  // Writing past the end leaves a hole that reads as zeros.
  CHECK_EQ(vfs::pwrite(fd, "end", 3, 100), int64_t{3});
  vfs::Stat st;
  CHECK_OK(vfs::fstat(fd, &st));
  CHECK_EQ(st.st_size, int64_t{103});
  CHECK_EQ(vfs::lseek(fd, 0, kSeekEnd), int64_t{103});
  CHECK_EQ(vfs::pread(fd, buffer, sizeof(buffer), 0), int64_t{103});
  for (size_t i = kHello.size(); i < 100; ++i) CHECK_EQ(buffer[i], '\0');
  CHECK_EQ(Text(buffer + 100, 3), std::string_view("end"));
  CHECK_OK(vfs::close(fd));

  // Another open sees the same bytes.
  char again[128] = {};
  CHECK_EQ(ReadFile(path, again, sizeof(again)), int64_t{103});
  CHECK_EQ(memcmp(again, buffer, 103), 0);

  // O_APPEND writes at the end wherever the position is.
  const int append = vfs::open(path, kOpenWriteOnly | kOpenAppend);
  CHECK_OK(append);
  CHECK_EQ(vfs::lseek(append, 0, kSeekSet), int64_t{0});
  CHECK_EQ(vfs::write(append, "+tail", 5), int64_t{5});
  CHECK_EQ(vfs::lseek(append, 0, kSeekCur), int64_t{108});
  CHECK_OK(vfs::close(append));
  CHECK_EQ(ReadFile(path, again, sizeof(again)), int64_t{108});
  CHECK_EQ(Text(again + 100, 8), std::string_view("end+tail"));

  // O_TRUNC empties it; O_CREAT without O_EXCL opens the existing file.
  const int truncated =
      vfs::open(path, kOpenCreate | kOpenTruncate | kOpenReadWrite, 0600);
  CHECK_OK(truncated);
  CHECK_OK(vfs::fstat(truncated, &st));
  CHECK_EQ(st.st_size, int64_t{0});
  CHECK_EQ(st.st_mode & base::kPermissionMask, 0644u);  // Not re-created.
  CHECK_OK(vfs::close(truncated));

  CHECK_OK(vfs::unlink(path));
  CHECK_ERRNO(vfs::stat(path, &st), ENOENT);
}

SCENARIO(reads_file_the_host_wrote) {
  const PathText path = ctx.Path("%s", kSeedReadPath);
  vfs::Stat st;
  CHECK_OK(vfs::stat(path, &st));
  CHECK_EQ(st.st_mode & base::kTypeMask, base::kTypeRegular);
  CHECK_EQ(st.st_size, int64_t(strlen(kSeedReadContent)));
  char buffer[128];
  const int64_t length = ReadFile(path, buffer, sizeof(buffer));
  CHECK_EQ(Text(buffer, length), std::string_view(kSeedReadContent));
  // Listed in its directory.
  const int dir = vfs::open(ctx.Path("%s", kSeedDirectory),
                            kOpenReadOnly | base::kOpenDirectory);
  CHECK_OK(dir);
  alignas(8) char entries[1024];
  const int64_t listed = vfs::getdents64(dir, entries, sizeof(entries));
  CHECK_OK(vfs::close(dir));
  CHECK_TRUE(listed > 0);
  bool found = false;
  const std::string_view name =
      std::string_view(kSeedReadPath).substr(strlen(kSeedDirectory) + 1);
  CHECK_TRUE(ForEachDirent(entries, listed, [&](const DirectoryEntry& e) {
    if (e.name == name) found = e.ino == st.st_ino;
  }));
  CHECK_TRUE(found);
}

SCENARIO(removes_file_the_host_wrote) {
  const PathText path = ctx.Path("%s", kSeedRemovePath);
  char buffer[128];
  const int64_t length = ReadFile(path, buffer, sizeof(buffer));
  CHECK_EQ(Text(buffer, length), std::string_view(kSeedRemoveContent));
  CHECK_OK(vfs::unlink(path));
  vfs::Stat st;
  CHECK_ERRNO(vfs::stat(path, &st), ENOENT);
  ctx.ExpectHostAbsent(kSeedRemovePath);
}

// Larger than one FUSE request (max_write and max_read are at most 1 MiB:
// FUSE_MAX_MAX_PAGES pages), with an odd tail.
constexpr size_t kLargeFileSize = (3u << 20) + 4097;
constexpr char kLargeFileName[] = "large_file.bin";

SCENARIO(large_file_over_several_requests) {
  const PathText path = ctx.Path("%s", kLargeFileName);
  std::vector<uint8_t> data(kLargeFileSize);
  FillPattern(data, 0, 1);
  const int fd =
      vfs::open(path, kOpenCreate | kOpenExclusive | kOpenReadWrite, 0644);
  CHECK_OK(fd);
  // One call for the whole file: the driver splits it into requests.
  CHECK_EQ(vfs::write(fd, data.data(), data.size()), int64_t(data.size()));
  vfs::Stat st;
  CHECK_OK(vfs::fstat(fd, &st));
  CHECK_EQ(st.st_size, int64_t(kLargeFileSize));

  // Back in one call, then in odd-sized reads that straddle request
  // boundaries, then in small ones that read-ahead windows serve (each next
  // window's READ sent ahead of the reader).
  std::vector<uint8_t> back(kLargeFileSize + 512);
  CHECK_EQ(vfs::pread(fd, back.data(), back.size(), 0),
           int64_t(kLargeFileSize));
  CHECK_EQ(FindPatternMismatch({back.data(), kLargeFileSize}, 0, 1),
           int64_t{-1});
  for (size_t chunk : {size_t{100003}, size_t{4093}}) {
    CHECK_EQ(vfs::lseek(fd, 0, kSeekSet), int64_t{0});
    size_t at = 0;
    while (at < kLargeFileSize) {
      const int64_t n = vfs::read(fd, back.data(), chunk);
      CHECK_TRUE(n > 0);
      const size_t expected =
          kLargeFileSize - at < chunk ? kLargeFileSize - at : chunk;
      CHECK_EQ(size_t(n), expected);
      CHECK_EQ(FindPatternMismatch({back.data(), size_t(n)}, at, 1),
               int64_t{-1});
      at += size_t(n);
    }
    CHECK_EQ(vfs::read(fd, back.data(), chunk), int64_t{0});
  }

  // Rewrite a stretch across the 1 MiB and 2 MiB marks with another pattern.
  constexpr size_t kPatchAt = (1u << 20) - 1000;
  constexpr size_t kPatchSize = (1u << 20) + 5000;
  FillPattern({data.data() + kPatchAt, kPatchSize}, kPatchAt, 2);
  CHECK_EQ(vfs::pwrite(fd, data.data() + kPatchAt, kPatchSize, kPatchAt),
           int64_t(kPatchSize));
  CHECK_OK(vfs::close(fd));

  const int again = vfs::open(path, kOpenReadOnly);
  CHECK_OK(again);
  CHECK_EQ(ReadAll(again, back.data(), back.size()), int64_t(kLargeFileSize));
  CHECK_OK(vfs::close(again));
  CHECK_EQ(FindPatternMismatch({back.data(), kPatchAt}, 0, 1), int64_t{-1});
  CHECK_EQ(
      FindPatternMismatch({back.data() + kPatchAt, kPatchSize}, kPatchAt, 2),
      int64_t{-1});
  const size_t tail = kPatchAt + kPatchSize;
  CHECK_EQ(
      FindPatternMismatch({back.data() + tail, kLargeFileSize - tail}, tail, 1),
      int64_t{-1});
  // Left on the host: the runner checks its size there.
  ctx.ExpectHostFile(kLargeFileName, kLargeFileSize);
}

SCENARIO(truncate_and_ftruncate) {
  const PathText path = ctx.Path("truncate_and_ftruncate.bin");
  constexpr size_t kSize = 10000;
  // On the heap: the image's stack is small.
  std::vector<uint8_t> data(kSize);
  FillPattern(data, 0, 3);
  const int fd =
      vfs::open(path, kOpenCreate | kOpenExclusive | kOpenReadWrite, 0644);
  CHECK_OK(fd);
  CHECK_EQ(WriteAll(fd, data.data(), kSize), int64_t(kSize));

  // Shrink by path: the rest is gone.
  CHECK_OK(vfs::truncate(path, 4000));
  vfs::Stat st;
  CHECK_OK(vfs::fstat(fd, &st));
  CHECK_EQ(st.st_size, int64_t{4000});
  std::vector<uint8_t> back(kSize + 16);
  CHECK_EQ(vfs::pread(fd, back.data(), back.size(), 0), int64_t{4000});
  CHECK_EQ(FindPatternMismatch({back.data(), 4000}, 0, 3), int64_t{-1});

  // Grow by path: zeros after the old end.
  CHECK_OK(vfs::truncate(path, 12000));
  CHECK_OK(vfs::stat(path, &st));
  CHECK_EQ(st.st_size, int64_t{12000});
  CHECK_EQ(vfs::pread(fd, back.data(), back.size(), 0), int64_t{kSize + 16});
  CHECK_EQ(FindPatternMismatch({back.data(), 4000}, 0, 3), int64_t{-1});
  for (size_t i = 4000; i < back.size(); ++i) CHECK_EQ(back[i], uint8_t{0});

  // By descriptor.
  CHECK_OK(vfs::ftruncate(fd, 1));
  CHECK_OK(vfs::stat(path, &st));
  CHECK_EQ(st.st_size, int64_t{1});
  CHECK_EQ(vfs::pread(fd, back.data(), back.size(), 0), int64_t{1});
  CHECK_EQ(back[0], PatternByte(0, 3));
  CHECK_OK(vfs::ftruncate(fd, 0));
  CHECK_EQ(vfs::pread(fd, back.data(), back.size(), 0), int64_t{0});
  CHECK_ERRNO(vfs::ftruncate(fd, -1), EINVAL);
  CHECK_ERRNO(vfs::truncate(path, -1), EINVAL);
  CHECK_OK(vfs::close(fd));

  // Not open for writing: EINVAL (Linux's ftruncate), not EBADF.
  const int reader = vfs::open(path, kOpenReadOnly);
  CHECK_OK(reader);
  CHECK_ERRNO(vfs::ftruncate(reader, 5), EINVAL);
  CHECK_OK(vfs::close(reader));
  CHECK_ERRNO(vfs::truncate(ctx.Path("truncate_missing"), 0), ENOENT);
  CHECK_ERRNO(vfs::truncate(ctx.environment().root, 0), EISDIR);

  CHECK_OK(vfs::unlink(path));
}

SCENARIO(unlinked_file_stays_readable_while_open) {
  const PathText path = ctx.Path("unlinked_while_open.txt");
  CHECK_OK(WriteFile(path, "still here"));
  const int fd = vfs::open(path, kOpenReadWrite);
  CHECK_OK(fd);
  CHECK_OK(vfs::unlink(path));
  vfs::Stat st;
  CHECK_ERRNO(vfs::stat(path, &st), ENOENT);
  char buffer[32];
  CHECK_EQ(vfs::pread(fd, buffer, sizeof(buffer), 0), int64_t{10});
  CHECK_EQ(Text(buffer, 10), std::string_view("still here"));
  CHECK_EQ(vfs::pwrite(fd, "!", 1, 10), int64_t{1});
  CHECK_OK(vfs::fstat(fd, &st));
  CHECK_EQ(st.st_size, int64_t{11});
  CHECK_EQ(st.st_nlink, 0u);
  CHECK_OK(vfs::close(fd));
  // A new file under the old name is a different file.
  CHECK_OK(WriteFile(path, "new"));
  CHECK_EQ(ReadFile(path, buffer, sizeof(buffer)), int64_t{3});
  CHECK_OK(vfs::unlink(path));
}

}  // namespace
}  // namespace conformance
