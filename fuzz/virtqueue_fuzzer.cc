// Fuzz target: a hostile driver at the virtqueue level. The input drives the
// virtio-fs device on a share, over PCI or MMIO (the first byte chooses), as a
// program of operations on its registers and its split rings: descriptors
// (sane, pointing into a data area, or raw), avail ring entries and index,
// notifications, data bytes, and raw register writes of either transport.
// Every notification is processed at once (inline mode). After each one, the
// bytes of guest memory the device changed must lie in a used ring or in a
// buffer some descriptor (or indirect table entry) marks device-writable, and
// the outside of the share must be untouched.
#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_ring.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "fuzz/fuzz_input.h"
#include "fuzz/fuzz_share.h"
#include "sim/virtio_fs_device.h"
#include "tests/sim/test_driver.h"

namespace {

constexpr uint64_t kMemoryBytes = 256 << 10;
constexpr uint64_t kDataBytes = 64 << 10;
constexpr uint16_t kQueueSize = 16;
constexpr uint16_t kQueues = 2;  // hiprio and one request queue.

using fuzz::Input;

// A small guest (so that each notification's check of all its memory is
// cheap) with the virtio-fs device on one transport.
struct Transport {
  explicit Transport(base::TransportKind kind, const std::string& share)
      : memory(sim::GuestMemory::Create(kMemoryBytes)), allocator(*memory) {
    sim::VirtioFsOptions options;
    options.share.share_dir = share;
    options.tag = "fuzz";
    auto fs = sim::VirtioFsDevice::Create(options);
    if (!fs.ok()) {
      fprintf(stderr, "virtqueue_fuzzer: %s\n",
              std::string(fs.status().message()).c_str());
      abort();
    }
    device = sim::MakeDevice(*memory, std::move(*fs), {.transport = kind});
    driver =
        std::make_unique<sim_test::TestDriver>(*device, *memory, allocator);
    data = allocator.Allocate(kDataBytes, 4096).value();
  }
  std::unique_ptr<sim::GuestMemory> memory;
  sim::DmaAllocator allocator;
  std::unique_ptr<sim::SimDevice> device;
  std::unique_ptr<sim_test::TestDriver> driver;
  uint64_t data = 0;
};

struct Environment {
  fuzz::FuzzShare share;
  std::unique_ptr<Transport> transports[2];
  std::string outside_before;
};
Environment* env = nullptr;

void Init() {
  env = new Environment;
  env->transports[0] = std::make_unique<Transport>(base::TransportKind::kPci,
                                                   env->share.share());
  env->transports[1] = std::make_unique<Transport>(base::TransportKind::kMmio,
                                                   env->share.share());
  env->outside_before = env->share.SnapshotOutside();
}

// Marks [addr, addr + len) of guest memory as writable by the device, where
// it lies in guest memory.
void Allow(const sim::GuestMemory& memory, std::vector<uint8_t>& allowed,
           uint64_t addr, uint64_t len) {
  if (!memory.Contains(addr, len)) return;
  memset(allowed.data() + (addr - memory.base()), 1, len);
}

// A queue as the device has it configured (the input may have moved it).
sim::QueueLayout ConfiguredLayout(sim::VirtioDeviceModel& model, uint16_t q) {
  auto field64 = [&](sim::QueueField low, sim::QueueField high) {
    return model.ReadQueueField(q, low) |
           uint64_t{model.ReadQueueField(q, high)} << 32;
  };
  sim::QueueLayout layout;
  layout.size =
      static_cast<uint16_t>(model.ReadQueueField(q, sim::QueueField::kSize));
  layout.desc = field64(sim::QueueField::kDescLow, sim::QueueField::kDescHigh);
  layout.device =
      field64(sim::QueueField::kDeviceLow, sim::QueueField::kDeviceHigh);
  return layout;
}

// What the device may write now: each queue's used ring, and every buffer a
// descriptor or an indirect table entry marks device-writable.
// (The buffer is reused: allocating it for each notification costs more
// page faults than the rest of the run.)
const std::vector<uint8_t>& AllowedWrites(Transport& transport) {
  const sim::GuestMemory& memory = *transport.memory;
  static std::vector<uint8_t> allowed;
  allowed.assign(memory.size(), 0);
  for (uint16_t q = 0; q < kQueues; ++q) {
    const sim::QueueLayout layout =
        ConfiguredLayout(transport.device->model(), q);
    Allow(memory, allowed, layout.device, 6 + 8ull * layout.size);
    for (uint16_t i = 0; i < layout.size; ++i) {
      vring_desc desc;
      if (!memory.Read(layout.desc + 16ull * i, &desc, sizeof(desc))) continue;
      if (desc.flags & VRING_DESC_F_WRITE) {
        Allow(memory, allowed, desc.addr, desc.len);
      }
      if (desc.flags & VRING_DESC_F_INDIRECT) {
        // A table the device can follow lies wholly in guest memory.
        const uint8_t* table = memory.HostPointer(desc.addr, desc.len);
        for (uint64_t j = 0; table != nullptr && j < desc.len / 16; ++j) {
          vring_desc entry;
          memcpy(&entry, table + 16 * j, sizeof(entry));
          if (entry.flags & VRING_DESC_F_WRITE) {
            Allow(memory, allowed, entry.addr, entry.len);
          }
        }
      }
    }
  }
  return allowed;
}

void Check(bool ok, const char* what) {
  if (ok) return;
  fprintf(stderr, "virtqueue_fuzzer: %s\n", what);
  abort();
}

// Notifies `queue` and checks what the device wrote: pages that changed are
// compared byte by byte against what it may write.
void NotifyAndCheck(Transport& transport, uint16_t queue) {
  const sim::GuestMemory& memory = *transport.memory;
  static std::vector<uint8_t> before;
  before.resize(memory.size());
  memory.Read(memory.base(), before.data(), before.size());
  const std::vector<uint8_t>& allowed = AllowedWrites(transport);
  transport.driver->Notify(queue);
  const uint8_t* after = memory.HostPointer(memory.base(), memory.size());
  for (uint64_t page = 0; page < memory.size(); page += 4096) {
    if (memcmp(after + page, before.data() + page, 4096) == 0) continue;
    for (uint64_t i = page; i < page + 4096; ++i) {
      if (after[i] != before[i] && !allowed[i]) {
        fprintf(stderr,
                "virtqueue_fuzzer: the device wrote guest memory at 0x%llx, "
                "outside every used ring and writable buffer\n",
                static_cast<unsigned long long>(memory.base() + i));
        abort();
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (env == nullptr) Init();
  Input input(bytes, size);
  Transport& transport = *env->transports[input.Take<uint8_t>() & 1];
  sim_test::TestDriver& driver = *transport.driver;
  // Every input starts from a device set up as a driver would.
  Check(driver.Init(~uint64_t{0}, kQueueSize, kQueues), "setup failed");
  for (int steps = 0; steps < 64 && !input.empty(); ++steps) {
    const uint8_t op = input.Take<uint8_t>();
    sim_test::TestRing& ring = driver.ring(op >> 7);
    switch (op & 7) {
      case 0: {  // A descriptor into the data area.
        const uint16_t index = input.Take<uint8_t>() % kQueueSize;
        const uint16_t offset = input.Take<uint16_t>();
        const uint16_t len = input.Take<uint16_t>();
        const uint16_t flags = input.Take<uint8_t>() & 7;
        const uint16_t next = input.Take<uint8_t>();
        ring.SetDesc(index, transport.data + offset % kDataBytes, len, flags,
                     next);
        break;
      }
      case 1: {  // A raw descriptor: any address, length, flags, next.
        const uint16_t index = input.Take<uint8_t>() % kQueueSize;
        const vring_desc desc = input.Take<vring_desc>();
        ring.SetDesc(index, desc.addr, desc.len, desc.flags, desc.next);
        break;
      }
      case 2:  // Make a head available.
        ring.Publish(input.Take<uint16_t>());
        break;
      case 3:  // Set the avail index (and flags) to anything.
        ring.SetAvailIdx(input.Take<uint16_t>());
        ring.SetAvailFlags(input.Take<uint8_t>() & 1);
        break;
      case 4:  // Bytes into the data area (a FUSE request, say).
      {
        const uint16_t offset = input.Take<uint16_t>() % kDataBytes;
        const uint8_t count = input.Take<uint8_t>();
        for (uint8_t i = 0; i < count && offset + i < kDataBytes; ++i) {
          *ring.Host(transport.data + offset + i) = input.Take<uint8_t>();
        }
        break;
      }
      case 5:  // A notification.
        NotifyAndCheck(transport, input.Take<uint8_t>() % (kQueues + 1));
        break;
      case 6: {  // A raw register write of the transport.
        const auto space =
            static_cast<base::RegisterSpace>(input.Take<uint8_t>() % 8);
        const uint16_t offset = input.Take<uint16_t>() & 0x1ff;
        const unsigned width = 1u << (input.Take<uint8_t>() % 3);
        transport.device->Write(space, offset, width, input.Take<uint32_t>());
        break;
      }
      default:  // Used event (EVENT_IDX).
        ring.SetUsedEvent(input.Take<uint16_t>());
        break;
    }
  }
  // Whatever is left available is processed too.
  NotifyAndCheck(transport, 1);
  Check(env->share.SnapshotOutside() == env->outside_before,
        "the outside directory changed");
  return 0;
}
