// A device that answers with broken replies: each one becomes a clear errno
// (EIO, or EPROTO for an unusable INIT), is logged with its reason, never makes
// the client touch memory outside its buffers, and leaves the client usable for
// the next request.
#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/stat.h>

#include <climits>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "driver/fuse_client.h"
#include "gtest/gtest.h"
#include "tests/driver/scripted_fuse_device.h"

namespace driver_test {
namespace {

using driver::FuseClient;

fuse_attr_out GoodAttrOut() {
  fuse_attr_out out{};
  out.attr = RegularAttr(5, 42);
  return out;
}

// A reply made of a header with these fields and `payload_size` bytes of
// payload.
ScriptedReply RawReply(uint32_t len, int32_t error, uint64_t unique,
                       size_t payload_size) {
  fuse_out_header h{};
  h.len = len;
  h.error = error;
  h.unique = unique;
  std::vector<uint8_t> bytes(sizeof(h) + payload_size, 0);
  std::memcpy(bytes.data(), &h, sizeof(h));
  return {bytes};
}

class HostileReplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(client_.Init().ok());
    device_.ClearRequests();
  }

  // Answers the next request with `hostile`, every later one well.
  void HostileOnce(std::function<ScriptedReply(const SeenRequest&)> hostile) {
    auto used = std::make_shared<bool>(false);
    device_.SetHandler([used, hostile](const SeenRequest& r) -> ScriptedReply {
      if (!*used) {
        *used = true;
        return hostile(r);
      }
      if (r.opcode() == FUSE_FORGET || r.opcode() == FUSE_BATCH_FORGET)
        return NoReply();
      if (r.opcode() == FUSE_GETATTR) return Ok(r, GoodAttrOut());
      return OkEmpty(r);
    });
  }

  // The client still works and the refusal was logged.
  void ExpectStillUsableAndLogged() {
    auto attrs = client_.GetAttr(5);
    ASSERT_TRUE(attrs.ok()) << attrs.error();
    EXPECT_EQ(attrs.value().attr.size, 42u);
    EXPECT_GE(platform_.CountLogs("refused reply"), 1);
  }

  LogPlatform platform_;
  ScriptedFuseDevice device_;
  FuseClient client_{platform_, device_};
};

struct HeaderCase {
  const char* name;
  std::function<ScriptedReply(const SeenRequest&)> reply;
};

class HostileHeaderTest : public HostileReplyTest,
                          public ::testing::WithParamInterface<HeaderCase> {};

TEST_P(HostileHeaderTest, IsEioAndTheClientStaysUsable) {
  HostileOnce(GetParam().reply);
  EXPECT_EQ(client_.GetAttr(5).error(), EIO);
  ExpectStillUsableAndLogged();
}

constexpr uint32_t kAttrReplySize =
    sizeof(fuse_out_header) + sizeof(fuse_attr_out);

INSTANTIATE_TEST_SUITE_P(
    Replies, HostileHeaderTest,
    ::testing::Values(
        HeaderCase{"UsedShorterThanHeader",
                   [](const SeenRequest& r) {
                     ScriptedReply reply = Ok(r, GoodAttrOut());
                     reply.used = 8;
                     return reply;
                   }},
        HeaderCase{"UsedZero",
                   [](const SeenRequest&) {
                     return ScriptedReply{{}, 0u};
                   }},
        HeaderCase{"UsedLargerThanTheBuffers",
                   [](const SeenRequest& r) {
                     ScriptedReply reply = Ok(r, GoodAttrOut());
                     reply.used = 1 << 20;
                     return reply;
                   }},
        HeaderCase{"LenDiffersFromUsed",
                   [](const SeenRequest& r) {
                     return RawReply(kAttrReplySize - 8, 0, r.unique(),
                                     sizeof(fuse_attr_out));
                   }},
        HeaderCase{"LenLargerThanUsed",
                   [](const SeenRequest& r) {
                     return RawReply(0xffffffff, 0, r.unique(),
                                     sizeof(fuse_attr_out));
                   }},
        HeaderCase{"WrongUnique",
                   [](const SeenRequest& r) {
                     return RawReply(kAttrReplySize, 0, r.unique() + 2,
                                     sizeof(fuse_attr_out));
                   }},
        HeaderCase{"PositiveError",
                   [](const SeenRequest& r) {
                     return RawReply(sizeof(fuse_out_header), 5, r.unique(), 0);
                   }},
        HeaderCase{"ErrorBelowMaxErrno",
                   [](const SeenRequest& r) {
                     return RawReply(sizeof(fuse_out_header), -5000, r.unique(),
                                     0);
                   }},
        HeaderCase{"ErrorIntMin",
                   [](const SeenRequest& r) {
                     return RawReply(sizeof(fuse_out_header), INT_MIN,
                                     r.unique(), 0);
                   }},
        HeaderCase{"ErrorWithPayload",
                   [](const SeenRequest& r) {
                     return RawReply(kAttrReplySize, -ENOENT, r.unique(),
                                     sizeof(fuse_attr_out));
                   }},
        HeaderCase{"PayloadTooShort",
                   [](const SeenRequest& r) {
                     return RawReply(kAttrReplySize - 8, 0, r.unique(),
                                     sizeof(fuse_attr_out) - 8);
                   }},
        HeaderCase{"PayloadEmpty",
                   [](const SeenRequest& r) {
                     return RawReply(sizeof(fuse_out_header), 0, r.unique(), 0);
                   }},
        HeaderCase{"PayloadTooLong",
                   [](const SeenRequest& r) {
                     return RawReply(kAttrReplySize + 8, 0, r.unique(),
                                     sizeof(fuse_attr_out) + 8);
                   }},
        HeaderCase{"AttrWithoutFileType",
                   [](const SeenRequest& r) {
                     fuse_attr_out out = GoodAttrOut();
                     out.attr.mode = 0644;
                     return Ok(r, out);
                   }},
        HeaderCase{"AttrSizeBeyondOffT",
                   [](const SeenRequest& r) {
                     fuse_attr_out out = GoodAttrOut();
                     out.attr.size = UINT64_MAX;
                     return Ok(r, out);
                   }}),
    [](const ::testing::TestParamInfo<HeaderCase>& info) {
      return info.param.name;
    });

TEST_F(HostileReplyTest, DeviceErrnoInRangeIsReturnedUnchanged) {
  HostileOnce([](const SeenRequest& r) { return Err(r, 4095); });
  EXPECT_EQ(client_.GetAttr(5).error(), 4095);
  EXPECT_EQ(platform_.CountLogs("refused reply"), 0);
}

TEST_F(HostileReplyTest, ReadReturningMoreThanAskedNeverWritesPastTheBuffer) {
  HostileOnce([](const SeenRequest& r) {
    return OkData(r,
                  std::vector<uint8_t>(r.in<fuse_read_in>().size + 100, 0xab));
  });
  std::vector<uint8_t> memory(200, 0x11);
  std::span<uint8_t> buffer(memory.data(), 100);
  EXPECT_EQ(client_.Read(5, 1, 0, buffer).error(), EIO);
  for (size_t i = 100; i < memory.size(); ++i) ASSERT_EQ(memory[i], 0x11) << i;
  ExpectStillUsableAndLogged();
}

// A READ's reply whose bytes fit the buffer, but whose used length claims 64
// more.
ScriptedReply ReadClaimingMoreThanAsked(const SeenRequest& r) {
  ScriptedReply reply =
      OkData(r, std::vector<uint8_t>(r.in<fuse_read_in>().size, 1));
  reply.used = static_cast<uint32_t>(reply.bytes.size() + 64);
  return reply;
}

TEST_F(HostileReplyTest, ReadClaimingMoreThanAskedIsEio) {
  HostileOnce(ReadClaimingMoreThanAsked);
  std::vector<uint8_t> buffer(64);
  EXPECT_EQ(client_.Read(5, 1, 0, buffer).error(), EIO);
  ExpectStillUsableAndLogged();
}

TEST_F(HostileReplyTest, ReadInTwoStepsClaimingMoreThanAskedIsEio) {
  HostileOnce(ReadClaimingMoreThanAsked);
  std::vector<uint8_t> buffer(64);
  FuseClient::PendingRead pending;
  ASSERT_TRUE(client_.StartRead(5, 1, 0, buffer, pending).ok());
  EXPECT_EQ(client_.FinishRead(pending).error(), EIO);
  ExpectStillUsableAndLogged();
}

TEST_F(HostileReplyTest, WriteClaimingMoreWrittenThanSentIsEio) {
  HostileOnce([](const SeenRequest& r) {
    fuse_write_out out{};
    out.size = r.in<fuse_write_in>().size + 1;
    return Ok(r, out);
  });
  const uint8_t data[10] = {};
  EXPECT_EQ(client_.Write(5, 1, 0, data).error(), EIO);
  ExpectStillUsableAndLogged();
}

TEST_F(HostileReplyTest, ReadLinkWithNulIsEio) {
  HostileOnce([](const SeenRequest& r) { return OkData(r, {'a', 0, 'b'}); });
  std::vector<char> buffer(4096);
  EXPECT_EQ(client_.ReadLink(5, buffer).error(), EIO);
  ExpectStillUsableAndLogged();
}

TEST_F(HostileReplyTest, XattrListWithoutTerminatorOrWithEmptyNameIsEio) {
  HostileOnce([](const SeenRequest& r) { return OkData(r, {'u', '.', 'a'}); });
  std::vector<char> buffer(64);
  EXPECT_EQ(client_.ListXattr(5, buffer).error(), EIO);
  HostileOnce([](const SeenRequest& r) { return OkData(r, {'u', 0, 0}); });
  EXPECT_EQ(client_.ListXattr(5, buffer).error(), EIO);
  ExpectStillUsableAndLogged();
}

TEST_F(HostileReplyTest, LseekBeyondOffTIsEio) {
  HostileOnce([](const SeenRequest& r) {
    fuse_lseek_out out{};
    out.offset = UINT64_MAX;
    return Ok(r, out);
  });
  EXPECT_EQ(client_.Lseek(5, 1, 0, SEEK_END).error(), EIO);
  ExpectStillUsableAndLogged();
}

TEST_F(HostileReplyTest, ReplyToForgetIsEio) {
  HostileOnce([](const SeenRequest& r) { return Ok(r, GoodAttrOut()); });
  EXPECT_EQ(client_.Forget(5, 1).error(), EIO);
  ExpectStillUsableAndLogged();
}

TEST_F(HostileReplyTest, LookupWithBadAttrIsEioAndTheLookupIsGivenBack) {
  HostileOnce([](const SeenRequest& r) {
    fuse_entry_out out = EntryOut(66);
    out.attr.mode = 0;
    return Ok(r, out);
  });
  EXPECT_EQ(client_.Lookup(1, "x").error(), EIO);
  auto requests = device_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].opcode(), FUSE_FORGET);
  EXPECT_EQ(requests[1].nodeid(), 66u);
  EXPECT_EQ(requests[1].in<fuse_forget_in>().nlookup, 1u);
  ExpectStillUsableAndLogged();
}

TEST_F(HostileReplyTest, MkdirAnsweredWithAFileIsEioAndForgotten) {
  HostileOnce(
      [](const SeenRequest& r) { return Ok(r, EntryOut(67, S_IFREG | 0644)); });
  EXPECT_EQ(client_.Mkdir(1, "d", 0755).error(), EIO);
  auto requests = device_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].opcode(), FUSE_FORGET);
  EXPECT_EQ(requests[1].nodeid(), 67u);
  ExpectStillUsableAndLogged();
}

TEST_F(HostileReplyTest, NewEntryWithNodeIdZeroOrRootIsEio) {
  HostileOnce(
      [](const SeenRequest& r) { return Ok(r, EntryOut(0, S_IFDIR | 0755)); });
  EXPECT_EQ(client_.Mkdir(1, "d", 0755).error(), EIO);
  HostileOnce([](const SeenRequest& r) {
    return Ok(r, EntryOut(FUSE_ROOT_ID, S_IFLNK | 0777));
  });
  EXPECT_EQ(client_.Symlink(1, "l", "t").error(), EIO);
  ExpectStillUsableAndLogged();
}

TEST_F(HostileReplyTest, CreateWithBadEntryReleasesTheHandle) {
  HostileOnce([](const SeenRequest& r) {
    driver::CreateOut out{};
    out.entry = EntryOut(0);
    out.open.fh = 1234;
    return Ok(r, out);
  });
  EXPECT_EQ(client_.Create(3, "f", O_RDWR, 0644).error(), EIO);
  auto requests = device_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].opcode(), FUSE_RELEASE);
  EXPECT_EQ(requests[1].in<fuse_release_in>().fh, 1234u);
  ExpectStillUsableAndLogged();
}

// ---- Directory records. ----

struct DirentCase {
  const char* name;
  std::function<std::vector<uint8_t>()> records;
};

class HostileDirentTest : public HostileReplyTest,
                          public ::testing::WithParamInterface<DirentCase> {};

void SetNameLength(std::vector<uint8_t>& records, size_t record_at,
                   uint32_t namelen) {
  std::memcpy(records.data() + record_at + offsetof(fuse_dirent, namelen),
              &namelen, sizeof(namelen));
}

TEST_P(HostileDirentTest, IsEioAndTheClientStaysUsable) {
  std::vector<uint8_t> records = GetParam().records();
  HostileOnce([records](const SeenRequest& r) { return OkData(r, records); });
  std::vector<uint8_t> buffer(4096);
  EXPECT_EQ(client_.ReadDir(5, 1, 0, buffer).error(), EIO);
  ExpectStillUsableAndLogged();
}

INSTANTIATE_TEST_SUITE_P(
    Records, HostileDirentTest,
    ::testing::Values(DirentCase{"NamelenPastTheBuffer",
                                 [] {
                                   std::vector<uint8_t> d;
                                   AppendDirent(d, 2, 1, "abc");
                                   SetNameLength(d, 0, 200);
                                   return d;
                                 }},
                      DirentCase{"NamelenHuge",
                                 [] {
                                   std::vector<uint8_t> d;
                                   AppendDirent(d, 2, 1, "abc");
                                   SetNameLength(d, 0, 0xffffffff);
                                   return d;
                                 }},
                      DirentCase{"NamelenZero",
                                 [] {
                                   std::vector<uint8_t> d;
                                   AppendDirent(d, 2, 1, "abc");
                                   SetNameLength(d, 0, 0);
                                   return d;
                                 }},
                      DirentCase{"NamelenOverNameMax",
                                 [] {
                                   std::vector<uint8_t> d;
                                   AppendDirent(d, 2, 1, std::string(300, 'n'));
                                   return d;
                                 }},
                      DirentCase{"RecordPaddingPastTheBuffer",
                                 [] {
                                   std::vector<uint8_t> d;
                                   AppendDirent(d, 2, 1, "abc");
                                   d.resize(FUSE_NAME_OFFSET +
                                            3);  // Name present, padding cut.
                                   return d;
                                 }},
                      DirentCase{"TruncatedSecondHeader",
                                 [] {
                                   std::vector<uint8_t> d;
                                   AppendDirent(d, 2, 1, "abc");
                                   d.resize(d.size() + 16, 0);
                                   return d;
                                 }},
                      DirentCase{"NameWithSlash",
                                 [] {
                                   std::vector<uint8_t> d;
                                   AppendDirent(d, 2, 1, "ok");
                                   AppendDirent(d, 3, 2, "../../etc");
                                   return d;
                                 }},
                      DirentCase{"NameWithNul",
                                 [] {
                                   std::vector<uint8_t> d;
                                   AppendDirent(d, 2, 1,
                                                std::string("a\0b", 3));
                                   return d;
                                 }},
                      DirentCase{"TypeNotADType",
                                 [] {
                                   std::vector<uint8_t> d;
                                   AppendDirent(d, 2, 1, "a", 99);
                                   return d;
                                 }},
                      DirentCase{"OffsetsDoNotAdvance",
                                 [] {
                                   std::vector<uint8_t> d;
                                   AppendDirent(d, 2, 5, "a");
                                   AppendDirent(
                                       d, 3, 0,
                                       "b");  // Next read would restart at 0.
                                   return d;
                                 }}),
    [](const ::testing::TestParamInfo<DirentCase>& info) {
      return info.param.name;
    });

TEST_F(HostileReplyTest, BadReadDirPlusGivesBackTheLookupsBeforeTheBadRecord) {
  HostileOnce([](const SeenRequest& r) {
    std::vector<uint8_t> d;
    AppendDirentPlus(d, EntryOut(81), 1, "one");
    AppendDirentPlus(d, fuse_entry_out{}, 2, "unlooked");
    AppendDirentPlus(d, EntryOut(82), 3, "two");
    AppendDirentPlus(d, EntryOut(83), 4, "bad/name");
    return OkData(r, d);
  });
  std::vector<uint8_t> buffer(4096);
  EXPECT_EQ(client_.ReadDirPlus(5, 1, 0, buffer).error(), EIO);
  auto requests = device_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].opcode(), FUSE_BATCH_FORGET);
  EXPECT_EQ(requests[1].in<fuse_batch_forget_in>().count, 2u);
  auto tail = requests[1].tail(sizeof(fuse_batch_forget_in));
  ASSERT_EQ(tail.size(), 2 * sizeof(fuse_forget_one));
  fuse_forget_one forgets[2];
  std::memcpy(forgets, tail.data(), sizeof(forgets));
  EXPECT_EQ(forgets[0].nodeid, 81u);
  EXPECT_EQ(forgets[1].nodeid, 82u);
  ExpectStillUsableAndLogged();
}

// ---- INIT. ----

class HostileInitTest : public ::testing::Test {
 protected:
  // Answers INIT with `init_reply`, then a good INIT afterwards.
  base::Result<void> InitWith(
      std::function<ScriptedReply(const SeenRequest&)> reply) {
    device_.ScriptInit(true);
    device_.SetHandler(reply);
    return client_.Init();
  }
  void ExpectGoodInitWorks() {
    EXPECT_FALSE(client_.initialized());
    device_.ScriptInit(false);
    ASSERT_TRUE(client_.Init().ok());
    EXPECT_TRUE(client_.initialized());
  }

  LogPlatform platform_;
  ScriptedFuseDevice device_;
  FuseClient client_{platform_, device_};
};

TEST_F(HostileInitTest, OtherMajorVersionIsEproto) {
  fuse_init_out init = GoodInit();
  init.major = 8;
  EXPECT_EQ(
      InitWith([init](const SeenRequest& r) { return Ok(r, init); }).error(),
      EPROTO);
  init.major = 6;
  EXPECT_EQ(
      InitWith([init](const SeenRequest& r) { return Ok(r, init); }).error(),
      EPROTO);
  ExpectGoodInitWorks();
}

TEST_F(HostileInitTest, AbsurdMaxWriteIsEproto) {
  fuse_init_out init = GoodInit(/*max_write=*/0);
  EXPECT_EQ(
      InitWith([init](const SeenRequest& r) { return Ok(r, init); }).error(),
      EPROTO);
  init.max_write = 17;
  EXPECT_EQ(
      InitWith([init](const SeenRequest& r) { return Ok(r, init); }).error(),
      EPROTO);
  ExpectGoodInitWorks();
}

TEST_F(HostileInitTest, AFailedReInitEndsTheOldSession) {
  ASSERT_TRUE(client_.Init().ok());
  fuse_init_out init = GoodInit();
  init.major = 8;
  EXPECT_EQ(
      InitWith([init](const SeenRequest& r) { return Ok(r, init); }).error(),
      EPROTO);
  EXPECT_EQ(client_.GetAttr(1).error(), ENOTCONN);
  ExpectGoodInitWorks();
}

TEST_F(HostileInitTest, HugeLimitsAreCappedNotTrusted) {
  fuse_init_out init = GoodInit(/*max_write=*/UINT32_MAX, /*max_pages=*/65535);
  init.max_readahead = UINT32_MAX;
  ASSERT_TRUE(
      InitWith([init](const SeenRequest& r) { return Ok(r, init); }).ok());
  EXPECT_EQ(client_.negotiated().max_pages, FuseClient::kMaxPagesLimit);
  EXPECT_EQ(client_.negotiated().max_read, FuseClient::kMaxPagesLimit * 4096);
  EXPECT_EQ(client_.negotiated().max_write, FuseClient::kMaxPagesLimit * 4096);
  EXPECT_EQ(client_.negotiated().max_readahead,
            driver::InitOptions{}.max_readahead);
}

TEST_F(HostileInitTest, AncientMinorIsEproto) {
  fuse_init_out init = GoodInit();
  init.minor = 5;
  EXPECT_EQ(
      InitWith([init](const SeenRequest& r) { return Ok(r, init); }).error(),
      EPROTO);
  ExpectGoodInitWorks();
}

TEST_F(HostileInitTest, TruncatedOrBrokenInitReplyIsEio) {
  EXPECT_EQ(InitWith([](const SeenRequest& r) {
              fuse_init_out init = GoodInit();
              return ScriptedReply{ReplyBytes(r.unique(), 0, &init, 8)};
            }).error(),
            EIO);
  EXPECT_EQ(InitWith([](const SeenRequest& r) {
              fuse_init_out init = GoodInit();
              return ScriptedReply{
                  ReplyBytes(r.unique() + 1, 0, &init, sizeof(init))};
            }).error(),
            EIO);
  EXPECT_EQ(
      InitWith([](const SeenRequest& r) { return Err(r, ENOSYS); }).error(),
      ENOSYS);
  EXPECT_GE(platform_.CountLogs("refused reply"), 2);
  ExpectGoodInitWorks();
}

}  // namespace
}  // namespace driver_test
