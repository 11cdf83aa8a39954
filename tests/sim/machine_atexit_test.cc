// A machine held in a static and torn down from an atexit handler: after the
// main thread's thread-local objects are gone, its teardown still sends
// RELEASE, FORGET and DESTROY through the device on this thread. Under
// AddressSanitizer (bazel test --config=asan) any request-path state kept in
// thread-local storage would be a use after free here.
//
// Not a gtest: the checks run after main returns. Exit status 0 and "PASS" on
// success; 1 and the reason otherwise.
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>

#include "sim/machine.h"
#include "vfs/posix.h"

namespace {

std::unique_ptr<sim::Machine>* machine = nullptr;
std::mutex seen_mutex;
std::set<uint32_t>* seen_opcodes = nullptr;
std::string* share_dir = nullptr;

[[noreturn]] void Fail(const char* why) {
  std::fprintf(stderr, "FAIL: %s\n", why);
  std::fflush(stderr);
  _exit(1);
}

void TearDownAtExit() {
  machine->reset();  // Teardown: the open file's RELEASE, FORGETs, DESTROY.
  {
    std::lock_guard<std::mutex> lock(seen_mutex);
    if (!seen_opcodes->count(FUSE_RELEASE)) Fail("no RELEASE at teardown");
    if (!seen_opcodes->count(FUSE_DESTROY)) Fail("no DESTROY at teardown");
  }
  std::ifstream in(*share_dir + "/written");
  std::stringstream content;
  content << in.rdbuf();
  if (content.str() != "still here") Fail("the share lost the write");
  std::printf("PASS\n");
}

}  // namespace

int main() {
  const char* tmp = getenv("TEST_TMPDIR");
  std::string pattern = std::string(tmp ? tmp : "/tmp") + "/share_XXXXXX";
  char* dir = mkdtemp(pattern.data());
  if (dir == nullptr) Fail("mkdtemp");
  share_dir = new std::string(dir);
  seen_opcodes = new std::set<uint32_t>;
  sim::MachineOptions options;
  options.share_dir = dir;
  options.on_fuse_request = [](const sim::FuseTraceEvent& event) {
    std::lock_guard<std::mutex> lock(seen_mutex);
    seen_opcodes->insert(event.opcode);
  };
  auto created = sim::Machine::Create(options);
  if (!created.ok()) Fail("machine creation");
  machine = new std::unique_ptr<sim::Machine>(*std::move(created));
  std::atexit(TearDownAtExit);

  const int fd = vfs::open("/root/written", O_RDWR | O_CREAT, 0644);
  if (fd < 0) Fail("open");
  if (vfs::write(fd, "still here", 10) != 10) Fail("write");
  // The descriptor stays open: teardown closes it.
  return 0;
}
