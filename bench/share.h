// The files every back end is measured on: one host directory, the share,
// built once per benchmark run and seen by all four back ends.
//
//   a/b/c.txt            stat and open+close of a three-component path
//   data/seq.bin         kDataFileBytes: sequential and random reads
//   data/write.bin       rewritten by the write benchmarks
//   data/stream.bin      the streaming file (made on first use, it is big)
//   new/                 create+unlink
//   d10/ d1000/ d10000/  directories of that many empty files (getdents64)
#ifndef BENCH_SHARE_H_
#define BENCH_SHARE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace bench {

inline constexpr char kStatPath[] = "a/b/c.txt";
inline constexpr char kDataPath[] = "data/seq.bin";
inline constexpr char kWritePath[] = "data/write.bin";
inline constexpr char kStreamPath[] = "data/stream.bin";
inline constexpr char kCreateDir[] = "new";
inline constexpr int64_t kDataFileBytes = 64ll << 20;
// Written files wrap around at this size, so a long run does not fill a disk.
inline constexpr int64_t kWriteWrapBytes = 64ll << 20;

// "d<entries>": the directory holding `entries` empty files.
std::string ListingDir(int entries);

// Creates the share's files under the existing directory `dir`.
absl::Status CreateShare(const std::string& dir);
// Makes `dir`/kStreamPath hold `bytes` bytes of data unless it already does.
absl::Status EnsureStreamFile(const std::string& dir, int64_t bytes);
// Removes `path` and everything below it.
void RemoveTree(const std::string& path);

}  // namespace bench

#endif  // BENCH_SHARE_H_
