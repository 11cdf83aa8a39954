#include "bench/memory_usage.h"

#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace bench {

bool ResetPeakResident() {
  // Heap an earlier benchmark freed stays resident until given back: without
  // this, a row's peak would depend on which rows ran before it.
  malloc_trim(0);
  const int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  // "5": reset the peak resident set size to the current one (proc(5)).
  const bool ok = write(fd, "5", 1) == 1;
  close(fd);
  return ok;
}

int64_t PeakResidentBytes() {
  FILE* f = std::fopen("/proc/self/status", "re");
  if (f == nullptr) return -1;
  char line[256];
  int64_t kib = -1;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    long long v;
    if (std::sscanf(line, "VmHWM: %lld kB", &v) == 1) {
      kib = v;
      break;
    }
  }
  std::fclose(f);
  return kib < 0 ? -1 : kib * 1024;
}

}  // namespace bench
