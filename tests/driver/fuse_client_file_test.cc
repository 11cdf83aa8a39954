// FuseClient against a scripted device: what each operation puts on the wire
// and what it makes of a well-formed reply. Open files, directories,
// extended attributes and the request path.
#include "tests/driver/fuse_client_fixture.h"

namespace driver_test {
namespace {

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

// A channel that cannot leave a request with its device exchanges it at
// StartRead (FuseChannel's default Send); FinishRead returns its result.
TEST_F(FuseClientTest, ReadInTwoStepsIsOneReadIntoTheCallersBuffer) {
  device_.SetHandler([](const SeenRequest& r) {
    return OkData(r, std::vector<uint8_t>(r.in<fuse_read_in>().size / 2, 7));
  });
  std::vector<uint8_t> buffer(4096, 0xee);
  FuseClient::PendingRead pending;
  ASSERT_TRUE(client_.StartRead(7, 70, 8192, buffer, pending).ok());
  EXPECT_TRUE(pending.active());
  auto n = client_.FinishRead(pending);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 2048u);
  EXPECT_EQ(buffer[2047], 7);
  EXPECT_EQ(buffer[2048], 0xee);
  EXPECT_FALSE(pending.active());
  SeenRequest r = Only();
  EXPECT_EQ(r.opcode(), FUSE_READ);
  EXPECT_EQ(r.in<fuse_read_in>().fh, 70u);
  EXPECT_EQ(r.in<fuse_read_in>().offset, 8192u);
  EXPECT_EQ(r.in<fuse_read_in>().size, 4096u);
  // One request at most, of at most max_read bytes, and never an empty one.
  std::vector<uint8_t> large(client_.negotiated().max_read + 1);
  EXPECT_EQ(client_.StartRead(7, 70, 0, large, pending).error(), EINVAL);
  EXPECT_EQ(client_.StartRead(7, 70, 0, {}, pending).error(), EINVAL);
  EXPECT_EQ(client_.FinishRead(pending).error(), EINVAL);
  EXPECT_EQ(device_.requests().size(), 1u);
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
  EXPECT_EQ(entries[1].nodeid, 61u);
  EXPECT_EQ(entries[1].entry().attr.mode, EntryOut(61).attr.mode);
  EXPECT_EQ(entries[1].name, "child");
  EXPECT_EQ(Only().opcode(), FUSE_READDIRPLUS);
}

// Over a channel that waits for every reply (the default FuseChannel::Post),
// a posted RELEASE is the same request, and its reply is checked as any other.
TEST_F(FuseClientTest, PostedReleasesAreCheckedWhenTheChannelWaits) {
  device_.SetHandler([](const SeenRequest& r) { return OkEmpty(r); });
  ASSERT_TRUE(client_.PostRelease(7, 70, O_RDWR).ok());
  ASSERT_TRUE(client_.PostReleaseDir(5, 9).ok());
  auto requests = device_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].opcode(), FUSE_RELEASE);
  EXPECT_EQ(requests[0].in<fuse_release_in>().fh, 70u);
  EXPECT_EQ(requests[0].in<fuse_release_in>().flags,
            static_cast<uint32_t>(O_RDWR));
  EXPECT_EQ(requests[1].opcode(), FUSE_RELEASEDIR);
  EXPECT_EQ(requests[1].in<fuse_release_in>().fh, 9u);
  device_.SetHandler([](const SeenRequest& r) { return Err(r, EBADF); });
  EXPECT_EQ(client_.PostRelease(7, 70).error(), EBADF);
  device_.SetHandler([](const SeenRequest& r) {
    return Ok(r, fuse_open_out{});  // A body where RELEASE has none.
  });
  EXPECT_EQ(client_.PostReleaseDir(5, 9).error(), EIO);
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
