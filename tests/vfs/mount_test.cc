// The mount table through vfs::: crossing mount points both ways, unmount
// rules, and a filesystem seeing its nodes released when the VFS lets go (as
// FUSE FORGET needs).
#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>
#include <string>

#include "gtest/gtest.h"
#include "tests/vfs/vfs_fixture.h"
#include "vfs/memfs.h"
#include "vfs/open_file.h"

namespace vfs_test {
namespace {

using MountTest = VfsTest;

// A read-only filesystem whose directory makes a fresh node for every lookup,
// and counts nodes alive and released, like a FUSE client's node table.
struct Counters {
  std::atomic<int> alive{0};
  std::atomic<int> released{0};
};

class CountedFile : public vfs::Node {
 public:
  CountedFile(base::Platform& platform, Counters& counters)
      : Node(base::kTypeRegular), platform_(platform), counters_(counters) {
    ++counters_.alive;
  }
  ~CountedFile() override { --counters_.alive; }

  vfs::Result<vfs::Stat> GetAttr() override {
    vfs::Stat st;
    st.st_ino = 42;
    st.st_mode = S_IFREG | 0444;
    st.st_nlink = 1;
    st.st_size = 7;
    return st;
  }
  vfs::Result<vfs::RefPtr<vfs::OpenFile>> Open(int flags) override {
    return vfs::RefPtr<vfs::OpenFile>(vfs::MakeRef<vfs::OpenFile>(
        platform_, vfs::RefPtr<vfs::Node>(this), flags));
  }

 protected:
  void OnLastReference() override {
    ++counters_.released;
    delete this;
  }

 private:
  base::Platform& platform_;
  Counters& counters_;
};

class CountedDir : public vfs::Node {
 public:
  CountedDir(base::Platform& platform, Counters& counters)
      : Node(base::kTypeDirectory), platform_(platform), counters_(counters) {}

  vfs::Result<vfs::Stat> GetAttr() override {
    vfs::Stat st;
    st.st_ino = 1;
    st.st_mode = S_IFDIR | 0555;
    st.st_nlink = 2;
    return st;
  }
  vfs::Result<vfs::RefPtr<vfs::Node>> Lookup(std::string_view name) override {
    if (name != "file") return vfs::Error{ENOENT};
    return vfs::RefPtr<vfs::Node>(
        vfs::MakeRef<CountedFile>(platform_, counters_));
  }

 private:
  base::Platform& platform_;
  Counters& counters_;
};

TEST_F(MountTest, CrossingMountPointsBothWays) {
  ASSERT_EQ(vfs::mkdir("/mnt", 0755), 0);
  WriteFile("/mnt/hidden", "under");
  ASSERT_EQ(vfs::mount("/mnt", vfs::MemFs::Create(platform_)), 0);
  vfs::Stat st, root, mnt, up;
  EXPECT_EQ(vfs::stat("/mnt/hidden", &st), -ENOENT);
  WriteFile("/mnt/inside", "over");
  EXPECT_EQ(ReadFile("/mnt/inside"), "over");
  ASSERT_EQ(vfs::stat("/", &root), 0);
  ASSERT_EQ(vfs::stat("/mnt", &mnt), 0);
  EXPECT_NE(mnt.st_dev, root.st_dev);
  ASSERT_EQ(vfs::stat("/mnt/inside", &st), 0);
  EXPECT_EQ(st.st_dev, mnt.st_dev);
  // ".." at the mounted root leaves for the directory holding the mount point.
  ASSERT_EQ(vfs::stat("/mnt/..", &up), 0);
  EXPECT_EQ(up.st_ino, root.st_ino);
  EXPECT_EQ(up.st_dev, root.st_dev);
  EXPECT_EQ(ReadFile("/mnt/../tmp/../mnt/inside"), "over");
  ASSERT_EQ(vfs::chdir("/mnt"), 0);
  EXPECT_EQ(ReadFile("inside"), "over");
  ASSERT_EQ(vfs::stat("..", &up), 0);
  EXPECT_EQ(up.st_ino, root.st_ino);
  char cwd[64];
  EXPECT_GT(vfs::getcwd(cwd, sizeof(cwd)), 0);
  EXPECT_STREQ(cwd, "/mnt");
  // A symlink on one filesystem into another.
  ASSERT_EQ(vfs::symlink("/mnt/inside", "/tmp/to_mnt"), 0);
  EXPECT_EQ(ReadFile("/tmp/to_mnt"), "over");
  ASSERT_EQ(vfs::symlink("../tmp", "/mnt/to_tmp"), 0);
  ASSERT_EQ(vfs::stat("/mnt/to_tmp", &st), 0);
  EXPECT_EQ(st.st_dev, root.st_dev);
  // Moving or linking between filesystems is EXDEV.
  EXPECT_EQ(vfs::rename("/mnt/inside", "/tmp/inside"), -EXDEV);
  EXPECT_EQ(vfs::link("/mnt/inside", "/tmp/inside"), -EXDEV);
  EXPECT_EQ(vfs::rename("/tmp", "/mnt/tmp"), -EXDEV);
  // The mount point itself cannot be removed or renamed.
  ASSERT_EQ(vfs::chdir("/"), 0);
  EXPECT_EQ(vfs::rmdir("/mnt"), -EBUSY);
  EXPECT_EQ(vfs::rename("/mnt", "/elsewhere"), -EBUSY);
  EXPECT_EQ(vfs::mkdir("/other", 0755), 0);
  EXPECT_EQ(vfs::rename("/other", "/mnt"), -EBUSY);
  // Unmounted, the covered directory shows again.
  ASSERT_EQ(vfs::umount("/mnt"), 0);
  EXPECT_EQ(ReadFile("/mnt/hidden"), "under");
  EXPECT_EQ(vfs::stat("/mnt/inside", &st), -ENOENT);
}

TEST_F(MountTest, UnmountIsRefusedWhileInUse) {
  ASSERT_EQ(vfs::mkdir("/mnt", 0755), 0);
  EXPECT_EQ(vfs::umount("/mnt"), -EINVAL);
  EXPECT_EQ(vfs::umount("/"), -EBUSY);
  EXPECT_EQ(vfs::umount("/missing"), -ENOENT);
  ASSERT_EQ(vfs::mount("/mnt", vfs::MemFs::Create(platform_)), 0);
  WriteFile("/mnt/f", "x");

  int fd = vfs::open("/mnt/f", O_RDONLY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(vfs::umount("/mnt"), -EBUSY);
  int dup = vfs::dup(fd);
  ASSERT_EQ(vfs::close(fd), 0);
  EXPECT_EQ(vfs::umount("/mnt"), -EBUSY);
  ASSERT_EQ(vfs::close(dup), 0);

  ASSERT_EQ(vfs::mkdir("/mnt/sub", 0755), 0);
  ASSERT_EQ(vfs::chdir("/mnt/sub"), 0);
  EXPECT_EQ(vfs::umount("/mnt"), -EBUSY);
  ASSERT_EQ(vfs::chdir("/tmp"), 0);

  ASSERT_EQ(vfs::mount("/mnt/sub", vfs::MemFs::Create(platform_)), 0);
  EXPECT_EQ(vfs::umount("/mnt"), -EBUSY);
  ASSERT_EQ(vfs::umount("/mnt/sub"), 0);
  EXPECT_EQ(vfs::umount("/mnt"), 0);
  EXPECT_EQ(vfs::umount("/mnt"), -EINVAL);
}

// A walk that fails half way (stat, access, chmod take no Location) keeps
// nothing of what it passed: the mount it crossed is free.
TEST_F(MountTest, FailedWalksLeaveTheMountUnused) {
  ASSERT_EQ(vfs::mkdir("/mnt", 0755), 0);
  ASSERT_EQ(vfs::mount("/mnt", vfs::MemFs::Create(platform_)), 0);
  ASSERT_EQ(vfs::mkdir("/mnt/d", 0755), 0);
  WriteFile("/mnt/d/f", "x");
  vfs::Stat st;
  EXPECT_EQ(vfs::stat("/mnt/missing", &st), -ENOENT);
  EXPECT_EQ(vfs::stat("/mnt/d/missing/deeper", &st), -ENOENT);
  EXPECT_EQ(vfs::stat("/mnt/d/f/", &st), -ENOTDIR);
  EXPECT_EQ(vfs::stat("/mnt/d/f/x", &st), -ENOTDIR);
  EXPECT_EQ(vfs::access("/mnt/d/nothing", F_OK), -ENOENT);
  EXPECT_EQ(vfs::chmod("/mnt/d/../gone", 0600), -ENOENT);
  ASSERT_EQ(vfs::stat("/mnt/d/f", &st), 0);
  EXPECT_EQ(vfs::umount("/mnt"), 0);
}

// A walk holds the components it passes with the mount each is on only where
// it crossed into one (the others are on their parent's), and makes them
// Locations (a deep path, a symlink, a chdir) with that mount: st_dev says
// which filesystem answered, and a Location left behind keeps its own mount
// busy, not the one above.
TEST_F(MountTest, DeepWalksAcrossMountsKeepEachComponentsMount) {
  ASSERT_EQ(vfs::mkdir("/mnt", 0755), 0);
  ASSERT_EQ(vfs::mount("/mnt", vfs::MemFs::Create(platform_)), 0);
  ASSERT_EQ(vfs::mkdir("/mnt/sub", 0755), 0);  // On the outer mount.
  ASSERT_EQ(vfs::mkdir("/mnt/sub/in", 0755), 0);
  ASSERT_EQ(vfs::mount("/mnt/sub/in", vfs::MemFs::Create(platform_)), 0);
  // Twelve levels below the inner mount: more than a walk holds unmade.
  std::string deep = "/mnt/sub/in";
  for (int i = 0; i < 12; ++i) {
    deep += "/d" + std::to_string(i);
    ASSERT_EQ(vfs::mkdir(deep.c_str(), 0755), 0);
  }
  WriteFile((deep + "/f").c_str(), "deep");
  vfs::Stat root, outer, inner, st;
  ASSERT_EQ(vfs::stat("/", &root), 0);
  ASSERT_EQ(vfs::stat("/mnt/sub", &outer), 0);
  ASSERT_EQ(vfs::stat("/mnt/sub/in", &inner), 0);
  ASSERT_NE(outer.st_dev, root.st_dev);
  ASSERT_NE(inner.st_dev, outer.st_dev);
  ASSERT_EQ(vfs::stat((deep + "/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_dev, inner.st_dev);
  // Symlinks at the bottom whose walks make Locations of all they passed, then
  // climb back through them: to "sub" (on the outer mount, though the walk
  // went on into the inner one) and to the root.
  auto ups = [](int n) {
    std::string path = "..";
    for (int i = 1; i < n; ++i) path += "/..";
    return path;
  };
  ASSERT_EQ(vfs::symlink(ups(13).c_str(), (deep + "/sub").c_str()), 0);
  ASSERT_EQ(vfs::symlink(ups(15).c_str(), (deep + "/top").c_str()), 0);
  ASSERT_EQ(vfs::stat((deep + "/sub").c_str(), &st), 0);
  EXPECT_EQ(st.st_ino, outer.st_ino);
  EXPECT_EQ(st.st_dev, outer.st_dev);
  ASSERT_EQ(vfs::stat((deep + "/top").c_str(), &st), 0);
  EXPECT_EQ(st.st_ino, root.st_ino);
  EXPECT_EQ(st.st_dev, root.st_dev);
  // A current directory down there holds the inner mount, and through it the
  // outer one.
  ASSERT_EQ(vfs::chdir(deep.c_str()), 0);
  EXPECT_EQ(ReadFile("f"), "deep");
  char cwd[256];
  ASSERT_GT(vfs::getcwd(cwd, sizeof(cwd)), 0);
  EXPECT_EQ(std::string(cwd), deep);
  ASSERT_EQ(vfs::stat(ups(13).c_str(), &st), 0);
  EXPECT_EQ(st.st_dev, outer.st_dev);
  EXPECT_EQ(vfs::umount("/mnt/sub/in"), -EBUSY);
  EXPECT_EQ(vfs::umount("/mnt"), -EBUSY);
  ASSERT_EQ(vfs::chdir("/tmp"), 0);
  EXPECT_EQ(vfs::umount("/mnt/sub/in"), 0);
  EXPECT_EQ(vfs::umount("/mnt"), 0);
}

TEST_F(MountTest, MountRules) {
  WriteFile("/tmp/file", "x");
  EXPECT_EQ(vfs::mount("/tmp/file", vfs::MemFs::Create(platform_)), -ENOTDIR);
  EXPECT_EQ(vfs::mount("/missing", vfs::MemFs::Create(platform_)), -ENOENT);
  EXPECT_EQ(vfs::mount("/", vfs::MemFs::Create(platform_)), -EBUSY);
  EXPECT_EQ(vfs::mount("/tmp", nullptr), -EINVAL);
  // Mounts stack: the newest covers the older ones until it is unmounted.
  ASSERT_EQ(vfs::mkdir("/mnt", 0755), 0);
  ASSERT_EQ(vfs::mount("/mnt", vfs::MemFs::Create(platform_)), 0);
  WriteFile("/mnt/level", "one");
  ASSERT_EQ(vfs::mount("/mnt", vfs::MemFs::Create(platform_)), 0);
  WriteFile("/mnt/level", "two");
  EXPECT_EQ(ReadFile("/mnt/level"), "two");
  ASSERT_EQ(vfs::umount("/mnt"), 0);
  EXPECT_EQ(ReadFile("/mnt/level"), "one");
  // Mounting through a symlink mounts on its target.
  ASSERT_EQ(vfs::symlink("/mnt", "/tmp/link"), 0);
  ASSERT_EQ(vfs::mount("/tmp/link", vfs::MemFs::Create(platform_)), 0);
  vfs::Stat st;
  EXPECT_EQ(vfs::stat("/mnt/level", &st), -ENOENT);
  ASSERT_EQ(vfs::umount("/tmp/link"), 0);
  EXPECT_EQ(ReadFile("/mnt/level"), "one");
}

TEST_F(MountTest, NodesAreReleasedWhenTheVfsLetsGo) {
  Counters counters;
  ASSERT_EQ(vfs::mkdir("/counted", 0755), 0);
  ASSERT_EQ(
      vfs::mount("/counted", vfs::MakeRef<CountedDir>(platform_, counters)), 0);
  vfs::Stat st;
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(vfs::stat("/counted/file", &st), 0);
    EXPECT_EQ(st.st_size, 7);
  }
  EXPECT_EQ(counters.alive, 0);
  EXPECT_EQ(counters.released, 5);
  EXPECT_EQ(vfs::stat("/counted/nothing", &st), -ENOENT);
  EXPECT_EQ(vfs::mkdir("/counted/new", 0755), -EPERM);
  EXPECT_EQ(vfs::open("/counted/file", O_RDONLY | O_DIRECTORY), -ENOTDIR);
  int fd = vfs::open("/counted/file", O_RDONLY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(counters.alive, 1);  // The open file holds its node.
  char buffer[8];
  EXPECT_EQ(vfs::read(fd, buffer, sizeof(buffer)), -EINVAL);  // No read hook.
  EXPECT_EQ(vfs::fstat(fd, &st), 0);
  EXPECT_EQ(vfs::umount("/counted"), -EBUSY);
  ASSERT_EQ(vfs::close(fd), 0);
  EXPECT_EQ(counters.alive, 0);
  EXPECT_EQ(counters.released,
            7);  // Five stats, the O_DIRECTORY try, the open.
  EXPECT_EQ(vfs::umount("/counted"), 0);
}

TEST_F(MountTest, ShutdownReleasesMountsAndOpenFiles) {
  Counters counters;
  ASSERT_EQ(vfs::mkdir("/counted", 0755), 0);
  ASSERT_EQ(
      vfs::mount("/counted", vfs::MakeRef<CountedDir>(platform_, counters)), 0);
  ASSERT_GE(vfs::open("/counted/file", O_RDONLY), 0);
  ASSERT_EQ(vfs::chdir("/counted"), 0);
  EXPECT_EQ(counters.alive, 1);
  kernel_->Teardown();
  EXPECT_EQ(counters.alive, 0);
}

}  // namespace
}  // namespace vfs_test
