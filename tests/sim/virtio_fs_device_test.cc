// VirtioFsDevice through the DeviceBackend contract, with hand-made descriptor
// chains over local byte arrays standing in for guest memory.
#include "sim/virtio_fs_device.h"

#include <fcntl.h>
#include <linux/virtio_ids.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/sim/fuse_test_util.h"

namespace sim {
namespace {

using testing::Bytes;
using testing::TempShare;

constexpr uint64_t kRoot = FUSE_ROOT_ID;

// Guest memory for one chain: buffers carved out of one array, readable ones
// holding the request split at the given sizes, writable ones of the given
// sizes.
class ChainBuilder {
 public:
  ChainBuilder(const std::vector<uint8_t>& request,
               const std::vector<size_t>& readable_sizes,
               const std::vector<size_t>& writable_sizes, uint16_t queue = 1) {
    size_t total = 0;
    for (size_t s : readable_sizes) total += s;
    for (size_t s : writable_sizes) total += s;
    memory_.assign(total + 64, 0xEE);  // guard bytes after the last buffer
    size_t pos = 0;
    size_t copied = 0;
    for (size_t s : readable_sizes) {
      const size_t n = std::min(s, request.size() - copied);
      memcpy(memory_.data() + pos, request.data() + copied, n);
      copied += n;
      chain_.readable.push_back(
          {memory_.data() + pos, static_cast<uint32_t>(s)});
      chain_.readable_bytes += s;
      pos += s;
    }
    for (size_t s : writable_sizes) {
      chain_.writable.push_back(
          {memory_.data() + pos, static_cast<uint32_t>(s)});
      chain_.writable_bytes += s;
      pos += s;
    }
    end_ = pos;
    chain_.queue = queue;
  }
  const DescriptorChain& chain() const { return chain_; }
  // The first `used` bytes of the writable buffers, concatenated.
  std::vector<uint8_t> Written(uint32_t used) const {
    std::vector<uint8_t> out;
    for (const GuestBuffer& b : chain_.writable) {
      const size_t n = std::min<size_t>(b.size, used - out.size());
      out.insert(out.end(), b.data, b.data + n);
      if (out.size() == used) break;
    }
    return out;
  }
  bool GuardIntact() const {
    for (size_t i = end_; i < memory_.size(); ++i) {
      if (memory_[i] != 0xEE) return false;
    }
    return true;
  }

 private:
  std::vector<uint8_t> memory_;
  DescriptorChain chain_;
  size_t end_ = 0;
};

std::vector<uint8_t> Request(uint32_t opcode, uint64_t nodeid,
                             const Bytes& args, uint64_t unique = 77) {
  fuse_in_header in{};
  in.len = static_cast<uint32_t>(sizeof(in) + args.data().size());
  in.opcode = opcode;
  in.unique = unique;
  in.nodeid = nodeid;
  std::vector<uint8_t> bytes(sizeof(in));
  memcpy(bytes.data(), &in, sizeof(in));
  bytes.insert(bytes.end(), args.data().begin(), args.data().end());
  return bytes;
}

Bytes InitArgs() {
  fuse_init_in init{};
  init.major = FUSE_KERNEL_VERSION;
  init.minor = FUSE_KERNEL_MINOR_VERSION;
  init.flags = FUSE_MAX_PAGES;
  return Bytes().Add(init);
}

class VirtioFsDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    VirtioFsOptions options;
    options.share.share_dir = share_.share();
    options.tag = "myshare";
    options.num_request_queues = 3;
    auto device = VirtioFsDevice::Create(options);
    ASSERT_TRUE(device.ok()) << device.status();
    device_ = *std::move(device);
  }

  // Sends `request` as one readable buffer with a roomy writable one; returns
  // the reply.
  std::vector<uint8_t> Simple(const std::vector<uint8_t>& request,
                              uint16_t queue = 1) {
    ChainBuilder b(request, {request.size()}, {1 << 16}, queue);
    const std::optional<uint32_t> used = device_->HandleChain(b.chain());
    EXPECT_TRUE(used.has_value());
    return b.Written(used.value_or(0));
  }

  void Init() {
    std::vector<uint8_t> reply = Simple(Request(FUSE_INIT, 0, InitArgs()));
    ASSERT_GE(reply.size(), sizeof(fuse_out_header));
    fuse_out_header out;
    memcpy(&out, reply.data(), sizeof(out));
    ASSERT_EQ(out.error, 0);
  }

  TempShare share_;
  std::unique_ptr<VirtioFsDevice> device_;
};

TEST_F(VirtioFsDeviceTest, IdentityQueuesAndConfigSpace) {
  EXPECT_EQ(device_->device_id(), static_cast<uint32_t>(VIRTIO_ID_FS));
  EXPECT_EQ(device_->num_queues(), 4);
  EXPECT_EQ(device_->config_size(), sizeof(virtio_fs_config));
  virtio_fs_config config;
  device_->ReadConfig(0, &config, sizeof(config));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(config.tag)), "myshare");
  for (size_t i = strlen("myshare"); i < sizeof(config.tag); ++i)
    EXPECT_EQ(config.tag[i], 0);
  EXPECT_EQ(config.num_request_queues, 3u);
  uint32_t queues = 0;
  device_->ReadConfig(offsetof(virtio_fs_config, num_request_queues), &queues,
                      4);
  EXPECT_EQ(queues, 3u);
  char two[2];
  device_->ReadConfig(2, two, 2);
  EXPECT_EQ(std::string(two, 2), "sh");
}

TEST_F(VirtioFsDeviceTest, RejectsBadOptions) {
  VirtioFsOptions options;
  options.share.share_dir = share_.share();
  options.tag = std::string(37, 't');
  EXPECT_FALSE(VirtioFsDevice::Create(options).ok());
  options.tag = "";
  EXPECT_FALSE(VirtioFsDevice::Create(options).ok());
  options.tag = "ok";
  options.num_request_queues = 0;
  EXPECT_FALSE(VirtioFsDevice::Create(options).ok());
  options.num_request_queues = 1;
  options.share.share_dir = share_.SharePath("does-not-exist");
  EXPECT_FALSE(VirtioFsDevice::Create(options).ok());
}

TEST_F(VirtioFsDeviceTest, HeaderSplitAcrossBuffersAndReplyScattered) {
  const std::vector<uint8_t> init = Request(FUSE_INIT, 0, InitArgs());
  // Split inside the header and inside the arguments; reply over odd-sized
  // pieces.
  ChainBuilder b(init, {7, 33, 5, init.size() - 45}, {5, 11, 3, 100, 4096});
  const std::optional<uint32_t> used = device_->HandleChain(b.chain());
  ASSERT_TRUE(used.has_value());
  const std::vector<uint8_t> reply = b.Written(*used);
  ASSERT_GE(reply.size(), sizeof(fuse_out_header) + sizeof(fuse_init_out));
  fuse_out_header out;
  memcpy(&out, reply.data(), sizeof(out));
  EXPECT_EQ(out.error, 0);
  EXPECT_EQ(out.unique, 77u);
  EXPECT_EQ(out.len, *used);
  fuse_init_out init_out;
  memcpy(&init_out, reply.data() + sizeof(out), sizeof(init_out));
  EXPECT_GE(init_out.max_write, 1u << 20);
  EXPECT_GE(init_out.max_pages, 256u);
  EXPECT_TRUE(b.GuardIntact());
}

TEST_F(VirtioFsDeviceTest, ReadScatteredAndWriteFromSplitPayload) {
  Init();
  std::string data(128 * 1024, '\0');
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<char>(i * 31 + 7);
  share_.WriteFile("f", data);
  fuse_entry_out e;
  {
    std::vector<uint8_t> r =
        Simple(Request(FUSE_LOOKUP, kRoot, Bytes().Name("f")));
    memcpy(&e, r.data() + sizeof(fuse_out_header), sizeof(e));
  }
  fuse_open_in open_in{};
  open_in.flags = O_RDWR;
  fuse_open_out open_out;
  {
    std::vector<uint8_t> r =
        Simple(Request(FUSE_OPEN, e.nodeid, Bytes().Add(open_in)));
    memcpy(&open_out, r.data() + sizeof(fuse_out_header), sizeof(open_out));
  }
  // READ into three writable pieces, the header sharing the first with payload.
  fuse_read_in read_in{};
  read_in.fh = open_out.fh;
  read_in.size = data.size();
  const DataPathCounters& k = device_->server().data_path();
  const uint64_t in_place = k.reply_bytes_in_place;
  ChainBuilder rb(Request(FUSE_READ, e.nodeid, Bytes().Add(read_in)), {80},
                  {1000, 70000, 60088});
  const std::optional<uint32_t> used = device_->HandleChain(rb.chain());
  ASSERT_EQ(used, sizeof(fuse_out_header) + data.size());
  const std::vector<uint8_t> reply = rb.Written(*used);
  EXPECT_TRUE(std::string(reply.begin() + sizeof(fuse_out_header),
                          reply.end()) == data);
  EXPECT_EQ(k.reply_bytes_in_place - in_place, data.size());
  EXPECT_TRUE(rb.GuardIntact());

  // WRITE whose payload spans two readable buffers: no private copy either.
  std::string fresh(100 * 1024, 'w');
  fuse_write_in write_in{};
  write_in.fh = open_out.fh;
  write_in.size = fresh.size();
  const std::vector<uint8_t> write_req =
      Request(FUSE_WRITE, e.nodeid, Bytes().Add(write_in).Raw(fresh));
  const uint64_t direct = k.write_bytes_direct;
  ChainBuilder wb(write_req, {64, 50000, write_req.size() - 50064}, {64});
  const std::optional<uint32_t> wused = device_->HandleChain(wb.chain());
  ASSERT_EQ(wused, sizeof(fuse_out_header) + sizeof(fuse_write_out));
  EXPECT_EQ(k.write_bytes_direct - direct, fresh.size());
  std::ifstream in(share_.SharePath("f"), std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_TRUE(s.str() == fresh + data.substr(fresh.size()));
}

TEST_F(VirtioFsDeviceTest, WritableSpaceTooSmall) {
  Init();
  ChainBuilder b(Request(FUSE_GETATTR, kRoot, Bytes().Add(fuse_getattr_in{})),
                 {56}, {8, 40});
  const std::optional<uint32_t> used = device_->HandleChain(b.chain());
  ASSERT_EQ(used, sizeof(fuse_out_header));
  fuse_out_header out;
  const std::vector<uint8_t> reply = b.Written(*used);
  memcpy(&out, reply.data(), sizeof(out));
  EXPECT_EQ(out.error, -ERANGE);
  EXPECT_EQ(out.len, sizeof(fuse_out_header));
  EXPECT_TRUE(b.GuardIntact());
  // Not even room for a header: nothing written.
  ChainBuilder tiny(
      Request(FUSE_GETATTR, kRoot, Bytes().Add(fuse_getattr_in{})), {56}, {15});
  EXPECT_EQ(device_->HandleChain(tiny.chain()), 0u);
  EXPECT_TRUE(tiny.GuardIntact());
  // No writable buffer at all.
  ChainBuilder none(
      Request(FUSE_GETATTR, kRoot, Bytes().Add(fuse_getattr_in{})), {56}, {});
  EXPECT_EQ(device_->HandleChain(none.chain()), 0u);
}

TEST_F(VirtioFsDeviceTest, ForgetOnHiprioQueueCompletesWithNothingWritten) {
  Init();
  share_.WriteFile("f", "x");
  std::vector<uint8_t> r =
      Simple(Request(FUSE_LOOKUP, kRoot, Bytes().Name("f")));
  fuse_entry_out e;
  memcpy(&e, r.data() + sizeof(fuse_out_header), sizeof(e));
  fuse_forget_in forget{};
  forget.nlookup = 1;
  ChainBuilder b(Request(FUSE_FORGET, e.nodeid, Bytes().Add(forget)), {48}, {},
                 VirtioFsDevice::kHiprioQueue);
  EXPECT_EQ(device_->HandleChain(b.chain()), 0u);
  r = Simple(Request(FUSE_GETATTR, e.nodeid, Bytes().Add(fuse_getattr_in{})));
  fuse_out_header out;
  memcpy(&out, r.data(), sizeof(out));
  EXPECT_EQ(out.error, -ESTALE);
  EXPECT_EQ(device_->requests_processed(FUSE_FORGET), 1u);
  EXPECT_EQ(device_->requests_processed(FUSE_LOOKUP), 1u);
  EXPECT_EQ(device_->requests_processed(FUSE_GETATTR), 1u);
  EXPECT_EQ(device_->requests_processed(FUSE_INIT), 1u);
}

// Only what the driver does not wait for may be handled after later chains
// (VirtioDeviceModel's hold): a request queue's RELEASE, read from a header
// that may be split across buffers; not a RELEASEDIR (posted too, but a
// listing's READDIR would wait for it).
TEST_F(VirtioFsDeviceTest, ReleasesOnRequestQueuesMayBeHandledLater) {
  const std::vector<uint8_t> release =
      Request(FUSE_RELEASE, kRoot, Bytes().Add(fuse_release_in{}));
  EXPECT_TRUE(
      device_->MayHandleLater(ChainBuilder(release, {64}, {16}).chain()));
  EXPECT_TRUE(
      device_->MayHandleLater(ChainBuilder(release, {3, 61}, {16}, 2).chain()));
  EXPECT_FALSE(device_->MayHandleLater(
      ChainBuilder(
          Request(FUSE_RELEASEDIR, kRoot, Bytes().Add(fuse_release_in{})), {64},
          {16})
          .chain()));
  // Not on the high-priority queue, not a request waited for, not a chain
  // without a whole header.
  EXPECT_FALSE(device_->MayHandleLater(
      ChainBuilder(release, {64}, {16}, VirtioFsDevice::kHiprioQueue).chain()));
  EXPECT_FALSE(device_->MayHandleLater(
      ChainBuilder(Request(FUSE_FLUSH, kRoot, Bytes().Add(fuse_flush_in{})),
                   {64}, {16})
          .chain()));
  EXPECT_FALSE(
      device_->MayHandleLater(ChainBuilder(release, {39}, {16}).chain()));
}

TEST_F(VirtioFsDeviceTest, ResetTearsTheSessionDown) {
  Init();
  share_.WriteFile("f", "x");
  std::vector<uint8_t> r =
      Simple(Request(FUSE_LOOKUP, kRoot, Bytes().Name("f")));
  fuse_entry_out e;
  memcpy(&e, r.data() + sizeof(fuse_out_header), sizeof(e));
  device_->Reset();
  fuse_out_header out;
  r = Simple(Request(FUSE_GETATTR, kRoot, Bytes().Add(fuse_getattr_in{})));
  memcpy(&out, r.data(), sizeof(out));
  EXPECT_EQ(out.error, -EIO);  // a new session awaits FUSE_INIT
  Init();
  r = Simple(Request(FUSE_GETATTR, e.nodeid, Bytes().Add(fuse_getattr_in{})));
  memcpy(&out, r.data(), sizeof(out));
  EXPECT_EQ(out.error, -ESTALE);
}

}  // namespace
}  // namespace sim
