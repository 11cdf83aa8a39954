// Listings kept where the device allows it (FOPEN_CACHE_DIR, the device's
// cache=always; vfs/fuse_listing.h): a directory listed again from the start
// sends OPENDIR and RELEASEDIR but no READDIR while nothing changed it; a
// change made through the VFS, or on the host once the directory's attributes
// are asked again, is listed at once; a seek away from the kept listing
// continues on the device; a device reset ends what was kept; and nothing is
// kept where the device does not allow it or the listing is too large.
#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/vfs/share_fixture.h"
#include "vfs/dirent.h"
#include "vfs/fuse_listing.h"
#include "vfs/posix.h"

namespace vfs_test {
namespace {

constexpr int kFiles = 10;

struct Entry {
  std::string name;
  int64_t off;
  bool operator==(const Entry&) const = default;
};

// The entries getdents64 returns for `fd` from where it stands to its end,
// with `buffer_size`-byte calls.
std::vector<Entry> ReadRest(int fd, size_t buffer_size = 32 << 10) {
  std::vector<Entry> out;
  std::vector<char> buffer(buffer_size);
  for (;;) {
    const int64_t n = vfs::getdents64(fd, buffer.data(), buffer.size());
    EXPECT_GE(n, 0);
    if (n <= 0) break;
    for (int64_t at = 0; at < n;) {
      const auto* d = reinterpret_cast<const vfs::Dirent64*>(&buffer[at]);
      out.push_back({d->d_name, d->d_off});
      at += d->d_reclen;
    }
  }
  return out;
}

std::vector<Entry> List(const std::string& path) {
  const int fd = vfs::open(path.c_str(), O_RDONLY | O_DIRECTORY);
  EXPECT_GE(fd, 0) << path;
  if (fd < 0) return {};
  std::vector<Entry> entries = ReadRest(fd);
  EXPECT_EQ(vfs::close(fd), 0);
  return entries;
}

std::set<std::string> Names(const std::vector<Entry>& entries) {
  std::set<std::string> names;
  for (const Entry& entry : entries) names.insert(entry.name);
  return names;
}

class ListingCacheTest : public ShareTest {
 protected:
  // A machine whose device answers OPENDIR with FOPEN_CACHE_DIR (or not), with
  // names and attributes valid `timeout` seconds, the device run as `notify`
  // says, and /root/d holding kFiles files made on the host.
  void Boot(sim::DataCaching caching, double timeout,
            sim::NotifyMode notify = sim::NotifyMode::kInline) {
    ASSERT_EQ(::mkdir(share_.Path("d").c_str(), 0755), 0);
    for (int i = 0; i < kFiles; ++i) {
      ASSERT_NO_FATAL_FAILURE(Touch(share_.Path("d/f" + std::to_string(i))));
    }
    ShareConfig config = kCached;
    config.notify_mode = notify;
    config.timeout = timeout;
    config.data_caching = caching;
    BootMachine(config);
  }

  static void Touch(const std::string& host_path) {
    const int fd = ::open(host_path.c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(fd, 0) << host_path;
    ::close(fd);
  }

  // Moves the host directory's mtime to a time no listing was made at: a
  // change within one tick of the host's clock leaves it as it was, to Linux
  // as here.
  void MoveHostMtime(const std::string& host_path) {
    const timespec times[2] = {{.tv_sec = 0, .tv_nsec = UTIME_OMIT},
                               {.tv_sec = ++mtime_, .tv_nsec = 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, host_path.c_str(), times, 0), 0);
  }

  uint64_t Listings() {
    return Requests(FUSE_READDIR) + Requests(FUSE_READDIRPLUS);
  }

  time_t mtime_ = 1'000'000'000;
};

TEST_F(ListingCacheTest, AnUnchangedDirectoryIsListedWithoutReadDir) {
  ASSERT_NO_FATAL_FAILURE(Boot(sim::DataCaching::kAlways, 60));
  const std::vector<Entry> first = List("/root/d");
  EXPECT_EQ(first.size(), kFiles + 2u);  // And "." and "..".
  const uint64_t listings = Listings();
  const uint64_t opens = Requests(FUSE_OPENDIR);
  EXPECT_GE(listings, 2u);  // Entries, then the end.

  EXPECT_EQ(List("/root/d"), first);  // Same names at the same positions.
  EXPECT_EQ(List("/root/d"), first);
  EXPECT_EQ(Listings(), listings);
  EXPECT_EQ(Requests(FUSE_OPENDIR), opens + 2);
  EXPECT_EQ(Requests(FUSE_RELEASEDIR), opens + 2);
}

TEST_F(ListingCacheTest, ChangesThroughTheVfsAreListedAtOnce) {
  ASSERT_NO_FATAL_FAILURE(Boot(sim::DataCaching::kAlways, 60));
  ASSERT_EQ(vfs::mkdir("/root/e", 0755), 0);
  std::set<std::string> expected = Names(List("/root/d"));
  ASSERT_EQ(Names(List("/root/d")), expected);  // Kept.

  const auto expect_listed = [&](const char* what) {
    const uint64_t listings = Listings();
    EXPECT_EQ(Names(List("/root/d")), expected) << what;
    EXPECT_GT(Listings(), listings) << what << ": asked the device";
  };
  const int fd = vfs::open("/root/d/new", O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(vfs::close(fd), 0);
  expected.insert("new");
  expect_listed("create");
  ASSERT_EQ(vfs::unlink("/root/d/f0"), 0);
  expected.erase("f0");
  expect_listed("unlink");
  ASSERT_EQ(vfs::rename("/root/d/f1", "/root/e/f1"), 0);
  expected.erase("f1");
  expect_listed("rename away");
  ASSERT_EQ(vfs::rename("/root/e/f1", "/root/d/back"), 0);
  expected.insert("back");
  expect_listed("rename in");
  ASSERT_EQ(vfs::mkdir("/root/d/sub", 0755), 0);
  expected.insert("sub");
  expect_listed("mkdir");
  ASSERT_EQ(vfs::symlink("f2", "/root/d/link"), 0);
  expected.insert("link");
  expect_listed("symlink");
  ASSERT_EQ(vfs::link("/root/d/f2", "/root/d/hard"), 0);
  expected.insert("hard");
  expect_listed("link");
  ASSERT_EQ(vfs::rmdir("/root/d/sub"), 0);
  expected.erase("sub");
  expect_listed("rmdir");
}

TEST_F(ListingCacheTest, HostChangesShowWhenTheAttributesAreAskedAgain) {
  // Attributes valid 0 s: each listing from the start asks for the mtime.
  ASSERT_NO_FATAL_FAILURE(Boot(sim::DataCaching::kAlways, 0));
  std::set<std::string> expected = Names(List("/root/d"));
  const uint64_t listings = Listings();
  EXPECT_EQ(Names(List("/root/d")), expected);
  EXPECT_EQ(Listings(), listings);  // Same mtime: kept.

  ASSERT_NO_FATAL_FAILURE(Touch(share_.Path("d/from_host")));
  ASSERT_NO_FATAL_FAILURE(MoveHostMtime(share_.Path("d")));
  expected.insert("from_host");
  EXPECT_EQ(Names(List("/root/d")), expected);
  EXPECT_GT(Listings(), listings);
}

TEST_F(ListingCacheTest, HostChangesDoNotShowWhileTheAttributesAreValid) {
  // What cache=always promises a guest: the host changes nothing behind it.
  ASSERT_NO_FATAL_FAILURE(Boot(sim::DataCaching::kAlways, 60));
  const std::set<std::string> before = Names(List("/root/d"));
  ASSERT_NO_FATAL_FAILURE(Touch(share_.Path("d/from_host")));
  ASSERT_NO_FATAL_FAILURE(MoveHostMtime(share_.Path("d")));
  EXPECT_EQ(Names(List("/root/d")), before);
}

TEST_F(ListingCacheTest, SeeksAndRewindsOfAKeptListing) {
  ASSERT_NO_FATAL_FAILURE(Boot(sim::DataCaching::kAlways, 60));
  const std::vector<Entry> whole = List("/root/d");
  ASSERT_EQ(whole.size(), kFiles + 2u);
  const uint64_t listings = Listings();

  const int fd = vfs::open("/root/d", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  // One entry per call from the kept listing: the same entries.
  EXPECT_EQ(ReadRest(fd, sizeof(vfs::Dirent64) + 8), whole);
  EXPECT_EQ(Listings(), listings);
  // A rewind serves it again.
  ASSERT_EQ(vfs::lseek(fd, 0, SEEK_SET), 0);
  EXPECT_EQ(ReadRest(fd), whole);
  EXPECT_EQ(Listings(), listings);
  // A seek to the middle continues on the device, where the listing left.
  ASSERT_EQ(vfs::lseek(fd, whole[4].off, SEEK_SET), whole[4].off);
  EXPECT_EQ(ReadRest(fd), std::vector<Entry>(whole.begin() + 5, whole.end()));
  EXPECT_GT(Listings(), listings);
  EXPECT_EQ(vfs::close(fd), 0);
}

TEST_F(ListingCacheTest, ADeviceResetEndsWhatWasKept) {
  ASSERT_NO_FATAL_FAILURE(Boot(sim::DataCaching::kAlways, 60));
  const std::vector<Entry> first = List("/root");
  EXPECT_EQ(List("/root"), first);
  const uint64_t listings = Listings();
  // A new FUSE session: the old one's listings are not served, though the
  // directory's mtime did not move.
  ASSERT_TRUE(machine().Recover().ok());
  EXPECT_EQ(Names(List("/root")), Names(first));
  EXPECT_GT(Listings(), listings);
}

TEST_F(ListingCacheTest, NothingIsKeptWithoutFopenCacheDir) {
  ASSERT_NO_FATAL_FAILURE(Boot(sim::DataCaching::kAuto, 60));
  const std::vector<Entry> first = List("/root/d");
  const uint64_t listings = Listings();
  EXPECT_EQ(List("/root/d"), first);
  EXPECT_GE(Listings(), listings + 2);
  EXPECT_EQ(machine().share_fs()->listing_budget().used(), 0u);
}

TEST_F(ListingCacheTest, AListingLargerThanOneMayKeepIsNotKept) {
  ASSERT_NO_FATAL_FAILURE(Boot(sim::DataCaching::kAlways, 60));
  // 200-byte names take 224 bytes a record.
  constexpr size_t kRecord = 224;
  const int files = vfs::fusefs::ListingFill::kMaxBytes / kRecord + 1;
  ASSERT_EQ(::mkdir(share_.Path("big").c_str(), 0755), 0);
  for (int i = 0; i < files; ++i) {
    std::string name = std::to_string(i) + "_";
    name.resize(200, 'x');
    ASSERT_NO_FATAL_FAILURE(Touch(share_.Path("big/" + name)));
  }
  EXPECT_EQ(List("/root/big").size(), files + 2u);
  const uint64_t listings = Listings();
  EXPECT_EQ(List("/root/big").size(), files + 2u);
  EXPECT_GT(Listings(), listings);
  // The small one is kept all the same.
  List("/root/d");
  const uint64_t after = Listings();
  List("/root/d");
  EXPECT_EQ(Listings(), after);
  EXPECT_GT(machine().share_fs()->listing_budget().used(), 0u);
}

// Readers listing a directory while another thread creates and removes a name
// in it: every listing is whole (each file once, the changing name present or
// not), and once the changes stop the last state is listed, then kept.
TEST_F(ListingCacheTest, ConcurrentListingsAndChangesStayWhole) {
  ASSERT_NO_FATAL_FAILURE(
      Boot(sim::DataCaching::kAlways, 60, sim::NotifyMode::kThread));
  const std::set<std::string> fixed = Names(List("/root/d"));
  ASSERT_EQ(fixed.size(), kFiles + 2u);
  constexpr int kReaders = 3, kRounds = 200;
  std::vector<int> broken(kReaders, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kReaders; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        const std::vector<Entry> entries = List("/root/d");
        std::set<std::string> names = Names(entries);
        const bool churn = names.erase("churn") == 1;
        if (names != fixed || entries.size() != fixed.size() + churn) {
          ++broken[t];
        }
      }
    });
  }
  int changes_failed = 0;
  for (int r = 0; r < kRounds; ++r) {
    const int fd = vfs::open("/root/d/churn", O_WRONLY | O_CREAT, 0644);
    if (fd < 0 || vfs::close(fd) != 0 || vfs::unlink("/root/d/churn") != 0) {
      ++changes_failed;
    }
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(changes_failed, 0);
  for (int t = 0; t < kReaders; ++t) EXPECT_EQ(broken[t], 0) << t;
  EXPECT_EQ(Names(List("/root/d")), fixed);
  const uint64_t listings = Listings();
  EXPECT_EQ(Names(List("/root/d")), fixed);
  EXPECT_EQ(Listings(), listings);
}

}  // namespace
}  // namespace vfs_test
