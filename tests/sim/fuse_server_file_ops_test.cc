// The passthrough handlers through libfuse, compared with the host: open
// files, directories, the data path and extended attributes.
#include "tests/sim/fuse_server_ops_fixture.h"

namespace sim::ops_test {
namespace {

TEST_F(FuseServerOpsTest, OpenReadWriteReleaseMatchHost) {
  const uint64_t file = HostFile("f", "hello world");
  const uint64_t fh = c().MustOpen(file, O_RDWR);
  Reply r = c().Read(file, fh, 6, 100);
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.payload_string(), "world");
  r = c().Write(file, fh, 6, "WORLD!");
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.As<fuse_write_out>().size, 6u);
  char buf[64] = {};
  const int fd = open(P("f").c_str(), O_RDONLY);
  ASSERT_GE(read(fd, buf, sizeof(buf)), 0);
  close(fd);
  EXPECT_EQ(std::string(buf), "hello WORLD!");
  r = c().Read(file, fh, 1000, 10);  // past EOF
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.payload_size(), 0u);
  EXPECT_EQ(c().Release(file, fh).error(), 0);
  EXPECT_EQ(c().Read(file, fh, 0, 10).error(), EBADF);

  // Read-only handles cannot write, as on the host.
  const uint64_t ro = c().MustOpen(file, O_RDONLY);
  const int host_fd = open(P("f").c_str(), O_RDONLY);
  const int host_err = write(host_fd, "x", 1) < 0 ? errno : 0;
  close(host_fd);
  EXPECT_EQ(c().Write(file, ro, 0, "x").error(), host_err);
  // O_TRUNC through OPEN.
  c().MustOpen(file, O_WRONLY | O_TRUNC);
  EXPECT_EQ(HostStat(P("f")).st_size, 0);
  // Directories are opened with OPENDIR, files with OPEN.
  EXPECT_EQ(c().Open(kRoot, O_RDONLY).error(), EISDIR);
  EXPECT_EQ(c().Opendir(file).error(), ENOTDIR);
}

TEST_F(FuseServerOpsTest, CreateMatchesHost) {
  Reply r = c().Create(kRoot, "new", O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_EQ(r.error(), 0);
  const auto e = r.As<fuse_entry_out>();
  fuse_open_out open_out;
  memcpy(&open_out, r.payload() + sizeof(fuse_entry_out), sizeof(open_out));
  const struct stat st = HostStat(P("new"));
  EXPECT_TRUE(S_ISREG(st.st_mode));
  ExpectAttrMatches(e.attr, st);
  ASSERT_EQ(c().Write(e.nodeid, open_out.fh, 0, "abc").error(), 0);
  EXPECT_EQ(HostStat(P("new")).st_size, 3);
  EXPECT_EQ(
      c().Create(kRoot, "new", O_RDWR | O_CREAT | O_EXCL).error(),
      HostErr(open(P("new").c_str(), O_RDWR | O_CREAT | O_EXCL, 0600) < 0 ? -1
                                                                          : 0));
}

TEST_F(FuseServerOpsTest, StatfsMatchesHost) {
  Reply r = c().Call(FUSE_STATFS, kRoot);
  ASSERT_EQ(r.error(), 0);
  const auto out = r.As<fuse_statfs_out>();
  struct statvfs sv;
  ASSERT_EQ(statvfs(share_.share().c_str(), &sv), 0);
  EXPECT_EQ(out.st.bsize, sv.f_bsize);
  EXPECT_EQ(out.st.blocks, sv.f_blocks);
  EXPECT_EQ(out.st.namelen, sv.f_namemax);
  EXPECT_EQ(out.st.frsize, sv.f_frsize);
}

TEST_F(FuseServerOpsTest, FlushFsyncAccessPoll) {
  const uint64_t file = HostFile("f", "x");
  const uint64_t fh = c().MustOpen(file, O_RDWR);
  fuse_flush_in flush{};
  flush.fh = fh;
  EXPECT_EQ(c().Call(FUSE_FLUSH, file, Bytes().Add(flush)).error(), 0);
  fuse_fsync_in sync{};
  sync.fh = fh;
  EXPECT_EQ(c().Call(FUSE_FSYNC, file, Bytes().Add(sync)).error(), 0);
  sync.fsync_flags = 1;  // datasync
  EXPECT_EQ(c().Call(FUSE_FSYNC, file, Bytes().Add(sync)).error(), 0);
  for (int mask : {F_OK, R_OK, W_OK, X_OK, R_OK | W_OK}) {
    fuse_access_in in{};
    in.mask = mask;
    EXPECT_EQ(c().Call(FUSE_ACCESS, file, Bytes().Add(in)).error(),
              HostErr(access(P("f").c_str(), mask)))
        << mask;
  }
  fuse_poll_in poll_in{};
  poll_in.fh = fh;
  poll_in.events = POLLIN | POLLOUT;
  Reply r = c().Call(FUSE_POLL, file, Bytes().Add(poll_in));
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.As<fuse_poll_out>().revents,
            static_cast<uint32_t>(POLLIN | POLLOUT));
}

TEST_F(FuseServerOpsTest, ReaddirPagesThroughALargeDirectoryLikeTheHost) {
  ASSERT_EQ(mkdir(P("big").c_str(), 0755), 0);
  std::set<std::string> host_names;
  for (int i = 0; i < 300; ++i) {
    const std::string name =
        "entry_with_a_rather_long_name_" + std::to_string(i);
    share_.WriteFile("big/" + name, "");
  }
  DIR* dir = opendir(P("big").c_str());
  ASSERT_NE(dir, nullptr);
  while (dirent* d = readdir(dir)) host_names.insert(d->d_name);
  closedir(dir);

  const uint64_t big = c().MustLookup(kRoot, "big").nodeid;
  for (bool plus : {false, true}) {
    const size_t baseline = endpoint_->server().fs().inodes().size();
    const Reply open_reply = c().Opendir(big);
    ASSERT_EQ(open_reply.error(), 0);
    const uint64_t fh = open_reply.As<fuse_open_out>().fh;
    std::multiset<std::string> names;
    uint64_t offset = 0;
    int pages = 0;
    std::vector<uint64_t> looked_up;
    while (true) {
      Reply r = c().Readdir(big, fh, offset, 4096, plus);
      ASSERT_EQ(r.error(), 0);
      if (r.payload_size() == 0) break;
      ASSERT_LE(r.payload_size(), 4096u);
      ++pages;
      // Walk the records for the names and the offset to continue from.
      size_t pos = 0;
      while (pos < r.payload_size()) {
        fuse_entry_out entry{};
        if (plus) {
          memcpy(&entry, r.payload() + pos, sizeof(entry));
          pos += sizeof(entry);
        }
        fuse_dirent d;
        memcpy(&d, r.payload() + pos, FUSE_NAME_OFFSET);
        const std::string name(
            reinterpret_cast<const char*>(r.payload() + pos + FUSE_NAME_OFFSET),
            d.namelen);
        names.insert(name);
        if (plus && name != "." && name != "..") {
          EXPECT_NE(entry.nodeid, 0u) << name;
          looked_up.push_back(entry.nodeid);
        }
        offset = d.off;
        pos += FUSE_DIRENT_SIZE(&d);
      }
    }
    EXPECT_GT(pages, 3);
    EXPECT_EQ(std::set<std::string>(names.begin(), names.end()), host_names);
    EXPECT_EQ(names.size(), host_names.size());  // no duplicates across pages
    if (plus) {
      EXPECT_EQ(looked_up.size(), 300u);
      EXPECT_EQ(endpoint_->server().fs().inodes().size(), baseline + 300);
      for (uint64_t id : looked_up) c().Forget(id, 1);
      EXPECT_EQ(endpoint_->server().fs().inodes().size(), baseline);
    }
    fuse_fsync_in sync{};
    sync.fh = fh;
    EXPECT_EQ(c().Call(FUSE_FSYNCDIR, big, Bytes().Add(sync)).error(), 0);
    EXPECT_EQ(c().Release(big, fh, /*dir=*/true).error(), 0);
    EXPECT_EQ(c().Readdir(big, fh, 0, 4096).error(), EBADF);
  }
  EXPECT_EQ(endpoint_->server().fs().open_file_count(), 0u);
}

// One READDIR(PLUS) reply decoded: names, the offset after each, node ids.
struct DirPage {
  std::vector<std::string> names;
  std::vector<uint64_t> next_offsets;
  std::vector<uint64_t> nodeids;  // READDIRPLUS only, 0 for "." and ".."
};

DirPage DecodeDirPage(const Reply& r, bool plus) {
  DirPage page;
  size_t pos = 0;
  while (pos < r.payload_size()) {
    fuse_entry_out entry{};
    if (plus) {
      memcpy(&entry, r.payload() + pos, sizeof(entry));
      pos += sizeof(entry);
    }
    fuse_dirent d;
    memcpy(&d, r.payload() + pos, FUSE_NAME_OFFSET);
    page.names.emplace_back(
        reinterpret_cast<const char*>(r.payload() + pos + FUSE_NAME_OFFSET),
        d.namelen);
    page.next_offsets.push_back(d.off);
    page.nodeids.push_back(entry.nodeid);
    pos += FUSE_DIRENT_SIZE(&d);
  }
  return page;
}

// Replies end wherever the next entry does not fit; the device keeps that
// entry for a READDIR continuing there, and a READDIR at any other offset
// (backwards, forwards, repeated, after a reply with room for nothing) must
// still start exactly at that offset. READDIRPLUS adds one lookup per entry
// it returns, never for an entry it kept back.
TEST_F(FuseServerOpsTest, ReaddirAtAnyOffsetReturnsEachEntryOnceFromThere) {
  ASSERT_EQ(mkdir(P("d").c_str(), 0755), 0);
  constexpr int kEntries = 150;
  for (int i = 0; i < kEntries; ++i) {
    share_.WriteFile("d/e" + std::to_string(i), "");
  }
  const uint64_t d = c().MustLookup(kRoot, "d").nodeid;
  InodeTable& inodes = endpoint_->server().fs().inodes();
  for (bool plus : {false, true}) {
    SCOPED_TRACE(plus ? "READDIRPLUS" : "READDIR");
    const size_t baseline = inodes.size();
    const Reply open_reply = c().Opendir(d);
    ASSERT_EQ(open_reply.error(), 0);
    const uint64_t fh = open_reply.As<fuse_open_out>().fh;
    std::map<uint64_t, uint64_t> returned;  // node id -> times returned
    auto read_page = [&](uint64_t offset, uint32_t size) {
      Reply r = c().Readdir(d, fh, offset, size, plus);
      EXPECT_EQ(r.error(), 0);
      EXPECT_LE(r.payload_size(), size);
      DirPage page = DecodeDirPage(r, plus);
      for (uint64_t id : page.nodeids) {
        if (id != 0) ++returned[id];
      }
      return page;
    };
    // The whole listing in replies of uneven sizes, each one or more entries.
    const uint32_t kSizes[] = {200, 4096, 350, 1000, 170};
    std::vector<std::string> order;   // names in stream order
    std::vector<uint64_t> starts{0};  // starts[i]: the offset of entry i
    for (int i = 0;; ++i) {
      DirPage page = read_page(starts.back(), kSizes[i % 5]);
      if (page.names.empty()) break;
      for (size_t k = 0; k < page.names.size(); ++k) {
        order.push_back(page.names[k]);
        starts.push_back(page.next_offsets[k]);
      }
    }
    ASSERT_EQ(order.size(), kEntries + 2u);
    ASSERT_EQ(std::set<std::string>(order.begin(), order.end()).size(),
              order.size());

    // Continuing from any entry's offset gives the rest in the same order;
    // a reply with no room keeps its entry for the next READDIR there.
    for (size_t from : {size_t{40}, size_t{3}, size_t{120}, size_t{120},
                        size_t{0}, order.size() - 1, size_t{77}}) {
      SCOPED_TRACE(from);
      EXPECT_TRUE(read_page(starts[from], 1).names.empty());
      std::vector<std::string> rest;
      uint64_t offset = starts[from];
      for (int i = 0;; ++i) {
        DirPage page = read_page(offset, kSizes[(i + from) % 5]);
        if (page.names.empty()) break;
        rest.insert(rest.end(), page.names.begin(), page.names.end());
        offset = page.next_offsets.back();
        if (rest.size() >= 30) break;  // enough to check the order
      }
      const size_t expected =
          std::min<size_t>(rest.size(), order.size() - from);
      ASSERT_GT(rest.size(), 0u);
      EXPECT_EQ(rest,
                std::vector<std::string>(order.begin() + from,
                                         order.begin() + from + expected));
    }

    if (plus) {
      // Exactly one lookup per time the entry was returned.
      EXPECT_EQ(returned.size(), static_cast<size_t>(kEntries));
      EXPECT_EQ(inodes.size(), baseline + kEntries);
      for (const auto& [id, times] : returned) {
        EXPECT_EQ(inodes.lookup_count(id), times) << id;
        c().Forget(id, times);
      }
      EXPECT_EQ(inodes.size(), baseline);
    } else {
      EXPECT_TRUE(returned.empty());
    }
    EXPECT_EQ(c().Release(d, fh, /*dir=*/true).error(), 0);
  }
  EXPECT_EQ(endpoint_->server().fs().open_file_count(), 0u);
}

TEST_F(FuseServerOpsTest, LseekDataAndHoleMatchHost) {
  const uint64_t file = HostFile("sparse", "");
  const uint64_t fh = c().MustOpen(file, O_RDWR);
  const std::string block(4096, 'x');
  ASSERT_EQ(c().Write(file, fh, 1 << 20, block).error(), 0);
  const int host_fd = open(P("sparse").c_str(), O_RDONLY);
  ASSERT_GE(host_fd, 0);
  for (int whence : {SEEK_SET, SEEK_END, SEEK_DATA, SEEK_HOLE}) {
    for (uint64_t off : {0ull, 4096ull, (1ull << 20) + 100}) {
      fuse_lseek_in in{};
      in.fh = fh;
      in.offset = off;
      in.whence = whence;
      Reply r = c().Call(FUSE_LSEEK, file, Bytes().Add(in));
      const off_t host = lseek(host_fd, off, whence);
      if (host < 0) {
        EXPECT_EQ(r.error(), errno);
      } else {
        ASSERT_EQ(r.error(), 0) << whence << " " << off;
        EXPECT_EQ(r.As<fuse_lseek_out>().offset, static_cast<uint64_t>(host));
      }
    }
  }
  close(host_fd);
}

TEST_F(FuseServerOpsTest, FallocateAndCopyFileRangeMatchHost) {
  const uint64_t src = HostFile("src", std::string(10000, 's'));
  const uint64_t dst = HostFile("dst", "");
  const uint64_t src_fh = c().MustOpen(src, O_RDONLY);
  const uint64_t dst_fh = c().MustOpen(dst, O_RDWR);
  fuse_fallocate_in fa{};
  fa.fh = dst_fh;
  fa.length = 65536;
  ASSERT_EQ(c().Call(FUSE_FALLOCATE, dst, Bytes().Add(fa)).error(), 0);
  EXPECT_EQ(HostStat(P("dst")).st_size, 65536);
  fa.mode = 0x7f;  // no such mode combination
  const int host_fd = open(P("dst").c_str(), O_RDWR);
  EXPECT_EQ(c().Call(FUSE_FALLOCATE, dst, Bytes().Add(fa)).error(),
            HostErr(fallocate(host_fd, 0x7f, 0, 65536)));
  close(host_fd);

  fuse_copy_file_range_in cp{};
  cp.fh_in = src_fh;
  cp.off_in = 100;
  cp.nodeid_out = dst;
  cp.fh_out = dst_fh;
  cp.off_out = 10;
  cp.len = 5000;
  Reply r = c().Call(FUSE_COPY_FILE_RANGE, src, Bytes().Add(cp));
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.As<fuse_write_out>().size, 5000u);
  r = c().Read(dst, dst_fh, 10, 5000);
  EXPECT_EQ(r.payload_string(), std::string(5000, 's'));
}

TEST_F(FuseServerOpsTest, XattrsMatchHost) {
  const uint64_t file = HostFile("f", "x");
  share_.WriteFile("ref", "x");
  const std::string ref = P("ref");
  const std::string value = std::string("v\0lue", 5);
  fuse_setxattr_in set{};
  set.size = static_cast<uint32_t>(value.size());
  Bytes set_args;
  set_args.Add(set.size).Add(set.flags).Name("user.test").Raw(value);
  const int host_set = HostErr(
      setxattr(ref.c_str(), "user.test", value.data(), value.size(), 0));
  EXPECT_EQ(c().Call(FUSE_SETXATTR, file, set_args).error(), host_set);

  fuse_getxattr_in get{};
  get.size = 0;
  Reply r = c().Call(FUSE_GETXATTR, file, Bytes().Add(get).Name("user.test"));
  const ssize_t host_len = getxattr(ref.c_str(), "user.test", nullptr, 0);
  if (host_len < 0) {
    EXPECT_EQ(r.error(), errno);
  } else {
    ASSERT_EQ(r.error(), 0);
    EXPECT_EQ(r.As<fuse_getxattr_out>().size, static_cast<uint32_t>(host_len));
    get.size = 64;
    r = c().Call(FUSE_GETXATTR, file, Bytes().Add(get).Name("user.test"));
    ASSERT_EQ(r.error(), 0);
    EXPECT_EQ(r.payload_string(), value);
    get.size = 2;  // too small, as on the host
    char small[2];
    EXPECT_EQ(c().Call(FUSE_GETXATTR, file, Bytes().Add(get).Name("user.test"))
                  .error(),
              getxattr(ref.c_str(), "user.test", small, 2) < 0 ? errno : 0);
  }
  get.size = 1024;
  r = c().Call(FUSE_LISTXATTR, file, Bytes().Add(get));
  char host_list[1024];
  const ssize_t host_list_len =
      listxattr(ref.c_str(), host_list, sizeof(host_list));
  if (host_list_len < 0) {
    EXPECT_EQ(r.error(), errno);
  } else {
    ASSERT_EQ(r.error(), 0);
    EXPECT_EQ(r.payload_string(), std::string(host_list, host_list_len));
  }
  EXPECT_EQ(c().Call(FUSE_REMOVEXATTR, file, Bytes().Name("user.test")).error(),
            HostErr(removexattr(ref.c_str(), "user.test")));
  EXPECT_EQ(c().Call(FUSE_REMOVEXATTR, file, Bytes().Name("user.test")).error(),
            HostErr(removexattr(ref.c_str(), "user.test")));
}

TEST_F(FuseServerOpsTest, DestroyReleasesEverything) {
  const uint64_t file = HostFile("f", "x");
  c().MustOpen(file, O_RDONLY);
  EXPECT_EQ(c().Call(FUSE_DESTROY, 0).error(), 0);
  EXPECT_EQ(endpoint_->server().fs().open_file_count(), 0u);
  EXPECT_EQ(endpoint_->server().fs().inodes().size(), 1u);
}

}  // namespace
}  // namespace sim::ops_test
