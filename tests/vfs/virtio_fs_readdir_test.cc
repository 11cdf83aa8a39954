// getdents64 on the virtio-fs share: a directory of 10 000 entries with
// 200-byte names, created on the host, is listed whole through vfs::, each
// entry exactly once, with small and large buffers; positions are the device's
// offsets, so a reader can seek back to any d_off and resume there; each
// READDIR (or READDIRPLUS) is sized from the caller's buffer (a page at least,
// 128 KiB at most), one per getdents64 call; and a reply a small buffer could
// not take whole is reused, so small buffers do not re-read the directory
// (reference defect 5: one READDIR at offset 0 per getdents).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/vfs/share_fixture.h"
#include "vfs/dirent.h"
#include "vfs/posix.h"

namespace vfs_test {
namespace {

constexpr int kEntries = 10000;
constexpr size_t kNameLength = 200;

std::string NameOf(int i) {
  std::string name = std::to_string(i) + "_";
  name.resize(kNameLength, static_cast<char>('a' + i % 26));
  return name;
}

struct Listed {
  std::string name;
  uint64_t ino;
  int64_t off;
  uint8_t type;
};

// Reads `fd` to its end with `buffer_size`-byte getdents64 calls.
std::vector<Listed> ReadAll(int fd, size_t buffer_size, int* calls) {
  std::vector<Listed> out;
  std::vector<char> buffer(buffer_size);
  *calls = 0;
  for (;;) {
    int64_t n = vfs::getdents64(fd, buffer.data(), buffer.size());
    EXPECT_GE(n, 0);
    if (n <= 0) break;
    ++*calls;
    for (int64_t at = 0; at < n;) {
      const auto* d = reinterpret_cast<const vfs::Dirent64*>(&buffer[at]);
      out.push_back({d->d_name, d->d_ino, d->d_off, d->d_type});
      at += d->d_reclen;
    }
  }
  return out;
}

// READDIRs a listing of the big directory takes when each is `size` bytes:
// the records with a 200-byte name take 224 bytes (a fuse_dirent is never
// smaller than the linux_dirent64 it becomes, so each reply fits the caller's
// buffer whole), plus the one that finds the end. "." and ".." are smaller:
// wherever the host puts them, they may save one. The listing's first request
// is a READDIRPLUS (vfs/fuse_fs_dir.cc), whose 352-byte records fill its
// reply sooner: less than a reply's worth short, it may cost one more.
void ExpectReadDirsOfSize(uint64_t used, size_t size) {
  const size_t per_reply = size / 224;
  const uint64_t most = (kEntries + 2 + per_reply - 1) / per_reply + 1;
  EXPECT_LE(used, most + 1) << size;
  EXPECT_GE(used, most - 1) << size;
}

class BigDirectoryTest : public ShareTest,
                         public ::testing::WithParamInterface<ShareConfig> {
 protected:
  // Creating 10 000 long names costs the host far more than listing them: the
  // directory is made once and shared by every test (which only read it).
  static void SetUpTestSuite() {
    big_share_ = new ScratchDir("bigshare");
    ASSERT_EQ(::mkdir(big_share_->Path("big").c_str(), 0755), 0);
    for (int i = 0; i < kEntries; ++i) {
      std::string path = big_share_->Path("big/" + NameOf(i));
      int fd = ::open(path.c_str(), O_CREAT | O_WRONLY, 0644);
      ASSERT_GE(fd, 0) << path;
      ::close(fd);
    }
  }
  static void TearDownTestSuite() {
    delete big_share_;
    big_share_ = nullptr;
  }

  void SetUp() override {
    share_dir_ = big_share_->path();
    ASSERT_NO_FATAL_FAILURE(BootMachine(GetParam()));
  }

  static ScratchDir* big_share_;

  // Listing requests the device handled: READDIR and READDIRPLUS alike.
  uint64_t Listings() {
    return Requests(FUSE_READDIR) + Requests(FUSE_READDIRPLUS);
  }

  // Every name once, "." and ".." once, inode numbers as on the host.
  void ExpectWhole(const std::vector<Listed>& listed) {
    std::map<std::string, int> seen;
    for (const Listed& e : listed) ++seen[e.name];
    EXPECT_EQ(listed.size(), static_cast<size_t>(kEntries + 2));
    EXPECT_EQ(seen.size(), static_cast<size_t>(kEntries + 2));
    EXPECT_EQ(seen["."], 1);
    EXPECT_EQ(seen[".."], 1);
    int missing = 0, repeated = 0;
    for (int i = 0; i < kEntries; ++i) {
      auto it = seen.find(NameOf(i));
      if (it == seen.end()) {
        ++missing;
      } else if (it->second != 1) {
        ++repeated;
      }
    }
    EXPECT_EQ(missing, 0);
    EXPECT_EQ(repeated, 0);
    for (size_t i = 0; i < listed.size(); i += 997) {
      const Listed& e = listed[i];
      if (e.name == "." || e.name == "..") continue;
      struct stat st;
      ASSERT_EQ(::stat(big_share_->Path("big/" + e.name).c_str(), &st), 0);
      EXPECT_EQ(e.ino, st.st_ino) << e.name;
      EXPECT_EQ(e.type, DT_REG) << e.name;
    }
  }
};

ScratchDir* BigDirectoryTest::big_share_ = nullptr;

TEST_P(BigDirectoryTest, ListedWholeWithSmallBuffers) {
  int fd = vfs::open("/root/big", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  const uint64_t readdirs = Listings();
  int calls = 0;
  // Two 224-byte records fit in 512 bytes: about 5000 calls.
  std::vector<Listed> listed = ReadAll(fd, 512, &calls);
  ExpectWhole(listed);
  EXPECT_GE(calls, kEntries / 2);
  // READDIRs are at least a page: each reply (18 records) serves several
  // calls instead of being asked again for each.
  const uint64_t used = Listings() - readdirs;
  ExpectReadDirsOfSize(used, 4096);
  // At the end it stays at the end.
  char buffer[512];
  EXPECT_EQ(vfs::getdents64(fd, buffer, sizeof(buffer)), 0);
  EXPECT_EQ(vfs::close(fd), 0);
}

TEST_P(BigDirectoryTest, ListedWholeWithALargeBuffer) {
  int fd = vfs::open("/root/big", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  uint64_t readdirs = Listings();
  int calls = 0;
  std::vector<Listed> listed = ReadAll(fd, 1 << 20, &calls);
  ExpectWhole(listed);
  // One READDIR per getdents64 (as Linux), sized to the caller's buffer but
  // never more than 128 KiB: an open directory's reply buffer is bounded.
  uint64_t used = Listings() - readdirs;
  EXPECT_EQ(used, static_cast<uint64_t>(calls) + 1);
  ExpectReadDirsOfSize(used, 128 * 1024);
  // Rewinding lists it all again; 64 KiB calls take 64 KiB READDIRs.
  ASSERT_EQ(vfs::lseek(fd, 0, SEEK_SET), 0);
  readdirs = Listings();
  ExpectWhole(ReadAll(fd, 64 * 1024, &calls));
  used = Listings() - readdirs;
  EXPECT_EQ(used, static_cast<uint64_t>(calls) + 1);
  ExpectReadDirsOfSize(used, 64 * 1024);
  EXPECT_EQ(vfs::close(fd), 0);
}

TEST_P(BigDirectoryTest, GlibcSizedBuffersTakeAReadDirPerCall) {
  int fd = vfs::open("/root/big", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  const uint64_t readdirs = Listings();
  int calls = 0;
  ExpectWhole(ReadAll(fd, 32 * 1024, &calls));  // glibc's readdir buffer.
  const uint64_t used = Listings() - readdirs;
  EXPECT_EQ(used, static_cast<uint64_t>(calls) + 1);
  ExpectReadDirsOfSize(used, 32 * 1024);  // 4 KiB ones: eight times more.
  EXPECT_EQ(vfs::close(fd), 0);
}

TEST_P(BigDirectoryTest, SeekingToAnOffsetResumesAfterThatEntry) {
  int fd = vfs::open("/root/big", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  int calls = 0;
  std::vector<Listed> listed = ReadAll(fd, 8192, &calls);
  ASSERT_EQ(listed.size(), static_cast<size_t>(kEntries + 2));
  for (size_t k :
       {size_t{0}, size_t{1}, size_t{17}, size_t{4321}, listed.size() - 2}) {
    ASSERT_EQ(vfs::lseek(fd, listed[k].off, SEEK_SET), listed[k].off);
    char buffer[1024];
    int64_t n = vfs::getdents64(fd, buffer, sizeof(buffer));
    ASSERT_GT(n, 0);
    const auto* d = reinterpret_cast<const vfs::Dirent64*>(buffer);
    EXPECT_EQ(std::string(d->d_name), listed[k + 1].name) << "after " << k;
  }
  // Past the last entry: nothing more.
  ASSERT_EQ(vfs::lseek(fd, listed.back().off, SEEK_SET), listed.back().off);
  char buffer[1024];
  EXPECT_EQ(vfs::getdents64(fd, buffer, sizeof(buffer)), 0);
  EXPECT_EQ(vfs::close(fd), 0);
}

TEST_P(BigDirectoryTest, TwoReadersInterleavedEachSeeEverything) {
  int a = vfs::open("/root/big", O_RDONLY | O_DIRECTORY);
  int b = vfs::open("/root/big", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  std::vector<Listed> from_a, from_b;
  std::vector<char> buffer(700);
  bool a_done = false, b_done = false;
  while (!a_done || !b_done) {
    for (auto [fd, out, done] :
         {std::tuple(a, &from_a, &a_done), std::tuple(b, &from_b, &b_done)}) {
      if (*done) continue;
      int64_t n = vfs::getdents64(fd, buffer.data(), buffer.size());
      ASSERT_GE(n, 0);
      if (n == 0) *done = true;
      for (int64_t at = 0; at < n;) {
        const auto* d = reinterpret_cast<const vfs::Dirent64*>(&buffer[at]);
        out->push_back({d->d_name, d->d_ino, d->d_off, d->d_type});
        at += d->d_reclen;
      }
    }
  }
  ExpectWhole(from_a);
  ExpectWhole(from_b);
  EXPECT_EQ(vfs::close(a), 0);
  EXPECT_EQ(vfs::close(b), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Configs, BigDirectoryTest,
    ::testing::Values(
        ShareConfig{base::TransportKind::kPci, sim::NotifyMode::kInline, 0},
        ShareConfig{base::TransportKind::kMmio, sim::NotifyMode::kThread, 60}),
    [](const auto& info) { return info.param.Name(); });

}  // namespace
}  // namespace vfs_test
