#include "sim/inode_table.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sim/handle_table.h"
#include "sim/host_calls.h"
#include "tests/sim/fuse_test_util.h"

namespace sim {
namespace {

struct Opened {
  int fd;
  struct stat st;
};

Opened OpenPath(const std::string& path) {
  Opened o;
  o.fd = open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  EXPECT_GE(o.fd, 0) << path;
  EXPECT_EQ(fstat(o.fd, &o.st), 0);
  return o;
}

class InodeTableTest : public ::testing::Test {
 protected:
  InodeTableTest() {
    share_.WriteFile("a", "a");
    share_.WriteFile("b", "b");
    EXPECT_EQ(
        link(share_.SharePath("a").c_str(), share_.SharePath("a_link").c_str()),
        0);
    Opened root = OpenPath(share_.share());
    table_ = std::make_unique<InodeTable>(root.fd, root.st);
  }

  uint64_t RefPath(const std::string& rel) {
    Opened o = OpenPath(share_.SharePath(rel));
    return table_->Ref(o.fd, o.st);
  }

  testing::TempShare share_;
  std::unique_ptr<InodeTable> table_;
};

TEST(HandleTableTest, PacksIndexAndGeneration) {
  HandleTable<int> table;
  const uint64_t h = table.Insert(std::make_shared<int>(7));
  EXPECT_NE(h, 0u);
  EXPECT_GE(HandleTable<int>::GenerationOf(h), 1u);
  std::shared_ptr<int> out;
  ASSERT_EQ(table.Get(h, &out), 0);
  EXPECT_EQ(*out, 7);
  EXPECT_EQ(table.Get(0, &out), EINVAL);
  EXPECT_EQ(table.Get(HandleTable<int>::Pack(999, 1), &out), EINVAL);
  EXPECT_EQ(table.Get(h + (1ull << 32), &out), ESTALE);  // wrong generation
  table.Remove(h);
  EXPECT_EQ(table.Get(h, &out), ESTALE);
  const uint64_t reused = table.Insert(std::make_shared<int>(8));
  EXPECT_EQ(HandleTable<int>::IndexOf(reused), HandleTable<int>::IndexOf(h));
  EXPECT_NE(reused, h);
  EXPECT_EQ(table.Get(h, &out), ESTALE);
}

TEST(HandleTableTest, FindLendsTheTablesObjectWithoutAReference) {
  HandleTable<int> table;
  const uint64_t h = table.Insert(std::make_shared<int>(7));
  int error = -1;
  const std::shared_ptr<int>* found = table.Find(h, &error);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(error, 0);
  EXPECT_EQ(**found, 7);
  EXPECT_EQ(found->use_count(), 1);  // Only the table holds it.
  EXPECT_EQ(table.Find(0, &error), nullptr);
  EXPECT_EQ(error, EINVAL);
  EXPECT_EQ(table.Find(h + (1ull << 32), &error), nullptr);
  EXPECT_EQ(error, ESTALE);
  // Remove hands the table's reference over.
  std::shared_ptr<int> removed = table.Remove(h);
  ASSERT_NE(removed, nullptr);
  EXPECT_EQ(removed.use_count(), 1);
  EXPECT_EQ(table.Find(h, &error), nullptr);
  EXPECT_EQ(error, ESTALE);
}

TEST_F(InodeTableTest, RootIsNodeOneAndNeverFreed) {
  std::shared_ptr<Inode> root;
  ASSERT_EQ(table_->Get(InodeTable::kRootId, &root), 0);
  EXPECT_TRUE(S_ISDIR(root->type));
  table_->Forget(InodeTable::kRootId, 1000);
  EXPECT_EQ(table_->Get(InodeTable::kRootId, &root), 0);
  EXPECT_EQ(table_->size(), 1u);
}

TEST_F(InodeTableTest, ZeroForgedAndOutOfRangeIdsAreInvalid) {
  std::shared_ptr<Inode> inode;
  EXPECT_EQ(table_->Get(0, &inode), EINVAL);
  EXPECT_EQ(table_->Get(12345, &inode), EINVAL);
  EXPECT_EQ(table_->Get(~0ull, &inode), EINVAL);
  EXPECT_EQ(table_->Get(reinterpret_cast<uint64_t>(&inode), &inode), EINVAL);
}

TEST_F(InodeTableTest, LookupCountsAndForgetFreesAtZero) {
  const uint64_t a = RefPath("a");
  EXPECT_EQ(RefPath("a"), a);
  EXPECT_EQ(table_->lookup_count(a), 2u);
  EXPECT_EQ(table_->size(), 2u);
  table_->Forget(a, 1);
  std::shared_ptr<Inode> inode;
  EXPECT_EQ(table_->Get(a, &inode), 0);
  table_->Forget(a, 1);
  EXPECT_EQ(table_->Get(a, &inode), ESTALE);
  EXPECT_EQ(table_->size(), 1u);
  // A new entry in the freed slot gets a different id; the old one stays stale.
  const uint64_t b = RefPath("b");
  EXPECT_NE(b, a);
  EXPECT_EQ(table_->Get(a, &inode), ESTALE);
}

TEST_F(InodeTableTest, AnInodeHeldOutlivesItsForgottenEntry) {
  const uint64_t a = RefPath("a");
  std::shared_ptr<Inode> held;
  ASSERT_EQ(table_->Get(a, &held), 0);
  const int fd = held->fd;
  table_->Forget(a, 1);
  std::shared_ptr<Inode> again;
  EXPECT_EQ(table_->Get(a, &again), ESTALE);
  EXPECT_EQ(table_->size(), 1u);
  // A handler that got the inode before the FORGET still reaches the host
  // inode through its descriptor; the last holder closes it.
  EXPECT_NE(fcntl(fd, F_GETFD), -1);
  struct stat st;
  EXPECT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_ino, held->ino);
  held.reset();
  EXPECT_EQ(fcntl(fd, F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);
}

TEST_F(InodeTableTest, HardLinksShareOneEntry) {
  const uint64_t a = RefPath("a");
  EXPECT_EQ(RefPath("a_link"), a);
  EXPECT_EQ(table_->lookup_count(a), 2u);
  EXPECT_EQ(table_->size(), 2u);
}

TEST_F(InodeTableTest, OverForgetClampsAndClearKeepsRoot) {
  const uint64_t a = RefPath("a");
  const uint64_t b = RefPath("b");
  table_->Forget(a, 99);
  std::shared_ptr<Inode> inode;
  EXPECT_EQ(table_->Get(a, &inode), ESTALE);
  table_->Clear();
  EXPECT_EQ(table_->Get(b, &inode), ESTALE);
  EXPECT_EQ(table_->Get(InodeTable::kRootId, &inode), 0);
  EXPECT_EQ(table_->size(), 1u);
}

bool IsOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }

TEST_F(InodeTableTest, FreedInodesCloseEachRunOfDescriptorsInOneCall) {
  // Entries at descriptors 1000-1002 and 1004-1005; 1003 is not the table's.
  constexpr int kBase = 1000;
  std::vector<uint64_t> ids;
  for (int i = 0; i < 6; ++i) {
    const std::string name = "f" + std::to_string(i);
    share_.WriteFile(name, name);
    Opened o = OpenPath(share_.SharePath(name));
    const int placed = fcntl(o.fd, F_DUPFD_CLOEXEC, kBase + i);
    ASSERT_EQ(placed, kBase + i);
    close(o.fd);
    if (i == 3) continue;  // The bystander stays open, outside the table.
    ids.push_back(table_->Ref(placed, o.st));
  }
  std::shared_ptr<Inode> held;  // 1005: a handler still holds it.
  ASSERT_EQ(table_->Get(ids.back(), &held), 0);
  ASSERT_EQ(held->fd, kBase + 5);

  const HostCallTotals before = ProcessHostCalls();
  {
    InodeTable::FreedInodes freed;
    for (uint64_t id : ids) table_->Forget(id, 1, &freed);
    EXPECT_TRUE(IsOpen(kBase)) << "closed before the batch ends";
  }
  // close_range(1000, 1002) and close(1004).
  EXPECT_EQ((ProcessHostCalls() - before).calls, 2u);
  for (int fd : {kBase, kBase + 1, kBase + 2, kBase + 4}) {
    EXPECT_FALSE(IsOpen(fd)) << fd;
  }
  EXPECT_TRUE(IsOpen(kBase + 3));
  EXPECT_TRUE(IsOpen(kBase + 5));
  EXPECT_EQ(table_->size(), 1u);
  held.reset();  // The last holder closes it.
  EXPECT_FALSE(IsOpen(kBase + 5));
  close(kBase + 3);
}

TEST_F(InodeTableTest, ConcurrentRefAndForgetBalance) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        const uint64_t id = RefPath(i % 2 ? "a" : "b");
        std::shared_ptr<Inode> inode;
        EXPECT_EQ(table_->Get(id, &inode), 0);
        table_->Forget(id, 1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(table_->size(), 1u);
}

}  // namespace
}  // namespace sim
