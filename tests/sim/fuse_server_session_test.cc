// FuseServer beyond single operations: the data path's copies, FORGET
// bookkeeping, session reset and concurrent callers.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sim/raw_fuse_endpoint.h"
#include "tests/sim/fuse_test_util.h"

namespace sim {
namespace {

using testing::Bytes;
using testing::RawFuseClient;
using testing::Reply;
using testing::TempShare;

constexpr uint64_t kRoot = FUSE_ROOT_ID;
constexpr size_t kMiB = 1 << 20;

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return s;
}

std::string ReadHostFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class FuseServerSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PassthroughOptions options;
    options.share_dir = share_.share();
    auto endpoint = RawFuseEndpoint::Create(options);
    ASSERT_TRUE(endpoint.ok()) << endpoint.status();
    endpoint_ = *std::move(endpoint);
    client_ = std::make_unique<RawFuseClient>(*endpoint_);
    ASSERT_EQ(client_->Init().error(), 0);
  }

  RawFuseClient& c() { return *client_; }
  FuseServer& server() { return endpoint_->server(); }

  TempShare share_;
  std::unique_ptr<RawFuseEndpoint> endpoint_;
  std::unique_ptr<RawFuseClient> client_;
};

TEST_F(FuseServerSessionTest, OneMebibyteReadIsCopiedOnceIntoTheGuest) {
  const std::string data = Pattern(kMiB);
  share_.WriteFile("big", data);
  const uint64_t file = c().MustLookup(kRoot, "big").nodeid;
  const uint64_t fh = c().MustOpen(file, O_RDONLY);
  const DataPathCounters& k = server().data_path();
  const uint64_t request_copied = k.request_bytes_copied;
  const uint64_t reply_copied = k.reply_bytes_copied;
  const uint64_t in_place = k.reply_bytes_in_place;
  const uint64_t direct = k.read_bytes_direct;
  Reply r = c().Read(file, fh, 0, kMiB);
  ASSERT_EQ(r.error(), 0);
  ASSERT_EQ(r.payload_size(), kMiB);
  EXPECT_TRUE(r.payload_string() == data);
  // The host read straight into the reply buffer; the device copied only
  // headers.
  EXPECT_EQ(k.read_bytes_direct - direct, kMiB);
  EXPECT_EQ(k.reply_bytes_in_place - in_place, kMiB);
  EXPECT_EQ(k.reply_bytes_copied - reply_copied, sizeof(fuse_out_header));
  EXPECT_EQ(k.request_bytes_copied - request_copied,
            sizeof(fuse_in_header) + sizeof(fuse_read_in));
}

TEST_F(FuseServerSessionTest, WritesGoToTheHostWithoutAPrivateCopy) {
  share_.WriteFile("out", "");
  const uint64_t file = c().MustLookup(kRoot, "out").nodeid;
  const uint64_t fh = c().MustOpen(file, O_RDWR);
  const std::string data = Pattern(kMiB);
  const DataPathCounters& k = server().data_path();
  const uint64_t request_copied = k.request_bytes_copied;
  const uint64_t direct = k.write_bytes_direct;
  const uint64_t from_copy = k.write_bytes_from_copy;
  Reply r = c().Write(file, fh, 0, data);
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.As<fuse_write_out>().size, kMiB);
  EXPECT_TRUE(ReadHostFile(share_.SharePath("out")) == data);
  EXPECT_EQ(k.write_bytes_direct - direct, kMiB);
  EXPECT_EQ(k.write_bytes_from_copy - from_copy, 0u);
  EXPECT_EQ(k.request_bytes_copied - request_copied,
            sizeof(fuse_in_header) + sizeof(fuse_write_in));

  // So do small ones.
  r = c().Write(file, fh, 10, "tiny");
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.As<fuse_write_out>().size, 4u);
  EXPECT_EQ(k.write_bytes_direct - direct, kMiB + 4);
  EXPECT_EQ(k.write_bytes_from_copy - from_copy, 0u);
  EXPECT_EQ(ReadHostFile(share_.SharePath("out")).substr(10, 4), "tiny");
  // A large write on a read-only handle fails with the host's errno.
  const uint64_t ro = c().MustOpen(file, O_RDONLY);
  EXPECT_EQ(c().Write(file, ro, 0, data).error(), EBADF);
}

TEST_F(FuseServerSessionTest, ForgetAndBatchForgetReleaseEntries) {
  const size_t baseline = server().fs().inodes().size();
  std::vector<uint64_t> ids;
  for (int i = 0; i < 20; ++i) {
    share_.WriteFile("f" + std::to_string(i), "x");
    ids.push_back(c().MustLookup(kRoot, "f" + std::to_string(i)).nodeid);
  }
  c().MustLookup(kRoot, "f0");  // f0 now has two lookups
  EXPECT_EQ(server().fs().inodes().size(), baseline + 20);
  EXPECT_TRUE(c().Forget(ids[1], 1).bytes.empty());
  EXPECT_EQ(server().fs().inodes().size(), baseline + 19);
  EXPECT_EQ(c().Getattr(ids[1]).error(), ESTALE);

  Bytes batch;
  fuse_batch_forget_in head{};
  head.count = 19;
  batch.Add(head);
  for (int i = 0; i < 20; ++i) {
    if (i == 1) continue;
    fuse_forget_one one{};
    one.nodeid = ids[i];
    one.nlookup = 1;
    batch.Add(one);
  }
  EXPECT_TRUE(c().Call(FUSE_BATCH_FORGET, 0, batch).bytes.empty());
  // f0 keeps its second lookup.
  EXPECT_EQ(server().fs().inodes().size(), baseline + 1);
  EXPECT_EQ(c().Getattr(ids[0]).error(), 0);
  EXPECT_EQ(c().Getattr(ids[5]).error(), ESTALE);
  c().Forget(ids[0], 1);
  EXPECT_EQ(server().fs().inodes().size(), baseline);
  EXPECT_EQ(c().Getattr(ids[0]).error(), ESTALE);
  EXPECT_EQ(server().requests_processed(FUSE_BATCH_FORGET), 1u);
  EXPECT_EQ(server().requests_processed(FUSE_LOOKUP), 21u);
}

TEST_F(FuseServerSessionTest, ResetStartsANewSessionWithStaleIds) {
  share_.WriteFile("f", "x");
  const uint64_t file = c().MustLookup(kRoot, "f").nodeid;
  const uint64_t fh = c().MustOpen(file, O_RDONLY);
  ASSERT_TRUE(server().Reset().ok());
  EXPECT_EQ(server().fs().open_file_count(), 0u);
  EXPECT_EQ(server().fs().inodes().size(), 1u);
  EXPECT_EQ(c().Getattr(kRoot).error(), EIO);  // no INIT yet in the new session
  ASSERT_EQ(c().Init().error(), 0);
  EXPECT_EQ(c().Getattr(file).error(), ESTALE);
  EXPECT_EQ(c().Read(file, fh, 0, 1).error(),
            EBADF);  // old handles are gone too
  EXPECT_EQ(c().Getattr(kRoot).error(), 0);
  const uint64_t again = c().MustLookup(kRoot, "f").nodeid;
  EXPECT_NE(again, file);
  EXPECT_EQ(c().Getattr(again).error(), 0);
}

TEST_F(FuseServerSessionTest, ConcurrentRequestsFromSeveralThreads) {
  const std::string data = Pattern(200000);
  share_.WriteFile("shared", data);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      RawFuseClient client(*endpoint_);
      for (int i = 0; i < 50; ++i) {
        const fuse_entry_out e = client.MustLookup(kRoot, "shared");
        const uint64_t fh = client.MustOpen(e.nodeid, O_RDONLY);
        const uint32_t off = (t * 1000 + i * 97) % 100000;
        Reply r = client.Read(e.nodeid, fh, off, 100000);
        if (r.error() != 0 || r.payload_string() != data.substr(off, 100000))
          ++failures;
        const std::string name =
            "t" + std::to_string(t) + "_" + std::to_string(i);
        if (client.Mkdir(kRoot, name).error() != 0) ++failures;
        client.Release(e.nodeid, fh);
        client.Forget(e.nodeid, 1);
        client.Forget(client.MustLookup(kRoot, name).nodeid, 2);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(server().fs().inodes().size(), 1u);
  EXPECT_EQ(server().fs().open_file_count(), 0u);
}

TEST(FuseServerLanesTest, TheInitOfAnyLaneStartsEveryLanesSession) {
  TempShare share;
  share.WriteFile("f", "data");
  PassthroughOptions options;
  options.share_dir = share.share();
  auto endpoint = RawFuseEndpoint::Create(options, 3);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  RawFuseClient lane0(**endpoint, 0);
  RawFuseClient lane1(**endpoint, 1);
  RawFuseClient lane2(**endpoint, 2);
  RawFuseClient lane5(**endpoint, 5);  // Lanes wrap around: lane 2's session.
  EXPECT_EQ(lane2.Getattr(kRoot).error(), EIO);  // No INIT yet.
  ASSERT_EQ(lane1.Init().error(), 0);
  for (RawFuseClient* client : {&lane0, &lane1, &lane2, &lane5}) {
    const Reply entry = client->Lookup(kRoot, "f");
    ASSERT_EQ(entry.error(), 0);
    // The 7.9 entry layout: each session knows the minor INIT negotiated.
    EXPECT_EQ(entry.payload_size(), sizeof(fuse_entry_out));
    client->Forget(entry.As<fuse_entry_out>().nodeid, 1);
  }
  EXPECT_EQ((*endpoint)->server().fs().inodes().size(), 1u);
  // A second INIT is refused whatever its lane, as by a single session.
  EXPECT_EQ(lane0.Init().error(), EIO);
  EXPECT_EQ(lane2.Init().error(), EIO);
  // A reset restarts them all.
  ASSERT_TRUE((*endpoint)->server().Reset().ok());
  EXPECT_EQ(lane0.Getattr(kRoot).error(), EIO);
  EXPECT_EQ(lane1.Getattr(kRoot).error(), EIO);
  ASSERT_EQ(lane2.Init().error(), 0);
  EXPECT_EQ(lane0.Getattr(kRoot).error(), 0);
  EXPECT_EQ(lane1.Getattr(kRoot).error(), 0);
}

TEST(FuseServerLanesTest, ALaneIsNeeded) {
  TempShare share;
  PassthroughOptions options;
  options.share_dir = share.share();
  EXPECT_EQ(FuseServer::Create(options, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sim
