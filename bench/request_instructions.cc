// The instructions one 4 KiB vfs::pread or vfs::pwrite, an open+close, a
// create+close+unlink, a listing of a directory of 10 files (open,
// getdents64 to the end, close), a stat of a 3-component path with warm
// caches (no request) or the same stat with the device's entry and attribute
// timeouts at zero (lookup: a LOOKUP per component below the mount, as the
// report's caches-off rows) costs on a simulated machine (inline device,
// PCI) in user space (driver, VFS and device; the host kernel's part of the
// system call is not counted): what tools/request_instructions.sh counts with
// callgrind, collecting only inside MeasuredRequests.
//
//   request_instructions pread|pwrite|open|create|list|stat|lookup COUNT
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "sim/machine.h"
#include "vfs/posix.h"

namespace {

constexpr int kFileBytes = 1 << 20;
constexpr int kRequestBytes = 4096;

// Not inlined, so that callgrind can collect exactly this.
[[gnu::noinline]] long MeasuredRequests(const char* op, int fd, void* buffer,
                                        int count) {
  // Which operation is decided once: callgrind counts the loop's own
  // instructions too.
  const bool open_close = strcmp(op, "open") == 0;
  const bool create = strcmp(op, "create") == 0;
  const bool write = strcmp(op, "pwrite") == 0;
  const bool list = strcmp(op, "list") == 0;
  const bool stat_path = strcmp(op, "stat") == 0 || strcmp(op, "lookup") == 0;
  long total = 0;
  for (int i = 0; i < count; ++i) {
    // FLUSH only where the device asks for it (no FOPEN_NOFLUSH): on a share
    // whose filesystem's close can report an error, for a writable file.
    if (open_close) {  // OPEN, RELEASE.
      const int opened = vfs::open("/root/file", O_RDONLY);
      total += vfs::close(opened) == 0 ? kRequestBytes : 0;
      continue;
    }
    if (create) {
      // CREATE, (FLUSH,) RELEASE, UNLINK, FORGET (posted).
      const int created =
          vfs::open("/root/created", O_WRONLY | O_CREAT | O_TRUNC, 0644);
      total += vfs::close(created) == 0 && vfs::unlink("/root/created") == 0
                   ? kRequestBytes
                   : 0;
      continue;
    }
    if (stat_path) {  // The walk and the caches alone, or a LOOKUP per step.
      vfs::Stat st;
      total += vfs::stat("/root/dir/0", &st) == 0 ? kRequestBytes : 0;
      continue;
    }
    if (list) {  // OPENDIR, READDIRPLUS, READDIR (the end), RELEASEDIR.
      const int dir = vfs::open("/root/dir", O_RDONLY | O_DIRECTORY);
      int64_t entries = 0;
      for (int64_t n; (n = vfs::getdents64(dir, buffer, kRequestBytes)) > 0;) {
        entries += n;
      }
      total += vfs::close(dir) == 0 && entries > 0 ? kRequestBytes : 0;
      continue;
    }
    const int64_t offset =
        (i * 7919L * kRequestBytes) % (kFileBytes - kRequestBytes);
    total += write ? vfs::pwrite(fd, buffer, kRequestBytes, offset)
                   : vfs::pread(fd, buffer, kRequestBytes, offset);
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string op = argc == 3 ? argv[1] : "";
  if (op != "pread" && op != "pwrite" && op != "open" && op != "create" &&
      op != "list" && op != "stat" && op != "lookup") {
    fprintf(stderr,
            "usage: %s pread|pwrite|open|create|list|stat|lookup COUNT\n",
            argv[0]);
    return 2;
  }
  const int count = atoi(argv[2]);
  std::string dir = "/tmp/pread_instructions_XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) return 1;
  const std::string path = dir + "/file";
  {
    std::string data(kFileBytes, 'x');
    FILE* f = fopen(path.c_str(), "w");
    fwrite(data.data(), 1, data.size(), f);
    fclose(f);
  }
  const std::string listed = dir + "/dir";
  if (mkdir(listed.c_str(), 0755) != 0) return 1;
  for (int i = 0; i < 10; ++i) {
    FILE* f = fopen((listed + "/" + std::to_string(i)).c_str(), "w");
    if (f == nullptr) return 1;
    fclose(f);
  }
  sim::MachineOptions options;
  options.share_dir = dir;
  if (op == "lookup") options.entry_timeout = options.attr_timeout = 0;
  auto machine = sim::Machine::Create(options);
  if (!machine.ok()) return 1;
  // The guest's buffer lives in guest memory, as a real guest's does.
  auto buffer = (*machine)->platform().AllocateDma(kRequestBytes, 4096);
  if (!buffer.ok()) return 1;
  const int fd = vfs::open("/root/file", O_RDWR);
  if (fd < 0) return 1;
  for (int i = 0; i < 100; ++i) {  // Warm up, outside the measured function.
    vfs::pread(fd, buffer.value().cpu, kRequestBytes, 0);
    vfs::pwrite(fd, buffer.value().cpu, kRequestBytes, 0);
  }
  const long moved = MeasuredRequests(argv[1], fd, buffer.value().cpu, count);
  vfs::close(fd);
  (*machine)->platform().FreeDma(buffer.value());
  machine->reset();
  unlink(path.c_str());
  for (int i = 0; i < 10; ++i)
    unlink((listed + "/" + std::to_string(i)).c_str());
  rmdir(listed.c_str());
  rmdir(dir.c_str());
  printf("%d %ss, %ld bytes\n", count, argv[1], moved);
  return moved == long{count} * kRequestBytes ? 0 : 1;
}
