// memfs through vfs::: directory reading across changes and sizes, and
// concurrent use.
#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/vfs/vfs_fixture.h"
#include "vfs/dirent.h"
#include "vfs/kstring.h"
#include "vfs/on_demand_lock.h"

namespace vfs_test {
namespace {

using MemFsTest = VfsTest;

struct Entry {
  std::string name;
  uint64_t ino;
  int64_t off;
  uint8_t type;
};

// One getdents64 call's entries.
std::vector<Entry> Getdents(int fd, size_t size, int64_t* result = nullptr) {
  std::vector<char> buffer(size);
  int64_t n = vfs::getdents64(fd, buffer.data(), buffer.size());
  if (result) *result = n;
  std::vector<Entry> entries;
  for (int64_t at = 0; at < n;) {
    const auto* d = reinterpret_cast<const vfs::Dirent64*>(buffer.data() + at);
    entries.push_back({d->d_name, d->d_ino, d->d_off, d->d_type});
    at += d->d_reclen;
  }
  return entries;
}

TEST_F(MemFsTest, LargeDirectoryListsEveryEntryExactlyOnce) {
  ASSERT_EQ(vfs::mkdir("/tmp/big", 0755), 0);
  std::set<std::string> expected = {".", ".."};
  for (int i = 0; i < 2000; ++i) {
    std::string name =
        "/tmp/big/" + std::string(i % 50 + 1, 'x') + std::to_string(i);
    int fd = vfs::open(name.c_str(), O_CREAT | O_WRONLY, 0644);
    ASSERT_GE(fd, 0);
    vfs::close(fd);
    expected.insert(name.substr(9));
  }
  int fd = vfs::open("/tmp/big", O_RDONLY | O_DIRECTORY);
  std::multiset<std::string> seen;
  int calls = 0;
  for (;;) {
    int64_t n;
    std::vector<Entry> batch = Getdents(fd, 300, &n);
    ASSERT_GE(n, 0);
    if (n == 0) break;
    ++calls;
    for (const Entry& e : batch) seen.insert(e.name);
  }
  EXPECT_GT(calls, 100);
  EXPECT_EQ(seen.size(), expected.size());
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), expected);
}

TEST_F(MemFsTest, ReadingResumesAcrossRemovalsAndSeeks) {
  ASSERT_EQ(vfs::mkdir("/tmp/d", 0755), 0);
  for (const char* name : {"a", "b", "c", "d", "e"}) {
    WriteFile(("/tmp/d/" + std::string(name)).c_str(), name);
  }
  int fd = vfs::open("/tmp/d", O_RDONLY | O_DIRECTORY);
  std::vector<Entry> first = Getdents(fd, 3 * 24);  // ".", "..", "a"
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0].name, ".");
  EXPECT_EQ(first[0].type, 4);
  EXPECT_EQ(first[1].name, "..");
  EXPECT_EQ(first[2].name, "a");
  EXPECT_EQ(first[2].type, 8);
  // Removing an entry already returned and one not yet returned, and adding
  // one.
  ASSERT_EQ(vfs::unlink("/tmp/d/a"), 0);
  ASSERT_EQ(vfs::unlink("/tmp/d/c"), 0);
  WriteFile("/tmp/d/f", "f");
  std::vector<Entry> rest = Getdents(fd, 4096);
  std::vector<std::string> names;
  for (const Entry& e : rest) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"b", "d", "e", "f"}));
  // d_off of an entry is where reading resumes after it.
  ASSERT_EQ(vfs::lseek(fd, first[1].off, SEEK_SET), first[1].off);
  std::vector<Entry> again = Getdents(fd, 4096);
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again[0].name, "b");
  EXPECT_EQ(vfs::lseek(fd, 0, SEEK_END), -EINVAL);
  int64_t n;
  Getdents(fd, 4096, &n);
  EXPECT_EQ(n, 0);
}

TEST_F(MemFsTest, TwoThreadsReadWhileOthersCreate) {
  std::string data(256 * 1024, '\0');
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<char>(i * 7 + i / 4096);
  WriteFile("/tmp/shared", data);
  int fd = vfs::open("/tmp/shared", O_RDONLY);
  ASSERT_GE(fd, 0);
  std::atomic<int> mismatches{0};
  auto reader = [&](int seed) {
    std::vector<char> buffer(8192);
    for (int i = 0; i < 300; ++i) {
      int64_t offset = ((i * 7919 + seed * 104729) % 31) * 8192;
      if (vfs::pread(fd, buffer.data(), buffer.size(), offset) != 8192 ||
          memcmp(buffer.data(), data.data() + offset, 8192) != 0) {
        ++mismatches;
      }
    }
  };
  auto creator = [&](int id) {
    for (int i = 0; i < 200; ++i) {
      std::string dir = "/tmp/t" + std::to_string(id) + "_" + std::to_string(i);
      if (vfs::mkdir(dir.c_str(), 0755) != 0) ++mismatches;
      int f = vfs::open((dir + "/f").c_str(), O_CREAT | O_WRONLY, 0644);
      if (f < 0 || vfs::write(f, "x", 1) != 1 || vfs::close(f) != 0)
        ++mismatches;
      if (vfs::rename((dir + "/f").c_str(), (dir + "/g").c_str()) != 0)
        ++mismatches;
    }
  };
  std::vector<std::thread> threads;
  threads.emplace_back(reader, 1);
  threads.emplace_back(reader, 2);
  threads.emplace_back(creator, 1);
  threads.emplace_back(creator, 2);
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches, 0);
  // Sequential reads through one shared description never overlap or skip.
  ASSERT_EQ(vfs::lseek(fd, 0, SEEK_SET), 0);
  std::atomic<int64_t> total{0};
  auto sequential = [&] {
    char buffer[1000];
    int64_t n;
    while ((n = vfs::read(fd, buffer, sizeof(buffer))) > 0) total += n;
  };
  std::thread a(sequential), b(sequential);
  a.join();
  b.join();
  EXPECT_EQ(total, static_cast<int64_t>(data.size()));
}

TEST(DirentWriterTest, PacksLinuxRecords) {
  // Not zeroed: the record's own bytes end the name and pad it.
  std::vector<std::byte> buffer(48, std::byte{0xAA});
  vfs::DirentWriter out(buffer);
  EXPECT_EQ(vfs::DirentWriter::RecordLength(1), 24u);
  EXPECT_EQ(vfs::DirentWriter::RecordLength(5), 32u);
  EXPECT_TRUE(out.Add(7, 1, 8, "x"));
  EXPECT_FALSE(out.Add(8, 2, 8, "longer-name"));
  EXPECT_TRUE(out.full());
  EXPECT_EQ(out.entries(), 1u);
  EXPECT_EQ(out.bytes_written(), 24u);
  EXPECT_EQ(out.next_position(), 1u);
  const auto* d = reinterpret_cast<const vfs::Dirent64*>(buffer.data());
  EXPECT_EQ(d->d_ino, 7u);
  EXPECT_EQ(d->d_off, 1);
  EXPECT_EQ(d->d_reclen, 24);
  EXPECT_EQ(d->d_type, 8);
  EXPECT_STREQ(d->d_name, "x");
  for (size_t i = offsetof(vfs::Dirent64, d_name) + 1; i < 24; ++i) {
    EXPECT_EQ(buffer[i], std::byte{0}) << "padding byte " << i;
  }
}

TEST(KStringTest, OwnsItsBytes) {
  std::string source = "abc";
  vfs::KString s(source);
  source[0] = 'z';
  EXPECT_EQ(s.view(), "abc");
  EXPECT_STREQ(s.c_str(), "abc");
  vfs::KString joined("ab", "cd");
  EXPECT_EQ(joined.view(), "abcd");
  EXPECT_EQ(joined.size(), 4u);
  vfs::KString empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_STREQ(empty.c_str(), "");
  vfs::KString copy = joined.Copy();
  EXPECT_NE(copy.c_str(), joined.c_str());
  EXPECT_TRUE(copy == "abcd");
}

// Strings up to kInlineCapacity bytes live in the object, longer ones on the
// heap; both survive moves and concatenation across the boundary.
TEST(KStringTest, ShortAndLongStringsMoveIntact) {
  const std::string fits(vfs::KString::kInlineCapacity, 'a');
  const std::string longer = fits + "b";
  for (const std::string& text : {std::string("x"), fits, longer}) {
    SCOPED_TRACE(text.size());
    vfs::KString s(text);
    vfs::KString moved(std::move(s));
    EXPECT_EQ(moved.view(), text);
    EXPECT_EQ(moved.c_str()[text.size()], '\0');
    EXPECT_TRUE(s.empty());  // NOLINT(bugprone-use-after-move): documented.
    EXPECT_STREQ(s.c_str(), "");
    vfs::KString assigned("old contents, longer than the inline capacity");
    assigned = std::move(moved);
    EXPECT_EQ(assigned.view(), text);
    EXPECT_TRUE(moved.empty());  // NOLINT(bugprone-use-after-move)
    vfs::KString& alias = assigned;
    assigned = std::move(alias);  // Self-move keeps the string.
    EXPECT_EQ(assigned.view(), text);
  }
  // Concatenations that end just inside and just past the inline bytes.
  vfs::KString inside(fits.substr(0, 10), fits.substr(10));
  EXPECT_EQ(inside.view(), fits);
  vfs::KString past(fits, "b");
  EXPECT_EQ(past.view(), longer);
  EXPECT_STREQ(past.c_str(), longer.c_str());
}

TEST(OnDemandLockTest, MadeOnFirstUseAndSharedByEveryUser) {
  HostPlatform platform;
  { vfs::OnDemandLock never_taken(platform); }
  EXPECT_EQ(platform.locks_created(), 0u);

  vfs::OnDemandLock lock(platform);
  base::Lock* first = &lock.Get();
  EXPECT_EQ(&lock.Get(), first);
  EXPECT_EQ(platform.locks_created(), 1u);

  // Threads that take a fresh lock at once all get the one kept, and it
  // excludes them from each other: no increment of the plain counter is lost.
  vfs::OnDemandLock contended(platform);
  constexpr int kThreads = 4, kRounds = 10000;
  std::vector<base::Lock*> seen(kThreads);
  int64_t counter = 0;
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) {
      }
      seen[t] = &contended.Get();
      for (int i = 0; i < kRounds; ++i) {
        base::LockGuard guard(contended.Get());
        ++counter;
      }
    });
  }
  go.store(true);
  for (std::thread& thread : threads) thread.join();
  for (base::Lock* l : seen) EXPECT_EQ(l, seen[0]);
  EXPECT_EQ(counter, int64_t{kThreads} * kRounds);
}

TEST_F(MemFsTest, OnlyFilesWhoseOffsetMovesMakeAnOffsetLock) {
  WriteFile("/tmp/f", "0123456789");
  const uint64_t before = platform_.locks_created();
  int fd = vfs::open("/tmp/f", O_RDWR);
  ASSERT_GE(fd, 0);
  char buffer[4];
  EXPECT_EQ(vfs::pread(fd, buffer, sizeof(buffer), 2), 4);
  EXPECT_EQ(vfs::pwrite(fd, "ab", 2, 0), 2);
  EXPECT_EQ(platform_.locks_created(), before);  // pread/pwrite keep no offset
  EXPECT_EQ(vfs::read(fd, buffer, sizeof(buffer)), 4);
  EXPECT_EQ(std::string(buffer, 4), "ab23");
  EXPECT_EQ(platform_.locks_created(), before + 1);
  EXPECT_EQ(vfs::lseek(fd, 0, SEEK_CUR), 4);
  EXPECT_EQ(platform_.locks_created(), before + 1);  // the same lock
  EXPECT_EQ(vfs::close(fd), 0);
}

}  // namespace
}  // namespace vfs_test
