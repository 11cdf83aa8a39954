// The passthrough handlers through libfuse, compared with the host: the
// session, names and attributes.
#include "tests/sim/fuse_server_ops_fixture.h"

namespace sim::ops_test {
namespace {

TEST_F(FuseServerOpsTest, InitAdvertisesOneMebibyteTransfers) {
  const auto out = init_.As<fuse_init_out>();
  EXPECT_EQ(out.major, FUSE_KERNEL_VERSION);
  EXPECT_GE(out.max_write, 1u << 20);
  EXPECT_TRUE(out.flags & FUSE_MAX_PAGES);
  EXPECT_GE(out.max_pages, 256u);
  // A second INIT in the same session is refused.
  EXPECT_NE(c().Init().error(), 0);
}

TEST_F(FuseServerOpsTest, InitWithoutMaxPagesStillOffersMaxWrite) {
  // libfuse 3.14 answers FUSE_MAX_PAGES only to a driver that sent it;
  // max_write is advertised either way (a driver without max_pages support
  // splits by max_write).
  PassthroughOptions options;
  options.share_dir = share_.share();
  auto fresh = RawFuseEndpoint::Create(options);
  ASSERT_TRUE(fresh.ok());
  RawFuseClient client(**fresh);
  const Reply r = client.Init(FUSE_BIG_WRITES);
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.As<fuse_init_out>().max_write, 1u << 20);
  EXPECT_FALSE(r.As<fuse_init_out>().flags & FUSE_MAX_PAGES);
  EXPECT_EQ(r.As<fuse_init_out>().max_pages, 0u);
}

TEST_F(FuseServerOpsTest, RequestsBeforeInitAreRefused) {
  PassthroughOptions options;
  options.share_dir = share_.share();
  auto fresh = RawFuseEndpoint::Create(options);
  ASSERT_TRUE(fresh.ok());
  RawFuseClient client(**fresh);
  EXPECT_EQ(client.Getattr(kRoot).error(), EIO);
  EXPECT_EQ(client.Init().error(), 0);
  EXPECT_EQ(client.Getattr(kRoot).error(), 0);
}

TEST_F(FuseServerOpsTest, LookupMatchesHostStatAndTimeouts) {
  share_.WriteFile("file", "hello");
  const Reply r = c().Lookup(kRoot, "file");
  ASSERT_EQ(r.error(), 0);
  const auto e = r.As<fuse_entry_out>();
  EXPECT_NE(e.nodeid, 0u);
  EXPECT_NE(e.nodeid, kRoot);
  ExpectAttrMatches(e.attr, HostStat(P("file")));
  EXPECT_EQ(e.entry_valid, 2u);
  EXPECT_EQ(e.entry_valid_nsec, 500000000u);
  EXPECT_EQ(e.attr_valid, 0u);
  EXPECT_EQ(e.attr_valid_nsec, 0u);
  // The same inode gets the same node id.
  EXPECT_EQ(c().MustLookup(kRoot, "file").nodeid, e.nodeid);

  struct stat st;
  const int host_err = HostErr(lstat(P("missing").c_str(), &st));
  EXPECT_EQ(c().Lookup(kRoot, "missing").error(), host_err);
  EXPECT_EQ(host_err, ENOENT);
}

TEST_F(FuseServerOpsTest, LookupDotAndDotDotStayInsideTheShare) {
  ASSERT_EQ(mkdir(P("sub").c_str(), 0755), 0);
  EXPECT_EQ(c().MustLookup(kRoot, ".").nodeid, kRoot);
  EXPECT_EQ(c().MustLookup(kRoot, "..").nodeid, kRoot);
  const uint64_t sub = c().MustLookup(kRoot, "sub").nodeid;
  EXPECT_EQ(c().MustLookup(sub, ".").nodeid, sub);
  EXPECT_EQ(c().MustLookup(sub, "..").nodeid, kRoot);
  ExpectAttrMatches(c().MustLookup(kRoot, "..").attr, HostStat(share_.share()));
}

TEST_F(FuseServerOpsTest, LookupsOpenNewNamesFirstInADirectoryOfNewNames) {
  ASSERT_EQ(mkdir(P("tree").c_str(), 0755), 0);
  constexpr int kFiles = 6;
  for (int i = 0; i < kFiles; ++i) {
    share_.WriteFile("tree/f" + std::to_string(i), "x");
  }
  const uint64_t tree = c().MustLookup(kRoot, "tree").nodeid;
  auto lookup = [&](int i, uint64_t* calls) {
    const HostCallTotals before = ProcessHostCalls();
    const fuse_entry_out e = c().MustLookup(tree, "f" + std::to_string(i));
    *calls = (ProcessHostCalls() - before).calls;
    ExpectAttrMatches(e.attr, HostStat(P("tree/f" + std::to_string(i))));
    return e.nodeid;
  };
  std::vector<uint64_t> ids(kFiles);
  uint64_t calls;
  // A first walk: the first two new names are stat'ed, opened and their
  // descriptors stat'ed; the next ones, in a directory whose names were new,
  // are opened and stat'ed.
  for (int i = 0; i < kFiles; ++i) {
    ids[i] = lookup(i, &calls);
    EXPECT_EQ(calls, i < 2 ? 3u : 2u) << i;
  }
  // Known names: the first is opened and stat'ed, its extra descriptor closed;
  // the next ones are stat'ed by name alone.
  for (int i = 0; i < kFiles; ++i) {
    EXPECT_EQ(lookup(i, &calls), ids[i]) << i;
    EXPECT_EQ(calls, i == 0 ? 3u : 1u) << i;
  }
  const InodeTable& inodes = endpoint_->server().fs().inodes();
  for (uint64_t id : ids) EXPECT_EQ(inodes.lookup_count(id), 2u);
  // One new name among known ones changes nothing: still a stat by name.
  share_.WriteFile("tree/new", "y");
  c().MustLookup(tree, "new");
  EXPECT_EQ(lookup(1, &calls), ids[1]);
  EXPECT_EQ(calls, 1u);
  // A missing name is one call either way: a stat by name, or (after two new
  // names) an open.
  for (const char* made : {"", "new1", "new2"}) {
    if (*made != '\0') {
      share_.WriteFile(std::string("tree/") + made, "z");
      c().MustLookup(tree, made);
    }
    const HostCallTotals start = ProcessHostCalls();
    EXPECT_EQ(c().Lookup(tree, "missing").error(), ENOENT) << made;
    EXPECT_EQ((ProcessHostCalls() - start).calls, 1u) << made;
  }
}

TEST_F(FuseServerOpsTest, GetattrMatchesHost) {
  const uint64_t file = HostFile("f", "0123456789");
  Reply r = c().Getattr(file);
  ASSERT_EQ(r.error(), 0);
  ExpectAttrMatches(r.As<fuse_attr_out>().attr, HostStat(P("f")));
  r = c().Getattr(kRoot);
  ASSERT_EQ(r.error(), 0);
  ExpectAttrMatches(r.As<fuse_attr_out>().attr, HostStat(share_.share()));
  // GETATTR through an open handle.
  const uint64_t fh = c().MustOpen(file, O_RDONLY);
  fuse_getattr_in in{};
  in.getattr_flags = FUSE_GETATTR_FH;
  in.fh = fh;
  r = c().Call(FUSE_GETATTR, file, Bytes().Add(in));
  ASSERT_EQ(r.error(), 0);
  ExpectAttrMatches(r.As<fuse_attr_out>().attr, HostStat(P("f")));
}

TEST_F(FuseServerOpsTest, SetattrModeOwnerSizeAndTimes) {
  const uint64_t file = HostFile("f", "0123456789");
  fuse_setattr_in in{};
  in.valid = FATTR_MODE | FATTR_UID | FATTR_GID | FATTR_SIZE | FATTR_ATIME |
             FATTR_MTIME;
  in.mode = S_IFREG | 0600;
  in.uid = 1234;
  in.gid = 5678;
  in.size = 4;
  in.atime = 1000;
  in.atimensec = 5;
  in.mtime = 2000;
  in.mtimensec = 7;
  Reply r = c().Call(FUSE_SETATTR, file, Bytes().Add(in));
  ASSERT_EQ(r.error(), 0);
  struct stat st = HostStat(P("f"));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  EXPECT_EQ(st.st_size, 4);
  EXPECT_EQ(st.st_atim.tv_sec, 1000);
  EXPECT_EQ(st.st_atim.tv_nsec, 5);
  EXPECT_EQ(st.st_mtim.tv_sec, 2000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 7);
  ExpectAttrMatches(r.As<fuse_attr_out>().attr, st);

  // The _NOW variants and FATTR_FH (truncate and times through the open
  // handle).
  const uint64_t fh = c().MustOpen(file, O_RDWR);
  struct timespec before;
  clock_gettime(CLOCK_REALTIME, &before);
  fuse_setattr_in now{};
  now.valid = FATTR_FH | FATTR_SIZE | FATTR_MTIME | FATTR_MTIME_NOW |
              FATTR_ATIME | FATTR_ATIME_NOW;
  now.fh = fh;
  now.size = 100;
  r = c().Call(FUSE_SETATTR, file, Bytes().Add(now));
  ASSERT_EQ(r.error(), 0);
  st = HostStat(P("f"));
  EXPECT_EQ(st.st_size, 100);
  EXPECT_GE(st.st_mtim.tv_sec, before.tv_sec - 1);
  EXPECT_GE(st.st_atim.tv_sec, before.tv_sec - 1);

  // A forged handle with FATTR_FH is refused.
  now.fh = fh ^ 0x5a5a0000;
  EXPECT_EQ(c().Call(FUSE_SETATTR, file, Bytes().Add(now)).error(), EBADF);
  // Truncating a directory fails like truncate(2) on the host does.
  fuse_setattr_in dir_size{};
  dir_size.valid = FATTR_SIZE;
  EXPECT_EQ(c().Call(FUSE_SETATTR, kRoot, Bytes().Add(dir_size)).error(),
            HostErr(truncate(share_.share().c_str(), 0)));
}

TEST_F(FuseServerOpsTest, SymlinkAndReadlinkStoreTheTargetVerbatim) {
  const std::string target = "../outside/secret";
  Reply r = c().Call(FUSE_SYMLINK, kRoot, Bytes().Name("link").Name(target));
  ASSERT_EQ(r.error(), 0);
  const auto e = r.As<fuse_entry_out>();
  ExpectAttrMatches(e.attr, HostStat(P("link")));
  char buf[256] = {};
  ASSERT_GT(readlink(P("link").c_str(), buf, sizeof(buf)), 0);
  EXPECT_EQ(std::string(buf), target);
  r = c().Call(FUSE_READLINK, e.nodeid);
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.payload_string(), target);
  // READLINK of a non-symlink fails like readlink(2).
  EXPECT_EQ(
      c().Call(FUSE_READLINK, kRoot).error(),
      HostErr(readlink(share_.share().c_str(), buf, sizeof(buf)) < 0 ? -1 : 0));
  // SYMLINK over an existing name.
  EXPECT_EQ(
      c().Call(FUSE_SYMLINK, kRoot, Bytes().Name("link").Name("x")).error(),
      EEXIST);
}

TEST_F(FuseServerOpsTest, MknodMakesFifosFilesAndDevicesButNeverOpensDevices) {
  fuse_mknod_in in{};
  in.mode = S_IFIFO | 0644;
  Reply r = c().Call(FUSE_MKNOD, kRoot, Bytes().Add(in).Name("fifo"));
  ASSERT_EQ(r.error(), 0);
  EXPECT_TRUE(S_ISFIFO(HostStat(P("fifo")).st_mode));
  ExpectAttrMatches(r.As<fuse_entry_out>().attr, HostStat(P("fifo")));
  in.mode = S_IFREG | 0640;
  ASSERT_EQ(c().Call(FUSE_MKNOD, kRoot, Bytes().Add(in).Name("reg")).error(),
            0);
  EXPECT_TRUE(S_ISREG(HostStat(P("reg")).st_mode));
  // A device node is made where the host allows it (as virtiofsd makes them),
  // but never opened for the driver: it would reach the host's device.
  in.mode = S_IFCHR | 0644;
  in.rdev = makedev(1, 3);
  r = c().Call(FUSE_MKNOD, kRoot, Bytes().Add(in).Name("null"));
  const int host_errno = HostErr(mknod(P("null2").c_str(), in.mode, in.rdev));
  EXPECT_EQ(r.error(), host_errno);
  if (host_errno == 0) {
    const struct stat st = HostStat(P("null"));
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(st.st_rdev, makedev(1, 3));
    fuse_open_in open_in{};
    open_in.flags = O_RDWR;
    EXPECT_EQ(
        c().Call(FUSE_OPEN, r.As<fuse_entry_out>().nodeid, Bytes().Add(open_in))
            .error(),
        EPERM);
  }
  in.mode = S_IFREG | 0640;
  EXPECT_EQ(c().Call(FUSE_MKNOD, kRoot, Bytes().Add(in).Name("reg")).error(),
            HostErr(mknod(P("reg").c_str(), S_IFREG | 0640, 0)));
}

TEST_F(FuseServerOpsTest, MkdirUnlinkRmdirMatchHost) {
  Reply r = c().Mkdir(kRoot, "d", 0750);
  ASSERT_EQ(r.error(), 0);
  struct stat st = HostStat(P("d"));
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  ExpectAttrMatches(r.As<fuse_entry_out>().attr, st);
  const uint64_t d = r.As<fuse_entry_out>().nodeid;
  EXPECT_EQ(c().Mkdir(kRoot, "d").error(),
            HostErr(mkdir(P("d").c_str(), 0755)));
  share_.WriteFile("d/f", "x");
  EXPECT_EQ(c().Call(FUSE_RMDIR, kRoot, Bytes().Name("d")).error(),
            HostErr(rmdir(P("d").c_str())));
  EXPECT_EQ(c().Call(FUSE_UNLINK, kRoot, Bytes().Name("d")).error(),
            HostErr(unlink(P("d").c_str())));
  EXPECT_EQ(c().Call(FUSE_UNLINK, d, Bytes().Name("f")).error(), 0);
  EXPECT_NE(lstat(P("d/f").c_str(), &st), 0);
  EXPECT_EQ(c().Call(FUSE_UNLINK, d, Bytes().Name("f")).error(), ENOENT);
  EXPECT_EQ(c().Call(FUSE_RMDIR, kRoot, Bytes().Name("d")).error(), 0);
  EXPECT_NE(lstat(P("d").c_str(), &st), 0);
}

TEST_F(FuseServerOpsTest, RenameAndRename2Flags) {
  share_.WriteFile("a", "A");
  share_.WriteFile("b", "B");
  ASSERT_EQ(mkdir(P("dir").c_str(), 0755), 0);
  const uint64_t dir = c().MustLookup(kRoot, "dir").nodeid;
  fuse_rename_in rn{};
  rn.newdir = dir;
  ASSERT_EQ(
      c().Call(FUSE_RENAME, kRoot, Bytes().Add(rn).Name("a").Name("moved"))
          .error(),
      0);
  EXPECT_EQ(testing::Reply{}.error(), -1);
  struct stat st;
  EXPECT_NE(lstat(P("a").c_str(), &st), 0);
  EXPECT_EQ(lstat(P("dir/moved").c_str(), &st), 0);

  share_.WriteFile("c", "C");
  fuse_rename2_in r2{};
  r2.newdir = kRoot;
  r2.flags = RENAME_NOREPLACE;
  EXPECT_EQ(c().Call(FUSE_RENAME2, kRoot, Bytes().Add(r2).Name("b").Name("c"))
                .error(),
            HostErr(renameat2(AT_FDCWD, P("b").c_str(), AT_FDCWD,
                              P("c").c_str(), RENAME_NOREPLACE)));
  r2.flags = RENAME_EXCHANGE;
  ASSERT_EQ(c().Call(FUSE_RENAME2, kRoot, Bytes().Add(r2).Name("b").Name("c"))
                .error(),
            0);
  char buf[4] = {};
  FILE* f = fopen(P("b").c_str(), "r");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(fread(buf, 1, 1, f), 1u);
  fclose(f);
  EXPECT_EQ(buf[0], 'C');
  r2.flags = RENAME_WHITEOUT;
  EXPECT_EQ(c().Call(FUSE_RENAME2, kRoot, Bytes().Add(r2).Name("b").Name("c"))
                .error(),
            EINVAL);
  r2.flags = 0;
  EXPECT_EQ(
      c().Call(FUSE_RENAME2, kRoot, Bytes().Add(r2).Name("nope").Name("x"))
          .error(),
      HostErr(rename(P("nope").c_str(), P("x").c_str())));
}

TEST_F(FuseServerOpsTest, LinkReachesTheSameNode) {
  const uint64_t file = HostFile("orig", "data");
  fuse_link_in in{};
  in.oldnodeid = file;
  Reply r = c().Call(FUSE_LINK, kRoot, Bytes().Add(in).Name("second"));
  ASSERT_EQ(r.error(), 0);
  const auto e = r.As<fuse_entry_out>();
  EXPECT_EQ(e.nodeid, file);
  EXPECT_EQ(HostStat(P("orig")).st_nlink, 2u);
  ExpectAttrMatches(e.attr, HostStat(P("second")));
  in.oldnodeid = kRoot;  // directories cannot be linked
  EXPECT_EQ(
      c().Call(FUSE_LINK, kRoot, Bytes().Add(in).Name("rootlink")).error(),
      HostErr(link(share_.share().c_str(), P("rootlink").c_str())));
}

}  // namespace
}  // namespace sim::ops_test
