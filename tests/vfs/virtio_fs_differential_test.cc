// The differential test of the virtio-fs share: a seeded random sequence of
// operations (create, open, write at random offsets, read, truncate, rename
// over existing names, link, symlink, mkdir, rmdir, unlink, readdir, stat,
// chmod, dup...) applied through vfs:: on /root and through the host's own
// system calls on a twin host directory. Every return value, errno, byte read,
// stat field both sides define (type, mode, size, link count) and sorted
// directory listing must match; at the end the share and the twin hold the same
// tree, and once unmounted the device has forgotten every node.
//
// Each case is a seed with a machine configuration: both transports, both
// notify modes, without caches (timeouts 0) and with them (the driver is the
// only writer, so cached answers must still be right), and with a tiny name
// cache (constant eviction).
//
// Running it longer (environment variables, read by every case):
//   DIFF_OPS=<n>    operations per case (default 2000)
//   DIFF_SEED=<s>   seed of every case instead of its own
// e.g. (one line)
//   bazel test //tests/vfs:virtio_fs_differential_test
//     --test_env=DIFF_OPS=200000 --test_env=DIFF_SEED=42 --test_timeout=3600
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/vfs/posix_ops.h"
#include "tests/vfs/share_fixture.h"
#include "vfs/posix.h"

namespace vfs_test {
namespace {

constexpr int kSlots = 5;     // Descriptor slots for files.
constexpr int kListSlot = 7;  // The slot a listing opens and closes.

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* value = getenv(name);
  return value && *value ? std::strtoull(value, nullptr, 10) : fallback;
}

// Generates operations on a small namespace, so that names collide often:
// directories a, b, c (nested up to three deep), files f0..f3, symlinks s0, s1.
// Symlink targets are relative and climb at most one level.
// It looks at the twin directory only to know which slots hold directories,
// whose offsets are filesystem cookies that only seeking to 0 may use.
class OpGenerator {
 public:
  OpGenerator(uint64_t seed, std::string twin) : rng_(seed), twin_(twin) {}

  // Learns from the host's outcome of `op` which slots hold a descriptor.
  void Observe(const Op& op, const std::string& outcome) {
    switch (op.kind) {
      case Op::Kind::kOpen:
        if (op.slot < kSlots) slot_open_[op.slot] = outcome == "fd";
        break;
      case Op::Kind::kDup:
      case Op::Kind::kDup2:
        if (op.slot2 < kSlots) slot_open_[op.slot2] = outcome[0] != '-';
        break;
      case Op::Kind::kClose:
        if (op.slot < kSlots && outcome == "0") slot_open_[op.slot] = false;
        break;
      default:
        break;
    }
  }

  std::vector<Op> Next() {
    switch (Pick({14, 5, 9, 7, 7, 7, 4, 3, 3, 3, 6, 3, 6,
                  4,  5, 7, 4, 4, 3, 5, 2, 3, 3, 2, 2, 1})) {
      case 0:
        return OpenNew();
      case 1:
        return {CloseOp(Slot())};
      case 2:
        return {WriteOp(Slot(), Data())};
      case 3:
        return {PwriteOp(Slot(), Data(), Offset())};
      case 4:
        return {ReadOp(Slot(), Uniform(0, 600))};
      case 5:
        return {PreadOp(Slot(), Uniform(0, 600), Offset())};
      case 6:
        return {Seek()};
      case 7:
        return {FtruncateOp(Slot(), Offset())};
      case 8:
        return {TruncateOp(AnyPath(), Offset())};
      case 9:
        return {FstatOp(Slot())};
      case 10:
        return {StatOp(AnyPath())};
      case 11:
        return {LstatOp(AnyPath())};
      case 12:
        return {MkdirOp(DirPath(), Mode())};
      case 13:
        return {RmdirOp(DirPath())};
      case 14:
        return {UnlinkOp(AnyPath())};
      case 15:
        return Rename();
      case 16:
        return {LinkOp(FilePath(), Uniform(0, 3) ? FilePath() : AnyPath())};
      case 17:
        return {SymlinkOp(Target(), SymlinkPath())};
      case 18:
        return {ReadlinkOp(SymlinkPath(), Uniform(1, 40))};
      case 19:
        return ListDirectory();
      case 20:
        return ListSlot();
      case 21:
        return {ChmodOp(AnyPath(), Mode())};
      case 22:
        return Dup();
      case 23:
        return {FsyncOp(Slot())};
      case 24:
        return {AccessOp(AnyPath(), static_cast<int>(Uniform(0, 7)))};
      default:
        return {StatOp(Prefix())};
    }
  }

 private:
  size_t Uniform(size_t low, size_t high) {
    return std::uniform_int_distribution<size_t>(low, high)(rng_);
  }
  size_t Pick(std::initializer_list<double> weights) {
    std::discrete_distribution<size_t> d(weights);
    return d(rng_);
  }
  template <typename T>
  const T& OneOf(const std::vector<T>& items) {
    return items[Uniform(0, items.size() - 1)];
  }

  // Mostly a slot that holds a descriptor (when one does).
  int Slot() {
    std::vector<int> open;
    for (int slot = 0; slot < kSlots; ++slot) {
      if (slot_open_[slot]) open.push_back(slot);
    }
    if (!open.empty() && Uniform(0, 7) != 0) return OneOf(open);
    return static_cast<int>(Uniform(0, kSlots - 1));
  }
  // A slot for a new descriptor: mostly a free one.
  int FreeSlot() {
    std::vector<int> free;
    for (int slot = 0; slot < kSlots; ++slot) {
      if (!slot_open_[slot]) free.push_back(slot);
    }
    if (!free.empty() && Uniform(0, 3) != 0) return OneOf(free);
    return static_cast<int>(Uniform(0, kSlots - 1));
  }
  int64_t Offset() {
    return Uniform(0, 9) == 0 ? static_cast<int64_t>(Uniform(0, 70000))
                              : static_cast<int64_t>(Uniform(0, 9000));
  }
  uint32_t Mode() {
    static const std::vector<uint32_t> modes = {0644, 0600, 0755,
                                                0700, 0444, 0555};
    return OneOf(modes);
  }
  std::string Data() {
    // Mostly small writes; now and then one past the device's zero-copy
    // threshold, and now and then nothing.
    size_t size = Uniform(0, 19) == 0   ? Uniform(60000, 140000)
                  : Uniform(0, 19) == 0 ? 0
                                        : Uniform(1, 500);
    std::string data(size, '\0');
    const char base = static_cast<char>('a' + Uniform(0, 25));
    for (size_t i = 0; i < size; ++i) {
      data[i] = static_cast<char>(base + static_cast<char>(i % 7));
    }
    return data;
  }

  std::string Prefix() {
    static const std::vector<std::string> prefixes = {
        "", "", "", "a/", "a/", "b/", "a/b/", "a/c/", "b/a/b/"};
    return OneOf(prefixes);
  }
  std::string DirPath() {
    static const std::vector<std::string> names = {"a", "b", "c"};
    return Prefix() + OneOf(names);
  }
  std::string FilePath() {
    static const std::vector<std::string> names = {"f0", "f1", "f2", "f3"};
    return Prefix() + OneOf(names);
  }
  std::string SymlinkPath() {
    static const std::vector<std::string> names = {"s0", "s1"};
    return Prefix() + OneOf(names);
  }
  std::string AnyPath() {
    switch (Uniform(0, 5)) {
      case 0:
        return DirPath();
      case 1:
        return SymlinkPath();
      default:
        return FilePath();
    }
  }
  // Relative targets only: both sides resolve them the same way.
  std::string Target() {
    static const std::vector<std::string> names = {
        "f0", "f1", "a", "s0", "s1", "../f0", "../a", "a/f1", "missing", "."};
    return OneOf(names);
  }

  std::vector<Op> OpenNew() {
    static const std::vector<int> access = {O_RDONLY, O_WRONLY, O_RDWR};
    int flags = OneOf(access);
    if (Uniform(0, 1)) {
      flags |= O_CREAT;
      if (Uniform(0, 4) == 0) flags |= O_EXCL;
    }
    if (Uniform(0, 6) == 0) flags |= O_TRUNC;
    if (Uniform(0, 5) == 0) flags |= O_APPEND;
    if (Uniform(0, 9) == 0) flags |= O_NOFOLLOW;
    std::string path = Uniform(0, 7) == 0   ? DirPath()
                       : Uniform(0, 7) == 0 ? SymlinkPath()
                                            : FilePath();
    int slot = FreeSlot();
    struct stat st;
    slot_is_dir_[slot] =
        ::stat((twin_ + "/" + path).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    static const std::vector<uint32_t> modes = {0644, 0600, 0755};
    // Closing first keeps both sides from leaking descriptors; closing a free
    // slot is EBADF on both.
    return {CloseOp(slot), OpenOp(slot, path, flags, OneOf(modes))};
  }

  Op Seek() {
    int slot = Slot();
    if (slot_is_dir_[slot]) return LseekOp(slot, 0, SEEK_SET);
    switch (Uniform(0, 3)) {
      case 0:
        return LseekOp(slot, Offset(), SEEK_SET);
      case 1:
        return LseekOp(slot, static_cast<int64_t>(Uniform(0, 200)) - 100,
                       SEEK_CUR);
      case 2:
        return LseekOp(slot, static_cast<int64_t>(Uniform(0, 200)) - 150,
                       SEEK_END);
      default:  // No such whence (the VFS has no SEEK_DATA / SEEK_HOLE).
        return LseekOp(slot, 0, 5);
    }
  }

  std::vector<Op> Rename() {
    switch (Uniform(0, 4)) {
      case 0:
        return {RenameOp(DirPath(), DirPath())};
      case 1:
        return {RenameOp(SymlinkPath(),
                         Uniform(0, 1) ? SymlinkPath() : FilePath())};
      case 2:
        return {RenameOp(AnyPath(), AnyPath())};
      default:
        return {RenameOp(FilePath(), FilePath())};
    }
  }

  std::vector<Op> ListDirectory() {
    static const std::vector<size_t> sizes = {128, 512, 4096, 65536};
    std::string path = Uniform(0, 3) == 0 ? Prefix() : DirPath();
    return {OpenOp(kListSlot, path, O_RDONLY | O_DIRECTORY),
            ListDirOp(kListSlot, OneOf(sizes)), CloseOp(kListSlot)};
  }

  // Lists whatever a slot holds, from where it stands, then rewinds it.
  std::vector<Op> ListSlot() {
    int slot = Slot();
    if (!slot_is_dir_[slot]) return {GetdentsOp(slot, 4096)};
    return {ListDirOp(slot, 256), LseekOp(slot, 0, SEEK_SET)};
  }

  std::vector<Op> Dup() {
    int from = Slot();
    int to = FreeSlot();
    bool is_dir = slot_is_dir_[from];
    if (Uniform(0, 1)) {
      slot_is_dir_[to] = is_dir;
      return {CloseOp(to), DupOp(from, to)};
    }
    // dup2 onto a descriptor the slot may hold: the old one is closed by it.
    slot_is_dir_[to] = is_dir;
    return {CloseOp(to), Dup2Op(from, to)};
  }

  std::mt19937_64 rng_;
  std::string twin_;
  bool slot_is_dir_[kSlots] = {};
  bool slot_open_[kSlots] = {};
};

// What a host tree holds, path by path: type, mode, size, links, and a file's
// bytes or a symlink's target.
void Snapshot(const std::string& root, const std::string& relative,
              std::map<std::string, std::string>& out) {
  std::string dir_path = relative.empty() ? root : root + "/" + relative;
  DIR* dir = opendir(dir_path.c_str());
  ASSERT_NE(dir, nullptr) << dir_path;
  while (dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string rel = relative.empty() ? name : relative + "/" + name;
    std::string full = root + "/" + rel;
    struct stat st;
    ASSERT_EQ(::lstat(full.c_str(), &st), 0) << full;
    std::string what =
        std::to_string(st.st_mode) + " nlink " + std::to_string(st.st_nlink);
    if (S_ISREG(st.st_mode)) {
      what += " size " + std::to_string(st.st_size) + " ";
      int fd = ::open(full.c_str(), O_RDONLY);
      char buffer[65536];
      ssize_t n;
      while ((n = ::read(fd, buffer, sizeof(buffer))) > 0)
        what.append(buffer, n);
      ::close(fd);
    } else if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t n = ::readlink(full.c_str(), target, sizeof(target));
      what += " -> " + std::string(target, n > 0 ? n : 0);
    }
    out[rel] = what;
    if (S_ISDIR(st.st_mode)) Snapshot(root, rel, out);
  }
  closedir(dir);
}

struct DiffCase {
  uint64_t seed;
  ShareConfig config;
  size_t entry_cache_size = 4096;
};

class DifferentialTest : public ShareTest,
                         public ::testing::WithParamInterface<DiffCase> {};

TEST_P(DifferentialTest, SameOutcomesAsTheHost) {
  const DiffCase& c = GetParam();
  ASSERT_NO_FATAL_FAILURE(
      BootMachine(c.config, {.max_cached_entries = c.entry_cache_size}));
  const uint64_t seed = EnvOr("DIFF_SEED", c.seed);
  const uint64_t count = EnvOr("DIFF_OPS", 2000);
  // The operations work in "w" on each side, so that a target's ".." still
  // lands inside the share (or the twin).
  ASSERT_EQ(::mkdir(twin_.Path("w").c_str(), 0755), 0);
  ASSERT_EQ(vfs::mkdir("/root/w", 0755), 0);
  OpGenerator generator(seed, twin_.Path("w"));
  std::deque<std::string> recent;  // For the failure message.
  // How many calls succeeded, per call: a sequence that mostly fails tests
  // little.
  std::map<std::string, std::pair<int, int>> outcomes;
  {
    HostOps host(twin_.Path("w"));
    VfsOps vfs("/root/w");
    OpRunner host_runner(host);
    OpRunner vfs_runner(vfs);
    for (uint64_t i = 0; i < count; ++i) {
      for (const Op& op : generator.Next()) {
        std::string expected = host_runner.Apply(op);
        std::string actual = vfs_runner.Apply(op);
        generator.Observe(op, expected);
        auto& [succeeded, total] =
            outcomes[Describe(op).substr(0, Describe(op).find('('))];
        succeeded += expected[0] != '-';
        ++total;
        recent.push_back(Describe(op).substr(0, 160) + " = " +
                         expected.substr(0, 80));
        if (recent.size() > 16) recent.pop_front();
        if (actual != expected) {
          std::string history;
          for (const std::string& line : recent) history += "  " + line + "\n";
          FAIL() << "seed " << seed << ", operation " << i << ": "
                 << Describe(op) << "\n  host: " << expected
                 << "\n  vfs:  " << actual << "\nlast operations:\n"
                 << history;
        }
      }
    }
  }  // The runners close what they still hold.
  std::string summary;
  int succeeded = 0;
  for (const auto& [call, counts] : outcomes) {
    summary += " " + call + " " + std::to_string(counts.first) + "/" +
               std::to_string(counts.second);
    succeeded += counts.first;
  }
  std::printf("seed %llu: calls that succeeded:%s\n",
              static_cast<unsigned long long>(seed), summary.c_str());
  EXPECT_GT(succeeded, static_cast<int>(count * 2 / 5));

  std::map<std::string, std::string> share_tree, twin_tree;
  ASSERT_NO_FATAL_FAILURE(Snapshot(share_.path(), "", share_tree));
  ASSERT_NO_FATAL_FAILURE(Snapshot(twin_.path(), "", twin_tree));
  EXPECT_EQ(share_tree.size(), twin_tree.size());
  EXPECT_TRUE(share_tree == twin_tree)
      << "the trees differ (seed " << seed << ")";
  // Nothing open any more: once unmounted, every node was forgotten.
  ASSERT_EQ(vfs::umount("/root"), 0);
  EXPECT_EQ(DeviceInodes(), 1u);
  EXPECT_EQ(machine().fs_device().server().fs().open_file_count(), 0u);
  EXPECT_TRUE(machine().device().violations().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Seeds, DifferentialTest,
    ::testing::Values(
        DiffCase{1, {base::TransportKind::kPci, sim::NotifyMode::kInline, 0}},
        DiffCase{2, {base::TransportKind::kMmio, sim::NotifyMode::kThread, 0}},
        DiffCase{3, {base::TransportKind::kPci, sim::NotifyMode::kThread, 0}},
        DiffCase{4, {base::TransportKind::kMmio, sim::NotifyMode::kInline, 0}},
        DiffCase{5, {base::TransportKind::kPci, sim::NotifyMode::kInline, 60}},
        DiffCase{6, {base::TransportKind::kMmio, sim::NotifyMode::kThread, 60}},
        DiffCase{
            7, {base::TransportKind::kPci, sim::NotifyMode::kInline, 60}, 8},
        DiffCase{8,
                 {base::TransportKind::kPci, sim::NotifyMode::kInline, 0,
                  base::RingFormat::kPacked}},
        DiffCase{9,
                 {base::TransportKind::kMmio, sim::NotifyMode::kThread, 0,
                  base::RingFormat::kPacked}},
        DiffCase{10,
                 {base::TransportKind::kPci, sim::NotifyMode::kThread, 60,
                  base::RingFormat::kPacked}},
        DiffCase{11,
                 {base::TransportKind::kMmio, sim::NotifyMode::kInline, 60,
                  base::RingFormat::kPacked}}),
    [](const auto& info) {
      std::string name =
          "Seed" + std::to_string(info.param.seed) + info.param.config.Name();
      if (info.param.entry_cache_size < 64) name += "TinyCache";
      return name;
    });

}  // namespace
}  // namespace vfs_test
