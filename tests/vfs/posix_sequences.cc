// The POSIX call sequences every comparison with the host runs: memfs in
// host_compare_test, the virtio-fs share in virtio_fs_posix_test.
#include "tests/vfs/posix_sequences.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace vfs_test {
namespace {

std::vector<Op> FileReadWriteAndOffsets() {
  return {
      OpenOp(0, "f", O_RDWR | O_CREAT, 0640),
      WriteOp(0, "hello world"),
      LseekOp(0, 0, SEEK_CUR),
      ReadOp(0, 10),
      LseekOp(0, 0, SEEK_SET),
      ReadOp(0, 5),
      ReadOp(0, 100),
      ReadOp(0, 100),
      LseekOp(0, -3, SEEK_END),
      ReadOp(0, 10),
      LseekOp(0, -100, SEEK_CUR),
      LseekOp(0, 0, 7),
      LseekOp(0, 20, SEEK_SET),
      WriteOp(0, "X"),
      PreadOp(0, 30, 0),
      PreadOp(0, 4, 100),
      PreadOp(0, 4, -1),
      PwriteOp(0, "abc", 2),
      PwriteOp(0, "abc", -1),
      LseekOp(0, 0, SEEK_CUR),
      PreadOp(0, 64, 0),
      FstatOp(0),
      FtruncateOp(0, 4),
      FstatOp(0),
      FtruncateOp(0, 8192),
      PreadOp(0, 16, 0),
      FtruncateOp(0, -1),
      FsyncOp(0),
      CloseOp(0),
      CloseOp(0),
      ReadOp(0, 1),
      StatOp("f"),
      TruncateOp("f", 3),
      TruncateOp("f", -1),
      StatOp("f"),
      OpenOp(1, "f", O_RDONLY),
      ReadOp(1, 100),
      WriteOp(1, "no"),
      PwriteOp(1, "no", 0),
      FtruncateOp(1, 0),
      OpenOp(2, "f", O_WRONLY),
      ReadOp(2, 1),
      PreadOp(2, 1, 0),
      WriteOp(2, "WX"),
      PreadOp(1, 10, 0),
  };
}

std::vector<Op> OpenFlags() {
  return {
      OpenOp(0, "missing", O_RDONLY),
      OpenOp(0, "f", O_WRONLY | O_CREAT | O_EXCL, 0600),
      WriteOp(0, "0123456789"),
      CloseOp(0),
      StatOp("f"),
      OpenOp(0, "f", O_WRONLY | O_CREAT | O_EXCL, 0600),
      OpenOp(0, "f", O_RDWR | O_APPEND),
      WriteOp(0, "ab"),
      LseekOp(0, 0, SEEK_CUR),
      LseekOp(0, 0, SEEK_SET),
      WriteOp(0, "cd"),
      LseekOp(0, 0, SEEK_CUR),
      PwriteOp(0, "ef", 0),
      LseekOp(0, 0, SEEK_CUR),
      PreadOp(0, 64, 0),
      CloseOp(0),
      OpenOp(0, "f", O_RDONLY | O_TRUNC),
      FstatOp(0),
      CloseOp(0),
      OpenOp(0, "f", O_WRONLY),
      WriteOp(0, "abcdef"),
      CloseOp(0),
      OpenOp(0, "f", O_WRONLY | O_TRUNC),
      FstatOp(0),
      CloseOp(0),
      OpenOp(0, "f", O_RDONLY | O_DIRECTORY),
      OpenOp(0, "f/", O_RDONLY),
      OpenOp(0, "f/", O_RDONLY | O_CREAT),
      OpenOp(0, "new/", O_RDONLY | O_CREAT),
      OpenOp(0, "f/x", O_RDONLY | O_CREAT),
      OpenOp(0, "nodir/x", O_RDONLY | O_CREAT),
      MkdirOp("d"),
      OpenOp(0, "d", O_RDONLY),
      FstatOp(0),
      ReadOp(0, 10),
      PreadOp(0, 10, 0),
      WriteOp(0, "x"),
      FtruncateOp(0, 0),
      CloseOp(0),
      OpenOp(0, "d", O_WRONLY),
      OpenOp(0, "d", O_RDWR),
      OpenOp(0, "d", O_RDONLY | O_TRUNC),
      OpenOp(0, "d", O_RDONLY | O_CREAT),
      OpenOp(0, "d/", O_RDONLY | O_DIRECTORY),
      CloseOp(0),
      OpenOp(0, ".", O_RDONLY | O_CREAT),
      OpenOp(0, "d/..", O_RDONLY | O_CREAT),
      OpenOp(0, "d/new", O_RDONLY | O_CREAT | O_DIRECTORY),
      OpenOp(0, "f", O_RDONLY | O_CLOEXEC),
      CloseOp(0),
      OpenOp(0, "f", O_RDONLY | O_NOFOLLOW),
      CloseOp(0),
      OpenOp(0, "fresh", O_WRONLY | O_CREAT | O_TRUNC, 0777),
      StatOp("fresh"),
      CloseOp(0),
      OpenOp(0, "setuid", O_WRONLY | O_CREAT, 04755),
      StatOp("setuid"),
  };
}

std::vector<Op> Directories() {
  return {
      MkdirOp("a"),
      MkdirOp("a"),
      MkdirOp("a/"),
      MkdirOp("a/b/"),
      MkdirOp("a//c//"),
      MkdirOp("a/./d"),
      MkdirOp("a/b/../e"),
      MkdirOp("x/y"),
      StatOp("a"),
      StatOp("a/"),
      StatOp("a/."),
      StatOp("a/b/.."),
      StatOp("a/b/../../a/c"),
      StatOp("a///b"),
      MkdirOp("."),
      MkdirOp(".."),
      MkdirOp("a/.."),
      RmdirOp("a"),
      RmdirOp("a/b/."),
      RmdirOp("a/b/.."),
      RmdirOp("a/b/"),
      RmdirOp("a/b"),
      StatOp("a"),
      OpenOp(0, "a/f", O_CREAT | O_WRONLY),
      CloseOp(0),
      RmdirOp("a/f"),
      RmdirOp("a/f/"),
      UnlinkOp("a/c"),
      UnlinkOp("a/c/"),
      UnlinkOp("a/f/"),
      UnlinkOp("a/missing/"),
      UnlinkOp("a/."),
      UnlinkOp("a/f"),
      UnlinkOp("a/f"),
      StatOp("a/f/x"),
      MkdirOp("a/f/x"),
      OpenOp(0, "a", O_RDONLY | O_DIRECTORY),
      ListDirOp(0),
      CloseOp(0),
      MkdirOp("m", 0700),
      StatOp("m"),
      MkdirOp("sticky", 01777),
      StatOp("sticky"),
      RmdirOp("missing"),
      StatOp(""),
  };
}

std::vector<Op> Symlinks() {
  std::vector<Op> ops = {
      OpenOp(0, "file", O_CREAT | O_WRONLY),
      WriteOp(0, "content"),
      CloseOp(0),
      MkdirOp("dir"),
      SymlinkOp("file", "lf"),
      SymlinkOp("dir", "ld"),
      SymlinkOp("missing", "dangling"),
      SymlinkOp("loop2", "loop1"),
      SymlinkOp("loop1", "loop2"),
      SymlinkOp("x", "lf"),
      SymlinkOp("x", "newdir/"),
      SymlinkOp("x", "lf/"),
      SymlinkOp("", "empty"),
      ReadlinkOp("lf"),
      ReadlinkOp("lf", 2),
      ReadlinkOp("file"),
      ReadlinkOp("ld/"),
      ReadlinkOp("missing"),
      StatOp("lf"),
      LstatOp("lf"),
      StatOp("ld/"),
      LstatOp("ld"),
      LstatOp("ld/"),
      StatOp("lf/"),
      StatOp("dangling"),
      LstatOp("dangling"),
      StatOp("loop1"),
      LstatOp("loop1"),
      OpenOp(0, "loop1", O_RDONLY),
      OpenOp(0, "lf", O_RDONLY | O_NOFOLLOW),
      OpenOp(0, "lf", O_RDONLY | O_CREAT | O_EXCL),
      OpenOp(0, "dangling", O_RDONLY | O_CREAT | O_EXCL),
      OpenOp(0, "dangling", O_RDONLY | O_CREAT | O_NOFOLLOW),
      OpenOp(0, "lf", O_RDONLY),
      ReadOp(0, 100),
      CloseOp(0),
      OpenOp(0, "dangling", O_WRONLY | O_CREAT, 0600),
      WriteOp(0, "made through link"),
      CloseOp(0),
      StatOp("missing"),
      LstatOp("missing"),
      OpenOp(0, "ld/inner", O_WRONLY | O_CREAT),
      CloseOp(0),
      StatOp("dir/inner"),
      StatOp("ld/../file"),
      OpenOp(0, "ld", O_RDONLY | O_DIRECTORY),
      ListDirOp(0),
      CloseOp(0),
      UnlinkOp("ld/"),
      RmdirOp("ld"),
      RmdirOp("ld/"),
      UnlinkOp("ld"),
      StatOp("dir"),
      ChmodOp("lf", 0600),
      StatOp("file"),
      AccessOp("lf", R_OK | W_OK),
      AccessOp("dangling", F_OK),
      AccessOp("loop1", F_OK),
      TruncateOp("lf", 2),
      StatOp("file"),
  };
  // A chain of 40 symlinks resolves; one more is ELOOP (Linux's MAXSYMLINKS).
  ops.push_back(SymlinkOp("file", "chain0"));
  for (int i = 1; i <= 40; ++i) {
    ops.push_back(SymlinkOp("chain" + std::to_string(i - 1),
                            "chain" + std::to_string(i)));
  }
  ops.push_back(StatOp("chain39"));
  ops.push_back(StatOp("chain40"));
  ops.push_back(LstatOp("chain40"));
  ops.push_back(OpenOp(1, "chain39", O_RDONLY));
  ops.push_back(OpenOp(1, "chain40", O_RDONLY));
  return ops;
}

std::vector<Op> RenameRules() {
  return {
      OpenOp(0, "f1", O_CREAT | O_WRONLY),
      WriteOp(0, "one"),
      CloseOp(0),
      OpenOp(0, "f2", O_CREAT | O_WRONLY),
      WriteOp(0, "two"),
      CloseOp(0),
      MkdirOp("d1"),
      MkdirOp("d2"),
      MkdirOp("full"),
      MkdirOp("full/inside"),
      RenameOp("f1", "f2"),
      StatOp("f1"),
      OpenOp(0, "f2", O_RDONLY),
      ReadOp(0, 10),
      CloseOp(0),
      RenameOp("f2", "f2"),
      RenameOp("missing", "x"),
      RenameOp("f2", "d1"),
      RenameOp("d1", "f2"),
      RenameOp("d1", "full"),
      RenameOp("d1", "d2"),
      StatOp("d1"),
      StatOp("d2"),
      RenameOp("d2", "d2/sub"),
      RenameOp("full", "full/inside/deeper"),
      RenameOp("full/inside", "full/inside"),
      RenameOp("full/inside", "full"),
      RenameOp(".", "x"),
      RenameOp("full/..", "x"),
      RenameOp("f2", "."),
      RenameOp("f2", "full/.."),
      RenameOp("f2/", "g"),
      RenameOp("f2", "g/"),
      RenameOp("d2/", "d3/"),
      StatOp("d3"),
      RenameOp("f2", "nodir/g"),
      RenameOp("f2", "f2/g"),
      LinkOp("f2", "hard"),
      RenameOp("f2", "hard"),
      StatOp("f2"),
      StatOp("hard"),
      RenameOp("full/inside", "d3/moved"),
      StatOp("full"),
      StatOp("d3"),
      StatOp("d3/moved"),
      MkdirOp("empty"),
      RenameOp("d3", "empty"),
      StatOp("empty"),
      StatOp("empty/moved"),
      SymlinkOp("empty", "sl"),
      RenameOp("sl", "sl2"),
      LstatOp("sl2"),
      StatOp("sl2/moved"),
      RenameOp("hard", "empty/moved/hard"),
      StatOp("empty/moved/hard"),
      RenameOp("empty/moved", "top"),
      StatOp("empty"),
      StatOp("top"),
  };
}

std::vector<Op> HardLinksAndNlink() {
  return {
      OpenOp(0, "f", O_CREAT | O_RDWR),
      WriteOp(0, "data"),
      StatOp("f"),
      LinkOp("f", "g"),
      StatOp("f"),
      FstatOp(0),
      LinkOp("f", "g"),
      LinkOp("missing", "h"),
      LinkOp("f", "h/"),
      LinkOp("f/", "h"),
      LinkOp("f", "nodir/h"),
      MkdirOp("d"),
      LinkOp("d", "d2"),
      LinkOp("d", "f"),
      LinkOp("d/", "d3"),
      LinkOp("f", "."),
      StatOp("d"),
      MkdirOp("d/sub"),
      StatOp("d"),
      RmdirOp("d/sub"),
      StatOp("d"),
      UnlinkOp("f"),
      StatOp("g"),
      FstatOp(0),
      UnlinkOp("g"),
      FstatOp(0),
      PreadOp(0, 10, 0),
      WriteOp(0, "more"),
      FstatOp(0),
      CloseOp(0),
      SymlinkOp("target", "sl"),
      LinkOp("sl", "sl2"),
      LstatOp("sl"),
      LstatOp("sl2"),
      ReadlinkOp("sl2"),
  };
}

std::vector<Op> DupSharesTheOffset() {
  return {
      OpenOp(0, "f", O_CREAT | O_RDWR),
      WriteOp(0, "abcdefghij"),
      DupOp(0, 1),
      LseekOp(1, 0, SEEK_CUR),
      LseekOp(0, 2, SEEK_SET),
      ReadOp(1, 3),
      LseekOp(0, 0, SEEK_CUR),
      CloseOp(0),
      ReadOp(1, 3),
      Dup2Op(1, 2),
      ReadOp(2, 2),
      ReadOp(1, 2),
      Dup2Op(2, 2),
      DupOp(7, 3),
      Dup2Op(7, 3),
      CloseOp(1),
      CloseOp(2),
      CloseOp(2),
  };
}

std::vector<Op> NameLengthLimits() {
  std::string longest(255, 'n');
  std::string too_long(256, 'n');
  return {
      OpenOp(0, longest, O_CREAT | O_WRONLY),
      CloseOp(0),
      StatOp(longest),
      OpenOp(0, too_long, O_CREAT | O_WRONLY),
      OpenOp(0, too_long, O_RDONLY),
      StatOp(too_long),
      MkdirOp(too_long),
      MkdirOp(too_long + "/x"),
      StatOp("missing/" + too_long),
      SymlinkOp(longest, "sl"),
      SymlinkOp("x", too_long),
      StatOp("sl"),
      RenameOp(longest, too_long),
      LinkOp(longest, too_long),
      UnlinkOp(too_long),
      RmdirOp(too_long),
      UnlinkOp(longest),
  };
}

std::vector<Op> GetdentsResumesWithSmallBuffers() {
  std::vector<Op> ops = {MkdirOp("d")};
  // Same-length names, so both sides fit the same number of records per call.
  for (int i = 0; i < 30; ++i) {
    char name[32];
    snprintf(name, sizeof(name), "d/entry%02d", i);
    ops.push_back(OpenOp(0, name, O_CREAT | O_WRONLY));
    ops.push_back(CloseOp(0));
  }
  ops.push_back(MkdirOp("d/subdir0"));
  ops.push_back(SymlinkOp("entry00", "d/symlnk0"));
  ops.push_back(OpenOp(1, "d", O_RDONLY | O_DIRECTORY));
  ops.push_back(GetdentsOp(1, 10));    // Too small for a single entry: EINVAL.
  ops.push_back(ListDirOp(1, 64));     // Two 32-byte records per call.
  ops.push_back(GetdentsOp(1, 4096));  // At the end: 0.
  ops.push_back(LseekOp(1, 0, SEEK_SET));
  ops.push_back(ListDirOp(1, 100));
  ops.push_back(OpenOp(2, "d/entry00", O_RDONLY));
  ops.push_back(GetdentsOp(2, 4096));  // Not a directory.
  ops.push_back(GetdentsOp(9, 4096));  // Not a descriptor.
  return ops;
}

std::vector<Op> ChmodAndAccess() {
  return {
      OpenOp(0, "f", O_CREAT | O_WRONLY, 0644),
      CloseOp(0),
      AccessOp("f", F_OK),
      AccessOp("f", R_OK | W_OK),
      AccessOp("f", X_OK),
      AccessOp("f", 8),
      AccessOp("missing", F_OK),
      ChmodOp("f", 0755),
      StatOp("f"),
      AccessOp("f", X_OK),
      ChmodOp("f", 07777),
      StatOp("f"),
      ChmodOp("missing", 0600),
      MkdirOp("d", 0700),
      ChmodOp("d", 0500),
      StatOp("d"),
      AccessOp("d", X_OK),
      ChmodOp("d", 0755),
  };
}

}  // namespace

const std::vector<PosixSequence>& PosixSequences() {
  static const std::vector<PosixSequence> sequences = {
      {"FileReadWriteAndOffsets", &FileReadWriteAndOffsets},
      {"OpenFlags", &OpenFlags},
      {"Directories", &Directories},
      {"Symlinks", &Symlinks},
      {"RenameRules", &RenameRules},
      {"HardLinksAndNlink", &HardLinksAndNlink},
      {"DupSharesTheOffset", &DupSharesTheOffset},
      {"NameLengthLimits", &NameLengthLimits},
      {"GetdentsResumesWithSmallBuffers", &GetdentsResumesWithSmallBuffers},
      {"ChmodAndAccess", &ChmodAndAccess},
  };
  return sequences;
}

}  // namespace vfs_test
