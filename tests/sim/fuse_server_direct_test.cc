// The requests the device answers without libfuse (sim/fuse_server_direct.cc)
// get the reply libfuse gives: each request is sent once answered directly and
// once through libfuse, on one server, and the two replies compared byte for
// byte (but the file handles of OPEN, CREATE and OPENDIR, which must differ).
// And a listing that reached the end asks the host nothing more until it
// starts again.
#include <sys/stat.h>

#include "sim/host_calls.h"
#include "tests/sim/fuse_server_ops_fixture.h"

namespace sim::ops_test {
namespace {

class FuseServerDirectTest : public FuseServerOpsTest {
 protected:
  FuseServer& server() { return endpoint_->server(); }

  // The reply to the request answered directly, then libfuse's to the same.
  std::pair<Reply, Reply> Both(uint32_t opcode, uint64_t nodeid,
                               const Bytes& args = Bytes()) {
    const uint64_t direct_before = server().requests_answered_directly();
    Reply direct = c().Call(opcode, nodeid, args);
    EXPECT_EQ(server().requests_answered_directly(), direct_before + 1);
    server().set_answer_directly(false);
    Reply libfuse = c().Call(opcode, nodeid, args);
    server().set_answer_directly(true);
    EXPECT_EQ(server().requests_answered_directly(), direct_before + 1);
    return {direct, libfuse};
  }

  // Sends the request both ways; the replies must be the same but for their
  // `unique`.
  Reply ExpectSame(uint32_t opcode, uint64_t nodeid,
                   const Bytes& args = Bytes()) {
    auto [direct, libfuse] = Both(opcode, nodeid, args);
    EXPECT_TRUE(direct.has_header());
    EXPECT_EQ(direct.header().len, libfuse.header().len);
    EXPECT_EQ(direct.header().error, libfuse.header().error);
    EXPECT_EQ(direct.payload_string(), libfuse.payload_string());
    return direct;
  }

  static Bytes Name(std::string_view name) { return Bytes().Name(name); }
  // The offset the last record of a READDIR(PLUS) reply gives.
  static uint64_t LastOffset(const Reply& listing, bool plus) {
    const std::vector<testing::ListedEntry> entries =
        testing::ListedEntries(listing, plus);
    return entries.empty() ? 0 : entries.back().next_offset;
  }
  static Bytes CreateArgs(std::string_view name, uint32_t flags, uint32_t mode,
                          uint32_t umask) {
    fuse_create_in in{};
    in.flags = flags;
    in.mode = mode;
    in.umask = umask;
    return Bytes().Add(in).Name(name);
  }
};

TEST_F(FuseServerDirectTest, LookupRepliesAreLibfuses) {
  share_.WriteFile("f", "data");
  ASSERT_EQ(mkdir(P("d").c_str(), 0750), 0);
  const Reply found = ExpectSame(FUSE_LOOKUP, kRoot, Name("f"));
  EXPECT_EQ(found.error(), 0);
  // entry_timeout 2.5 s: both halves of the timeout are encoded.
  EXPECT_EQ(found.As<fuse_entry_out>().entry_valid_nsec, 500000000u);
  const uint64_t dir =
      ExpectSame(FUSE_LOOKUP, kRoot, Name("d")).As<fuse_entry_out>().nodeid;
  EXPECT_EQ(ExpectSame(FUSE_LOOKUP, dir, Name("..")).error(), 0);
  EXPECT_EQ(ExpectSame(FUSE_LOOKUP, kRoot, Name(".")).error(), 0);
  EXPECT_EQ(ExpectSame(FUSE_LOOKUP, kRoot, Name("missing")).error(), ENOENT);
  EXPECT_EQ(ExpectSame(FUSE_LOOKUP, kRoot, Name("a/b")).error(), EINVAL);
  EXPECT_EQ(ExpectSame(FUSE_LOOKUP, kRoot, Name(std::string(NAME_MAX + 1, 'n')))
                .error(),
            ENAMETOOLONG);
  const uint64_t file = found.As<fuse_entry_out>().nodeid;
  EXPECT_EQ(ExpectSame(FUSE_LOOKUP, file, Name("x")).error(), ENOTDIR);
  EXPECT_NE(ExpectSame(FUSE_LOOKUP, 987654321, Name("f")).error(), 0);
}

TEST_F(FuseServerDirectTest, GetattrRepliesAreLibfuses) {
  const uint64_t file = HostFile("f", "0123456789");
  EXPECT_EQ(ExpectSame(FUSE_GETATTR, file, Bytes().Add(fuse_getattr_in{}))
                .As<fuse_attr_out>()
                .attr.size,
            10u);
  EXPECT_EQ(
      ExpectSame(FUSE_GETATTR, kRoot, Bytes().Add(fuse_getattr_in{})).error(),
      0);
  fuse_getattr_in by_handle{};
  by_handle.getattr_flags = FUSE_GETATTR_FH;
  by_handle.fh = c().MustOpen(file, O_RDONLY);
  EXPECT_EQ(ExpectSame(FUSE_GETATTR, file, Bytes().Add(by_handle)).error(), 0);
  by_handle.fh += 1000;
  EXPECT_EQ(ExpectSame(FUSE_GETATTR, file, Bytes().Add(by_handle)).error(),
            EBADF);
  EXPECT_NE(ExpectSame(FUSE_GETATTR, 987654321, Bytes().Add(fuse_getattr_in{}))
                .error(),
            0);
}

TEST_F(FuseServerDirectTest, OpenDiffersFromLibfusesOnlyInTheHandle) {
  const uint64_t file = HostFile("f", "x");
  fuse_open_in in{};
  in.flags = O_RDWR;
  auto [direct, libfuse] = Both(FUSE_OPEN, file, Bytes().Add(in));
  ASSERT_EQ(direct.error(), 0);
  ASSERT_EQ(libfuse.error(), 0);
  EXPECT_EQ(direct.header().len, libfuse.header().len);
  const auto direct_out = direct.As<fuse_open_out>();
  const auto libfuse_out = libfuse.As<fuse_open_out>();
  EXPECT_EQ(direct_out.open_flags, libfuse_out.open_flags);
  EXPECT_NE(direct_out.fh, libfuse_out.fh);
  // Each handle is open, and RELEASE answers alike either way.
  EXPECT_EQ(c().Release(file, direct_out.fh).error(), 0);
  server().set_answer_directly(false);
  EXPECT_EQ(c().Release(file, libfuse_out.fh).error(), 0);
  server().set_answer_directly(true);
  fuse_release_in release{};
  release.fh = direct_out.fh;
  EXPECT_EQ(ExpectSame(FUSE_RELEASE, file, Bytes().Add(release)).error(),
            EBADF);

  in.flags = O_RDONLY;
  EXPECT_EQ(ExpectSame(FUSE_OPEN, kRoot, Bytes().Add(in)).error(), EISDIR);
  in.flags = O_ACCMODE;
  EXPECT_EQ(ExpectSame(FUSE_OPEN, file, Bytes().Add(in)).error(), EINVAL);
}

TEST_F(FuseServerDirectTest, CreateDiffersFromLibfusesOnlyInTheHandle) {
  // The first creates the file, the second opens it: one entry, as the
  // requests were alike. The umask is the request's.
  for (const bool direct_first : {true, false}) {
    const std::string name = direct_first ? "made-directly" : "made-by-libfuse";
    const Bytes args = CreateArgs(name, O_CREAT | O_RDWR, S_IFREG | 0666, 027);
    server().set_answer_directly(direct_first);
    const Reply first = c().Call(FUSE_CREATE, kRoot, args);
    server().set_answer_directly(!direct_first);
    const Reply second = c().Call(FUSE_CREATE, kRoot, args);
    server().set_answer_directly(true);
    ASSERT_EQ(first.error(), 0) << name;
    ASSERT_EQ(second.error(), 0) << name;
    EXPECT_EQ(first.header().len, second.header().len);
    const auto first_entry = first.As<fuse_entry_out>();
    const auto second_entry = second.As<fuse_entry_out>();
    EXPECT_EQ(memcmp(&first_entry, &second_entry, sizeof(first_entry)), 0);
    fuse_open_out first_open;
    fuse_open_out second_open;
    memcpy(&first_open, first.payload() + sizeof(fuse_entry_out),
           sizeof(first_open));
    memcpy(&second_open, second.payload() + sizeof(fuse_entry_out),
           sizeof(second_open));
    EXPECT_EQ(first_open.open_flags, second_open.open_flags);
    EXPECT_NE(first_open.fh, second_open.fh);
    EXPECT_EQ(HostStat(P(name)).st_mode, S_IFREG | 0640u) << name;
  }

  ASSERT_EQ(mkfifo(P("fifo").c_str(), 0644), 0);
  EXPECT_EQ(ExpectSame(FUSE_CREATE, kRoot,
                       CreateArgs("fifo", O_CREAT | O_RDWR, S_IFREG | 0644, 0))
                .error(),
            EEXIST);
  EXPECT_EQ(ExpectSame(FUSE_CREATE, kRoot,
                       CreateArgs(".", O_CREAT | O_RDWR, S_IFREG | 0644, 0))
                .error(),
            EINVAL);
  EXPECT_EQ(ExpectSame(FUSE_CREATE, kRoot,
                       CreateArgs("dir", O_CREAT | O_RDWR, S_IFDIR | 0755, 0))
                .error(),
            EINVAL);
  c().SetRequester(static_cast<uint32_t>(-1), 0);
  EXPECT_EQ(ExpectSame(FUSE_CREATE, kRoot,
                       CreateArgs("g", O_CREAT | O_RDWR, S_IFREG | 0644, 0))
                .error(),
            EINVAL);
}

TEST_F(FuseServerDirectTest, UnlinkRepliesAreLibfuses) {
  EXPECT_EQ(ExpectSame(FUSE_UNLINK, kRoot, Name("missing")).error(), ENOENT);
  EXPECT_EQ(ExpectSame(FUSE_UNLINK, kRoot, Name(".")).error(), EINVAL);
  EXPECT_EQ(ExpectSame(FUSE_UNLINK, 987654321, Name("f")).error(),
            c().Call(FUSE_UNLINK, 987654321, Name("f")).error());
  ASSERT_EQ(mkdir(P("d").c_str(), 0755), 0);
  EXPECT_EQ(ExpectSame(FUSE_UNLINK, kRoot, Name("d")).error(), EISDIR);
  // Each way removes its file.
  share_.WriteFile("a", "");
  share_.WriteFile("b", "");
  EXPECT_EQ(c().Call(FUSE_UNLINK, kRoot, Name("a")).error(), 0);
  server().set_answer_directly(false);
  EXPECT_EQ(c().Call(FUSE_UNLINK, kRoot, Name("b")).error(), 0);
  server().set_answer_directly(true);
  struct stat st;
  EXPECT_NE(lstat(P("a").c_str(), &st), 0);
  EXPECT_NE(lstat(P("b").c_str(), &st), 0);
}

TEST_F(FuseServerDirectTest, ForgetsDropLookupsAsLibfusesDo) {
  share_.WriteFile("f", "");
  const size_t inodes = endpoint_->server().fs().inodes().size();
  uint64_t node = 0;
  for (int i = 0; i < 4; ++i) node = c().MustLookup(kRoot, "f").nodeid;
  EXPECT_EQ(endpoint_->server().fs().inodes().size(), inodes + 1);
  // FORGET and BATCH_FORGET have no reply either way; 1 + 1 + 1 of 4 lookups
  // leave the node known.
  fuse_forget_in forget{};
  forget.nlookup = 1;
  auto [direct, libfuse] = Both(FUSE_FORGET, node, Bytes().Add(forget));
  EXPECT_FALSE(direct.has_header());
  EXPECT_FALSE(libfuse.has_header());
  fuse_batch_forget_in batch{};
  batch.count = 1;
  const fuse_forget_one one{node, 1};
  const uint64_t direct_before = server().requests_answered_directly();
  EXPECT_FALSE(
      c().Call(FUSE_BATCH_FORGET, 0, Bytes().Add(batch).Add(one)).has_header());
  EXPECT_EQ(server().requests_answered_directly(), direct_before + 1);
  EXPECT_EQ(c().Getattr(node).error(), 0);
  // The last lookup goes: the node with it.
  EXPECT_FALSE(
      c().Call(FUSE_BATCH_FORGET, 0, Bytes().Add(batch).Add(one)).has_header());
  EXPECT_EQ(endpoint_->server().fs().inodes().size(), inodes);
  EXPECT_NE(c().Getattr(node).error(), 0);
}

TEST_F(FuseServerDirectTest, DirectoryRepliesAreLibfuses) {
  ASSERT_EQ(mkdir(P("d").c_str(), 0755), 0);
  for (const char* name : {"a", "bb", "a-much-longer-name-than-eight"}) {
    share_.WriteFile(std::string("d/") + name, name);
  }
  const uint64_t dir = c().MustLookup(kRoot, "d").nodeid;
  auto [direct, libfuse] = Both(FUSE_OPENDIR, dir, Bytes().Add(fuse_open_in{}));
  ASSERT_EQ(direct.error(), 0);
  ASSERT_EQ(libfuse.error(), 0);
  EXPECT_EQ(direct.header().len, libfuse.header().len);
  EXPECT_EQ(direct.As<fuse_open_out>().open_flags,
            libfuse.As<fuse_open_out>().open_flags);
  const uint64_t fh = direct.As<fuse_open_out>().fh;
  EXPECT_NE(fh, libfuse.As<fuse_open_out>().fh);
  // Each listing from the start, both ways on one handle: the same records
  // (READDIRPLUS's with the same node ids, a lookup more each time), and the
  // same replies at the end. READDIRPLUS first: its records leave bytes where
  // READDIR's padding then falls in the device's buffer, padding libfuse
  // zeroes.
  for (const uint32_t opcode : {FUSE_READDIRPLUS, FUSE_READDIR}) {
    SCOPED_TRACE(opcode);
    fuse_read_in read{};
    read.fh = fh;
    read.size = 4096;
    const Reply listed = ExpectSame(opcode, dir, Bytes().Add(read));
    EXPECT_EQ(DirentNames(listed, opcode == FUSE_READDIRPLUS).size(), 5u);
    // A reply with room for the first record only, then the rest.
    read.size = 80;
    EXPECT_EQ(DirentNames(ExpectSame(opcode, dir, Bytes().Add(read)),
                          opcode == FUSE_READDIRPLUS)
                  .size(),
              opcode == FUSE_READDIR ? 2u : 0u);
    // From the last record's offset: the end, an empty reply, both ways.
    read.size = 4096;
    read.offset = LastOffset(listed, opcode == FUSE_READDIRPLUS);
    const Reply end = ExpectSame(opcode, dir, Bytes().Add(read));
    EXPECT_EQ(end.error(), 0);
    EXPECT_EQ(end.payload_size(), 0u);
    read.fh = fh + 1000;
    read.offset = 0;
    EXPECT_EQ(ExpectSame(opcode, dir, Bytes().Add(read)).error(), EBADF);
  }
  fuse_release_in release{};
  release.fh = fh + 1000;
  EXPECT_EQ(ExpectSame(FUSE_RELEASEDIR, dir, Bytes().Add(release)).error(),
            EBADF);
  EXPECT_EQ(
      ExpectSame(FUSE_OPENDIR, HostFile("f", ""), Bytes().Add(fuse_open_in{}))
          .error(),
      ENOTDIR);
  release.fh = fh;
  EXPECT_EQ(c().Call(FUSE_RELEASEDIR, dir, Bytes().Add(release)).error(), 0);
}

TEST_F(FuseServerDirectTest, AListingThatReachedTheEndAsksTheHostNoMore) {
  ASSERT_EQ(mkdir(P("d").c_str(), 0755), 0);
  share_.WriteFile("d/a", "");
  const uint64_t dir = c().MustLookup(kRoot, "d").nodeid;
  const Reply opened = c().Call(FUSE_OPENDIR, dir, Bytes().Add(fuse_open_in{}));
  ASSERT_EQ(opened.error(), 0);
  fuse_read_in read{};
  read.fh = opened.As<fuse_open_out>().fh;
  read.size = 4096;
  const Reply listed = c().Call(FUSE_READDIR, dir, Bytes().Add(read));
  EXPECT_EQ(DirentNames(listed, false).size(), 3u);
  // The READDIR that learns of the end: nothing from the host.
  share_.WriteFile("d/b", "");
  read.offset = LastOffset(listed, false);
  const HostCallTotals before = ProcessHostCalls();
  const Reply end = c().Call(FUSE_READDIR, dir, Bytes().Add(read));
  EXPECT_EQ(ProcessHostCalls().calls, before.calls);
  EXPECT_EQ(end.error(), 0);
  EXPECT_EQ(end.payload_size(), 0u);
  // A listing from the start asks again, and finds the name made since.
  read.offset = 0;
  EXPECT_EQ(
      DirentNames(c().Call(FUSE_READDIR, dir, Bytes().Add(read)), false).size(),
      4u);
}

}  // namespace
}  // namespace sim::ops_test
