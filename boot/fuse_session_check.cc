#include "boot/fuse_session_check.h"

#include <fcntl.h>
#include <linux/fuse.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "boot/serial_console.h"
#include "driver/fuse_client.h"
#include "driver/mmio_transport.h"
#include "driver/pci_transport.h"
#include "driver/transport.h"
#include "driver/virtio_fs.h"

namespace boot {
namespace {

// Unwraps a Result or reports the failed step and returns false from the
// caller.
#define STEP(var, expr, what)                                              \
  auto var##_result = (expr);                                              \
  if (!var##_result.ok()) {                                                \
    SerialPrintf("fuse: FAIL %s: error %d\n", what, var##_result.error()); \
    return false;                                                          \
  }                                                                        \
  auto var = std::move(var##_result).value()

#define STEP_VOID(expr, what)                                                \
  do {                                                                       \
    auto step_result_ = (expr);                                              \
    if (!step_result_.ok()) {                                                \
      SerialPrintf("fuse: FAIL %s: error %d\n", what, step_result_.error()); \
      return false;                                                          \
    }                                                                        \
  } while (0)

driver::Result<std::unique_ptr<driver::Transport>> Probe(
    driver::Platform& platform, VirtioFsDevice& device) {
  if (device.bus == VirtioFsDevice::Bus::kPci) {
    return std::unique_ptr<driver::Transport>(
        TRY(driver::PciTransport::Probe(platform, *device.io)));
  }
  return std::unique_ptr<driver::Transport>(
      TRY(driver::MmioTransport::Probe(platform, *device.io)));
}

uint8_t PatternByte(unsigned i) {
  return static_cast<uint8_t>('a' + (i * 7 + i / 26) % 26);
}

bool ReadSeed(driver::FuseClient& client) {
  STEP(seed_dir, client.Lookup(FUSE_ROOT_ID, kSeedDirectory), "LOOKUP seed");
  STEP(seed, client.Lookup(seed_dir.nodeid, kSeedFile),
       "LOOKUP seed/hello.txt");
  STEP(handle, client.Open(seed.nodeid, O_RDONLY), "OPEN seed/hello.txt");
  uint8_t buffer[64] = {};
  STEP(length,
       client.Read(seed.nodeid, handle.fh, 0, std::span<uint8_t>(buffer)),
       "READ seed/hello.txt");
  STEP_VOID(client.Release(seed.nodeid, handle.fh), "RELEASE seed/hello.txt");
  const std::string_view content(reinterpret_cast<const char*>(buffer), length);
  if (content != std::string_view(kSeedContent)) {
    SerialPrintf(
        "fuse: FAIL seed/hello.txt reads %u bytes, not the runner's content\n",
        static_cast<unsigned>(length));
    return false;
  }
  SerialPrintf("fuse: read seed/hello.txt (%u bytes, as the runner wrote it)\n",
               static_cast<unsigned>(length));
  STEP_VOID(client.Forget(seed.nodeid, 1), "FORGET seed/hello.txt");
  STEP_VOID(client.Forget(seed_dir.nodeid, 1), "FORGET seed");
  return true;
}

bool WriteAndReadBack(driver::FuseClient& client) {
  std::vector<uint8_t> data(kGuestFileSize);
  for (unsigned i = 0; i < kGuestFileSize; ++i) data[i] = PatternByte(i);
  STEP(created, client.Create(FUSE_ROOT_ID, kGuestFile, O_RDWR | O_EXCL, 0644),
       "CREATE written-by-guest.txt");
  const uint64_t node = created.entry.nodeid, fh = created.handle.fh;
  STEP(written, client.Write(node, fh, 0, std::span<const uint8_t>(data)),
       "WRITE");
  if (written != kGuestFileSize) {
    SerialPrintf("fuse: FAIL wrote %u of %u bytes\n",
                 static_cast<unsigned>(written), kGuestFileSize);
    return false;
  }
  std::vector<uint8_t> back(kGuestFileSize + 100);
  STEP(read, client.Read(node, fh, 0, std::span<uint8_t>(back)), "READ back");
  if (read != kGuestFileSize ||
      memcmp(back.data(), data.data(), kGuestFileSize) != 0) {
    SerialPrintf(
        "fuse: FAIL read back %u bytes, different from what was written\n",
        static_cast<unsigned>(read));
    return false;
  }
  STEP_VOID(client.Release(node, fh), "RELEASE written-by-guest.txt");
  STEP_VOID(client.Forget(node, 1), "FORGET written-by-guest.txt");
  SerialPrintf("fuse: wrote and read back %s (%u bytes)\n", kGuestFile,
               kGuestFileSize);
  SerialPrintf("HOST-EXPECT file %s %u\n", kGuestFile, kGuestFileSize);
  return true;
}

}  // namespace

bool RunFuseSessionCheck(driver::Platform& platform, VirtioFsDevice& device) {
  STEP(transport, Probe(platform, device), "transport probe");
  STEP(fs, driver::VirtioFs::Create(platform, std::move(transport), {}),
       "VirtioFs::Create");
  SerialPrintf(
      "fuse: device up, tag \"%s\", %u request queue(s), features 0x%llx\n",
      fs->tag(), fs->request_queues(),
      static_cast<unsigned long long>(fs->device().features()));
  driver::FuseClient client(platform, *fs);
  STEP_VOID(client.Init(), "FUSE_INIT");
  const driver::Negotiated& negotiated = client.negotiated();
  SerialPrintf("fuse: INIT 7.%u, max_read %u, max_write %u, max_pages %u\n",
               negotiated.minor, negotiated.max_read, negotiated.max_write,
               negotiated.max_pages);
  if (!ReadSeed(client) || !WriteAndReadBack(client)) return false;
  STEP_VOID(client.Destroy(), "DESTROY");
  return true;
}

}  // namespace boot
