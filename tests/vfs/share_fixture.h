// Fixtures for tests of the virtio-fs share as the VFS sees it: a sim::Machine
// on a fresh host directory (mounted at /root in the process's VFS), and a
// twin host directory to compare with through the host's own system calls.
#ifndef TESTS_VFS_SHARE_FIXTURE_H_
#define TESTS_VFS_SHARE_FIXTURE_H_

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/machine.h"
#include "sim/passthrough_fs.h"
#include "tests/vfs/posix_ops.h"
#include "vfs/posix.h"

namespace vfs_test {

// A fresh directory under the test's temporary directory, removed afterwards.
class ScratchDir {
 public:
  explicit ScratchDir(const char* prefix) {
    const char* base = getenv("TEST_TMPDIR");
    std::string templ =
        std::string(base ? base : "/tmp") + "/" + prefix + "XXXXXX";
    if (mkdtemp(templ.data()) != nullptr) {
      path_ = templ;
      ::chmod(path_.c_str(), 0755);
    }
  }
  ~ScratchDir() {
    if (!path_.empty()) {
      std::string command = "rm -rf '" + path_ + "'";
      if (system(command.c_str()) != 0) ADD_FAILURE() << command;
    }
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Path(const std::string& relative) const {
    return path_ + "/" + relative;
  }

 private:
  std::string path_;
};

// How a machine is configured for a test.
struct ShareConfig {
  base::TransportKind transport = base::TransportKind::kPci;
  sim::NotifyMode notify_mode = sim::NotifyMode::kInline;
  // Entry and attribute validity the device hands out (0: ask every time).
  double timeout = 0;
  base::RingFormat ring = base::RingFormat::kSplit;
  // File data the driver may cache (kNever: the device answers OPEN with
  // FOPEN_DIRECT_IO).
  sim::DataCaching data_caching = sim::DataCaching::kAuto;

  std::string Name() const {
    std::string name = transport == base::TransportKind::kPci ? "Pci" : "Mmio";
    if (ring == base::RingFormat::kPacked) name += "Packed";
    name += notify_mode == sim::NotifyMode::kInline ? "Inline" : "Thread";
    name += timeout == 0 ? "NoCache" : "Cached";
    if (data_caching == sim::DataCaching::kNever) name += "DirectIo";
    return name;
  }
};

// PCI, inline device: every request goes to the device (kNoCache), or names
// and attributes are cached for 60 s (kCached).
inline constexpr ShareConfig kNoCache{base::TransportKind::kPci,
                                      sim::NotifyMode::kInline, 0};
inline constexpr ShareConfig kCached{base::TransportKind::kPci,
                                     sim::NotifyMode::kInline, 60};

// A machine on a fresh share, with the share mounted at /root.
class ShareTest : public ::testing::Test {
 protected:
  void TearDown() override { machine_.reset(); }

  // Boots the machine; fails the test when it does not come up.
  // `trace` sees every request the device handles (from the device's thread in
  // kThread mode).
  void BootMachine(
      const ShareConfig& config, vfs::FuseFsOptions fuse_fs = {},
      std::function<void(const sim::FuseTraceEvent&)> trace = nullptr) {
    ASSERT_FALSE(share_.path().empty());
    ASSERT_FALSE(twin_.path().empty());
    auto machine = sim::Machine::Create(
        {.share_dir = share_dir_.empty() ? share_.path() : share_dir_,
         .transport = config.transport,
         .ring = config.ring,
         .notify_mode = config.notify_mode,
         .queue_size = 128,
         .entry_timeout = config.timeout,
         .attr_timeout = config.timeout,
         .data_caching = config.data_caching,
         .on_fuse_request = std::move(trace),
         .fuse_fs = fuse_fs});
    ASSERT_TRUE(machine.ok()) << machine.status();
    machine_ = std::move(*machine);
    ::umask(022);
    vfs::umask(022);
  }

  sim::Machine& machine() { return *machine_; }
  // Whether the close of a file open for writing sends FLUSH: the device asks
  // for it (no FOPEN_NOFLUSH) unless the share's filesystem cannot report an
  // error on close (tmpfs, ext4).
  bool FlushesWrites() const {
    struct statfs fs;
    const std::string& dir = share_dir_.empty() ? share_.path() : share_dir_;
    return ::statfs(dir.c_str(), &fs) != 0 ||
           !sim::PassthroughFs::CloseReportsNothing(fs.f_type);
  }
  // What the device has seen, the FORGETs the driver posted included (it
  // does not wait for them, as Linux does not).
  uint64_t Requests(uint32_t opcode) {
    EXPECT_TRUE(machine_->virtio_fs().WaitForPosted().ok());
    return machine_->fs_device().requests_processed(opcode);
  }
  // The device's inode table: node ids the driver has not forgotten (and the
  // root).
  size_t DeviceInodes() {
    EXPECT_TRUE(machine_->virtio_fs().WaitForPosted().ok());
    return machine_->fs_device().server().fs().inodes().size();
  }

  // Runs `ops` on the twin host directory and on /root in lockstep and
  // expects the same outcome of each.
  void Compare(const std::vector<Op>& ops) {
    HostOps host(twin_.path());
    VfsOps vfs("/root");
    OpRunner host_runner(host);
    OpRunner vfs_runner(vfs);
    for (size_t i = 0; i < ops.size(); ++i) {
      std::string expected = host_runner.Apply(ops[i]);
      std::string actual = vfs_runner.Apply(ops[i]);
      EXPECT_EQ(actual, expected) << "op #" << i << ": " << Describe(ops[i]);
    }
  }

  ScratchDir share_{"share"};
  std::string share_dir_;  // Shares this directory instead of share_ if set.
  ScratchDir twin_{"twin"};
  std::unique_ptr<sim::Machine> machine_;
};

}  // namespace vfs_test

#endif  // TESTS_VFS_SHARE_FIXTURE_H_
