// Names: rename (over files and directories, across directories), hard links
// and their link counts, symbolic links followed or not.
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "base/abi.h"
#include "conformance/file_helpers.h"
#include "conformance/scenario.h"
#include "vfs/posix.h"
#include "vfs/stat.h"

namespace conformance {
namespace {

using base::kOpenAppend;
using base::kOpenNoFollow;
using base::kOpenReadOnly;
using base::kOpenWriteOnly;

// The content of `path` as text (up to 63 bytes), "<error>" when unreadable.
// A value (CHECK_EQ keeps a copy): a string_view of a temporary would dangle.
struct Content {
  char text[64];
  operator std::string_view() const { return text; }  // NOLINT: for Describe.
  friend bool operator==(const Content& content, std::string_view expected) {
    return std::string_view(content.text) == expected;
  }
};
Content ContentOf(const char* path) {
  Content content;
  const int64_t length = ReadFile(path, content.text, sizeof(content.text) - 1);
  if (length < 0) {
    // Not a file's content: CHECK_EQ then shows the error.
    memcpy(content.text, "<error>", 8);
  } else {
    content.text[length] = '\0';
  }
  return content;
}

SCENARIO(rename_files) {
  const PathText a = ctx.Path("rename_a");
  const PathText b = ctx.Path("rename_b");
  const PathText c = ctx.Path("rename_c");
  CHECK_OK(WriteFile(a, "alpha"));
  vfs::Stat st;
  CHECK_OK(vfs::stat(a, &st));
  const uint64_t alpha_ino = st.st_ino;

  CHECK_OK(vfs::rename(a, b));
  CHECK_ERRNO(vfs::stat(a, &st), ENOENT);
  CHECK_EQ(ContentOf(b), std::string_view("alpha"));
  CHECK_OK(vfs::stat(b, &st));
  CHECK_EQ(st.st_ino, alpha_ino);  // The same file under a new name.

  // Over an existing file: it is replaced, atomically.
  CHECK_OK(WriteFile(c, "charlie, longer"));
  CHECK_OK(vfs::rename(b, c));
  CHECK_ERRNO(vfs::stat(b, &st), ENOENT);
  CHECK_EQ(ContentOf(c), std::string_view("alpha"));
  CHECK_OK(vfs::stat(c, &st));
  CHECK_EQ(st.st_ino, alpha_ino);
  CHECK_EQ(st.st_size, int64_t{5});
  CHECK_EQ(st.st_nlink, 1u);

  // Onto itself: nothing happens.
  CHECK_OK(vfs::rename(c, c));
  CHECK_EQ(ContentOf(c), std::string_view("alpha"));

  // Into another directory and back.
  const PathText dir = ctx.Path("rename_dir");
  const PathText moved = ctx.Path("rename_dir/moved");
  CHECK_OK(vfs::mkdir(dir, 0755));
  CHECK_OK(vfs::rename(c, moved));
  CHECK_ERRNO(vfs::stat(c, &st), ENOENT);
  CHECK_EQ(ContentOf(moved), std::string_view("alpha"));

  // Missing sources and parents.
  CHECK_ERRNO(vfs::rename(a, b), ENOENT);
  CHECK_ERRNO(vfs::rename(moved, ctx.Path("rename_missing/x")), ENOENT);

  CHECK_OK(vfs::unlink(moved));
  CHECK_OK(vfs::rmdir(dir));
}

SCENARIO(rename_directories) {
  const PathText d1 = ctx.Path("rename_d1");
  const PathText d2 = ctx.Path("rename_d2");
  const PathText empty = ctx.Path("rename_empty");
  const PathText full = ctx.Path("rename_full");
  const PathText file = ctx.Path("rename_file");
  CHECK_OK(vfs::mkdir(d1, 0755));
  CHECK_OK(WriteFile(ctx.Path("rename_d1/inner"), "inner"));

  CHECK_OK(vfs::rename(d1, d2));
  vfs::Stat st;
  CHECK_ERRNO(vfs::stat(d1, &st), ENOENT);
  CHECK_EQ(ContentOf(ctx.Path("rename_d2/inner")), std::string_view("inner"));

  // Over an empty directory: replaced.
  CHECK_OK(vfs::mkdir(empty, 0755));
  CHECK_OK(vfs::rename(d2, empty));
  CHECK_ERRNO(vfs::stat(d2, &st), ENOENT);
  CHECK_EQ(ContentOf(ctx.Path("rename_empty/inner")),
           std::string_view("inner"));

  // Over a directory that is not empty, over a file, onto a directory, into
  // itself: refused, nothing moves.
  CHECK_OK(vfs::mkdir(full, 0755));
  CHECK_OK(WriteFile(ctx.Path("rename_full/x"), "x"));
  CHECK_OK(WriteFile(file, "file"));
  CHECK_ERRNO(vfs::rename(empty, full), ENOTEMPTY);
  CHECK_ERRNO(vfs::rename(empty, file), ENOTDIR);
  CHECK_ERRNO(vfs::rename(file, full), EISDIR);
  CHECK_ERRNO(vfs::rename(empty, ctx.Path("rename_empty/inside")), EINVAL);
  CHECK_EQ(ContentOf(ctx.Path("rename_empty/inner")),
           std::string_view("inner"));
  CHECK_EQ(ContentOf(file), std::string_view("file"));

  CHECK_OK(vfs::unlink(ctx.Path("rename_empty/inner")));
  CHECK_OK(vfs::rmdir(empty));
  CHECK_OK(vfs::unlink(ctx.Path("rename_full/x")));
  CHECK_OK(vfs::rmdir(full));
  CHECK_OK(vfs::unlink(file));
}

SCENARIO(hard_links_share_one_file) {
  const PathText original = ctx.Path("link_original");
  const PathText alias = ctx.Path("link_alias");
  CHECK_OK(WriteFile(original, "shared"));
  vfs::Stat st, alias_st;
  CHECK_OK(vfs::stat(original, &st));
  CHECK_EQ(st.st_nlink, 1u);

  CHECK_OK(vfs::link(original, alias));
  CHECK_OK(vfs::stat(original, &st));
  CHECK_OK(vfs::stat(alias, &alias_st));
  CHECK_EQ(st.st_nlink, 2u);
  CHECK_EQ(alias_st.st_nlink, 2u);
  CHECK_EQ(alias_st.st_ino, st.st_ino);
  CHECK_EQ(alias_st.st_dev, st.st_dev);

  // A write through one name shows through the other.
  const int fd = vfs::open(alias, kOpenWriteOnly | kOpenAppend);
  CHECK_OK(fd);
  CHECK_EQ(vfs::write(fd, "+more", 5), int64_t{5});
  CHECK_OK(vfs::close(fd));
  CHECK_EQ(ContentOf(original), std::string_view("shared+more"));
  CHECK_OK(vfs::stat(original, &st));
  CHECK_EQ(st.st_size, int64_t{11});

  // Refused: an existing name, a directory, a missing source.
  CHECK_ERRNO(vfs::link(original, alias), EEXIST);
  const PathText dir = ctx.Path("link_dir");
  CHECK_OK(vfs::mkdir(dir, 0755));
  CHECK_ERRNO(vfs::link(dir, ctx.Path("link_dir_alias")), EPERM);
  CHECK_ERRNO(vfs::link(ctx.Path("link_missing"), ctx.Path("link_x")), ENOENT);
  CHECK_OK(vfs::rmdir(dir));

  // One name goes, the file stays under the other.
  CHECK_OK(vfs::unlink(original));
  CHECK_OK(vfs::stat(alias, &alias_st));
  CHECK_EQ(alias_st.st_nlink, 1u);
  CHECK_EQ(ContentOf(alias), std::string_view("shared+more"));
  // A link into a subdirectory counts the same.
  CHECK_OK(vfs::mkdir(dir, 0755));
  const PathText nested = ctx.Path("link_dir/nested");
  CHECK_OK(vfs::link(alias, nested));
  CHECK_OK(vfs::stat(nested, &st));
  CHECK_EQ(st.st_nlink, 2u);
  CHECK_OK(vfs::unlink(alias));
  CHECK_OK(vfs::stat(nested, &st));
  CHECK_EQ(st.st_nlink, 1u);
  CHECK_OK(vfs::unlink(nested));
  CHECK_OK(vfs::rmdir(dir));
}

SCENARIO(symlinks_followed_or_not) {
  const PathText target = ctx.Path("symlink_target.txt");
  const PathText link = ctx.Path("symlink_link");
  constexpr std::string_view kContent = "the content of the target\n";
  constexpr std::string_view kRelative = "symlink_target.txt";
  CHECK_OK(WriteFile(target, kContent));
  CHECK_OK(vfs::symlink("symlink_target.txt", link));

  char buffer[256];
  CHECK_EQ(vfs::readlink(link, buffer, sizeof(buffer)),
           int64_t(kRelative.size()));
  CHECK_EQ(std::string_view(buffer, kRelative.size()), kRelative);
  // Truncated to the buffer, as readlink(2).
  CHECK_EQ(vfs::readlink(link, buffer, 4), int64_t{4});
  CHECK_EQ(std::string_view(buffer, 4), std::string_view("syml"));

  // stat follows, lstat does not.
  vfs::Stat st, target_st;
  CHECK_OK(vfs::stat(target, &target_st));
  CHECK_OK(vfs::stat(link, &st));
  CHECK_EQ(st.st_mode & base::kTypeMask, base::kTypeRegular);
  CHECK_EQ(st.st_size, int64_t(kContent.size()));
  CHECK_EQ(st.st_ino, target_st.st_ino);
  CHECK_OK(vfs::lstat(link, &st));
  CHECK_EQ(st.st_mode & base::kTypeMask, base::kTypeSymlink);
  CHECK_EQ(st.st_size, int64_t(kRelative.size()));
  CHECK_TRUE(st.st_ino != target_st.st_ino);
  CHECK_EQ(ContentOf(link), kContent);
  CHECK_ERRNO(vfs::open(link, kOpenReadOnly | kOpenNoFollow), ELOOP);
  CHECK_ERRNO(vfs::readlink(target, buffer, sizeof(buffer)), EINVAL);
  CHECK_ERRNO(vfs::symlink("anything", link), EEXIST);

  // Through a link to a directory, and an absolute target (resolved in the
  // guest's namespace).
  const PathText dir = ctx.Path("symlink_dir");
  const PathText dir_link = ctx.Path("symlink_dir_link");
  const PathText absolute = ctx.Path("symlink_absolute");
  CHECK_OK(vfs::mkdir(dir, 0755));
  CHECK_OK(WriteFile(ctx.Path("symlink_dir/f"), "in dir"));
  CHECK_OK(vfs::symlink("symlink_dir", dir_link));
  CHECK_EQ(ContentOf(ctx.Path("symlink_dir_link/f")),
           std::string_view("in dir"));
  CHECK_OK(vfs::symlink(target, absolute));
  CHECK_EQ(ContentOf(absolute), kContent);

  // Dangling: lstat and readlink work, stat and open do not.
  const PathText dangling = ctx.Path("symlink_dangling");
  CHECK_OK(vfs::symlink("symlink_nowhere", dangling));
  CHECK_ERRNO(vfs::stat(dangling, &st), ENOENT);
  CHECK_OK(vfs::lstat(dangling, &st));
  CHECK_EQ(st.st_mode & base::kTypeMask, base::kTypeSymlink);
  CHECK_ERRNO(vfs::open(dangling, kOpenReadOnly), ENOENT);

  // Removing a link leaves its target.
  CHECK_OK(vfs::unlink(link));
  CHECK_ERRNO(vfs::lstat(link, &st), ENOENT);
  CHECK_OK(vfs::stat(target, &st));
  CHECK_OK(vfs::unlink(dangling));
  CHECK_OK(vfs::unlink(absolute));
  CHECK_OK(vfs::unlink(dir_link));
  CHECK_OK(vfs::unlink(ctx.Path("symlink_dir/f")));
  CHECK_OK(vfs::rmdir(dir));
  CHECK_OK(vfs::unlink(target));
}

}  // namespace
}  // namespace conformance
