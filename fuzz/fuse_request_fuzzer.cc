// Fuzz target: arbitrary bytes as FUSE requests into the device's FUSE end
// (sim::FuseServer over the passthrough handlers, through RawFuseEndpoint), on
// a share beside an "outside" directory. The input is a sequence of requests,
// each a little-endian u16 length and that many bytes (a request's own
// fuse_in_header may say anything). After each input the outside directory
// must be exactly as it was: whatever a driver sends, the device stays in its
// share. A session is INIT'ed once, so most requests reach the handlers.
#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "fuzz/fuzz_share.h"
#include "sim/raw_fuse_endpoint.h"

namespace {

struct Environment {
  fuzz::FuzzShare share;
  std::unique_ptr<sim::RawFuseEndpoint> endpoint;
  std::string outside_before;
  uint64_t inputs = 0;
};

Environment* env = nullptr;

void Init() {
  env = new Environment;
  sim::PassthroughOptions options;
  options.share_dir = env->share.share();
  auto endpoint = sim::RawFuseEndpoint::Create(options);
  if (!endpoint.ok()) {
    fprintf(stderr, "fuse_request_fuzzer: %s\n",
            std::string(endpoint.status().message()).c_str());
    abort();
  }
  env->endpoint = std::move(*endpoint);
  struct {
    fuse_in_header header;
    fuse_init_in init;
  } init = {};
  init.header.len = sizeof(init);
  init.header.opcode = FUSE_INIT;
  init.header.unique = 1;
  init.init.major = FUSE_KERNEL_VERSION;
  init.init.minor = FUSE_KERNEL_MINOR_VERSION;
  init.init.max_readahead = 1 << 16;
  init.init.flags = FUSE_MAX_PAGES | FUSE_DO_READDIRPLUS;
  env->endpoint->Transact(
      {reinterpret_cast<const uint8_t*>(&init), sizeof(init)});
  env->outside_before = env->share.SnapshotOutside();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (env == nullptr) Init();
  size_t at = 0;
  while (at + 2 <= size) {
    uint16_t length;
    memcpy(&length, data + at, 2);
    at += 2;
    if (length > size - at) length = static_cast<uint16_t>(size - at);
    env->endpoint->Transact({data + at, length}, 1 << 16);
    at += length;
  }
  if (env->share.SnapshotOutside() != env->outside_before) {
    fprintf(stderr, "fuse_request_fuzzer: the outside directory changed\n");
    abort();
  }
  // The share fills up over millions of inputs: start afresh now and then.
  if (++env->inputs % 4096 == 0) env->share.EmptyShare();
  return 0;
}
