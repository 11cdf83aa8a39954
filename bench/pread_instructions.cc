// The instructions one 4 KiB vfs::pread costs on a simulated machine (inline
// device, PCI) in user space (driver, VFS and device; the host kernel's part of
// the system call is not counted): what tools/pread_instructions.sh counts with
// callgrind, collecting only inside MeasuredPreads.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "sim/machine.h"
#include "vfs/posix.h"

namespace {

constexpr int kFileBytes = 1 << 20;
constexpr int kReadBytes = 4096;

// Not inlined, so that callgrind can collect exactly this.
[[gnu::noinline]] long MeasuredPreads(int fd, void* buffer, int count) {
  long total = 0;
  for (int i = 0; i < count; ++i) {
    total += vfs::pread(fd, buffer, kReadBytes,
                        (i * 7919L * kReadBytes) % (kFileBytes - kReadBytes));
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  const int count = argc > 1 ? atoi(argv[1]) : 1000;
  std::string dir = "/tmp/pread_instructions_XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) return 1;
  const std::string path = dir + "/file";
  {
    std::string data(kFileBytes, 'x');
    FILE* f = fopen(path.c_str(), "w");
    fwrite(data.data(), 1, data.size(), f);
    fclose(f);
  }
  sim::MachineOptions options;
  options.share_dir = dir;
  auto machine = sim::Machine::Create(options);
  if (!machine.ok()) return 1;
  // The guest's buffer lives in guest memory, as a real guest's does.
  auto buffer = (*machine)->platform().AllocateDma(kReadBytes, 4096);
  if (!buffer.ok()) return 1;
  const int fd = vfs::open("/root/file", O_RDONLY);
  if (fd < 0) return 1;
  for (int i = 0; i < 100; ++i) {  // Warm up, outside the measured function.
    vfs::pread(fd, buffer.value().cpu, kReadBytes, 0);
  }
  const long read = MeasuredPreads(fd, buffer.value().cpu, count);
  vfs::close(fd);
  (*machine)->platform().FreeDma(buffer.value());
  machine->reset();
  unlink(path.c_str());
  rmdir(dir.c_str());
  printf("%d preads, %ld bytes\n", count, read);
  return read == long{count} * kReadBytes ? 0 : 1;
}
