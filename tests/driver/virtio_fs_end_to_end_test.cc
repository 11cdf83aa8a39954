// The virtio-fs driver (driver/virtio_fs) end to end: the FUSE client's
// requests travel through split virtqueues in guest memory to the simulated
// virtio-fs device, whose libfuse session answers them from a real host
// directory. Every transport and notify mode; results checked against the host
// directory.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "driver/fuse_client.h"
#include "driver/virtio_fs.h"
#include "gtest/gtest.h"
#include "sim/machine.h"
#include "sim/request_times.h"
#include "sim/virtio_device_model.h"
#include "tests/common/machine_variants.h"

namespace {

using driver::FuseClient;

class TempDir {
 public:
  TempDir() {
    char path[] = "/tmp/virtio_fs_e2e.XXXXXX";
    path_ = mkdtemp(path);
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ReadHostFile(const std::string& path) {
  std::string data;
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return "<missing>";
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) data.append(buf, n);
  ::close(fd);
  return data;
}

// A simulated machine on `share`; fails the test when it does not come up.
std::unique_ptr<sim::Machine> Boot(
    const std::string& share, const testing_variants::MachineVariant& variant,
    uint16_t request_queues = 1) {
  sim::MachineOptions options{
      .share_dir = share, .queue_size = 64, .request_queues = request_queues};
  variant.Apply(options);
  auto machine = sim::Machine::Create(options);
  EXPECT_TRUE(machine.ok()) << machine.status();
  return machine.ok() ? std::move(*machine) : nullptr;
}

class VirtioFsEndToEnd
    : public ::testing::TestWithParam<testing_variants::MachineVariant> {
 protected:
  TempDir share_;
};

TEST_P(VirtioFsEndToEnd, ConfigTagAndQueues) {
  auto m = Boot(share_.path(), GetParam(), 2);
  ASSERT_NE(m, nullptr);
  EXPECT_STREQ(m->virtio_fs().tag(), "root");
  EXPECT_EQ(m->virtio_fs().request_queues(), 2);
  EXPECT_TRUE(m->device().violations().empty());
}

TEST_P(VirtioFsEndToEnd, CreateWriteReadBackListAndRemove) {
  auto m = Boot(share_.path(), GetParam());
  ASSERT_NE(m, nullptr);
  FuseClient& c = m->client();

  auto created = c.Create(FUSE_ROOT_ID, "hello.txt", O_RDWR, 0644);
  ASSERT_TRUE(created.ok()) << created.error();
  const std::string text = "written through a virtqueue\n";
  auto wrote =
      c.Write(created.value().entry.nodeid, created.value().handle.fh, 0,
              {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  ASSERT_TRUE(wrote.ok()) << wrote.error();
  EXPECT_EQ(wrote.value(), text.size());
  EXPECT_EQ(ReadHostFile(share_.path() + "/hello.txt"), text);

  std::vector<uint8_t> back(100);
  auto read =
      c.Read(created.value().entry.nodeid, created.value().handle.fh, 0, back);
  ASSERT_TRUE(read.ok()) << read.error();
  EXPECT_EQ(std::string(back.begin(), back.begin() + read.value()), text);
  ASSERT_TRUE(
      c.Release(created.value().entry.nodeid, created.value().handle.fh).ok());

  ASSERT_TRUE(c.Mkdir(FUSE_ROOT_ID, "dir", 0755).ok());
  auto dir = c.OpenDir(FUSE_ROOT_ID);
  ASSERT_TRUE(dir.ok());
  std::set<std::string> names;
  std::vector<uint8_t> page(4096);
  ASSERT_TRUE(c.ReadDirAll(FUSE_ROOT_ID, dir.value().fh, 0, page,
                           [&](const driver::DirEntry& e) {
                             names.insert(std::string(e.name));
                             return true;
                           })
                  .ok());
  EXPECT_EQ(names, (std::set<std::string>{".", "..", "hello.txt", "dir"}));
  ASSERT_TRUE(c.ReleaseDir(FUSE_ROOT_ID, dir.value().fh).ok());

  ASSERT_TRUE(c.Unlink(FUSE_ROOT_ID, "hello.txt").ok());
  ASSERT_TRUE(c.Rmdir(FUSE_ROOT_ID, "dir").ok());
  struct stat st;
  EXPECT_NE(::stat((share_.path() + "/hello.txt").c_str(), &st), 0);
  EXPECT_EQ(c.Lookup(FUSE_ROOT_ID, "hello.txt").error(), ENOENT);
  EXPECT_TRUE(m->device().violations().empty());
}

// The driver times one chain in every kRoundTripSampling from its submission
// to its completion as the waiter sees it, and the device the same chains from
// pop to used element: the hand-off figure of fs_bench is the difference of
// their means, never negative.
TEST_P(VirtioFsEndToEnd, RoundTripsAndDeviceTimesAreSampled) {
  auto m = Boot(share_.path(), GetParam());
  ASSERT_NE(m, nullptr);
  // Just enough timed on each side for a hand-off figure: one in each run of
  // kRoundTripSampling, and the first and last runs are partly before and
  // after these requests.
  constexpr uint64_t kSamples = sim::RequestTimes::kMinTimed;
  static_assert(driver::VirtioFs::kRoundTripSampling ==
                sim::kChainTimeSampling);
  const sim::RequestTimes before = m->SampledRequestTimes();
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0;
       i < (kSamples + 1) * driver::VirtioFs::kRoundTripSampling; ++i) {
    ASSERT_TRUE(m->client().GetAttr(FUSE_ROOT_ID).ok());
  }
  const uint64_t elapsed = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now() - start)
          .count());
  const sim::RequestTimes spent = m->SampledRequestTimes() - before;
  EXPECT_GE(spent.round_trips, kSamples);
  EXPECT_LE(spent.round_trips, kSamples + 2);
  EXPECT_GT(spent.round_trip_nanos, 0u);
  EXPECT_LE(spent.round_trip_nanos, elapsed);
  // The same chains: each one's work on the device lies within its round trip.
  EXPECT_EQ(spent.device_chains, spent.round_trips);
  EXPECT_GT(spent.device_nanos, 0u);
  EXPECT_LE(spent.device_nanos, spent.round_trip_nanos);
  ASSERT_TRUE(spent.HandOffNanos().has_value());
  EXPECT_GE(*spent.HandOffNanos(), 0.0);
}

TEST_P(VirtioFsEndToEnd, LargeTransfersSplitAndCompleteInFull) {
  auto m = Boot(share_.path(), GetParam());
  ASSERT_NE(m, nullptr);
  FuseClient& c = m->client();
  // 3 MiB + 5 bytes: several requests of the negotiated size, and a tail.
  std::vector<uint8_t> data(3 * 1024 * 1024 + 5);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<uint8_t>(i * 131 + 7);
  auto f = c.Create(FUSE_ROOT_ID, "big", O_RDWR, 0600);
  ASSERT_TRUE(f.ok());
  auto wrote = c.Write(f.value().entry.nodeid, f.value().handle.fh, 0, data);
  ASSERT_TRUE(wrote.ok()) << wrote.error();
  EXPECT_EQ(wrote.value(), data.size());
  EXPECT_EQ(ReadHostFile(share_.path() + "/big"),
            std::string(data.begin(), data.end()));

  std::vector<uint8_t> back(data.size() + 100);
  auto read = c.Read(f.value().entry.nodeid, f.value().handle.fh, 0, back);
  ASSERT_TRUE(read.ok()) << read.error();
  EXPECT_EQ(read.value(), data.size());
  back.resize(data.size());
  EXPECT_EQ(back, data);
  EXPECT_GE(m->fs_device().requests_processed(FUSE_READ), 3u);
  ASSERT_TRUE(c.Release(f.value().entry.nodeid, f.value().handle.fh).ok());
}

TEST_P(VirtioFsEndToEnd, BuffersInGuestMemoryGoToTheDeviceWithoutBounce) {
  auto m = Boot(share_.path(), GetParam());
  ASSERT_NE(m, nullptr);
  FuseClient& c = m->client();
  const size_t size = 256 * 1024;
  auto region = m->platform().AllocateDma(size, 4096);
  ASSERT_TRUE(region.ok());
  auto* guest = static_cast<uint8_t*>(region.value().cpu);
  for (size_t i = 0; i < size; ++i)
    guest[i] = static_cast<uint8_t>(i ^ (i >> 8));
  auto f = c.Create(FUSE_ROOT_ID, "guest", O_RDWR, 0600);
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(
      c.Write(f.value().entry.nodeid, f.value().handle.fh, 0, {guest, size})
          .value(),
      size);
  std::memset(guest, 0, size);
  ASSERT_EQ(
      c.Read(f.value().entry.nodeid, f.value().handle.fh, 0, {guest, size})
          .value(),
      size);
  for (size_t i = 0; i < size; ++i)
    ASSERT_EQ(guest[i], static_cast<uint8_t>(i ^ (i >> 8)));
  m->platform().FreeDma(region.value());
  ASSERT_TRUE(c.Release(f.value().entry.nodeid, f.value().handle.fh).ok());
}

TEST_P(VirtioFsEndToEnd, ConcurrentCallersEachGetTheirOwnReply) {
  auto m = Boot(share_.path(), GetParam(), 2);
  ASSERT_NE(m, nullptr);
  FuseClient& c = m->client();
  constexpr int kThreads = 4, kFiles = 25;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kFiles; ++i) {
        std::string name = "t" + std::to_string(t) + "_" + std::to_string(i);
        auto f = c.Create(FUSE_ROOT_ID, name, O_RDWR, 0600);
        if (!f.ok()) {
          ++failures[t];
          continue;
        }
        auto w = c.Write(
            f.value().entry.nodeid, f.value().handle.fh, 0,
            {reinterpret_cast<const uint8_t*>(name.data()), name.size()});
        std::vector<uint8_t> back(64);
        auto r = c.Read(f.value().entry.nodeid, f.value().handle.fh, 0, back);
        if (!w.ok() || !r.ok() ||
            std::string(back.begin(), back.begin() + r.value()) != name)
          ++failures[t];
        if (!c.Release(f.value().entry.nodeid, f.value().handle.fh).ok())
          ++failures[t];
        if (!c.Forget(f.value().entry.nodeid, 1).ok()) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(failures[t], 0) << "thread " << t;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kFiles; ++i) {
      std::string name = "t" + std::to_string(t) + "_" + std::to_string(i);
      EXPECT_EQ(ReadHostFile(share_.path() + "/" + name), name);
    }
  }
  // The driver posts FORGETs without waiting for them.
  ASSERT_TRUE(m->virtio_fs().WaitForPosted().ok());
  EXPECT_EQ(m->fs_device().requests_processed(FUSE_FORGET),
            uint64_t{kThreads * kFiles});
  EXPECT_TRUE(m->device().violations().empty());
}

// Requests carry their FUSE heads in a queue's preallocated slots; more
// callers than slots take the allocating path, and payloads in ordinary memory
// are bounced. Every reply still reaches its caller, and every record, head
// and bounce goes back: the DMA allocations after the run are those before it.
TEST_P(VirtioFsEndToEnd,
       MoreCallersThanSlotsAndLargeBouncesLeaveNothingBehind) {
  auto m = Boot(share_.path(), GetParam());
  ASSERT_NE(m, nullptr);
  FuseClient& c = m->client();
  auto f = c.Create(FUSE_ROOT_ID, "shared", O_RDWR, 0600);
  ASSERT_TRUE(f.ok());
  const uint64_t node = f.value().entry.nodeid, fh = f.value().handle.fh;
  const size_t live_before = m->platform().dma_in_use();
  constexpr int kThreads = driver::VirtioFs::kSlotsPerQueue + 8;
  constexpr int kRounds = 20;
  // Written from ordinary memory: bounced, and larger than a slot.
  constexpr size_t kChunk = driver::VirtioFs::kSlotBytes * 3;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<uint8_t> chunk(kChunk, static_cast<uint8_t>('a' + t % 26));
      std::vector<uint8_t> back(kChunk);
      for (int i = 0; i < kRounds; ++i) {
        if (!c.GetAttr(node).ok()) ++failures[t];
        const uint64_t offset = uint64_t{kChunk} * t;
        auto w = c.Write(node, fh, offset, chunk);
        auto r = c.Read(node, fh, offset, back);
        if (!w.ok() || !r.ok() || r.value() != kChunk || back != chunk)
          ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(failures[t], 0) << "thread " << t;
  EXPECT_EQ(m->platform().dma_in_use(), live_before);
  ASSERT_TRUE(c.Release(node, fh).ok());
  EXPECT_TRUE(m->device().violations().empty());
}

// A READ sent ahead (FuseClient::StartRead) stays with the device while its
// caller makes other requests, and FinishRead returns its data. A message
// received without being sent, or sent twice, is refused. A device reset
// fails the READ left with it, and everything is given back.
TEST_P(VirtioFsEndToEnd, AReadSentAheadIsReceivedLaterOrFailsWithAReset) {
  auto m = Boot(share_.path(), GetParam());
  ASSERT_NE(m, nullptr);
  FuseClient& c = m->client();
  auto f = c.Create(FUSE_ROOT_ID, "ahead", O_RDWR, 0600);
  ASSERT_TRUE(f.ok());
  const uint64_t node = f.value().entry.nodeid, fh = f.value().handle.fh;
  const std::string text(10000, 'r');
  ASSERT_TRUE(
      c.Write(node, fh, 0,
              {reinterpret_cast<const uint8_t*>(text.data()), text.size()})
          .ok());
  const size_t live_before = m->platform().dma_in_use();
  auto buffer = m->platform().AllocateDma(16384, 64);
  ASSERT_TRUE(buffer.ok());
  std::span<uint8_t> into(static_cast<uint8_t*>(buffer.value().cpu), 16384);
  {
    FuseClient::PendingRead pending;
    ASSERT_TRUE(c.StartRead(node, fh, 100, into, pending).ok());
    EXPECT_TRUE(pending.active());
    EXPECT_EQ(c.StartRead(node, fh, 100, into, pending).error(), EINVAL);
    EXPECT_TRUE(c.GetAttr(node).ok());  // Meanwhile.
    auto got = c.FinishRead(pending);
    ASSERT_TRUE(got.ok()) << got.error();
    EXPECT_EQ(got.value(), text.size() - 100);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(into.data()), 9900),
              text.substr(100));
    EXPECT_FALSE(pending.active());
    EXPECT_EQ(c.FinishRead(pending).error(), EINVAL);
  }
  driver::VirtioFs& fs = m->virtio_fs();
  // Only requests whose caller waits at once are timed: a READ sent ahead
  // would time its caller's other work too.
  constexpr int kSampled = 2 * driver::VirtioFs::kRoundTripSampling;
  const uint64_t timed = fs.round_trips().timed;
  for (int i = 0; i < kSampled; ++i) {
    FuseClient::PendingRead pending;
    ASSERT_TRUE(c.StartRead(node, fh, 0, into, pending).ok());
    ASSERT_TRUE(c.FinishRead(pending).ok());
  }
  EXPECT_EQ(fs.round_trips().timed, timed);
  for (int i = 0; i < kSampled; ++i)
    ASSERT_TRUE(c.Read(node, fh, 0, into).ok());
  // Two runs of kRoundTripSampling: one timed in each, and the runs before
  // and after may have theirs among these too, or not.
  EXPECT_GE(fs.round_trips().timed, timed + 1);
  EXPECT_LE(fs.round_trips().timed, timed + 3);
  driver::FuseMessage message;
  ASSERT_TRUE(fs.Begin(driver::FuseLane::kRequest, message).ok());
  EXPECT_EQ(fs.Receive(message).error(), EINVAL);
  fs.End(message);
  {
    FuseClient::PendingRead pending;
    ASSERT_TRUE(c.StartRead(node, fh, 0, into, pending).ok());
    ASSERT_TRUE(m->Recover().ok());
    // Inline, the device answered before the reset; otherwise the reset
    // failed the READ.
    auto got = m->client().FinishRead(pending);  // The new session's.
    EXPECT_TRUE(got.ok() ? got.value() == text.size() : got.error() == EIO)
        << (got.ok() ? got.value() : got.error());
  }
  m->platform().FreeDma(buffer.value());
  EXPECT_EQ(m->platform().dma_in_use(), live_before);
  EXPECT_TRUE(m->device().violations().empty());
}

TEST_P(VirtioFsEndToEnd, DeviceResetIsRecoveredWithANewSession) {
  auto m = Boot(share_.path(), GetParam());
  ASSERT_NE(m, nullptr);
  auto f = m->client().Create(FUSE_ROOT_ID, "before", O_RDWR, 0600);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(m->Recover().ok());
  // The reset ended the old session: its node ids are stale, names resolve
  // again.
  EXPECT_NE(m->client().GetAttr(f.value().entry.nodeid).error(), 0);
  auto again = m->client().Lookup(FUSE_ROOT_ID, "before");
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(again.value().attr.mode & S_IFMT, S_IFREG);
}

INSTANTIATE_TEST_SUITE_P(
    Machines, VirtioFsEndToEnd,
    ::testing::ValuesIn(testing_variants::AllMachineVariants()),
    testing_variants::MachineVariantName);

}  // namespace
