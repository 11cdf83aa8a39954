#include "fuzz/fuzz_share.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace fuzz {
namespace {

int Remove(const char* path, const struct stat*, int, struct FTW*) {
  remove(path);
  return 0;
}

// The same, but the directory walked from stays (the device holds it open as
// the share's root).
int RemoveBelow(const char* path, const struct stat*, int, struct FTW* at) {
  if (at->level > 0) remove(path);
  return 0;
}

// nftw's callback has no context: the snapshot being built.
std::string* snapshot = nullptr;
int Describe(const char* path, const struct stat* st, int, struct FTW*) {
  std::ostringstream line;
  line << path << ' ' << std::oct << st->st_mode << std::dec << ' '
       << st->st_size << ' ' << st->st_mtim.tv_sec << '.' << st->st_mtim.tv_nsec
       << ' ' << st->st_nlink;
  if (S_ISREG(st->st_mode)) {
    std::ifstream in(path, std::ios::binary);
    line << ' ' << in.rdbuf();
  }
  *snapshot += line.str() + '\n';
  return 0;
}

}  // namespace

FuzzShare::FuzzShare() {
  const char* tmp = getenv("TMPDIR");
  std::string pattern = std::string(tmp ? tmp : "/tmp") + "/vfsim-fuzz-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) {
    perror("fuzz: mkdtemp");
    abort();
  }
  base_ = buffer.data();
  share_ = base_ + "/share";
  outside_ = base_ + "/outside";
  if (mkdir(share_.c_str(), 0755) != 0 || mkdir(outside_.c_str(), 0755) != 0 ||
      mkdir((outside_ + "/dir").c_str(), 0755) != 0) {
    perror("fuzz: mkdir");
    abort();
  }
  std::ofstream(outside_ + "/secret") << "top secret canary";
  // An old mtime, so that any write or touch shows.
  const struct timespec times[2] = {{1000000, 0}, {1000000, 0}};
  utimensat(AT_FDCWD, (outside_ + "/secret").c_str(), times, 0);
  utimensat(AT_FDCWD, (outside_ + "/dir").c_str(), times, 0);
}

FuzzShare::~FuzzShare() {
  nftw(base_.c_str(), Remove, 16, FTW_DEPTH | FTW_PHYS);
}

std::string FuzzShare::SnapshotOutside() const {
  std::string text;
  snapshot = &text;
  nftw(outside_.c_str(), Describe, 16, FTW_PHYS);
  snapshot = nullptr;
  return text;
}

void FuzzShare::EmptyShare() const {
  nftw(share_.c_str(), RemoveBelow, 16, FTW_DEPTH | FTW_PHYS);
}

}  // namespace fuzz
