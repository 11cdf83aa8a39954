// Attributes: what stat, lstat and fstat report about files and directories,
// chmod, and statfs. Only what both devices define: QEMU's virtiofsd and the
// simulated device report the host's own inode numbers, block sizes and
// filesystem figures, which differ from host to host.
#include <cerrno>
#include <cstdint>
#include <vector>

#include "base/abi.h"
#include "conformance/file_helpers.h"
#include "conformance/scenario.h"
#include "vfs/fuse_fs.h"
#include "vfs/posix.h"
#include "vfs/stat.h"

namespace conformance {
namespace {

using base::kOpenCreate;
using base::kOpenExclusive;
using base::kOpenReadWrite;

bool NotBefore(const vfs::Timespec& later, const vfs::Timespec& earlier) {
  return later.tv_sec > earlier.tv_sec ||
         (later.tv_sec == earlier.tv_sec && later.tv_nsec >= earlier.tv_nsec);
}

SCENARIO(stat_reports_type_size_mode_and_links) {
  UmaskScope umask(022);
  const PathText dir = ctx.Path("stat_dir");
  const PathText file = ctx.Path("stat_dir/file");
  const PathText masked = ctx.Path("stat_dir/masked");
  CHECK_OK(vfs::mkdir(dir, 0750));
  const int fd =
      vfs::open(file, kOpenCreate | kOpenExclusive | kOpenReadWrite, 0640);
  CHECK_OK(fd);

  vfs::Stat st, dir_st;
  CHECK_OK(vfs::stat(dir, &dir_st));
  CHECK_EQ(dir_st.st_mode, base::kTypeDirectory | 0750u);
  CHECK_TRUE(dir_st.st_nlink >= 1);  // 2 on most hosts, 1 on some (btrfs).
  CHECK_OK(vfs::fstat(fd, &st));
  CHECK_EQ(st.st_mode, base::kTypeRegular | 0640u);
  CHECK_EQ(st.st_nlink, 1u);
  CHECK_EQ(st.st_size, int64_t{0});
  CHECK_EQ(st.st_uid, dir_st.st_uid);  // Both made with the same credentials.
  CHECK_EQ(st.st_gid, dir_st.st_gid);
  CHECK_EQ(st.st_dev, dir_st.st_dev);  // One mount, one device number.
  CHECK_TRUE(st.st_ino != dir_st.st_ino);
  CHECK_TRUE(st.st_mtim.tv_sec > 0);
  CHECK_TRUE(st.st_ctim.tv_sec > 0);
  const vfs::Timespec created_mtime = st.st_mtim;

  // Writing changes the size (and blocks once on disk) and never moves mtime
  // back.
  std::vector<uint8_t> data(5000);
  FillPattern(data, 0, 4);
  CHECK_EQ(WriteAll(fd, data.data(), data.size()), int64_t{5000});
  CHECK_OK(vfs::fsync(fd));
  vfs::Stat by_fd, by_path;
  CHECK_OK(vfs::fstat(fd, &by_fd));
  CHECK_OK(vfs::stat(file, &by_path));
  CHECK_EQ(by_fd.st_size, int64_t{5000});
  CHECK_TRUE(by_fd.st_blocks > 0);
  CHECK_TRUE(NotBefore(by_fd.st_mtim, created_mtime));
  CHECK_EQ(by_path.st_ino, by_fd.st_ino);
  CHECK_EQ(by_path.st_mode, by_fd.st_mode);
  CHECK_EQ(by_path.st_size, by_fd.st_size);
  CHECK_EQ(by_path.st_nlink, by_fd.st_nlink);
  CHECK_EQ(by_path.st_dev, by_fd.st_dev);
  CHECK_TRUE(by_path.st_mtim == by_fd.st_mtim);

  // chmod and fchmod change the permission bits, not the type; ctime does not
  // go back.
  CHECK_OK(vfs::chmod(file, 0604));
  CHECK_OK(vfs::stat(file, &st));
  CHECK_EQ(st.st_mode, base::kTypeRegular | 0604u);
  CHECK_TRUE(NotBefore(st.st_ctim, by_fd.st_ctim));
  CHECK_OK(vfs::fchmod(fd, 0600));
  CHECK_OK(vfs::fstat(fd, &st));
  CHECK_EQ(st.st_mode, base::kTypeRegular | 0600u);
  CHECK_OK(vfs::close(fd));

  // The umask applies to what is created.
  const int masked_fd =
      vfs::open(masked, kOpenCreate | kOpenExclusive | kOpenReadWrite, 0666);
  CHECK_OK(masked_fd);
  CHECK_OK(vfs::close(masked_fd));
  CHECK_OK(vfs::stat(masked, &st));
  CHECK_EQ(st.st_mode, base::kTypeRegular | 0644u);

  // lstat of something that is not a link is stat.
  CHECK_OK(vfs::lstat(file, &by_path));
  CHECK_EQ(by_path.st_mode, base::kTypeRegular | 0600u);
  CHECK_EQ(vfs::access(file, base::kAccessRead), 0);

  // The share is a device of its own, apart from the root filesystem.
  vfs::Stat root_st, share_st;
  CHECK_OK(vfs::stat("/", &root_st));
  CHECK_OK(vfs::stat(ctx.environment().root, &share_st));
  CHECK_EQ(share_st.st_mode & base::kTypeMask, base::kTypeDirectory);
  CHECK_EQ(share_st.st_dev, dir_st.st_dev);
  CHECK_TRUE(share_st.st_dev != root_st.st_dev);

  CHECK_OK(vfs::unlink(masked));
  CHECK_OK(vfs::unlink(file));
  CHECK_OK(vfs::rmdir(dir));
}

SCENARIO(statfs_describes_a_fuse_filesystem) {
  vfs::StatFs fs;
  CHECK_OK(vfs::statfs(ctx.environment().root, &fs));
  CHECK_EQ(fs.f_type, vfs::FuseFs::kMagic);
  CHECK_TRUE(fs.f_bsize > 0);
  CHECK_TRUE(fs.f_blocks > 0);
  CHECK_TRUE(fs.f_bfree <= fs.f_blocks);
  CHECK_TRUE(fs.f_bavail <= fs.f_bfree);
  CHECK_TRUE(fs.f_ffree <= fs.f_files);
  CHECK_TRUE(fs.f_namelen > 0);
  // By descriptor, the same filesystem.
  const int fd = vfs::open(ctx.environment().root,
                           base::kOpenReadOnly | base::kOpenDirectory);
  CHECK_OK(fd);
  vfs::StatFs by_fd;
  const int result = vfs::fstatfs(fd, &by_fd);
  CHECK_OK(vfs::close(fd));
  CHECK_OK(result);
  CHECK_EQ(by_fd.f_type, fs.f_type);
  CHECK_EQ(by_fd.f_bsize, fs.f_bsize);
  CHECK_EQ(by_fd.f_blocks, fs.f_blocks);
}

}  // namespace
}  // namespace conformance
