// FuseClient against the real device: libfuse's session over the passthrough
// handlers on a temporary share, reached through the raw FUSE endpoint. Each
// operation's result is checked against what the same system call does on the
// host directory.
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "driver/fuse_client.h"
#include "gtest/gtest.h"
#include "sim/raw_fuse_endpoint.h"
#include "tests/driver/raw_endpoint_channel.h"
#include "tests/driver/scripted_fuse_device.h"

namespace driver_test {
namespace {

using driver::DirEntry;
using driver::Entry;
using driver::FuseClient;
using driver::SetAttrRequest;

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

int HostErrno(int result) { return result < 0 ? errno : 0; }

class PassthroughClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TEST_TMPDIR");
    std::string pattern =
        std::string(tmp ? tmp : "/tmp") + "/fuse_client_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    share_ = root_ + "/share";
    ASSERT_EQ(mkdir(share_.c_str(), 0755), 0);
    sim::PassthroughOptions options;
    options.share_dir = share_;
    auto endpoint = sim::RawFuseEndpoint::Create(options);
    ASSERT_TRUE(endpoint.ok()) << endpoint.status();
    endpoint_ = std::move(*endpoint);
    channel_ = std::make_unique<RawEndpointChannel>(*endpoint_);
    client_ = std::make_unique<FuseClient>(platform_, *channel_);
    ASSERT_TRUE(client_->Init().ok());
    client_->SetCredentialsSource(
        [](const void*) {
          return driver::Credentials{static_cast<uint32_t>(getuid()),
                                     static_cast<uint32_t>(getgid()),
                                     static_cast<uint32_t>(getpid())};
        },
        nullptr);
  }

  void TearDown() override {
    client_.reset();
    channel_.reset();
    endpoint_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }

  std::string Host(const std::string& relative) {
    return share_ + "/" + relative;
  }

  void WriteHostFile(const std::string& relative, const std::string& content) {
    int fd = open(Host(relative).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, content.data(), content.size()),
              static_cast<ssize_t>(content.size()));
    close(fd);
  }

  std::string ReadHostFile(const std::string& relative) {
    std::string out;
    int fd = open(Host(relative).c_str(), O_RDONLY);
    if (fd < 0) return "<missing>";
    char buffer[65536];
    ssize_t n;
    while ((n = read(fd, buffer, sizeof(buffer))) > 0) out.append(buffer, n);
    close(fd);
    return out;
  }

  // The node at `path`, walked one component at a time from the root.
  base::Result<Entry> Walk(const std::string& path) {
    Entry entry;
    entry.nodeid = FUSE_ROOT_ID;
    size_t start = 0;
    while (start < path.size()) {
      size_t slash = path.find('/', start);
      if (slash == std::string::npos) slash = path.size();
      entry =
          TRY(client_->Lookup(entry.nodeid, path.substr(start, slash - start)));
      start = slash + 1;
    }
    return entry;
  }

  static void ExpectSameAttr(const fuse_attr& attr, const struct stat& st) {
    EXPECT_EQ(attr.ino, st.st_ino);
    EXPECT_EQ(attr.mode, st.st_mode);
    EXPECT_EQ(attr.nlink, st.st_nlink);
    EXPECT_EQ(attr.uid, st.st_uid);
    EXPECT_EQ(attr.gid, st.st_gid);
    EXPECT_EQ(attr.size, static_cast<uint64_t>(st.st_size));
    EXPECT_EQ(attr.blocks, static_cast<uint64_t>(st.st_blocks));
    EXPECT_EQ(attr.mtime, static_cast<uint64_t>(st.st_mtim.tv_sec));
    EXPECT_EQ(attr.mtimensec, static_cast<uint32_t>(st.st_mtim.tv_nsec));
  }

  struct stat HostLstat(const std::string& relative) {
    struct stat st {};
    EXPECT_EQ(lstat(Host(relative).c_str(), &st), 0) << relative;
    return st;
  }

  LogPlatform platform_;
  std::string root_;
  std::string share_;
  std::unique_ptr<sim::RawFuseEndpoint> endpoint_;
  std::unique_ptr<RawEndpointChannel> channel_;
  std::unique_ptr<FuseClient> client_;
};

TEST_F(PassthroughClientTest, InitNegotiatesTheDevicesLargeRequests) {
  EXPECT_GE(client_->negotiated().minor, 12u);
  EXPECT_EQ(client_->negotiated().max_read, 1u << 20);
  EXPECT_EQ(client_->negotiated().max_write, 1u << 20);
}

TEST_F(PassthroughClientTest, LookupAndGetAttrMatchLstat) {
  ASSERT_EQ(mkdir(Host("dir").c_str(), 0750), 0);
  WriteHostFile("dir/file", "twelve bytes");
  ASSERT_EQ(symlink("file", Host("dir/link").c_str()), 0);
  for (const char* path : {"dir", "dir/file", "dir/link"}) {
    auto entry = Walk(path);
    ASSERT_TRUE(entry.ok()) << path << ": " << entry.error();
    ExpectSameAttr(entry.value().attr, HostLstat(path));
    auto attrs = client_->GetAttr(entry.value().nodeid);
    ASSERT_TRUE(attrs.ok());
    ExpectSameAttr(attrs.value().attr, HostLstat(path));
  }
  auto root = client_->GetAttr(FUSE_ROOT_ID);
  ASSERT_TRUE(root.ok());
  ExpectSameAttr(root.value().attr, HostLstat("."));
}

TEST_F(PassthroughClientTest, LookupErrorsAreTheHostsErrnos) {
  WriteHostFile("file", "x");
  struct stat st;
  EXPECT_EQ(client_->Lookup(FUSE_ROOT_ID, "missing").error(),
            HostErrno(lstat(Host("missing").c_str(), &st)));
  auto file = Walk("file");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(client_->Lookup(file.value().nodeid, "below").error(),
            HostErrno(lstat(Host("file/below").c_str(), &st)));
  EXPECT_EQ(client_->Lookup(file.value().nodeid, "below").error(), ENOTDIR);
}

TEST_F(PassthroughClientTest, CreatingCallsMakeWhatTheHostSees) {
  auto dir = client_->Mkdir(FUSE_ROOT_ID, "made", 0750);
  ASSERT_TRUE(dir.ok()) << dir.error();
  ExpectSameAttr(dir.value().attr, HostLstat("made"));
  EXPECT_TRUE(S_ISDIR(HostLstat("made").st_mode));

  auto fifo = client_->Mknod(dir.value().nodeid, "fifo", S_IFIFO | 0640, 0);
  ASSERT_TRUE(fifo.ok()) << fifo.error();
  EXPECT_TRUE(S_ISFIFO(HostLstat("made/fifo").st_mode));
  ExpectSameAttr(fifo.value().attr, HostLstat("made/fifo"));

  auto link = client_->Symlink(dir.value().nodeid, "sym", "../elsewhere");
  ASSERT_TRUE(link.ok()) << link.error();
  char host_target[256] = {};
  ASSERT_GT(
      readlink(Host("made/sym").c_str(), host_target, sizeof(host_target)), 0);
  std::vector<char> target(4096);
  auto n = client_->ReadLink(link.value().nodeid, target);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(target.data(), n.value()), std::string(host_target));

  auto created = client_->Create(dir.value().nodeid, "file", O_RDWR, 0640);
  ASSERT_TRUE(created.ok()) << created.error();
  ExpectSameAttr(created.value().entry.attr, HostLstat("made/file"));
  auto hard = client_->Link(created.value().entry.nodeid, FUSE_ROOT_ID, "hard");
  ASSERT_TRUE(hard.ok()) << hard.error();
  EXPECT_EQ(HostLstat("hard").st_ino, HostLstat("made/file").st_ino);
  EXPECT_EQ(hard.value().attr.nlink, 2u);
  ASSERT_TRUE(
      client_->Release(created.value().entry.nodeid, created.value().handle.fh)
          .ok());

  // Exclusive create of an existing name, like open(O_CREAT | O_EXCL).
  EXPECT_EQ(client_->Create(dir.value().nodeid, "file", O_RDWR | O_EXCL, 0640)
                .error(),
            HostErrno(open(Host("made/file").c_str(), O_RDWR | O_CREAT | O_EXCL,
                           0640)));
  EXPECT_EQ(client_->Mkdir(FUSE_ROOT_ID, "made", 0750).error(),
            HostErrno(mkdir(Host("made").c_str(), 0750)));
}

TEST_F(PassthroughClientTest, LargeWriteAndReadAreSplitAndMatchTheHostFile) {
  auto created = client_->Create(FUSE_ROOT_ID, "big", O_RDWR, 0644);
  ASSERT_TRUE(created.ok());
  const uint64_t node = created.value().entry.nodeid;
  const uint64_t fh = created.value().handle.fh;
  std::string data(3 * (1 << 20) + 12345, '\0');
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<char>(i * 131 + i / 4096);
  auto written = client_->Write(node, fh, 0, Bytes(data));
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(written.value(), data.size());
  EXPECT_EQ(ReadHostFile("big"), data);

  std::vector<uint8_t> buffer(data.size() + 5000, 0);
  auto n = client_->Read(node, fh, 0, buffer);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), data.size());
  EXPECT_EQ(std::string(buffer.begin(), buffer.begin() + n.value()), data);
  // A read from the middle, compared with pread on the host.
  std::vector<uint8_t> middle(70000);
  auto m = client_->Read(node, fh, 1000000, middle);
  ASSERT_TRUE(m.ok());
  std::vector<uint8_t> host(70000);
  int fd = open(Host("big").c_str(), O_RDONLY);
  ASSERT_EQ(pread(fd, host.data(), host.size(), 1000000),
            static_cast<ssize_t>(m.value()));
  close(fd);
  EXPECT_EQ(middle, host);
  ASSERT_TRUE(client_->Flush(node, fh).ok());
  ASSERT_TRUE(client_->Fsync(node, fh, false).ok());
  ASSERT_TRUE(client_->Release(node, fh).ok());
  EXPECT_EQ(endpoint_->server().fs().open_file_count(), 0u);
}

TEST_F(PassthroughClientTest, OpenFlagsBehaveAsOnTheHost) {
  WriteHostFile("f", "existing content");
  auto entry = Walk("f");
  ASSERT_TRUE(entry.ok());
  auto handle = client_->Open(entry.value().nodeid, O_WRONLY | O_TRUNC);
  ASSERT_TRUE(handle.ok());
  EXPECT_EQ(HostLstat("f").st_size, 0);
  ASSERT_TRUE(client_->Release(entry.value().nodeid, handle.value().fh).ok());
  auto append = client_->Open(entry.value().nodeid, O_WRONLY | O_APPEND);
  ASSERT_TRUE(append.ok());
  ASSERT_EQ(
      client_->Write(entry.value().nodeid, append.value().fh, 0, Bytes("ab"))
          .value(),
      2u);
  ASSERT_EQ(
      client_->Write(entry.value().nodeid, append.value().fh, 0, Bytes("cd"))
          .value(),
      2u);
  EXPECT_EQ(ReadHostFile("f"),
            "abcd");  // O_APPEND wins over the offsets, as on the host.
  ASSERT_TRUE(client_->Release(entry.value().nodeid, append.value().fh).ok());
  // Reading a write-only handle fails as read(2) would.
  auto wronly = client_->Open(entry.value().nodeid, O_WRONLY);
  ASSERT_TRUE(wronly.ok());
  std::vector<uint8_t> buffer(10);
  int fd = open(Host("f").c_str(), O_WRONLY);
  char c;
  const int host_error = HostErrno(static_cast<int>(read(fd, &c, 1)));
  close(fd);
  EXPECT_EQ(
      client_->Read(entry.value().nodeid, wronly.value().fh, 0, buffer).error(),
      host_error);
  ASSERT_TRUE(client_->Release(entry.value().nodeid, wronly.value().fh).ok());
}

TEST_F(PassthroughClientTest, SetAttrChangesWhatTheHostSees) {
  WriteHostFile("f", "0123456789");
  auto entry = Walk("f");
  ASSERT_TRUE(entry.ok());
  const uint64_t node = entry.value().nodeid;
  SetAttrRequest chmod_truncate;
  chmod_truncate.mode = 0600;
  chmod_truncate.size = 4;
  auto attrs = client_->SetAttr(node, chmod_truncate);
  ASSERT_TRUE(attrs.ok()) << attrs.error();
  struct stat st = HostLstat("f");
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_size, 4);
  ExpectSameAttr(attrs.value().attr, st);

  SetAttrRequest times;
  times.atime = driver::FuseTime{1'000'000, 5};
  times.mtime = driver::FuseTime{2'000'000, 7};
  attrs = client_->SetAttr(node, times);
  ASSERT_TRUE(attrs.ok());
  st = HostLstat("f");
  EXPECT_EQ(st.st_atim.tv_sec, 1'000'000);
  EXPECT_EQ(st.st_mtim.tv_sec, 2'000'000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 7);

  SetAttrRequest now;
  now.mtime_now = true;
  attrs = client_->SetAttr(node, now);
  ASSERT_TRUE(attrs.ok());
  st = HostLstat("f");
  EXPECT_GT(st.st_mtim.tv_sec, 2'000'000);
  EXPECT_EQ(st.st_atim.tv_sec, 1'000'000);  // Untouched: only mtime was asked.

  // Through an open handle (FATTR_FH).
  auto handle = client_->Open(node, O_RDWR);
  ASSERT_TRUE(handle.ok());
  SetAttrRequest grow;
  grow.size = 100;
  grow.fh = handle.value().fh;
  ASSERT_TRUE(client_->SetAttr(node, grow).ok());
  EXPECT_EQ(HostLstat("f").st_size, 100);
  ASSERT_TRUE(client_->Release(node, handle.value().fh).ok());
}

TEST_F(PassthroughClientTest, RenameUnlinkRmdirMatchTheHost) {
  WriteHostFile("a", "A");
  WriteHostFile("b", "B");
  ASSERT_EQ(mkdir(Host("d").c_str(), 0755), 0);
  WriteHostFile("d/inside", "I");

  EXPECT_EQ(
      client_->Rename(FUSE_ROOT_ID, "a", FUSE_ROOT_ID, "b", RENAME_NOREPLACE)
          .error(),
      EEXIST);
  ASSERT_TRUE(
      client_->Rename(FUSE_ROOT_ID, "a", FUSE_ROOT_ID, "b", RENAME_EXCHANGE)
          .ok());
  EXPECT_EQ(ReadHostFile("a"), "B");
  EXPECT_EQ(ReadHostFile("b"), "A");
  ASSERT_TRUE(client_->Rename(FUSE_ROOT_ID, "a", FUSE_ROOT_ID, "c").ok());
  EXPECT_EQ(ReadHostFile("c"), "B");
  EXPECT_EQ(access(Host("a").c_str(), F_OK), -1);

  EXPECT_EQ(client_->Rmdir(FUSE_ROOT_ID, "d").error(),
            HostErrno(rmdir(Host("d").c_str())));
  EXPECT_EQ(client_->Rmdir(FUSE_ROOT_ID, "c").error(),
            HostErrno(rmdir(Host("c").c_str())));
  EXPECT_EQ(client_->Unlink(FUSE_ROOT_ID, "d").error(),
            HostErrno(unlink(Host("d").c_str())));
  auto d = Walk("d");
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(client_->Unlink(d.value().nodeid, "inside").ok());
  ASSERT_TRUE(client_->Rmdir(FUSE_ROOT_ID, "d").ok());
  ASSERT_TRUE(client_->Unlink(FUSE_ROOT_ID, "c").ok());
  EXPECT_EQ(access(Host("d").c_str(), F_OK), -1);
  EXPECT_EQ(access(Host("c").c_str(), F_OK), -1);
  EXPECT_EQ(client_->Unlink(FUSE_ROOT_ID, "c").error(), ENOENT);
}

TEST_F(PassthroughClientTest, ReadDirListsALargeDirectoryLikeTheHost) {
  constexpr int kFiles = 2000;
  for (int i = 0; i < kFiles; ++i) {
    WriteHostFile("entry-with-a-longish-name-" + std::to_string(i), "");
  }
  std::set<std::string> host_names;
  DIR* dir = opendir(share_.c_str());
  ASSERT_NE(dir, nullptr);
  while (dirent* e = readdir(dir)) host_names.insert(e->d_name);
  closedir(dir);

  auto handle = client_->OpenDir(FUSE_ROOT_ID);
  ASSERT_TRUE(handle.ok());
  std::vector<uint8_t> buffer(4096);
  std::multiset<std::string> names;
  int regular = 0;
  ASSERT_TRUE(client_
                  ->ReadDirAll(FUSE_ROOT_ID, handle.value().fh, 0, buffer,
                               [&](const DirEntry& e) {
                                 names.insert(std::string(e.name));
                                 if (e.type == DT_REG) ++regular;
                                 return true;
                               })
                  .ok());
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()), host_names);
  EXPECT_EQ(names.size(), host_names.size());  // No entry twice.
  EXPECT_EQ(regular, kFiles);

  // READDIRPLUS returns the same names, with lookups that can be given back.
  auto page = client_->ReadDirPlus(FUSE_ROOT_ID, handle.value().fh, 0, buffer);
  ASSERT_TRUE(page.ok());
  std::vector<fuse_forget_one> forgets;
  for (DirEntry e : page.value()) {
    EXPECT_TRUE(host_names.count(std::string(e.name)));
    if (!e.HoldsLookup()) continue;
    forgets.push_back({e.nodeid, 1});
    EXPECT_EQ(e.entry().attr.ino, e.ino) << e.name;  // The host's file.
  }
  ASSERT_TRUE(client_->ForgetMany(forgets).ok());
  ASSERT_TRUE(client_->FsyncDir(FUSE_ROOT_ID, handle.value().fh, false).ok());
  ASSERT_TRUE(client_->ReleaseDir(FUSE_ROOT_ID, handle.value().fh).ok());
  EXPECT_EQ(endpoint_->server().fs().open_file_count(), 0u);
}

TEST_F(PassthroughClientTest, ForgetReleasesTheDevicesInodes) {
  for (int i = 0; i < 300; ++i) WriteHostFile("n" + std::to_string(i), "");
  const size_t before = endpoint_->server().fs().inodes().size();
  std::vector<fuse_forget_one> forgets;
  for (int i = 0; i < 300; ++i) {
    auto entry = client_->Lookup(FUSE_ROOT_ID, "n" + std::to_string(i));
    ASSERT_TRUE(entry.ok());
    forgets.push_back({entry.value().nodeid, 1});
  }
  EXPECT_EQ(endpoint_->server().fs().inodes().size(), before + 300);
  auto single = client_->Lookup(FUSE_ROOT_ID, "n0");
  ASSERT_TRUE(single.ok());
  ASSERT_TRUE(client_->Forget(single.value().nodeid, 1).ok());
  ASSERT_TRUE(client_->ForgetMany(forgets).ok());
  EXPECT_EQ(endpoint_->server().fs().inodes().size(), before);
  EXPECT_GE(channel_->high_priority_requests(),
            3);  // FORGET + two BATCH_FORGETs.
  // A forgotten node id is stale now.
  EXPECT_NE(client_->GetAttr(forgets[5].nodeid).error(), 0);
}

TEST_F(PassthroughClientTest, StatFsAccessAndXattrsMatchTheHost) {
  WriteHostFile("f", "data");
  auto st = client_->StatFs(FUSE_ROOT_ID);
  ASSERT_TRUE(st.ok());
  struct statvfs host {};
  ASSERT_EQ(statvfs(share_.c_str(), &host), 0);
  EXPECT_EQ(st.value().bsize, host.f_bsize);
  EXPECT_EQ(st.value().blocks, host.f_blocks);
  EXPECT_EQ(st.value().namelen, host.f_namemax);

  auto entry = Walk("f");
  ASSERT_TRUE(entry.ok());
  const uint64_t node = entry.value().nodeid;
  for (int mask : {R_OK, W_OK, X_OK, R_OK | W_OK}) {
    EXPECT_EQ(client_->Access(node, mask).error(),
              HostErrno(access(Host("f").c_str(), mask)))
        << mask;
  }

  const std::string value = "xattr-value";
  const int host_set = HostErrno(lsetxattr(Host("f").c_str(), "user.probe",
                                           value.data(), value.size(), 0));
  auto set = client_->SetXattr(node, "user.test", Bytes(value), 0);
  EXPECT_EQ(set.error(), host_set);
  if (host_set != 0)
    return;  // The host file system has no user xattrs: same errno.
  std::vector<uint8_t> buffer(64);
  EXPECT_EQ(client_->GetXattr(node, "user.test", {}).value(), value.size());
  auto got = client_->GetXattr(node, "user.test", buffer);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(std::string(buffer.begin(), buffer.begin() + got.value()), value);
  char host_value[64];
  EXPECT_EQ(
      lgetxattr(Host("f").c_str(), "user.test", host_value, sizeof(host_value)),
      static_cast<ssize_t>(value.size()));
  std::vector<char> names(256);
  auto listed = client_->ListXattr(node, names);
  ASSERT_TRUE(listed.ok());
  std::vector<char> host_names(256);
  EXPECT_EQ(
      static_cast<ssize_t>(listed.value()),
      llistxattr(Host("f").c_str(), host_names.data(), host_names.size()));
  EXPECT_EQ(
      client_->SetXattr(node, "user.test", Bytes(value), XATTR_CREATE).error(),
      EEXIST);
  ASSERT_TRUE(client_->RemoveXattr(node, "user.test").ok());
  EXPECT_EQ(
      client_->GetXattr(node, "user.test", buffer).error(),
      HostErrno(static_cast<int>(lgetxattr(Host("f").c_str(), "user.test",
                                           host_value, sizeof(host_value)))));
}

TEST_F(PassthroughClientTest, LseekFallocateCopyFileRangeMatchTheHost) {
  auto created = client_->Create(FUSE_ROOT_ID, "sparse", O_RDWR, 0644);
  ASSERT_TRUE(created.ok());
  const uint64_t node = created.value().entry.nodeid;
  const uint64_t fh = created.value().handle.fh;
  ASSERT_EQ(client_->Write(node, fh, 1 << 20, Bytes("tail")).value(), 4u);
  int fd = open(Host("sparse").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  for (int whence : {SEEK_DATA, SEEK_HOLE}) {
    const off_t host = lseek(fd, 0, whence);
    auto offset = client_->Lseek(node, fh, 0, whence);
    if (host < 0) {
      EXPECT_EQ(offset.error(), errno);
    } else {
      ASSERT_TRUE(offset.ok());
      EXPECT_EQ(offset.value(), static_cast<uint64_t>(host));
    }
  }
  close(fd);

  auto allocated = client_->Fallocate(node, fh, 0, 0, 8192);
  EXPECT_TRUE(allocated.ok() || allocated.error() == EOPNOTSUPP)
      << allocated.error();

  auto copy = client_->Create(FUSE_ROOT_ID, "copy", O_RDWR, 0644);
  ASSERT_TRUE(copy.ok());
  auto copied = client_->CopyFileRange(
      {node, fh, 1 << 20},
      {copy.value().entry.nodeid, copy.value().handle.fh, 0}, 4);
  ASSERT_TRUE(copied.ok()) << copied.error();
  EXPECT_EQ(copied.value(), 4u);
  EXPECT_EQ(ReadHostFile("copy"), "tail");
  ASSERT_TRUE(client_->Release(node, fh).ok());
  ASSERT_TRUE(
      client_->Release(copy.value().entry.nodeid, copy.value().handle.fh).ok());
  // A handle released twice is the device's EBADF, returned as is.
  EXPECT_EQ(client_->Release(node, fh).error(), EBADF);
}

TEST_F(PassthroughClientTest, ManyThreadsShareOneClient) {
  constexpr int kThreads = 4;
  for (int t = 0; t < kThreads; ++t) {
    WriteHostFile("t" + std::to_string(t),
                  std::string(100000, static_cast<char>('a' + t)));
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string name = "t" + std::to_string(t);
      for (int round = 0; round < 50; ++round) {
        auto entry = client_->Lookup(FUSE_ROOT_ID, name);
        if (!entry.ok()) {
          ++failures;
          continue;
        }
        auto handle = client_->Open(entry.value().nodeid, O_RDONLY);
        std::vector<uint8_t> buffer(100000);
        if (!handle.ok()) {
          ++failures;
          continue;
        }
        auto n =
            client_->Read(entry.value().nodeid, handle.value().fh, 0, buffer);
        if (!n.ok() || n.value() != buffer.size() ||
            buffer[round * 7] != static_cast<uint8_t>('a' + t)) {
          ++failures;
        }
        if (!client_->Release(entry.value().nodeid, handle.value().fh).ok())
          ++failures;
        if (!client_->Forget(entry.value().nodeid, 1).ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(endpoint_->server().fs().open_file_count(), 0u);
}

}  // namespace
}  // namespace driver_test
