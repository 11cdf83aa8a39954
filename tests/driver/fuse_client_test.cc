// FuseClient against a scripted device: what each operation puts on the wire
// and what it makes of a well-formed reply.
#include "driver/fuse_client.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <linux/fuse.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/driver/scripted_fuse_device.h"

namespace driver_test {
namespace {

using driver::Credentials;
using driver::DirentList;
using driver::DirEntry;
using driver::FuseClient;
using driver::FuseLane;
using driver::SetAttrRequest;

class FuseClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(client_.Init().ok());
    device_.ClearRequests();
  }

  SeenRequest Only() {
    auto requests = device_.requests();
    EXPECT_EQ(requests.size(), 1u);
    return requests.empty() ? SeenRequest{} : requests.back();
  }

  LogPlatform platform_;
  ScriptedFuseDevice device_;
  FuseClient client_{platform_, device_};
};

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
  client_.SetCredentials(Credentials{.uid = 1000, .gid = 100, .pid = 42});
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

TEST_F(FuseClientTest, OpenWithoutAtomicTruncTruncatesThroughSetattr) {
  LogPlatform platform;
  ScriptedFuseDevice device;
  fuse_init_out init = GoodInit();
  init.flags &= ~FUSE_ATOMIC_O_TRUNC;
  device.SetInit(init);
  device.SetHandler([](const SeenRequest& r) {
    if (r.opcode() == FUSE_OPEN) {
      fuse_open_out out{};
      out.fh = 5;
      return Ok(r, out);
    }
    fuse_attr_out out{};
    out.attr = RegularAttr(9);
    return Ok(r, out);
  });
  FuseClient client(platform, device);
  ASSERT_TRUE(client.Init().ok());
  auto handle = client.Open(9, O_WRONLY | O_TRUNC);
  ASSERT_TRUE(handle.ok());
  auto requests = device.requests_after_init();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].in<fuse_open_in>().flags & O_TRUNC, 0u);
  EXPECT_EQ(requests[1].opcode(), FUSE_SETATTR);
  auto setattr = requests[1].in<fuse_setattr_in>();
  EXPECT_EQ(setattr.valid, static_cast<uint32_t>(FATTR_SIZE | FATTR_FH));
  EXPECT_EQ(setattr.size, 0u);
  EXPECT_EQ(setattr.fh, 5u);
}

TEST_F(FuseClientTest, CreateKeepsCreatAndExclAndReturnsEntryAndHandle) {
  device_.SetHandler([](const SeenRequest& r) {
    driver::CreateOut out{};
    out.entry = EntryOut(40);
    out.open.fh = 400;
    out.open.open_flags = FOPEN_KEEP_CACHE;
    return Ok(r, out);
  });
  auto created =
      client_.Create(2, "new", O_RDWR | O_EXCL | O_NOCTTY | O_CLOEXEC, 0640);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created.value().entry.nodeid, 40u);
  EXPECT_EQ(created.value().handle.fh, 400u);
  EXPECT_EQ(created.value().handle.open_flags,
            static_cast<uint32_t>(FOPEN_KEEP_CACHE));
  SeenRequest r = Only();
  EXPECT_EQ(r.opcode(), FUSE_CREATE);
  auto in = r.in<fuse_create_in>();
  EXPECT_EQ(in.flags, static_cast<uint32_t>(O_RDWR | O_CREAT | O_EXCL));
  EXPECT_EQ(in.mode, static_cast<uint32_t>(S_IFREG | 0640));
  EXPECT_EQ(r.names(sizeof(fuse_create_in)), std::vector<std::string>{"new"});
}

TEST_F(FuseClientTest, ReadGoesStraightIntoTheCallersBufferAndStopsAtEof) {
  device_.SetHandler([](const SeenRequest& r) {
    auto in = r.in<fuse_read_in>();
    std::vector<uint8_t> data(in.size < 100 ? in.size : 100);
    for (size_t i = 0; i < data.size(); ++i)
      data[i] = static_cast<uint8_t>(in.offset + i);
    return OkData(r, data);
  });
  std::vector<uint8_t> buffer(4096, 0xee);
  auto n = client_.Read(7, 70, 10, buffer);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 100u);
  for (size_t i = 0; i < 100; ++i)
    ASSERT_EQ(buffer[i], static_cast<uint8_t>(10 + i));
  EXPECT_EQ(buffer[100], 0xee);
  SeenRequest r = Only();
  EXPECT_EQ(r.opcode(), FUSE_READ);
  auto in = r.in<fuse_read_in>();
  EXPECT_EQ(in.fh, 70u);
  EXPECT_EQ(in.offset, 10u);
  EXPECT_EQ(in.size, 4096u);
  // The header buffer plus the caller's buffer, no bounce inside the client.
  EXPECT_EQ(r.reply_segments, 2u);
  EXPECT_EQ(r.reply_capacity, sizeof(fuse_out_header) + 4096);
}

TEST_F(FuseClientTest, WriteSendsTheCallersBytesAsASegment) {
  device_.SetHandler([](const SeenRequest& r) {
    fuse_write_out out{};
    out.size = r.in<fuse_write_in>().size;
    return Ok(r, out);
  });
  std::string text = "hello, device";
  auto n = client_.Write(
      7, 71, 500,
      std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), text.size());
  SeenRequest r = Only();
  auto in = r.in<fuse_write_in>();
  EXPECT_EQ(in.fh, 71u);
  EXPECT_EQ(in.offset, 500u);
  EXPECT_EQ(in.size, text.size());
  EXPECT_EQ(r.header().len,
            sizeof(fuse_in_header) + sizeof(fuse_write_in) + text.size());
  auto tail = r.tail(sizeof(fuse_write_in));
  EXPECT_EQ(std::string(tail.begin(), tail.end()), text);
  EXPECT_EQ(r.segments, 2u);
  // A zero-length write sends nothing.
  device_.ClearRequests();
  EXPECT_EQ(client_.Write(7, 71, 0, {}).value(), 0u);
  EXPECT_TRUE(device_.requests().empty());
}

TEST_F(FuseClientTest, FileHandleOperationsCarryTheirFields) {
  device_.SetHandler([](const SeenRequest& r) {
    switch (r.opcode()) {
      case FUSE_LSEEK: {
        fuse_lseek_out out{};
        out.offset = 8192;
        return Ok(r, out);
      }
      case FUSE_COPY_FILE_RANGE: {
        fuse_write_out out{};
        out.size = 300;
        return Ok(r, out);
      }
      case FUSE_POLL: {
        fuse_poll_out out{};
        out.revents = POLLIN;
        return Ok(r, out);
      }
      default:
        return OkEmpty(r);
    }
  });
  ASSERT_TRUE(client_.Flush(7, 70, 0xabc).ok());
  ASSERT_TRUE(client_.Fsync(7, 70, true).ok());
  ASSERT_EQ(client_.Lseek(7, 70, 100, SEEK_DATA).value(), 8192u);
  ASSERT_TRUE(client_.Fallocate(7, 70, 1, 4096, 65536).ok());
  ASSERT_EQ(client_.CopyFileRange({7, 70, 5}, {8, 80, 6}, 300).value(), 300u);
  ASSERT_EQ(client_.Poll(7, 70, POLLIN | POLLOUT).value(),
            static_cast<uint32_t>(POLLIN));
  ASSERT_TRUE(client_.Release(7, 70, O_RDWR).ok());
  auto requests = device_.requests();
  ASSERT_EQ(requests.size(), 7u);
  EXPECT_EQ(requests[0].opcode(), FUSE_FLUSH);
  EXPECT_EQ(requests[0].in<fuse_flush_in>().lock_owner, 0xabcu);
  EXPECT_EQ(requests[1].opcode(), FUSE_FSYNC);
  EXPECT_EQ(requests[1].in<fuse_fsync_in>().fsync_flags,
            static_cast<uint32_t>(FUSE_FSYNC_FDATASYNC));
  EXPECT_EQ(requests[2].opcode(), FUSE_LSEEK);
  EXPECT_EQ(requests[2].in<fuse_lseek_in>().whence,
            static_cast<uint32_t>(SEEK_DATA));
  EXPECT_EQ(requests[3].opcode(), FUSE_FALLOCATE);
  EXPECT_EQ(requests[3].in<fuse_fallocate_in>().length, 65536u);
  EXPECT_EQ(requests[4].opcode(), FUSE_COPY_FILE_RANGE);
  EXPECT_EQ(requests[4].nodeid(), 7u);
  auto copy = requests[4].in<fuse_copy_file_range_in>();
  EXPECT_EQ(copy.off_in, 5u);
  EXPECT_EQ(copy.nodeid_out, 8u);
  EXPECT_EQ(copy.fh_out, 80u);
  EXPECT_EQ(copy.off_out, 6u);
  EXPECT_EQ(requests[5].opcode(), FUSE_POLL);
  EXPECT_EQ(requests[6].opcode(), FUSE_RELEASE);
  EXPECT_EQ(requests[6].in<fuse_release_in>().fh, 70u);
  EXPECT_EQ(requests[6].in<fuse_release_in>().flags,
            static_cast<uint32_t>(O_RDWR));
}

TEST_F(FuseClientTest, ReadDirParsesEntriesAndOffsets) {
  device_.SetHandler([](const SeenRequest& r) {
    if (r.opcode() == FUSE_OPENDIR) {
      fuse_open_out out{};
      out.fh = 9;
      return Ok(r, out);
    }
    std::vector<uint8_t> data;
    AppendDirent(data, 1, 1, ".", 4);
    AppendDirent(data, 2, 2, "..", 4);
    AppendDirent(data, 33, 3, "file.txt", 8);
    return OkData(r, data);
  });
  auto handle = client_.OpenDir(5);
  ASSERT_TRUE(handle.ok());
  std::vector<uint8_t> buffer(4096);
  auto list = client_.ReadDir(5, handle.value().fh, 0, buffer);
  ASSERT_TRUE(list.ok());
  std::vector<DirEntry> entries(list.value().begin(), list.value().end());
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[2].name, "file.txt");
  EXPECT_EQ(entries[2].ino, 33u);
  EXPECT_EQ(entries[2].next_offset, 3u);
  EXPECT_EQ(entries[2].type, 8u);
  auto requests = device_.requests();
  EXPECT_EQ(requests[0].opcode(), FUSE_OPENDIR);
  EXPECT_EQ(requests[0].in<fuse_open_in>().flags & O_DIRECTORY,
            static_cast<uint32_t>(O_DIRECTORY));
  EXPECT_EQ(requests[1].opcode(), FUSE_READDIR);
  EXPECT_EQ(requests[1].in<fuse_read_in>().fh, 9u);
  EXPECT_EQ(requests[1].in<fuse_read_in>().size, 4096u);
  std::vector<uint8_t> tiny(64);
  EXPECT_EQ(client_.ReadDir(5, 9, 0, tiny).error(), EINVAL);
}

TEST_F(FuseClientTest, ReadDirPlusCarriesLookedUpEntries) {
  device_.SetHandler([](const SeenRequest& r) {
    std::vector<uint8_t> data;
    AppendDirentPlus(data, fuse_entry_out{}, 1, ".", 4);
    AppendDirentPlus(data, EntryOut(61), 2, "child", 8);
    return OkData(r, data);
  });
  std::vector<uint8_t> buffer(4096);
  auto list = client_.ReadDirPlus(5, 9, 0, buffer);
  ASSERT_TRUE(list.ok());
  std::vector<DirEntry> entries(list.value().begin(), list.value().end());
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_FALSE(entries[0].HoldsLookup());
  EXPECT_TRUE(entries[1].HoldsLookup());
  EXPECT_EQ(entries[1].entry.nodeid, 61u);
  EXPECT_EQ(entries[1].name, "child");
  EXPECT_EQ(Only().opcode(), FUSE_READDIRPLUS);
}

TEST_F(FuseClientTest, DirectoryHandleOperations) {
  device_.SetHandler([](const SeenRequest& r) { return OkEmpty(r); });
  ASSERT_TRUE(client_.FsyncDir(5, 9, false).ok());
  ASSERT_TRUE(client_.ReleaseDir(5, 9).ok());
  auto requests = device_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].opcode(), FUSE_FSYNCDIR);
  EXPECT_EQ(requests[0].in<fuse_fsync_in>().fsync_flags, 0u);
  EXPECT_EQ(requests[1].opcode(), FUSE_RELEASEDIR);
  EXPECT_EQ(requests[1].in<fuse_release_in>().fh, 9u);
}

TEST_F(FuseClientTest, ExtendedAttributes) {
  device_.SetHandler([](const SeenRequest& r) {
    switch (r.opcode()) {
      case FUSE_GETXATTR:
      case FUSE_LISTXATTR: {
        auto in = r.in<fuse_getxattr_in>();
        std::string value = r.opcode() == FUSE_GETXATTR
                                ? "value"
                                : std::string("user.a\0user.b\0", 14);
        if (in.size == 0) {
          fuse_getxattr_out out{};
          out.size = static_cast<uint32_t>(value.size());
          return Ok(r, out);
        }
        if (in.size < value.size()) return Err(r, ERANGE);
        return OkData(r, std::vector<uint8_t>(value.begin(), value.end()));
      }
      default:
        return OkEmpty(r);
    }
  });
  const uint8_t value[] = {'v', 'a', 'l'};
  ASSERT_TRUE(client_.SetXattr(5, "user.x", value, XATTR_CREATE).ok());
  EXPECT_EQ(client_.GetXattr(5, "user.x", {}).value(), 5u);
  std::vector<uint8_t> buffer(64);
  EXPECT_EQ(client_.GetXattr(5, "user.x", buffer).value(), 5u);
  EXPECT_EQ(std::string(buffer.begin(), buffer.begin() + 5), "value");
  std::vector<uint8_t> small(2);
  EXPECT_EQ(client_.GetXattr(5, "user.x", small).error(), ERANGE);
  EXPECT_EQ(client_.ListXattr(5, {}).value(), 14u);
  std::vector<char> names(64);
  EXPECT_EQ(client_.ListXattr(5, names).value(), 14u);
  ASSERT_TRUE(client_.RemoveXattr(5, "user.x").ok());
  EXPECT_EQ(client_.SetXattr(5, "", value, 0).error(), ERANGE);

  auto requests = device_.requests();
  ASSERT_EQ(requests.size(), 7u);
  // Without FUSE_SETXATTR_EXT only the 8-byte compat struct is sent.
  EXPECT_EQ(requests[0].opcode(), FUSE_SETXATTR);
  auto set = requests[0].in<fuse_setxattr_in>(FUSE_COMPAT_SETXATTR_IN_SIZE);
  EXPECT_EQ(set.size, 3u);
  EXPECT_EQ(set.flags, static_cast<uint32_t>(XATTR_CREATE));
  EXPECT_EQ(requests[0].header().len,
            sizeof(fuse_in_header) + FUSE_COMPAT_SETXATTR_IN_SIZE + 7 + 3);
  auto tail = requests[0].tail(FUSE_COMPAT_SETXATTR_IN_SIZE);
  EXPECT_EQ(std::string(tail.begin(), tail.end()),
            std::string("user.x\0val", 10));
  EXPECT_EQ(requests[2].in<fuse_getxattr_in>().size, 64u);
  EXPECT_EQ(requests[6].opcode(), FUSE_REMOVEXATTR);
}

TEST_F(FuseClientTest, SetXattrUsesTheExtendedStructWhenNegotiated) {
  LogPlatform platform;
  ScriptedFuseDevice device;
  fuse_init_out init = GoodInit();
  init.flags |= FUSE_SETXATTR_EXT;
  device.SetInit(init);
  device.SetHandler([](const SeenRequest& r) { return OkEmpty(r); });
  FuseClient client(platform, device);
  ASSERT_TRUE(client.Init().ok());
  const uint8_t value[] = {1};
  ASSERT_TRUE(client.SetXattr(5, "user.y", value, 0).ok());
  EXPECT_EQ(device.requests().back().header().len,
            sizeof(fuse_in_header) + sizeof(fuse_setxattr_in) + 7 + 1);
}

TEST_F(FuseClientTest, UniquesAreDistinctEvenAndNonZero) {
  device_.SetHandler([](const SeenRequest& r) { return Err(r, ENOENT); });
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(client_.Lookup(1, "x").error(), ENOENT);
  std::vector<uint64_t> uniques;
  for (auto& r : device_.requests()) uniques.push_back(r.unique());
  std::sort(uniques.begin(), uniques.end());
  EXPECT_EQ(std::adjacent_find(uniques.begin(), uniques.end()), uniques.end());
  for (uint64_t u : uniques) {
    EXPECT_NE(u, 0u);
    EXPECT_EQ(u % 2, 0u);
  }
}

TEST_F(FuseClientTest, ChannelErrorsPassThrough) {
  device_.SetHandler([](const SeenRequest&) {
    ScriptedReply reply;
    reply.channel_error = ENODEV;
    return reply;
  });
  EXPECT_EQ(client_.GetAttr(1).error(), ENODEV);
}

}  // namespace
}  // namespace driver_test
