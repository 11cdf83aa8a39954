#include "bench/workloads.h"

#include <dirent.h>
#include <fcntl.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "bench/harness.h"
#include "bench/share.h"

namespace bench {
namespace {

constexpr int kLsEntries = 1000;
constexpr int kUntarFiles = 1000;
constexpr size_t kUntarFileBytes = 4 << 10;

absl::Status CallFailed(const char* call, const std::string& path,
                        int64_t result) {
  return absl::InternalError(absl::StrCat(
      call, " ", path, ": ", std::strerror(static_cast<int>(-result))));
}

absl::Status WrongCount(const char* what, int64_t seen, int64_t expected) {
  return absl::InternalError(
      absl::StrCat(what, ": saw ", seen, ", expected ", expected));
}

// lstat of `path`, which must be an empty regular file.
absl::Status LstatEmptyFile(Backend& b, const std::string& path) {
  FileInfo info;
  const int r = b.Lstat(path.c_str(), &info);
  if (r != 0) return CallFailed("lstat", path, r);
  if (info.is_dir || info.size != 0) {
    return absl::InternalError(absl::StrCat(
        "lstat ", path, ": not an empty file (size ", info.size, ")"));
  }
  return absl::OkStatus();
}

// The entries of the directory `path`, "." and ".." left out.
absl::StatusOr<std::vector<std::pair<std::string, uint8_t>>> ReadDir(
    Backend& b, const std::string& path, void* buffer) {
  std::vector<std::pair<std::string, uint8_t>> entries;
  const int64_t n = ListDirectory(b, path.c_str(), buffer,
                                  [&](std::string_view name, uint8_t type) {
                                    if (name != "." && name != "..")
                                      entries.emplace_back(name, type);
                                  });
  if (n < 0) return CallFailed("list", path, n);
  return entries;
}

// Runs `pass` once per iteration; it returns the items it handled. A failed
// pass fails the benchmark.
template <typename Pass>
void RunPasses(benchmark::State& state, Backend& b, Pass pass) {
  int64_t items = 0;
  {
    RunCounters counters(state, b);
    for (auto _ : state) {
      absl::StatusOr<int64_t> n = pass(counters);
      if (!n.ok()) {
        state.SkipWithError(std::string(n.status().message()).c_str());
        break;
      }
      items += *n;
    }
  }
  state.SetItemsProcessed(items);
}

// One `ls -l` of `dir`: the entries listed and each one's lstat.
absl::StatusOr<int64_t> LsPass(Backend& b, const std::string& dir, void* buffer,
                               std::string& path) {
  absl::StatusOr<std::vector<std::pair<std::string, uint8_t>>> entries =
      ReadDir(b, dir, buffer);
  if (!entries.ok()) return entries.status();
  if (entries->size() != kLsEntries)
    return WrongCount("ls -l entries", entries->size(), kLsEntries);
  for (const auto& [name, type] : *entries) {
    path.assign(dir).append("/").append(name);
    if (absl::Status s = LstatEmptyFile(b, path); !s.ok()) return s;
  }
  return static_cast<int64_t>(entries->size());
}

// Creates the files `paths`, writing `data` (kUntarFileBytes) into each;
// `created` counts those that exist afterwards.
absl::Status UntarPass(Backend& b, const std::vector<std::string>& paths,
                       const void* data, int* created) {
  for (const std::string& path : paths) {
    const int fd = b.Open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) return CallFailed("create", path, fd);
    ++*created;
    const int64_t n = b.Write(fd, data, kUntarFileBytes);
    const int closed = b.Close(fd);
    if (n != static_cast<int64_t>(kUntarFileBytes))
      return CallFailed("write", path, n < 0 ? n : -EIO);
    if (closed != 0) return CallFailed("close", path, closed);
  }
  return absl::OkStatus();
}

// Checks that the untar pass wrote its files whole, and removes the first
// `created` of them.
absl::Status RemoveUntarred(Backend& b, const std::vector<std::string>& paths,
                            int created) {
  absl::Status status;
  if (created == static_cast<int>(paths.size())) {
    FileInfo info;
    const int r = b.Lstat(paths.back().c_str(), &info);
    if (r != 0) {
      status = CallFailed("lstat", paths.back(), r);
    } else if (info.size != static_cast<int64_t>(kUntarFileBytes)) {
      status = WrongCount("untarred file size", info.size, kUntarFileBytes);
    }
  }
  for (int i = 0; i < created; ++i) {
    const int r = b.Unlink(paths[i].c_str());
    if (r != 0 && status.ok()) status = CallFailed("unlink", paths[i], r);
  }
  return status;
}

struct WalkCounts {
  int64_t dirs = 0;
  int64_t files = 0;
};

// `find` below `path` (which it leaves as it found it): every entry lstat'ed,
// every directory entered.
absl::Status Walk(Backend& b, std::string& path, void* buffer,
                  WalkCounts& counts) {
  absl::StatusOr<std::vector<std::pair<std::string, uint8_t>>> entries =
      ReadDir(b, path, buffer);
  if (!entries.ok()) return entries.status();
  const size_t parent_length = path.size();
  for (const auto& [name, type] : *entries) {
    path.append("/").append(name);
    FileInfo info;
    const int r = b.Lstat(path.c_str(), &info);
    if (r != 0) return CallFailed("lstat", path, r);
    if (type != DT_UNKNOWN && info.is_dir != (type == DT_DIR)) {
      return absl::InternalError(
          absl::StrCat(path, ": d_type and lstat disagree"));
    }
    if (info.is_dir) {
      ++counts.dirs;
      if (absl::Status s = Walk(b, path, buffer, counts); !s.ok()) return s;
    } else if (info.size != 0) {
      return WrongCount("tree file size", info.size, 0);
    } else {
      ++counts.files;
    }
    path.resize(parent_length);
  }
  return absl::OkStatus();
}

// For an untimed first pass, so that the timed ones find the caches as each
// other do: false after failing the benchmark with the pass's error.
bool WarmedUp(benchmark::State& state, const absl::StatusOr<int64_t>& pass) {
  if (pass.ok()) return true;
  state.SkipWithError(std::string(pass.status().message()).c_str());
  return false;
}

// Makes the tree unless it exists; false after failing the benchmark.
bool HaveTree(benchmark::State& state) {
  if (absl::Status s = EnsureTree(GetBackends().share_dir()); !s.ok()) {
    state.SkipWithError(std::string(s.message()).c_str());
    return false;
  }
  return true;
}

}  // namespace

void LsL(benchmark::State& state, Kind kind) {
  Backend* b = Bring(state, kind);
  if (b == nullptr) return;
  const std::string dir = b->Path(ListingDir(kLsEntries));
  Buffer buffer(*b, kDirentBufferBytes);
  std::string path;
  auto pass = [&] { return LsPass(*b, dir, buffer.data(), path); };
  if (!WarmedUp(state, pass())) return;
  RunPasses(state, *b, [&](RunCounters&) { return pass(); });
}

void Untar(benchmark::State& state, Kind kind) {
  Backend* b = Bring(state, kind);
  if (b == nullptr) return;
  std::vector<std::string> paths;
  for (int i = 0; i < kUntarFiles; ++i) {
    char name[16];
    std::snprintf(name, sizeof(name), "/f-%04d", i);
    paths.push_back(b->Path(kUntarDir) + name);
  }
  Buffer data(*b, kUntarFileBytes);
  RunPasses(state, *b, [&](RunCounters& counters) -> absl::StatusOr<int64_t> {
    int created = 0;
    absl::Status status = UntarPass(*b, paths, data.data(), &created);
    counters.PauseTiming();
    absl::Status removed = RemoveUntarred(*b, paths, created);
    counters.ResumeTiming();
    if (!status.ok()) return status;
    if (!removed.ok()) return removed;
    return kUntarFiles;
  });
}

void FindTree(benchmark::State& state, Kind kind) {
  if (!HaveTree(state)) return;
  Backend* b = Bring(state, kind);
  if (b == nullptr) return;
  const std::string root = b->Path(kTreeDir);
  Buffer buffer(*b, kDirentBufferBytes);
  std::string path;
  auto pass = [&]() -> absl::StatusOr<int64_t> {
    WalkCounts counts;
    path = root;
    if (absl::Status s = Walk(*b, path, buffer.data(), counts); !s.ok())
      return s;
    if (counts.dirs != kTreeDirs)
      return WrongCount("find directories", counts.dirs, kTreeDirs);
    if (counts.files != kTreeFiles)
      return WrongCount("find files", counts.files, kTreeFiles);
    return counts.dirs + counts.files;
  };
  // Starts from what the rows before left in the caches dropped, then one
  // warm-up pass: each back end walks the same warm tree. (The simulated
  // machines' cached nodes each hold a device descriptor; those of earlier
  // rows would count against this one's.)
  b->DropCaches();
  if (!WarmedUp(state, pass())) return;
  RunPasses(state, *b, [&](RunCounters&) { return pass(); });
}

void GitStatusTree(benchmark::State& state, Kind kind) {
  if (!HaveTree(state)) return;
  Backend* b = Bring(state, kind);
  if (b == nullptr) return;
  std::vector<std::string> paths = TreeFiles();
  for (std::string& path : paths) path = b->Path(path);
  bool cold = true;
  RunPasses(state, *b, [&](RunCounters& counters) -> absl::StatusOr<int64_t> {
    counters.PauseTiming();
    cold = b->DropCaches() && cold;
    counters.ResumeTiming();
    for (int pass = 0; pass < 2; ++pass) {
      for (const std::string& path : paths) {
        if (absl::Status s = LstatEmptyFile(*b, path); !s.ok()) return s;
      }
    }
    return 2 * static_cast<int64_t>(paths.size());
  });
  if (!cold) state.SetLabel("caches not dropped: both passes warm");
}

}  // namespace bench
