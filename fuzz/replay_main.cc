// Replays fuzz inputs through a target's LLVMFuzzerTestOneInput without
// libFuzzer: the regression test of each fuzz target over its checked-in
// corpus (and, given files or directories on the command line, any input a
// fuzzing run found). A target that finds a problem aborts, which fails the
// test with the input's name printed first.
#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

int Replay(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fprintf(stderr, "replay: cannot read %s\n", path.c_str());
    return -1;
  }
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  fprintf(stderr, "replay: %s (%zu bytes)\n", path.c_str(), bytes.size());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int replayed = 0;
  for (int i = 1; i < argc; ++i) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      fprintf(stderr, "replay: no such file or directory: %s\n", argv[i]);
      return 1;
    }
    std::vector<std::string> files;
    if (S_ISDIR(st.st_mode)) {
      DIR* dir = opendir(argv[i]);
      while (dirent* entry = dir ? readdir(dir) : nullptr) {
        if (entry->d_name[0] != '.') {
          files.push_back(std::string(argv[i]) + "/" + entry->d_name);
        }
      }
      if (dir) closedir(dir);
    } else {
      files.push_back(argv[i]);
    }
    for (const std::string& file : files) {
      const int n = Replay(file);
      if (n < 0) return 1;
      replayed += n;
    }
  }
  if (replayed == 0) {
    fprintf(stderr, "replay: no inputs given\n");
    return 1;
  }
  printf("replay: %d inputs, no problem found\n", replayed);
  return 0;
}
