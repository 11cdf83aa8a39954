// Guest memory as the device reaches it: a table of regions, each a range of
// bus (guest-physical) addresses backed by a host mapping.
//
// The simulation makes one region (Create): a memfd mapping seen at a bus
// address range [base, base + size). The base is never 0 and is chosen far
// from host pointers so a bus address passed where a pointer was expected (or
// the reverse) fails loudly instead of working by accident. A vhost-user
// front-end hands over its guest's RAM as several regions, each a file
// descriptor to map, with the address the front-end itself maps it at: vring
// addresses come in those front-end addresses (MapRegions).
//
// Every translation is bounds-checked and overflow-safe, and a range is inside
// only when it lies within one region: nothing a driver writes can make the
// device touch memory outside the mappings.
#ifndef SIM_GUEST_MEMORY_H_
#define SIM_GUEST_MEMORY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sim {

class GuestMemory {
 public:
  static constexpr uint64_t kDefaultBase = 0x4000'0000;
  static constexpr uint64_t kPageSize = 4096;

  // A region a front-end passes: `size` bytes at offset `mmap_offset` of
  // `fd`, seen at bus address `bus` by the guest and at `frontend_address` by
  // the front-end.
  struct RegionSpec {
    uint64_t bus = 0;
    uint64_t size = 0;
    uint64_t frontend_address = 0;
    uint64_t mmap_offset = 0;
    int fd = -1;  // Borrowed: the mapping keeps the pages.
  };

  // Maps `size` bytes (rounded up to a page) seen at bus address `base`. `base`
  // must be nonzero and page aligned and the range must not wrap. nullptr when
  // that is not so or the kernel refuses the mapping.
  static std::unique_ptr<GuestMemory> Create(uint64_t size,
                                             uint64_t base = kDefaultBase);
  // Maps a front-end's regions. InvalidArgument for an empty table, a region
  // of size 0, a bus or front-end range that wraps or overlaps another
  // region's; an error for a mapping the kernel refuses.
  static absl::StatusOr<std::unique_ptr<GuestMemory>> MapRegions(
      std::span<const RegionSpec> regions);

  ~GuestMemory();
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;

  // The first region (Create's only one): its bus address range and memfd
  // (-1 for a front-end's).
  uint64_t base() const { return regions_[0].bus; }
  uint64_t size() const { return regions_[0].size; }
  uint64_t end() const { return regions_[0].bus + regions_[0].size; }
  int fd() const { return fd_; }
  // "[0x40000000, 0x50000000) [0x100000000, ...)": the bus ranges, for
  // messages.
  std::string Describe() const;

  // Whether [bus, bus + length) lies inside one region. A zero-length range
  // is inside when `bus` is in [start, end] of a region. Never overflows,
  // whatever the inputs.
  bool Contains(uint64_t bus, uint64_t length) const {
    return Find(bus, length) != nullptr;
  }
  // The host view of [bus, bus + length), or nullptr when the range is not all
  // inside one region.
  uint8_t* HostPointer(uint64_t bus, uint64_t length) const {
    const Region* region = Find(bus, length);
    return region ? region->host + (bus - region->bus) : nullptr;
  }
  // The bus address of host range [p, p + length), or nullopt when it is not
  // all inside one region.
  std::optional<uint64_t> BusAddressOf(const void* p, uint64_t length) const;
  // The bus address of the front-end's [address, address + length) (vring
  // addresses), or nullopt when it is not all inside one region.
  std::optional<uint64_t> BusAddressOfFrontend(uint64_t address,
                                               uint64_t length) const;

  // Bounds-checked copies; false (and nothing copied) when the range is not all
  // inside.
  bool Read(uint64_t bus, void* out, uint64_t length) const;
  bool Write(uint64_t bus, const void* data, uint64_t length) const;

 private:
  struct Region {
    uint64_t bus;
    uint64_t size;
    uint8_t* host;
    uint64_t frontend_address;
    void* mapping;  // What munmap takes (a front-end's starts before `host`).
    size_t mapping_size;
  };

  explicit GuestMemory(int fd) : fd_(fd) {}

  // The region holding all of [bus, bus + length), or null.
  const Region* Find(uint64_t bus, uint64_t length) const {
    for (const Region& region : regions_) {
      // Written so that no sum can wrap: bus - region.bus is only computed
      // once bus >= region.bus.
      if (bus < region.bus) continue;
      const uint64_t offset = bus - region.bus;
      if (offset <= region.size && length <= region.size - offset) {
        return &region;
      }
    }
    return nullptr;
  }

  std::vector<Region> regions_;
  const int fd_;
};

}  // namespace sim

#endif  // SIM_GUEST_MEMORY_H_
