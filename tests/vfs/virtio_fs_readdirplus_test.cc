// READDIRPLUS on the virtio-fs share, counted in the requests the simulated
// device saw (its passthrough handlers look every listed name up):
//  - after listing a directory, stat of every entry sends nothing while the
//    caches hold, and everything without them;
//  - every lookup a READDIRPLUS counted is given back: at once when nothing
//    may be cached, on eviction, and at unmount or shutdown;
//  - READDIRPLUS_AUTO: the first request of a listing is a READDIRPLUS, later
//    ones only when a child was looked up since the last request;
//  - getdents64 sees what the host's getdents64 sees (names, inode numbers,
//    types, offsets), and seeking to any offset resumes there;
//  - attributes a listing cached give way to a change behind the VFS's back
//    once they expire, and never overwrite a change made through the VFS
//    while the READDIRPLUS was out.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sim/fault_plan.h"
#include "tests/vfs/share_fixture.h"
#include "vfs/dirent.h"
#include "vfs/fuse_fs.h"
#include "vfs/posix.h"

namespace vfs_test {
namespace {

constexpr int kEntries = 100;

struct Listed {
  std::string name;
  uint64_t ino;
  int64_t off;
  uint8_t type;

  bool operator==(const Listed&) const = default;
};

// The records of a getdents64 buffer.
std::vector<Listed> Parse(const char* buffer, int64_t length) {
  std::vector<Listed> out;
  for (int64_t at = 0; at < length;) {
    const auto* d = reinterpret_cast<const vfs::Dirent64*>(buffer + at);
    out.push_back({d->d_name, d->d_ino, d->d_off, d->d_type});
    at += d->d_reclen;
  }
  return out;
}

// What the host's own getdents64 lists for `path`: what the device's READDIR
// passes on, offsets included.
std::vector<Listed> HostListing(const std::string& path) {
  std::vector<Listed> out;
  DIR* dir = ::opendir(path.c_str());
  EXPECT_NE(dir, nullptr) << path;
  if (dir == nullptr) return out;
  while (const dirent* d = ::readdir(dir)) {
    out.push_back(
        {d->d_name, d->d_ino, static_cast<int64_t>(d->d_off), d->d_type});
  }
  ::closedir(dir);
  return out;
}

class ReadDirPlusTest : public ShareTest {
 protected:
  // `d` holds kEntries files of `name_length`-byte names, file i of i bytes.
  void MakeDirectory(size_t name_length = 8) {
    ASSERT_EQ(::mkdir(share_.Path("d").c_str(), 0755), 0);
    for (int i = 0; i < kEntries; ++i) {
      names_.push_back(NameOf(i, name_length));
      int fd = ::open(share_.Path("d/" + names_.back()).c_str(),
                      O_CREAT | O_WRONLY, 0644);
      ASSERT_GE(fd, 0);
      ASSERT_EQ(::write(fd, std::string(i, 'x').data(), i), i);
      ::close(fd);
    }
  }
  static std::string NameOf(int i, size_t length) {
    std::string name = "e" + std::to_string(i) + "_";
    name.resize(length, 'n');
    return name;
  }

  // Reads `fd` to its end with `buffer_size`-byte getdents64 calls.
  static std::vector<Listed> ReadAll(int fd, size_t buffer_size) {
    std::vector<Listed> out;
    std::vector<char> buffer(buffer_size);
    int64_t n;
    while ((n = vfs::getdents64(fd, buffer.data(), buffer.size())) > 0) {
      for (Listed& e : Parse(buffer.data(), n)) out.push_back(e);
    }
    EXPECT_EQ(n, 0);
    return out;
  }

  // stat of every entry of "d" through the VFS, each checked against the size
  // MakeDirectory gave it (entry i: i bytes).
  std::vector<vfs::Stat> StatEveryEntry() {
    std::vector<vfs::Stat> out(kEntries);
    for (int i = 0; i < kEntries; ++i) {
      EXPECT_EQ(vfs::stat(("/root/d/" + names_[i]).c_str(), &out[i]), 0);
      EXPECT_EQ(out[i].st_size, i);
    }
    return out;
  }

  std::vector<std::string> names_;
};

TEST_F(ReadDirPlusTest, TheSessionTakesReadDirPlusAuto) {
  ASSERT_NO_FATAL_FAILURE(BootMachine(kCached));
  const uint32_t flags = machine().client().negotiated().flags;
  EXPECT_NE(flags & FUSE_DO_READDIRPLUS, 0u);
  EXPECT_NE(flags & FUSE_READDIRPLUS_AUTO, 0u);
}

TEST_F(ReadDirPlusTest, StatAfterAListingSendsNothing) {
  ASSERT_NO_FATAL_FAILURE(MakeDirectory());
  ASSERT_NO_FATAL_FAILURE(BootMachine(kCached));
  const int fd = vfs::open("/root/d", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  const uint64_t plus = Requests(FUSE_READDIRPLUS);
  EXPECT_EQ(ReadAll(fd, 64 * 1024).size(), size_t{kEntries + 2});
  EXPECT_EQ(Requests(FUSE_READDIRPLUS), plus + 1);  // All in one reply.
  const uint64_t lookups = Requests(FUSE_LOOKUP);
  const uint64_t getattrs = Requests(FUSE_GETATTR);
  const std::vector<vfs::Stat> stats = StatEveryEntry();
  for (int i = 0; i < kEntries; ++i) {
    struct stat host;
    ASSERT_EQ(::stat(share_.Path("d/" + names_[i]).c_str(), &host), 0);
    EXPECT_EQ(stats[i].st_ino, host.st_ino);
  }
  EXPECT_EQ(Requests(FUSE_LOOKUP), lookups);
  EXPECT_EQ(Requests(FUSE_GETATTR), getattrs);
  EXPECT_EQ(vfs::close(fd), 0);
  // Every lookup the listing counted is given back at unmount.
  EXPECT_GE(DeviceInodes(), size_t{kEntries + 2});
  ASSERT_EQ(vfs::umount("/root"), 0);
  EXPECT_EQ(DeviceInodes(), 1u);
  EXPECT_EQ(machine().share_fs()->live_nodes(), 0u);
}

TEST_F(ReadDirPlusTest, WithoutCachesEveryStatAsksAndNothingIsKept) {
  ASSERT_NO_FATAL_FAILURE(MakeDirectory());
  ASSERT_NO_FATAL_FAILURE(BootMachine(kNoCache));
  const int fd = vfs::open("/root/d", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  const size_t inodes = DeviceInodes();
  const uint64_t plus = Requests(FUSE_READDIRPLUS);
  const uint64_t forgets = Requests(FUSE_FORGET) + Requests(FUSE_BATCH_FORGET);
  EXPECT_EQ(ReadAll(fd, 64 * 1024).size(), size_t{kEntries + 2});
  EXPECT_EQ(Requests(FUSE_READDIRPLUS), plus + 1);
  // The reply's lookups went straight back, together.
  EXPECT_EQ(DeviceInodes(), inodes);
  EXPECT_EQ(Requests(FUSE_FORGET) + Requests(FUSE_BATCH_FORGET), forgets + 1);
  const uint64_t lookups = Requests(FUSE_LOOKUP);
  const uint64_t getattrs = Requests(FUSE_GETATTR);
  StatEveryEntry();
  // Each stat: LOOKUP of "d" and of the name, whose reply has the
  // attributes the stat reports (nothing from the listing is used).
  EXPECT_EQ(Requests(FUSE_LOOKUP), lookups + 2 * kEntries);
  EXPECT_EQ(Requests(FUSE_GETATTR), getattrs);
  EXPECT_EQ(vfs::close(fd), 0);
  ASSERT_EQ(vfs::umount("/root"), 0);
  EXPECT_EQ(DeviceInodes(), 1u);
}

TEST_F(ReadDirPlusTest, ABoundedNameCacheForgetsWhatItEvicts) {
  ASSERT_NO_FATAL_FAILURE(MakeDirectory());
  ASSERT_NO_FATAL_FAILURE(BootMachine(kCached, {.max_cached_entries = 16}));
  const int fd = vfs::open("/root/d", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(ReadAll(fd, 64 * 1024).size(), size_t{kEntries + 2});
  EXPECT_LE(machine().share_fs()->cached_entries(), 16u);
  // The root, "d" (held by the open directory), the cached names and the
  // forgets that wait for a batch.
  EXPECT_LE(DeviceInodes(), 2u + 16u + (vfs::FuseFsOptions{}.forget_batch - 1));
  EXPECT_EQ(vfs::close(fd), 0);
  machine().kernel()->Teardown();
  EXPECT_EQ(DeviceInodes(), 1u);
}

// Which listing requests one getdents64 call sent: "PLUS", "PLAIN", "" or
// "BOTH"; `got` receives its entries.
class AdaptiveTest : public ReadDirPlusTest {
 protected:
  std::string Next(int fd, std::vector<Listed>* got) {
    const uint64_t plus = Requests(FUSE_READDIRPLUS);
    const uint64_t plain = Requests(FUSE_READDIR);
    char buffer[4096];
    const int64_t n = vfs::getdents64(fd, buffer, sizeof(buffer));
    EXPECT_GE(n, 0);
    *got = Parse(buffer, n < 0 ? 0 : n);
    const bool sent_plus = Requests(FUSE_READDIRPLUS) != plus;
    const bool sent_plain = Requests(FUSE_READDIR) != plain;
    if (sent_plus && sent_plain) return "BOTH";
    return sent_plus ? "PLUS" : sent_plain ? "PLAIN" : "";
  }
  // A regular file among `entries`.
  static std::string AFile(const std::vector<Listed>& entries) {
    for (const Listed& e : entries) {
      if (e.name != "." && e.name != "..") return e.name;
    }
    ADD_FAILURE() << "no file listed";
    return "";
  }
  uint64_t StatCost(const std::string& name) {
    const uint64_t before = Requests(FUSE_LOOKUP) + Requests(FUSE_GETATTR);
    vfs::Stat st;
    EXPECT_EQ(vfs::stat(("/root/d/" + name).c_str(), &st), 0) << name;
    return Requests(FUSE_LOOKUP) + Requests(FUSE_GETATTR) - before;
  }
};

TEST_F(AdaptiveTest, ReadDirPlusOnlyWhereItsAttributesAreWanted) {
  // 100-byte names: 4 KiB holds 16 READDIRPLUS records or 32 READDIR ones,
  // and a getdents64 call of 4 KiB takes either reply whole.
  ASSERT_NO_FATAL_FAILURE(MakeDirectory(/*name_length=*/100));
  ASSERT_NO_FATAL_FAILURE(BootMachine(kCached));
  const int fd = vfs::open("/root/d", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  std::vector<Listed> got, all;
  auto keep = [&] { all.insert(all.end(), got.begin(), got.end()); };

  EXPECT_EQ(Next(fd, &got), "PLUS");  // The start of a listing.
  keep();
  EXPECT_EQ(Next(fd, &got), "PLAIN");  // Nothing looked up since.
  keep();
  // A name the plain reply listed is looked up: the reader wants attributes.
  EXPECT_EQ(StatCost(AFile(got)), 1u);  // LOOKUP (its attributes serve).
  EXPECT_EQ(Next(fd, &got), "PLUS");
  keep();
  // A name the READDIRPLUS brought is answered from the caches, and its first
  // use says the same.
  const std::string listed = AFile(got);
  EXPECT_EQ(StatCost(listed), 0u);
  EXPECT_EQ(Next(fd, &got), "PLUS");
  keep();
  // Its second use says nothing new.
  EXPECT_EQ(StatCost(listed), 0u);
  EXPECT_EQ(Next(fd, &got), "PLAIN");
  keep();
  while (!got.empty()) {
    EXPECT_EQ(Next(fd, &got), "PLAIN");
    keep();
  }
  // Every entry once, as the host lists it, whichever request brought it.
  EXPECT_EQ(all, HostListing(share_.Path("d")));
  // A rewind starts a listing again, but the last READDIRPLUS's attributes
  // went unused: a plain one, until a name is used.
  ASSERT_EQ(vfs::lseek(fd, 0, SEEK_SET), 0);
  EXPECT_EQ(Next(fd, &got), "PLAIN");
  ASSERT_EQ(vfs::lseek(fd, 0, SEEK_SET), 0);
  EXPECT_EQ(Next(fd, &got), "PLAIN");
  EXPECT_LE(StatCost(AFile(got)), 1u);
  ASSERT_EQ(vfs::lseek(fd, 0, SEEK_SET), 0);
  EXPECT_EQ(Next(fd, &got), "PLUS");
  EXPECT_EQ(vfs::close(fd), 0);
  ASSERT_EQ(vfs::umount("/root"), 0);
  EXPECT_EQ(DeviceInodes(), 1u);
}

TEST_F(ReadDirPlusTest, ListingsAreTheHostsWithTheirOffsets) {
  ASSERT_NO_FATAL_FAILURE(MakeDirectory(/*name_length=*/40));
  ASSERT_NO_FATAL_FAILURE(BootMachine(kCached));
  const std::vector<Listed> host = HostListing(share_.Path("d"));
  ASSERT_EQ(host.size(), size_t{kEntries + 2});
  const int fd = vfs::open("/root/d", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  // Small buffers keep a reply over several calls; with lookups in between,
  // READDIRPLUS and READDIR replies alternate.
  for (size_t buffer_size : {size_t{512}, size_t{4096}, size_t{64 * 1024}}) {
    SCOPED_TRACE(buffer_size);
    ASSERT_EQ(vfs::lseek(fd, 0, SEEK_SET), 0);
    std::vector<Listed> listed;
    std::vector<char> buffer(buffer_size);
    int64_t n;
    int calls = 0;
    while ((n = vfs::getdents64(fd, buffer.data(), buffer.size())) > 0) {
      std::vector<Listed> got = Parse(buffer.data(), n);
      listed.insert(listed.end(), got.begin(), got.end());
      if (++calls % 3 == 0) {
        vfs::Stat st;
        ASSERT_EQ(vfs::stat(("/root/d/" + names_[calls]).c_str(), &st), 0);
      }
    }
    EXPECT_EQ(n, 0);
    EXPECT_EQ(listed, host);
  }
  EXPECT_GT(Requests(FUSE_READDIR), 0u);
  EXPECT_GT(Requests(FUSE_READDIRPLUS), 0u);
  // Seeking to an entry's offset (telldir/seekdir) resumes after it, in a
  // fresh stream as in one that was read before.
  for (size_t k : {size_t{0}, size_t{1}, size_t{37}, host.size() - 2}) {
    SCOPED_TRACE(k);
    ASSERT_EQ(vfs::lseek(fd, host[k].off, SEEK_SET), host[k].off);
    char buffer[1024];
    const int64_t n = vfs::getdents64(fd, buffer, sizeof(buffer));
    ASSERT_GT(n, 0);
    EXPECT_EQ(Parse(buffer, n).front(), host[k + 1]);
  }
  ASSERT_EQ(vfs::lseek(fd, host.back().off, SEEK_SET), host.back().off);
  char buffer[1024];
  EXPECT_EQ(vfs::getdents64(fd, buffer, sizeof(buffer)), 0);
  EXPECT_EQ(vfs::close(fd), 0);
}

TEST_F(ReadDirPlusTest, ChangesBehindTheVfsShowOnceTheListedAttributesExpire) {
  constexpr double kTimeout = 1.0;
  ASSERT_NO_FATAL_FAILURE(MakeDirectory());
  ASSERT_NO_FATAL_FAILURE(BootMachine(
      {base::TransportKind::kPci, sim::NotifyMode::kInline, kTimeout}));
  const auto listed_at = std::chrono::steady_clock::now();
  const int fd = vfs::open("/root/d", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(ReadAll(fd, 64 * 1024).size(), size_t{kEntries + 2});
  EXPECT_EQ(vfs::close(fd), 0);
  const std::string path = "/root/d/" + names_[5];
  ASSERT_EQ(::truncate(share_.Path("d/" + names_[5]).c_str(), 1000), 0);
  const uint64_t getattrs = Requests(FUSE_GETATTR);
  vfs::Stat st;
  ASSERT_EQ(vfs::stat(path.c_str(), &st), 0);
  // Within the validity the listing's attributes answer (a slow machine may
  // have let them expire, so only the later check is strict).
  if (std::chrono::steady_clock::now() - listed_at <
      std::chrono::milliseconds(800)) {
    EXPECT_EQ(st.st_size, 5);
    EXPECT_EQ(Requests(FUSE_GETATTR), getattrs);
  }
  std::this_thread::sleep_for(
      std::chrono::milliseconds(static_cast<int>(kTimeout * 1000) + 100));
  ASSERT_EQ(vfs::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 1000);
}

// The device holds the READDIRPLUS's completion (its reply, with the file's
// old mode, already written) while a chmod through the VFS completes: the
// listing's older attributes must not replace the chmod's.
TEST_F(ReadDirPlusTest, AChangeWhileTheListingIsOutIsNotOverwritten) {
  ASSERT_NO_FATAL_FAILURE(MakeDirectory());
  ASSERT_NO_FATAL_FAILURE(BootMachine(kCached));
  const int fd = vfs::open("/root/d", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  absl::StatusOr<sim::FaultRule> hold =
      sim::ParseFaultRule("hold@op=READDIRPLUS,count=1");
  ASSERT_TRUE(hold.ok()) << hold.status();
  machine().faults().plan().Add(*hold);
  std::vector<Listed> listed;
  std::thread reader([&] {
    vfs::TaskScope scope(machine().task());
    listed = ReadAll(fd, 64 * 1024);
  });
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (machine().faults().held() == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const bool held = machine().faults().held() == 1;
  EXPECT_TRUE(held);
  const std::string path = "/root/d/" + names_[7];
  EXPECT_EQ(vfs::chmod(path.c_str(), 0600), 0);
  if (held) {
    EXPECT_TRUE(machine().faults().ReleaseHeld({0}));
  }
  reader.join();
  EXPECT_EQ(listed.size(), size_t{kEntries + 2});
  const uint64_t getattrs = Requests(FUSE_GETATTR);
  vfs::Stat st;
  ASSERT_EQ(vfs::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode, S_IFREG | 0600u);
  // From the cache: the chmod's reply, not the listing's older one.
  EXPECT_EQ(Requests(FUSE_GETATTR), getattrs);
  // The other names keep what the listing brought.
  const uint64_t lookups = Requests(FUSE_LOOKUP);
  ASSERT_EQ(vfs::stat(("/root/d/" + names_[8]).c_str(), &st), 0);
  struct stat host;
  ASSERT_EQ(::stat(share_.Path("d/" + names_[8]).c_str(), &host), 0);
  EXPECT_EQ(st.st_mode, host.st_mode);
  EXPECT_EQ(Requests(FUSE_LOOKUP) + Requests(FUSE_GETATTR), lookups + getattrs);
  EXPECT_EQ(vfs::close(fd), 0);
  ASSERT_EQ(vfs::umount("/root"), 0);
  EXPECT_EQ(DeviceInodes(), 1u);
}

}  // namespace
}  // namespace vfs_test
