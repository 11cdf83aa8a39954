// Simulated guest memory: the one region of "physical" memory the device can
// reach.
//
// The region is a memfd mapping (so a later process could map the same pages),
// seen by the device at a bus address range [base, base + size). The base is
// never 0 and is chosen far from host pointers so a bus address passed where a
// pointer was expected (or the reverse) fails loudly instead of working by
// accident. Every translation is bounds-checked and overflow-safe: nothing the
// driver writes can make the device touch memory outside it.
#ifndef SIM_GUEST_MEMORY_H_
#define SIM_GUEST_MEMORY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

namespace sim {

class GuestMemory {
 public:
  static constexpr uint64_t kDefaultBase = 0x4000'0000;
  static constexpr uint64_t kPageSize = 4096;

  // Maps `size` bytes (rounded up to a page) seen at bus address `base`. `base`
  // must be nonzero and page aligned and the range must not wrap. nullptr when
  // that is not so or the kernel refuses the mapping.
  static std::unique_ptr<GuestMemory> Create(uint64_t size,
                                             uint64_t base = kDefaultBase);

  ~GuestMemory();
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;

  uint64_t base() const { return base_; }
  uint64_t size() const { return size_; }
  // One past the last bus address.
  uint64_t end() const { return base_ + size_; }
  // The memfd backing the region.
  int fd() const { return fd_; }

  // Whether [bus, bus + length) lies inside guest memory. A zero-length range
  // is inside when `bus` is in [base, end]. Never overflows, whatever the
  // inputs.
  bool Contains(uint64_t bus, uint64_t length) const;
  // The host view of [bus, bus + length), or nullptr when the range is not all
  // inside.
  uint8_t* HostPointer(uint64_t bus, uint64_t length) const;
  // The bus address of host range [p, p + length), or nullopt when it is not
  // all inside.
  std::optional<uint64_t> BusAddressOf(const void* p, uint64_t length) const;

  // Bounds-checked copies; false (and nothing copied) when the range is not all
  // inside.
  bool Read(uint64_t bus, void* out, uint64_t length) const;
  bool Write(uint64_t bus, const void* data, uint64_t length) const;

 private:
  GuestMemory(uint8_t* host, uint64_t base, uint64_t size, int fd)
      : host_(host), base_(base), size_(size), fd_(fd) {}

  uint8_t* const host_;
  const uint64_t base_;
  const uint64_t size_;
  const int fd_;
};

}  // namespace sim

#endif  // SIM_GUEST_MEMORY_H_
