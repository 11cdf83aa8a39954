// FuseClient against a scripted device: what each operation puts on the wire
// and what it makes of a well-formed reply. INIT, names and attributes.
#include "tests/driver/fuse_client_fixture.h"

namespace driver_test {
namespace {

TEST(FuseClientInitTest, SendsVersionAndFlagsAndHonoursTheReply) {
  LogPlatform platform;
  ScriptedFuseDevice device;
  fuse_init_out init = GoodInit(/*max_write=*/48 * 1024, /*max_pages=*/8);
  init.max_readahead = 16 * 1024;
  device.SetInit(init);
  FuseClient client(platform, device);
  EXPECT_FALSE(client.initialized());
  ASSERT_TRUE(client.Init().ok());
  EXPECT_TRUE(client.initialized());

  SeenRequest request = device.requests().at(0);
  EXPECT_EQ(request.opcode(), FUSE_INIT);
  EXPECT_EQ(request.header().len,
            sizeof(fuse_in_header) + sizeof(fuse_init_in));
  auto in = request.in<fuse_init_in>();
  EXPECT_EQ(in.major, FUSE_KERNEL_VERSION);
  EXPECT_EQ(in.minor, FUSE_KERNEL_MINOR_VERSION);
  EXPECT_NE(in.flags & FUSE_MAX_PAGES, 0u);
  EXPECT_NE(in.flags & FUSE_BIG_WRITES, 0u);
  EXPECT_NE(in.flags & FUSE_ASYNC_READ, 0u);
  EXPECT_EQ(in.flags & FUSE_INIT_EXT, 0u);

  EXPECT_EQ(client.negotiated().max_pages, 8u);
  EXPECT_EQ(client.negotiated().max_read, 8u * 4096);
  EXPECT_EQ(client.negotiated().max_write,
            32u * 1024);  // max_pages caps max_write too.
  EXPECT_EQ(client.negotiated().max_readahead, 16u * 1024);
  EXPECT_EQ(client.negotiated().minor,
            static_cast<uint32_t>(FUSE_KERNEL_MINOR_VERSION));
}

TEST(FuseClientInitTest, WithoutMaxPagesUsesLinuxDefaultAndChannelLimit) {
  LogPlatform platform;
  ScriptedFuseDevice device;
  fuse_init_out init = GoodInit(1 << 20, 256);
  init.flags &= ~FUSE_MAX_PAGES;
  device.SetInit(init);
  FuseClient client(platform, device);
  ASSERT_TRUE(client.Init().ok());
  EXPECT_EQ(client.negotiated().max_pages, 32u);
  EXPECT_EQ(client.negotiated().max_read, 32u * 4096);

  ScriptedFuseDevice narrow;
  narrow.SetMaxDataBytes(20000);
  FuseClient narrow_client(platform, narrow);
  ASSERT_TRUE(narrow_client.Init().ok());
  EXPECT_EQ(narrow_client.negotiated().max_read, 20000u);
  EXPECT_EQ(narrow_client.negotiated().max_write, 20000u);
}

TEST(FuseClientInitTest, OperationsBeforeInitAndAfterDestroyAreNotConnected) {
  LogPlatform platform;
  ScriptedFuseDevice device;
  device.SetHandler([](const SeenRequest& r) { return OkEmpty(r); });
  FuseClient client(platform, device);
  EXPECT_EQ(client.Lookup(FUSE_ROOT_ID, "a").error(), ENOTCONN);
  EXPECT_EQ(client.Forget(5, 1).error(), ENOTCONN);
  EXPECT_TRUE(device.requests().empty());
  ASSERT_TRUE(client.Init().ok());
  ASSERT_TRUE(client.Destroy().ok());
  EXPECT_EQ(device.requests().back().opcode(), FUSE_DESTROY);
  EXPECT_EQ(client.GetAttr(FUSE_ROOT_ID).error(), ENOTCONN);
  // A new INIT starts a new session.
  ASSERT_TRUE(client.Init().ok());
  EXPECT_TRUE(client.initialized());
}

TEST_F(FuseClientTest, CredentialsGoIntoEveryRequestButForget) {
  static const Credentials kCaller{.uid = 1000, .gid = 100, .pid = 42};
  client_.SetCredentialsSource(
      [](const void* context) {
        return *static_cast<const Credentials*>(context);
      },
      &kCaller);
  device_.SetHandler([](const SeenRequest& r) {
    if (r.opcode() == FUSE_FORGET) return NoReply();
    return Err(r, EACCES);
  });
  EXPECT_EQ(client_.Access(FUSE_ROOT_ID, 4).error(), EACCES);
  ASSERT_TRUE(client_.Forget(9, 1).ok());
  auto requests = device_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].header().uid, 1000u);
  EXPECT_EQ(requests[0].header().gid, 100u);
  EXPECT_EQ(requests[0].header().pid, 42u);
  EXPECT_EQ(requests[1].header().uid, 0u);
  EXPECT_EQ(requests[1].header().pid, 0u);
}

TEST_F(FuseClientTest, LookupSendsOneComponentUnderItsParent) {
  device_.SetHandler([](const SeenRequest& r) {
    fuse_entry_out out = EntryOut(77);
    out.entry_valid = 3;
    out.entry_valid_nsec = 500;
    out.attr_valid = 0;
    out.attr_valid_nsec = 250;
    return Ok(r, out);
  });
  auto entry = client_.Lookup(12, "name");
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry.value().nodeid, 77u);
  EXPECT_EQ(entry.value().generation, 7u);
  EXPECT_EQ(entry.value().attr.ino, 77u);
  EXPECT_EQ(entry.value().entry_valid_ns, 3'000'000'500u);
  EXPECT_EQ(entry.value().attr_valid_ns, 250u);
  SeenRequest r = Only();
  EXPECT_EQ(r.opcode(), FUSE_LOOKUP);
  EXPECT_EQ(r.nodeid(), 12u);
  EXPECT_EQ(r.header().len, sizeof(fuse_in_header) + 5);
  EXPECT_EQ(r.names(0), std::vector<std::string>{"name"});
  EXPECT_EQ(r.lane, FuseLane::kRequest);
}

TEST_F(FuseClientTest, NegativeEntryIsEnoent) {
  device_.SetHandler([](const SeenRequest& r) { return Ok(r, EntryOut(0)); });
  EXPECT_EQ(client_.Lookup(FUSE_ROOT_ID, "gone").error(), ENOENT);
}

TEST_F(FuseClientTest, NamesTheProtocolCannotCarryAreRefusedLocally) {
  EXPECT_EQ(client_.Lookup(FUSE_ROOT_ID, "").error(), EINVAL);
  EXPECT_EQ(client_.Lookup(FUSE_ROOT_ID, "a/b").error(), EINVAL);
  EXPECT_EQ(client_.Lookup(FUSE_ROOT_ID, std::string_view("a\0b", 3)).error(),
            EINVAL);
  EXPECT_EQ(client_.Lookup(FUSE_ROOT_ID, std::string(256, 'x')).error(),
            ENAMETOOLONG);
  EXPECT_EQ(client_.Lookup(0, "a").error(), EINVAL);
  EXPECT_EQ(client_.Mkdir(FUSE_ROOT_ID, "x/y", 0755).error(), EINVAL);
  EXPECT_EQ(client_.Symlink(FUSE_ROOT_ID, "l", "").error(), ENOENT);
  EXPECT_TRUE(device_.requests().empty());
}

TEST_F(FuseClientTest, GetAttrPassesTheHandleWhenGiven) {
  device_.SetHandler([](const SeenRequest& r) {
    fuse_attr_out out{};
    out.attr = RegularAttr(5, 1234);
    out.attr_valid = 1;
    return Ok(r, out);
  });
  auto attrs = client_.GetAttr(5, 99);
  ASSERT_TRUE(attrs.ok());
  EXPECT_EQ(attrs.value().attr.size, 1234u);
  EXPECT_EQ(attrs.value().valid_ns, 1'000'000'000u);
  auto in = Only().in<fuse_getattr_in>();
  EXPECT_EQ(in.getattr_flags, static_cast<uint32_t>(FUSE_GETATTR_FH));
  EXPECT_EQ(in.fh, 99u);
  device_.ClearRequests();
  ASSERT_TRUE(client_.GetAttr(5).ok());
  EXPECT_EQ(Only().in<fuse_getattr_in>().getattr_flags, 0u);
}

TEST_F(FuseClientTest, ReadLinkReturnsTheTarget) {
  device_.SetHandler([](const SeenRequest& r) {
    std::string target = "../some/where";
    return OkData(r, std::vector<uint8_t>(target.begin(), target.end()));
  });
  std::vector<char> buffer(4096);
  auto n = client_.ReadLink(8, buffer);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buffer.data(), n.value()), "../some/where");
  EXPECT_EQ(Only().opcode(), FUSE_READLINK);
  std::vector<char> small(100);
  EXPECT_EQ(client_.ReadLink(8, small).error(), EINVAL);
}

TEST_F(FuseClientTest, SymlinkMknodMkdirCarryTheirArguments) {
  device_.SetHandler([](const SeenRequest& r) {
    switch (r.opcode()) {
      case FUSE_SYMLINK:
        return Ok(r, EntryOut(20, S_IFLNK | 0777));
      case FUSE_MKNOD:
        return Ok(r, EntryOut(21, S_IFIFO | 0640));
      default:
        return Ok(r, EntryOut(22, S_IFDIR | 0750));
    }
  });
  ASSERT_EQ(client_.Symlink(3, "link", "target/file").value().nodeid, 20u);
  ASSERT_EQ(client_.Mknod(3, "fifo", S_IFIFO | 0640, 0, 022).value().nodeid,
            21u);
  ASSERT_EQ(client_.Mkdir(3, "dir", 0750, 027).value().nodeid, 22u);
  auto requests = device_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].opcode(), FUSE_SYMLINK);
  EXPECT_EQ(requests[0].nodeid(), 3u);
  EXPECT_EQ(requests[0].names(0),
            (std::vector<std::string>{"link", "target/file"}));
  EXPECT_EQ(requests[1].opcode(), FUSE_MKNOD);
  auto mknod = requests[1].in<fuse_mknod_in>();
  EXPECT_EQ(mknod.mode, static_cast<uint32_t>(S_IFIFO | 0640));
  EXPECT_EQ(mknod.umask, 022u);
  EXPECT_EQ(requests[1].names(sizeof(fuse_mknod_in)),
            std::vector<std::string>{"fifo"});
  EXPECT_EQ(requests[2].opcode(), FUSE_MKDIR);
  auto mkdir = requests[2].in<fuse_mkdir_in>();
  EXPECT_EQ(mkdir.mode, 0750u);
  EXPECT_EQ(mkdir.umask, 027u);
  EXPECT_EQ(requests[2].names(sizeof(fuse_mkdir_in)),
            std::vector<std::string>{"dir"});
}

TEST_F(FuseClientTest, UnlinkRmdirAccessAndStatFs) {
  device_.SetHandler([](const SeenRequest& r) {
    if (r.opcode() == FUSE_STATFS) {
      fuse_statfs_out out{};
      out.st.blocks = 1000;
      out.st.bsize = 4096;
      out.st.namelen = 255;
      return Ok(r, out);
    }
    return OkEmpty(r);
  });
  ASSERT_TRUE(client_.Unlink(4, "f").ok());
  ASSERT_TRUE(client_.Rmdir(4, "d").ok());
  ASSERT_TRUE(client_.Access(4, 2).ok());
  auto st = client_.StatFs(FUSE_ROOT_ID);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st.value().blocks, 1000u);
  EXPECT_EQ(st.value().namelen, 255u);
  auto requests = device_.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].opcode(), FUSE_UNLINK);
  EXPECT_EQ(requests[0].names(0), std::vector<std::string>{"f"});
  EXPECT_EQ(requests[1].opcode(), FUSE_RMDIR);
  EXPECT_EQ(requests[2].opcode(), FUSE_ACCESS);
  EXPECT_EQ(requests[2].in<fuse_access_in>().mask, 2u);
  EXPECT_EQ(requests[3].opcode(), FUSE_STATFS);
}

TEST_F(FuseClientTest, RenameUsesRename2OnlyWithFlags) {
  device_.SetHandler([](const SeenRequest& r) { return OkEmpty(r); });
  ASSERT_TRUE(client_.Rename(2, "old", 3, "new").ok());
  ASSERT_TRUE(client_.Rename(2, "a", 2, "b", RENAME_NOREPLACE).ok());
  EXPECT_EQ(client_.Rename(2, "a", 2, "b", RENAME_NOREPLACE | RENAME_EXCHANGE)
                .error(),
            EINVAL);
  EXPECT_EQ(client_.Rename(2, "a", 2, "b", 1u << 7).error(), EINVAL);
  auto requests = device_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].opcode(), FUSE_RENAME);
  EXPECT_EQ(requests[0].nodeid(), 2u);
  EXPECT_EQ(requests[0].in<fuse_rename_in>().newdir, 3u);
  EXPECT_EQ(requests[0].names(sizeof(fuse_rename_in)),
            (std::vector<std::string>{"old", "new"}));
  EXPECT_EQ(requests[1].opcode(), FUSE_RENAME2);
  EXPECT_EQ(requests[1].in<fuse_rename2_in>().flags,
            static_cast<uint32_t>(RENAME_NOREPLACE));
  EXPECT_EQ(requests[1].names(sizeof(fuse_rename2_in)),
            (std::vector<std::string>{"a", "b"}));
}

TEST_F(FuseClientTest, LinkGoesToTheNewParent) {
  device_.SetHandler([](const SeenRequest& r) { return Ok(r, EntryOut(30)); });
  auto entry = client_.Link(30, 6, "alias");
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry.value().nodeid, 30u);
  SeenRequest r = Only();
  EXPECT_EQ(r.opcode(), FUSE_LINK);
  EXPECT_EQ(r.nodeid(), 6u);
  EXPECT_EQ(r.in<fuse_link_in>().oldnodeid, 30u);
  EXPECT_EQ(r.names(sizeof(fuse_link_in)), std::vector<std::string>{"alias"});
}

}  // namespace
}  // namespace driver_test
