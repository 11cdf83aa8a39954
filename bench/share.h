// The files every back end is measured on: one host directory, the share,
// built once per benchmark run and seen by all four back ends.
//
//   a/b/c.txt            stat and open+close of a three-component path
//   data/seq.bin         kDataFileBytes: sequential and random reads
//   data/write.bin       rewritten by the write benchmarks
//   data/stream.bin      the streaming file (made on first use, it is big)
//   new/                 create+unlink
//   untar/               the untar workload's files, removed after each pass
//   d10/ d1000/ d10000/  directories of that many empty files (getdents64)
//   tree/                the find and git-status workloads (made on first use):
//                        d0..d9, each with d0..d9, each with 100 empty files
//                        f-000..f-099; 10 000 files, 110 directories
#ifndef BENCH_SHARE_H_
#define BENCH_SHARE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace bench {

inline constexpr char kStatPath[] = "a/b/c.txt";
inline constexpr char kDataPath[] = "data/seq.bin";
inline constexpr char kWritePath[] = "data/write.bin";
inline constexpr char kStreamPath[] = "data/stream.bin";
inline constexpr char kCreateDir[] = "new";
inline constexpr char kUntarDir[] = "untar";
inline constexpr char kTreeDir[] = "tree";
// Subdirectories of each directory above the files, the levels of them, and
// the files of each directory at the bottom.
inline constexpr int kTreeFanout = 10;
inline constexpr int kTreeLevels = 2;
inline constexpr int kTreeFilesPerDir = 100;
// Directories on level `level` of the tree (1: just below tree/).
constexpr int TreeDirsOnLevel(int level) {
  return level == 0 ? 1 : kTreeFanout * TreeDirsOnLevel(level - 1);
}
inline constexpr int kTreeDirs = [] {
  int dirs = 0;
  for (int level = 1; level <= kTreeLevels; ++level)
    dirs += TreeDirsOnLevel(level);
  return dirs;
}();
inline constexpr int kTreeFiles =
    TreeDirsOnLevel(kTreeLevels) * kTreeFilesPerDir;
inline constexpr int64_t kDataFileBytes = 64ll << 20;
// Written files wrap around at this size, so a long run does not fill a disk.
inline constexpr int64_t kWriteWrapBytes = 64ll << 20;

// "d<entries>": the directory holding `entries` empty files.
std::string ListingDir(int entries);

// Creates the share's files under the existing directory `dir`.
absl::Status CreateShare(const std::string& dir);
// Makes `dir`/kStreamPath hold `bytes` bytes of data unless it already does.
absl::Status EnsureStreamFile(const std::string& dir, int64_t bytes);
// Makes `dir`/kTreeDir unless it is already complete.
absl::Status EnsureTree(const std::string& dir);
// The path of every file of the tree, relative to the share, in the order a
// depth-first walk meets them.
std::vector<std::string> TreeFiles();
// Removes `path` and everything below it.
void RemoveTree(const std::string& path);

}  // namespace bench

#endif  // BENCH_SHARE_H_
