// The errors POSIX calls report on the share: each errno from the situation
// that defines it (ENOENT, EEXIST, ENOTDIR, EISDIR, ENOTEMPTY is in
// directory_scenarios.cc, EBADF, ENAMETOOLONG).
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include "base/abi.h"
#include "conformance/file_helpers.h"
#include "conformance/scenario.h"
#include "vfs/posix.h"
#include "vfs/stat.h"

namespace conformance {
namespace {

using base::kOpenCreate;
using base::kOpenDirectory;
using base::kOpenExclusive;
using base::kOpenReadOnly;
using base::kOpenReadWrite;
using base::kOpenWriteOnly;

SCENARIO(errors_for_missing_names) {
  const PathText missing = ctx.Path("errors_missing");
  const PathText below = ctx.Path("errors_missing/below");
  vfs::Stat st;
  char buffer[16];
  CHECK_ERRNO(vfs::open(missing, kOpenReadOnly), ENOENT);
  CHECK_ERRNO(vfs::open(below, kOpenCreate | kOpenWriteOnly, 0644), ENOENT);
  CHECK_ERRNO(vfs::stat(missing, &st), ENOENT);
  CHECK_ERRNO(vfs::lstat(below, &st), ENOENT);
  CHECK_ERRNO(vfs::unlink(missing), ENOENT);
  CHECK_ERRNO(vfs::rmdir(missing), ENOENT);
  CHECK_ERRNO(vfs::mkdir(below, 0755), ENOENT);
  CHECK_ERRNO(vfs::readlink(missing, buffer, sizeof(buffer)), ENOENT);
  CHECK_ERRNO(vfs::chmod(missing, 0644), ENOENT);
  CHECK_ERRNO(vfs::symlink("x", below), ENOENT);
  CHECK_ERRNO(vfs::open("", kOpenReadOnly), ENOENT);
  // Nothing was created on the way.
  CHECK_ERRNO(vfs::stat(missing, &st), ENOENT);
}

SCENARIO(errors_for_existing_names) {
  const PathText file = ctx.Path("errors_existing_file");
  const PathText dir = ctx.Path("errors_existing_dir");
  CHECK_OK(WriteFile(file, "exists"));
  CHECK_OK(vfs::mkdir(dir, 0755));
  CHECK_ERRNO(
      vfs::open(file, kOpenCreate | kOpenExclusive | kOpenWriteOnly, 0644),
      EEXIST);
  CHECK_ERRNO(
      vfs::open(dir, kOpenCreate | kOpenExclusive | kOpenWriteOnly, 0644),
      EEXIST);
  CHECK_ERRNO(vfs::mkdir(file, 0755), EEXIST);
  CHECK_ERRNO(vfs::mkdir(dir, 0755), EEXIST);
  CHECK_ERRNO(vfs::symlink("anything", file), EEXIST);
  CHECK_ERRNO(vfs::link(file, dir), EEXIST);
  // The file is untouched.
  char buffer[16];
  CHECK_EQ(ReadFile(file, buffer, sizeof(buffer)), int64_t{6});
  CHECK_OK(vfs::unlink(file));
  CHECK_OK(vfs::rmdir(dir));
}

SCENARIO(errors_for_wrong_file_types) {
  const PathText file = ctx.Path("errors_type_file");
  const PathText dir = ctx.Path("errors_type_dir");
  const PathText through_file = ctx.Path("errors_type_file/x");
  CHECK_OK(WriteFile(file, "a file"));
  CHECK_OK(vfs::mkdir(dir, 0755));
  vfs::Stat st;

  // ENOTDIR: a file where a directory is needed.
  CHECK_ERRNO(vfs::open(through_file, kOpenReadOnly), ENOTDIR);
  CHECK_ERRNO(vfs::open(through_file, kOpenCreate | kOpenWriteOnly, 0644),
              ENOTDIR);
  CHECK_ERRNO(vfs::stat(through_file, &st), ENOTDIR);
  CHECK_ERRNO(vfs::mkdir(through_file, 0755), ENOTDIR);
  CHECK_ERRNO(vfs::open(file, kOpenReadOnly | kOpenDirectory), ENOTDIR);
  CHECK_ERRNO(vfs::rmdir(file), ENOTDIR);
  CHECK_ERRNO(vfs::chdir(file), ENOTDIR);
  const int file_fd = vfs::open(file, kOpenReadOnly);
  CHECK_OK(file_fd);
  alignas(8) char entries[512];
  const int64_t listed = vfs::getdents64(file_fd, entries, sizeof(entries));
  CHECK_OK(vfs::close(file_fd));
  CHECK_ERRNO(listed, ENOTDIR);

  // EISDIR: a directory where a file is needed.
  CHECK_ERRNO(vfs::open(dir, kOpenWriteOnly), EISDIR);
  CHECK_ERRNO(vfs::open(dir, kOpenReadWrite), EISDIR);
  CHECK_ERRNO(vfs::unlink(dir), EISDIR);
  CHECK_ERRNO(vfs::truncate(dir, 0), EISDIR);
  const int dir_fd = vfs::open(dir, kOpenReadOnly);
  CHECK_OK(dir_fd);
  char buffer[16];
  const int64_t read = vfs::read(dir_fd, buffer, sizeof(buffer));
  const int64_t pread = vfs::pread(dir_fd, buffer, sizeof(buffer), 0);
  CHECK_OK(vfs::close(dir_fd));
  CHECK_ERRNO(read, EISDIR);
  CHECK_ERRNO(pread, EISDIR);

  CHECK_OK(vfs::unlink(file));
  CHECK_OK(vfs::rmdir(dir));
}

SCENARIO(errors_for_wrong_access_modes) {
  const PathText file = ctx.Path("errors_access_mode");
  CHECK_OK(WriteFile(file, "0123456789"));
  char buffer[16];
  const int reader = vfs::open(file, kOpenReadOnly);
  CHECK_OK(reader);
  const int writer = vfs::open(file, kOpenWriteOnly);
  CHECK_OK(writer);
  // EBADF: the descriptor is not open for that.
  const int64_t write_to_reader = vfs::write(reader, "x", 1);
  const int64_t pwrite_to_reader = vfs::pwrite(reader, "x", 1, 0);
  const int64_t read_from_writer = vfs::read(writer, buffer, sizeof(buffer));
  const int64_t pread_from_writer =
      vfs::pread(writer, buffer, sizeof(buffer), 0);
  const int64_t read_from_reader = vfs::read(reader, buffer, sizeof(buffer));
  CHECK_OK(vfs::close(reader));
  CHECK_OK(vfs::close(writer));
  CHECK_ERRNO(write_to_reader, EBADF);
  CHECK_ERRNO(pwrite_to_reader, EBADF);
  CHECK_ERRNO(read_from_writer, EBADF);
  CHECK_ERRNO(pread_from_writer, EBADF);
  CHECK_EQ(read_from_reader, int64_t{10});  // Nothing was written.

  // EBADF: not an open descriptor at all.
  vfs::Stat st;
  CHECK_ERRNO(vfs::read(reader, buffer, sizeof(buffer)), EBADF);
  CHECK_ERRNO(vfs::close(reader), EBADF);
  CHECK_ERRNO(vfs::fstat(-1, &st), EBADF);
  CHECK_ERRNO(vfs::write(100000, "x", 1), EBADF);

  // The invalid access mode O_ACCMODE.
  CHECK_ERRNO(vfs::open(file, base::kOpenAccessMode), EINVAL);
  CHECK_OK(vfs::unlink(file));
}

SCENARIO(errors_for_names_too_long) {
  // NAME_MAX bytes is a name; one more is not.
  std::vector<char> name(base::kNameMax + 1, 'n');
  name.back() = '\0';
  const PathText longest = ctx.Path("%s", name.data());
  CHECK_OK(WriteFile(longest, "long"));
  vfs::Stat st;
  CHECK_OK(vfs::stat(longest, &st));
  CHECK_OK(vfs::unlink(longest));

  name.back() = 'n';
  name.push_back('\0');
  const PathText too_long = ctx.Path("%s", name.data());
  CHECK_ERRNO(vfs::open(too_long, kOpenCreate | kOpenWriteOnly, 0644),
              ENAMETOOLONG);
  CHECK_ERRNO(vfs::stat(too_long, &st), ENAMETOOLONG);
  CHECK_ERRNO(vfs::mkdir(too_long, 0755), ENAMETOOLONG);
  CHECK_ERRNO(vfs::symlink("x", too_long), ENAMETOOLONG);

  // A path of PATH_MAX bytes or more (with its NUL), each component short.
  const char* root = ctx.environment().root;
  std::vector<char> path(root, root + strlen(root));
  while (path.size() < base::kPathMax + 8) {
    path.push_back('/');
    path.push_back('d');
  }
  path.push_back('\0');
  CHECK_ERRNO(vfs::stat(path.data(), &st), ENAMETOOLONG);
  CHECK_ERRNO(vfs::open(path.data(), kOpenCreate | kOpenWriteOnly, 0644),
              ENAMETOOLONG);
  // Nothing was created.
  CHECK_ERRNO(vfs::stat(ctx.Path("d"), &st), ENOENT);
}

}  // namespace
}  // namespace conformance
