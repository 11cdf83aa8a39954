// The contract of the driver and the VFS under every fault of the fault plan
// (sim/fault_plan.h), on both transports and both notify modes: every call
// returns, with the precise errno; nothing hangs; nothing leaks (DMA memory,
// ring descriptors, nodes, the device's open files) once the faults are over;
// an acknowledged write is on the host whatever follows; after
// DEVICE_NEEDS_RESET or a session reset, Recover() brings the share back,
// handles of the old session answer ESTALE and new calls work.
#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "driver/fuse_client.h"
#include "gtest/gtest.h"
#include "sim/machine.h"
#include "tests/common/machine_variants.h"
#include "vfs/posix.h"

namespace {

using sim::FaultRule;

class FaultContractTest
    : public ::testing::TestWithParam<testing_variants::MachineVariant> {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/vfsim-faults-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    share_ = dir;
  }
  void TearDown() override {
    machine_.reset();
    std::filesystem::remove_all(share_);
  }

  // Boots a machine with `rules` (attributes and names never cached, so that
  // each call asks the device).
  void Boot(const std::vector<std::string>& rules) {
    sim::MachineOptions options;
    options.share_dir = share_;
    GetParam().Apply(options);
    options.entry_timeout = 0;
    options.attr_timeout = 0;
    for (const std::string& text : rules) {
      absl::StatusOr<FaultRule> rule = sim::ParseFaultRule(text);
      ASSERT_TRUE(rule.ok()) << rule.status();
      options.faults.Add(*rule);
    }
    auto machine = sim::Machine::Create(options);
    ASSERT_TRUE(machine.ok()) << machine.status();
    machine_ = std::move(*machine);
    scope_ = std::make_unique<vfs::TaskScope>(machine_->task());
    baseline_ = Resources();
  }
  void AddFault(const std::string& text) {
    absl::StatusOr<FaultRule> rule = sim::ParseFaultRule(text);
    ASSERT_TRUE(rule.ok()) << rule.status();
    machine_->faults().plan().Add(*rule);
  }
  // Waits at most `limit` for `done()` (another thread's doing); the caller
  // checks the outcome.
  template <typename Done>
  static void WaitUntil(Done done,
                        std::chrono::seconds limit = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  std::string Path(const std::string& name) {
    return machine_->mount_point() + "/" + name;
  }
  std::string HostFile(const std::string& name) {
    std::ifstream in(share_ + "/" + name, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return in ? s.str() : "<missing>";
  }
  int WriteFile(const std::string& name, const std::string& data) {
    const int fd =
        vfs::open(Path(name).c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0) return fd;
    const int64_t n = vfs::write(fd, data.data(), data.size());
    vfs::close(fd);
    return n < 0 ? static_cast<int>(n) : 0;
  }

  // What must come back to its level once faults are over. A node may stay
  // alive only while the name cache holds it (or, for the root, always).
  struct Levels {
    size_t dma_in_use;
    size_t uncached_nodes;
    size_t device_open_files;
    uint16_t free_descriptors;
  };
  Levels Resources() {
    // The driver posts FORGETs without waiting for them: count once they are
    // back.
    EXPECT_TRUE(machine_->virtio_fs().WaitForPosted().ok());
    uint32_t free = 0;
    driver::VirtioDevice& device = machine_->virtio_fs().device();
    for (uint16_t q = 0; q < device.num_queues(); ++q) {
      free += device.queue(q).num_free();
    }
    return {machine_->platform().dma_in_use(),
            machine_->share_fs()->live_nodes() -
                machine_->share_fs()->cached_entries(),
            machine_->fs_device().server().fs().open_file_count(),
            static_cast<uint16_t>(free)};
  }
  void ExpectNoLeak() {
    const Levels now = Resources();
    EXPECT_EQ(now.dma_in_use, baseline_.dma_in_use);
    EXPECT_EQ(now.uncached_nodes, baseline_.uncached_nodes);
    EXPECT_EQ(now.device_open_files, baseline_.device_open_files);
    EXPECT_EQ(now.free_descriptors, baseline_.free_descriptors);
  }

  std::string share_;
  std::unique_ptr<sim::Machine> machine_;
  std::unique_ptr<vfs::TaskScope> scope_;
  Levels baseline_{};
};

TEST_P(FaultContractTest, AnErrorIsReturnedExactlyAndChangesNothing) {
  ASSERT_NO_FATAL_FAILURE(Boot({"error=ENOSPC@op=MKDIR,count=1"}));
  EXPECT_EQ(vfs::mkdir(Path("d").c_str(), 0755), -ENOSPC);
  EXPECT_FALSE(std::filesystem::exists(share_ + "/d"));
  EXPECT_EQ(vfs::mkdir(Path("d").c_str(), 0755), 0);  // Once only.
  EXPECT_TRUE(std::filesystem::is_directory(share_ + "/d"));
  ExpectNoLeak();
}

TEST_P(FaultContractTest, HostErrorsTravelTheRealPath) {
  ASSERT_NO_FATAL_FAILURE(Boot({}));
  ASSERT_EQ(WriteFile("f", "before"), 0);
  AddFault("host-error=EDQUOT@op=WRITE,count=1");
  const int fd = vfs::open(Path("f").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(vfs::pwrite(fd, "after!", 6, 0), -EDQUOT);
  EXPECT_EQ(HostFile("f"), "before");  // The host refused it: nothing written.
  EXPECT_EQ(vfs::pwrite(fd, "after!", 6, 0), 6);
  EXPECT_EQ(vfs::close(fd), 0);
  EXPECT_EQ(HostFile("f"), "after!");
  AddFault("host-error=EIO@op=CREATE,count=1");
  EXPECT_EQ(vfs::open(Path("g").c_str(), O_CREAT | O_WRONLY, 0644), -EIO);
  EXPECT_FALSE(std::filesystem::exists(share_ + "/g"));
  AddFault("host-error=ENOSPC@op=MKDIR,count=1");
  EXPECT_EQ(vfs::mkdir(Path("d").c_str(), 0755), -ENOSPC);
  ExpectNoLeak();
}

TEST_P(FaultContractTest, MalformedRepliesAreEioAndTheNextCallWorks) {
  ASSERT_NO_FATAL_FAILURE(Boot({}));
  ASSERT_EQ(WriteFile("f", "x"), 0);
  vfs::Stat st;
  ASSERT_EQ(vfs::stat(Path("f").c_str(), &st), 0);
  for (const char* fault : {"truncate=8", "wrong-unique", "wrong-len"}) {
    SCOPED_TRACE(fault);
    AddFault(std::string(fault) + "@op=LOOKUP,count=1");
    EXPECT_EQ(vfs::stat(Path("f").c_str(), &st), -EIO);
    EXPECT_EQ(vfs::stat(Path("f").c_str(), &st), 0);
    EXPECT_EQ(st.st_size, 1);
  }
  // A READ whose used length claims all the buffer for a 1-byte file.
  const int fd = vfs::open(Path("f").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  char buffer[64];
  AddFault("oversize@op=READ,count=1");
  EXPECT_EQ(vfs::pread(fd, buffer, sizeof(buffer), 0), -EIO);
  EXPECT_EQ(vfs::pread(fd, buffer, sizeof(buffer), 0), 1);
  EXPECT_EQ(vfs::close(fd), 0);
  ExpectNoLeak();
}

// Completions held and released out of order, across callers: each caller
// still gets its own answer.
TEST_P(FaultContractTest, ReorderedCompletionsAnswerEachCallerItsOwn) {
  ASSERT_NO_FATAL_FAILURE(Boot({}));
  constexpr int kCallers = 4;
  for (int i = 0; i < kCallers; ++i) {
    ASSERT_EQ(WriteFile("f" + std::to_string(i), std::string(i + 1, 'x')), 0);
  }
  AddFault("hold@op=LOOKUP");
  std::vector<int64_t> sizes(kCallers, -1);
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] {
      vfs::TaskScope scope(machine_->task());
      vfs::Stat st;
      const int rc = vfs::stat(Path("f" + std::to_string(i)).c_str(), &st);
      sizes[i] = rc == 0 ? st.st_size : rc;
    });
  }
  WaitUntil([&] { return machine_->faults().held() >= kCallers; },
            std::chrono::seconds(20));
  ASSERT_EQ(machine_->faults().held(), size_t{kCallers});
  machine_->faults().plan().Clear();
  EXPECT_FALSE(machine_->faults().ReleaseHeld({0, 0}));  // Named twice.
  EXPECT_TRUE(machine_->faults().ReleaseHeld({3, 1}));
  machine_->faults().ReleaseAllRandomly(7);
  for (std::thread& caller : callers) caller.join();
  for (int i = 0; i < kCallers; ++i) EXPECT_EQ(sizes[i], i + 1) << i;
  ExpectNoLeak();
}

TEST_P(FaultContractTest, DelaysStallsAndLostNotificationsOnlyCostTime) {
  ASSERT_NO_FATAL_FAILURE(Boot({}));
  ASSERT_EQ(WriteFile("f", "abc"), 0);
  vfs::Stat st;
  for (const char* fault :
       {"delay-ms=35@op=LOOKUP,count=1", "stall-ms=35@op=LOOKUP,count=1",
        "drop-notify@op=LOOKUP,count=1"}) {
    SCOPED_TRACE(fault);
    AddFault(fault);
    const auto before = machine_->virtio_fs().completion_counts();
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(vfs::stat(Path("f").c_str(), &st), 0);
    EXPECT_EQ(st.st_size, 3);
    if (std::string(fault).find("-ms=35") != std::string::npos) {
      EXPECT_GE(std::chrono::steady_clock::now() - start,
                std::chrono::milliseconds(35));
    }
    // A late completion still sends its interrupt (whether the interrupt or
    // the waiter's own bounded sleep finds the completion first is the
    // scheduler's choice on a loaded machine); one the device never sends
    // costs the waiter the sleep's bound, and it finds the completion itself.
    if (GetParam().completion == sim::CompletionMode::kInterrupt) {
      const auto after = machine_->virtio_fs().completion_counts();
      if (std::string(fault).starts_with("drop-notify")) {
        EXPECT_GE(after.without_interrupt - before.without_interrupt, 1u);
      } else {
        EXPECT_GE(after.interrupts - before.interrupts, 1u);
      }
    }
  }
  // delay=1: completed once one more request has been handled (another
  // caller's).
  AddFault("delay=1@op=LOOKUP,count=1");
  std::atomic<int> first{1};
  std::thread waiter([&] {
    vfs::TaskScope scope(machine_->task());
    vfs::Stat s;
    first = vfs::stat(Path("f").c_str(), &s);
  });
  while (machine_->faults().held() == 0) std::this_thread::yield();
  EXPECT_EQ(vfs::stat(Path("f").c_str(), &st), 0);
  waiter.join();
  EXPECT_EQ(first, 0);
  ExpectNoLeak();
}

// Linux sends FORGET without waiting for the device; so does this driver: a
// call whose node is forgotten returns while the FORGET is held, and its record
// comes back when the device returns it, or when a reset abandons it.
TEST_P(FaultContractTest, AForgetHeldByTheDeviceDelaysNoCall) {
  ASSERT_NO_FATAL_FAILURE(Boot({}));
  for (const char* name : {"f1", "f2", "f3"}) {
    ASSERT_EQ(WriteFile(name, "data"), 0);
  }
  AddFault("hold@op=FORGET");
  const auto held = [&](size_t want) {
    WaitUntil([&] { return machine_->faults().held() >= want; });
    return machine_->faults().held();
  };
  // An unlinked file's node goes: FORGET, sent at the latest by a statfs
  // (vfs::FuseFsOptions::forget_batch), which the held FORGET does not delay.
  vfs::StatFs fs;
  ASSERT_EQ(vfs::unlink(Path("f1").c_str()), 0);
  ASSERT_EQ(vfs::statfs(Path("").c_str(), &fs), 0);
  EXPECT_EQ(held(1), 1u);
  ASSERT_EQ(vfs::unlink(Path("f2").c_str()), 0);
  ASSERT_EQ(vfs::statfs(Path("").c_str(), &fs), 0);
  EXPECT_EQ(held(2), 2u);
  machine_->faults().ReleaseAllRandomly(7);
  ExpectNoLeak();

  // Held across a device reset: the reset gives the record back.
  ASSERT_EQ(vfs::unlink(Path("f3").c_str()), 0);
  ASSERT_EQ(vfs::statfs(Path("").c_str(), &fs), 0);
  EXPECT_EQ(held(1), 1u);
  machine_->faults().plan().Clear();
  ASSERT_TRUE(machine_->Recover().ok());
  EXPECT_EQ(machine_->faults().held(), 0u);
  ASSERT_EQ(WriteFile("f4", "more"), 0);
  EXPECT_EQ(HostFile("f4"), "more");
  ExpectNoLeak();
}

// Linux releases a file without waiting for the device (its last close); so
// does this driver: close returns while the device holds the RELEASE's
// completion. The node's FORGET must not overtake it: it waits until the
// device has answered.
TEST_P(FaultContractTest, AHeldReleaseDelaysNoCloseAndHoldsBackTheForget) {
  ASSERT_NO_FATAL_FAILURE(Boot({}));
  ASSERT_EQ(WriteFile("f", "data"), 0);
  const int fd = vfs::open(Path("f").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  AddFault("hold@op=RELEASE");
  ASSERT_EQ(vfs::close(fd), 0);
  WaitUntil([&] { return machine_->faults().held() >= 1; });
  ASSERT_EQ(machine_->faults().held(), 1u);

  // An unlinked file's node goes: its FORGET is sent by the statfs at the
  // latest, which therefore waits for the held RELEASE.
  const uint64_t forgets_before =
      machine_->fs_device().requests_processed(FUSE_FORGET);
  ASSERT_EQ(vfs::unlink(Path("f").c_str()), 0);
  std::atomic<int> statfs_rc{1};
  std::thread forgetter([&] {
    vfs::TaskScope scope(machine_->task());
    vfs::StatFs fs;
    statfs_rc = vfs::statfs(Path("").c_str(), &fs);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(statfs_rc, 1);  // Still waiting.
  EXPECT_EQ(machine_->fs_device().requests_processed(FUSE_FORGET),
            forgets_before);
  machine_->faults().plan().Clear();
  machine_->faults().ReleaseAllRandomly(7);
  forgetter.join();
  EXPECT_EQ(statfs_rc, 0);
  EXPECT_TRUE(machine_->virtio_fs().WaitForPosted().ok());
  EXPECT_GT(machine_->fs_device().requests_processed(FUSE_FORGET),
            forgets_before);
  ExpectNoLeak();
}

// DESTROY waits for the RELEASEs still posted, not for FORGETs: a device that
// holds a FORGET for good does not keep the share from stopping.
TEST_P(FaultContractTest, AHeldForgetDoesNotHoldUpTheShutdown) {
  ASSERT_NO_FATAL_FAILURE(Boot({}));
  ASSERT_EQ(WriteFile("f", "data"), 0);
  AddFault("hold@op=FORGET");
  vfs::StatFs fs;
  ASSERT_EQ(vfs::unlink(Path("f").c_str()), 0);
  ASSERT_EQ(vfs::statfs(Path("").c_str(), &fs), 0);
  WaitUntil([&] { return machine_->faults().held() >= 1; });
  ASSERT_EQ(machine_->faults().held(), 1u);
  scope_.reset();
  std::atomic<bool> stopped{false};
  std::unique_ptr<sim::Machine> machine = std::move(machine_);
  sim::FaultingBackend& faults = machine->faults();
  std::thread stopper([&] {
    machine.reset();
    stopped = true;
  });
  WaitUntil([&] { return stopped.load(); });
  EXPECT_TRUE(stopped);
  if (!stopped) faults.ReleaseAllRandomly(7);  // Let the test end.
  stopper.join();
}

// The driver remembers at most driver::FuseClient::kMaxPostedReleases
// unanswered RELEASEs (to order FORGETs after them): one more close waits for
// its reply.
TEST_P(FaultContractTest, ACloseBeyondThePostedReleasesWaitsForItsReply) {
  ASSERT_NO_FATAL_FAILURE(Boot({}));
  constexpr size_t kPosted = driver::FuseClient::kMaxPostedReleases;
  std::vector<int> fds;
  for (size_t i = 0; i <= kPosted; ++i) {
    const std::string name = "f" + std::to_string(i);
    ASSERT_EQ(WriteFile(name, "data"), 0);
    fds.push_back(vfs::open(Path(name).c_str(), O_RDONLY));
    ASSERT_GE(fds.back(), 0);
  }
  AddFault("hold@op=RELEASE");
  for (size_t i = 0; i < kPosted; ++i) ASSERT_EQ(vfs::close(fds[i]), 0);
  WaitUntil([&] { return machine_->faults().held() >= kPosted; });
  ASSERT_EQ(machine_->faults().held(), kPosted);
  std::atomic<int> last_rc{1};
  std::thread closer([&] {
    vfs::TaskScope scope(machine_->task());
    last_rc = vfs::close(fds[kPosted]);
  });
  WaitUntil([&] { return machine_->faults().held() > kPosted; });
  EXPECT_EQ(machine_->faults().held(), kPosted + 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(last_rc, 1);  // Still waiting for its reply.
  machine_->faults().plan().Clear();
  machine_->faults().ReleaseAllRandomly(7);
  closer.join();
  EXPECT_EQ(last_rc, 0);
  ExpectNoLeak();
}

TEST_P(FaultContractTest, NeedsResetLosesNoAcknowledgedWriteAndRecovers) {
  ASSERT_NO_FATAL_FAILURE(Boot({}));
  const int fd = vfs::open(Path("kept").c_str(), O_CREAT | O_RDWR, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(vfs::write(fd, "acknowledged", 12), 12);
  AddFault("needs-reset@op=LOOKUP,count=1");
  vfs::Stat st;
  EXPECT_EQ(vfs::stat(Path("kept").c_str(), &st), -EIO);  // Returns.
  EXPECT_EQ(HostFile("kept"), "acknowledged");
  ASSERT_TRUE(machine_->Recover().ok());
  EXPECT_EQ(vfs::write(fd, "more", 4), -ESTALE);  // The old session's handle.
  EXPECT_EQ(vfs::close(fd), 0);
  EXPECT_EQ(vfs::stat(Path("kept").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 12);
  ASSERT_EQ(WriteFile("new", "after"), 0);
  EXPECT_EQ(HostFile("new"), "after");
  ExpectNoLeak();
}

TEST_P(FaultContractTest, ASessionResetMakesOldHandlesStale) {
  ASSERT_NO_FATAL_FAILURE(Boot({}));
  ASSERT_EQ(WriteFile("f", "data"), 0);
  const int fd = vfs::open(Path("f").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  AddFault("reset-session@op=LOOKUP,count=1");
  vfs::Stat st;
  // Answered ENOTCONN, unless the driver saw DEVICE_NEEDS_RESET first (the
  // interrupt can come before the answer is collected): then EIO.
  const int rc = vfs::stat(Path("f").c_str(), &st);
  EXPECT_TRUE(rc == -ENOTCONN || rc == -EIO) << rc;
  // The device says so after answering, from its own thread.
  WaitUntil([&] { return machine_->virtio_fs().NeedsReset(); });
  EXPECT_TRUE(machine_->virtio_fs().NeedsReset());
  ASSERT_TRUE(machine_->Recover().ok());
  char byte;
  EXPECT_EQ(vfs::read(fd, &byte, 1), -ESTALE);
  EXPECT_EQ(vfs::close(fd), 0);
  EXPECT_EQ(vfs::stat(Path("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 4);
  // A reset at once, while the device may still be on its way to saying it
  // needs one, leaves a working device all the same.
  AddFault("reset-session@op=LOOKUP,count=1");
  EXPECT_NE(vfs::stat(Path("f").c_str(), &st), 0);
  ASSERT_TRUE(machine_->Recover().ok());
  EXPECT_EQ(vfs::stat(Path("f").c_str(), &st), 0);
  ExpectNoLeak();
}

INSTANTIATE_TEST_SUITE_P(
    TransportsAndNotifyModes, FaultContractTest,
    ::testing::ValuesIn(testing_variants::AllMachineVariants()),
    testing_variants::MachineVariantName);

}  // namespace
