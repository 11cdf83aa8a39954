// Completion-order exploration: a workload of several threads (creates,
// writes, reads, renames, listings and removals, on separate files and on one
// shared file) runs with the device holding every completion and releasing
// each batch in an order drawn from a seed. For every seed, each thread's
// results and the host directory must equal those of a serial run, and
// nothing may leak. A failing seed reproduces: VFSIM_EXPLORE_FIRST_SEED=N
// VFSIM_EXPLORE_SEEDS=1. VFSIM_EXPLORE_SEEDS sets how many seeds run (default
// 25 per transport and notify mode).
#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sim/machine.h"
#include "tests/common/machine_variants.h"
#include "vfs/posix.h"

namespace {

constexpr int kThreads = 4;
constexpr size_t kChunk = 4096;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* value = getenv(name);
  return value ? std::strtoull(value, nullptr, 10) : fallback;
}

std::string Pattern(int thread, int round) {
  std::string data(kChunk, '\0');
  for (size_t i = 0; i < kChunk; ++i) {
    data[i] = static_cast<char>('a' + (thread * 7 + round * 3 + i) % 26);
  }
  return data;
}

// One thread's workload on machine `root` (its mount point); what each call
// returned, in order.
std::vector<std::string> Workload(const std::string& root, int thread) {
  std::vector<std::string> results;
  auto note = [&](const std::string& what, int64_t rc) {
    results.push_back(what + "=" + std::to_string(rc));
  };
  const std::string dir = root + "/t" + std::to_string(thread);
  for (int round = 0; round < 2; ++round) {
    const std::string a = dir + "/a", b = dir + "/b";
    const std::string data = Pattern(thread, round);
    const int fd = vfs::open(a.c_str(), O_CREAT | O_RDWR | O_EXCL, 0644);
    note("create", fd < 0 ? fd : 0);
    note("write", vfs::pwrite(fd, data.data(), data.size(), 0));
    const int shared = vfs::open((root + "/shared").c_str(), O_RDWR);
    note("shared", vfs::pwrite(shared, data.data(), data.size(),
                               static_cast<int64_t>(thread * kChunk)));
    vfs::close(shared);
    std::string back(kChunk, '\0');
    note("read", vfs::pread(fd, back.data(), back.size(), 0));
    note("same", back == data);
    note("close", vfs::close(fd));
    note("rename", vfs::rename(a.c_str(), b.c_str()));
    const int d = vfs::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    char entries[4096];
    int64_t total = 0, n;
    while ((n = vfs::getdents64(d, entries, sizeof(entries))) > 0) total += n;
    note("listed", n == 0 ? total : n);
    vfs::close(d);
    note("mkdir", vfs::mkdir((dir + "/d").c_str(), 0755));
    note("rmdir", vfs::rmdir((dir + "/d").c_str()));
    if (round == 0) note("unlink", vfs::unlink(b.c_str()));
  }
  return results;
}

// The host directory as text: names, sizes, contents.
std::string HostTree(const std::string& share) {
  std::map<std::string, std::string> files;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(share)) {
    std::string content = "<dir>";
    if (entry.is_regular_file()) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream s;
      s << in.rdbuf();
      content = s.str();
    }
    files[std::filesystem::relative(entry.path(), share)] = content;
  }
  std::string text;
  for (const auto& [name, content] : files) {
    text += name + ":" + std::to_string(content.size()) + ":" +
            std::to_string(std::hash<std::string>{}(content)) + "\n";
  }
  return text;
}

class CompletionOrderTest
    : public ::testing::TestWithParam<testing_variants::MachineVariant> {
 protected:
  std::string NewShare() {
    char dir[] = "/tmp/vfsim-order-XXXXXX";
    EXPECT_NE(mkdtemp(dir), nullptr);
    shares_.push_back(dir);
    for (int t = 0; t < kThreads; ++t) {
      std::filesystem::create_directory(std::string(dir) + "/t" +
                                        std::to_string(t));
    }
    std::ofstream(std::string(dir) + "/shared")
        << std::string(kThreads * kChunk, '.');
    return dir;
  }
  void TearDown() override {
    for (const std::string& share : shares_) std::filesystem::remove_all(share);
  }
  std::unique_ptr<sim::Machine> Boot(const std::string& share) {
    sim::MachineOptions options;
    options.share_dir = share;
    GetParam().Apply(options);
    auto machine = sim::Machine::Create(options);
    EXPECT_TRUE(machine.ok()) << machine.status();
    return machine.ok() ? std::move(*machine) : nullptr;
  }

  std::vector<std::string> shares_;
};

TEST_P(CompletionOrderTest, EveryOrderGivesTheSerialResults) {
  // The serial run: one thread after the other, nothing held.
  const std::string serial_share = NewShare();
  std::vector<std::vector<std::string>> serial(kThreads);
  {
    auto machine = Boot(serial_share);
    ASSERT_NE(machine, nullptr);
    vfs::TaskScope scope(machine->task());
    for (int t = 0; t < kThreads; ++t) {
      serial[t] = Workload(machine->mount_point(), t);
    }
  }
  const std::string serial_tree = HostTree(serial_share);

  const uint64_t first = EnvOr("VFSIM_EXPLORE_FIRST_SEED", 1);
  const uint64_t seeds = EnvOr("VFSIM_EXPLORE_SEEDS", 25);
  uint64_t batches = 0, released = 0, largest = 0;
  for (uint64_t seed = first; seed < first + seeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::string share = NewShare();
    auto machine = Boot(share);
    ASSERT_NE(machine, nullptr);
    const size_t dma_before = machine->platform().dma_in_use();
    sim::FaultingBackend& faults = machine->faults();
    faults.plan().Add(*sim::ParseFaultRule("hold"));
    std::atomic<int> running{kThreads};
    std::vector<std::vector<std::string>> results(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        vfs::TaskScope scope(machine->task());
        results[t] = Workload(machine->mount_point(), t);
        --running;
      });
    }
    // The releaser: waits until every running thread has a completion held
    // (or nothing changed for a while), then completes the batch in an order
    // drawn from the seed.
    std::mt19937_64 random(seed);
    while (running > 0) {
      size_t seen = faults.held();
      auto quiet = std::chrono::steady_clock::now();
      while (running > 0 && faults.held() < static_cast<size_t>(running)) {
        if (faults.held() != seen) {
          seen = faults.held();
          quiet = std::chrono::steady_clock::now();
        }
        if (std::chrono::steady_clock::now() - quiet >
            std::chrono::milliseconds(2)) {
          break;
        }
        std::this_thread::yield();
      }
      if (const size_t batch = faults.held(); batch > 0) {
        faults.ReleaseAllRandomly(random());
        ++batches;
        released += batch;
        largest = std::max<uint64_t>(largest, batch);
      }
    }
    for (std::thread& thread : threads) thread.join();
    faults.plan().Clear();
    // The driver posts FORGETs without waiting: the last ones may still be on
    // their way to the hold. Release until the driver has them all back.
    std::atomic<bool> drained{false};
    std::thread last_releaser([&] {
      while (!drained) {
        faults.ReleaseAllRandomly(0);
        std::this_thread::yield();
      }
    });
    EXPECT_TRUE(machine->virtio_fs().WaitForPosted().ok());
    drained = true;
    last_releaser.join();
    for (int t = 0; t < kThreads; ++t) {
      EXPECT_EQ(results[t], serial[t]) << "thread " << t;
    }
    EXPECT_EQ(HostTree(share), serial_tree);
    EXPECT_EQ(machine->platform().dma_in_use(), dma_before);
    EXPECT_EQ(machine->fs_device().server().fs().open_file_count(), 0u);
    EXPECT_TRUE(machine->device().violations().empty());
    if (HasFailure()) break;
  }
  printf(
      "completion orders: %llu seeds, %llu batches of up to %llu completions "
      "(%llu in all) released in a random order\n",
      static_cast<unsigned long long>(seeds),
      static_cast<unsigned long long>(batches),
      static_cast<unsigned long long>(largest),
      static_cast<unsigned long long>(released));
  // The exploration only explores when completions were reordered.
  EXPECT_GT(largest, 1u);
}

INSTANTIATE_TEST_SUITE_P(
    TransportsAndNotifyModes, CompletionOrderTest,
    ::testing::ValuesIn(testing_variants::AllMachineVariants()),
    testing_variants::MachineVariantName);

}  // namespace
