// Fuzz target: a hostile device answering the driver. The first byte chooses:
//  - the FUSE client (driver::FuseClient): a sequence of typed calls (READ in
//    one step or in two), each answered with reply bytes and a used length
//    taken from the input (made to match the request's unique and length
//    half of the time, so that the payload checks are reached); every caller
//    buffer sits between canaries that must survive, and every call must
//    return (a value or an errno);
//  - the split queue (driver::SplitQueue): chains submitted, and used
//    elements, used lengths and the used index written as the input says;
//    each token must come back at most once, with at most its writable
//    bytes, and a queue that called something broken must stay broken (EIO).
#include <linux/fuse.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <span>
#include <vector>

#include "driver/fuse_client.h"
#include "driver/split_queue.h"
#include "fuzz/fuzz_input.h"
#include "sim/guest_memory.h"
#include "sim/sim_platform.h"
#include "tests/driver/scripted_fuse_device.h"

namespace {

using fuzz::Input;

void Check(bool ok, const char* what) {
  if (ok) return;
  fprintf(stderr, "fuse_reply_fuzzer: %s\n", what);
  abort();
}

// A platform whose log lines go nowhere (a hostile reply is logged each time).
class QuietPlatform : public driver_test::LogPlatform {
 public:
  void Log(base::LogLevel, const char*) override {}
};

// A caller buffer between two canaries.
class GuardedBuffer {
 public:
  explicit GuardedBuffer(size_t size) : bytes_(size + 2 * kGuard, kCanary) {}
  std::span<uint8_t> span() { return {bytes_.data() + kGuard, size()}; }
  size_t size() const { return bytes_.size() - 2 * kGuard; }
  void CheckGuards() const {
    for (size_t i = 0; i < kGuard; ++i) {
      Check(bytes_[i] == kCanary && bytes_[bytes_.size() - 1 - i] == kCanary,
            "a reply was written outside the caller's buffer");
    }
  }

 private:
  static constexpr size_t kGuard = 64;
  static constexpr uint8_t kCanary = 0xa5;
  std::vector<uint8_t> bytes_;
};

void FuzzClient(Input& input) {
  static QuietPlatform* platform = new QuietPlatform;
  driver_test::ScriptedFuseDevice device;
  driver::FuseClient client(*platform, device);
  device.SetHandler([&input](const driver_test::SeenRequest& request) {
    driver_test::ScriptedReply reply;
    const uint8_t mode = input.Take<uint8_t>();
    reply.bytes = input.Bytes(input.Take<uint16_t>() % 8192);
    if ((mode & 1) && reply.bytes.size() >= sizeof(fuse_out_header)) {
      // A header that matches: the payload is what gets checked.
      fuse_out_header header;
      memcpy(&header, reply.bytes.data(), sizeof(header));
      header.len = static_cast<uint32_t>(reply.bytes.size());
      header.unique = request.unique();
      if (mode & 2) header.error = 0;
      memcpy(reply.bytes.data(), &header, sizeof(header));
    }
    if (mode & 4) reply.used = input.Take<uint32_t>();
    return reply;
  });
  if (!client.Init().ok()) return;
  for (int calls = 0; calls < 16 && !input.empty(); ++calls) {
    const uint64_t node = input.Take<uint8_t>() + 1;
    GuardedBuffer buffer(input.Take<uint16_t>() % 8192 +
                         driver::FuseClient::kMinDirBufferSize);
    switch (input.Take<uint8_t>() % 8) {
      case 0:
        (void)client.GetAttr(node);
        break;
      case 1:
        (void)client.Lookup(node, "name");
        break;
      case 2: {
        // In one step, or in read-ahead's two.
        if (node % 2) {
          (void)client.Read(node, 1, 0, buffer.span());
          break;
        }
        driver::FuseClient::PendingRead pending;
        if (client.StartRead(node, 1, 0, buffer.span(), pending).ok()) {
          (void)client.FinishRead(pending);
        }
        break;
      }
      case 3: {
        auto list = client.ReadDirPlus(node, 1, 0, buffer.span());
        if (list.ok()) {
          for (const driver::DirEntry& entry : list.value()) {
            Check(!entry.name.empty(), "an empty name came out of a listing");
            // A looked-up entry, decoded only when asked for, is the one
            // the listing was checked with.
            Check(!entry.HoldsLookup() ||
                      driver::CheckAttr(entry.entry().attr) == nullptr,
                  "a listed lookup came out with attributes never checked");
          }
        }
        break;
      }
      case 4:
        (void)client.ReadLink(
            node,
            {reinterpret_cast<char*>(buffer.span().data()), buffer.size()});
        break;
      case 5:
        (void)client.GetXattr(node, "user.x", buffer.span());
        break;
      case 6:
        (void)client.ListXattr(
            node,
            {reinterpret_cast<char*>(buffer.span().data()), buffer.size()});
        break;
      default:
        (void)client.Create(node, "file", 0, 0644);
        break;
    }
    buffer.CheckGuards();
  }
}

void FuzzSplitQueue(Input& input) {
  static auto* memory = sim::GuestMemory::Create(1 << 20).release();
  static auto* platform =
      new sim::SimPlatform(*memory, [](base::LogLevel, const char*) {});
  driver::SplitQueue queue(*platform, 0);
  const uint16_t size = uint16_t{1} << (input.Take<uint8_t>() % 5);
  const uint64_t features = static_cast<uint64_t>(input.Take<uint8_t>() & 3)
                            << 28;
  if (!queue.Setup(size, features).ok()) return;
  const driver::QueueAddresses rings = queue.addresses();
  auto* used = reinterpret_cast<vring_used*>(
      memory->HostPointer(rings.device_area, 4 + 8ull * size));
  base::Result<base::DmaRegion> allocated = platform->AllocateDma(4096, 16);
  Check(allocated.ok(), "no DMA memory");
  const base::DmaRegion buffer = allocated.value();
  // Tokens are 1-based indices into `writable`; 0 marks a returned one.
  std::vector<uint64_t> writable(1, 0);
  std::set<uintptr_t> in_flight;
  for (int steps = 0; steps < 64 && !input.empty(); ++steps) {
    const uint8_t op = input.Take<uint8_t>();
    if (op % 3 == 0) {  // Submit a chain.
      const size_t readable_count = op >> 6;
      const size_t writable_count = (op >> 4) & 3;
      std::vector<driver::Segment> segments;
      for (size_t i = 0; i < readable_count + writable_count; ++i) {
        const size_t length = 1 + input.Take<uint8_t>();
        segments.push_back({buffer.bus + i * 64, length});
      }
      uint64_t writable_bytes = 0;
      for (size_t i = readable_count; i < segments.size(); ++i) {
        writable_bytes += segments[i].length;
      }
      writable.push_back(writable_bytes);
      void* token = reinterpret_cast<void*>(writable.size() - 1);
      const bool was_broken = queue.broken();
      auto submitted =
          queue.Submit(std::span(segments).first(readable_count),
                       std::span(segments).subspan(readable_count), token);
      if (was_broken) Check(!submitted.ok(), "a broken queue took a chain");
      if (submitted.ok()) in_flight.insert(reinterpret_cast<uintptr_t>(token));
    } else if (op % 3 == 1) {  // The device writes a used element.
      const uint16_t slot = input.Take<uint16_t>() % size;
      used->ring[slot].id = input.Take<uint32_t>();
      used->ring[slot].len = input.Take<uint32_t>();
      std::atomic_ref<uint16_t>(used->idx).store(input.Take<uint16_t>(),
                                                 std::memory_order_release);
    } else {  // The driver collects.
      const bool was_broken = queue.broken();
      auto popped = queue.PopUsed();
      if (was_broken) Check(!popped.ok(), "a broken queue returned a chain");
      if (popped.ok() && popped.value()) {
        const uintptr_t token =
            reinterpret_cast<uintptr_t>(popped.value()->token);
        Check(in_flight.erase(token) == 1,
              "a token came back that was not in flight");
        Check(popped.value()->length <= writable[token],
              "a used length above the chain's writable bytes came back");
      }
    }
  }
  platform->FreeDma(buffer);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input input(data, size);
  if (input.Take<uint8_t>() & 1) {
    FuzzSplitQueue(input);
  } else {
    FuzzClient(input);
  }
  return 0;
}
