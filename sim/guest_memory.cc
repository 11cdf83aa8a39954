#include "sim/guest_memory.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sim {
namespace {

// Whether [a, a + a_size) and [b, b + b_size) share a byte (neither wraps).
bool Overlap(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size) {
  return a < b + b_size && b < a + a_size;
}

}  // namespace

std::unique_ptr<GuestMemory> GuestMemory::Create(uint64_t size, uint64_t base) {
  if (size == 0 || base == 0 || base % kPageSize != 0) return nullptr;
  if (size > UINT64_MAX - (kPageSize - 1)) return nullptr;
  size = (size + kPageSize - 1) & ~(kPageSize - 1);
  if (base > UINT64_MAX - size) return nullptr;  // The bus range would wrap.
  int fd = memfd_create("sim-guest-memory", MFD_CLOEXEC);
  if (fd < 0) return nullptr;
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    close(fd);
    return nullptr;
  }
  void* host = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (host == MAP_FAILED) {
    close(fd);
    return nullptr;
  }
  std::unique_ptr<GuestMemory> memory(new GuestMemory(fd));
  memory->regions_.push_back({base, size, static_cast<uint8_t*>(host),
                              reinterpret_cast<uint64_t>(host), host, size});
  return memory;
}

absl::StatusOr<std::unique_ptr<GuestMemory>> GuestMemory::MapRegions(
    std::span<const RegionSpec> specs) {
  if (specs.empty()) return absl::InvalidArgumentError("no memory regions");
  std::unique_ptr<GuestMemory> memory(new GuestMemory(-1));
  for (size_t i = 0; i < specs.size(); ++i) {
    const RegionSpec& spec = specs[i];
    const std::string which = absl::StrFormat(
        "memory region %d (bus 0x%x, size 0x%x, front-end 0x%x)", i, spec.bus,
        spec.size, spec.frontend_address);
    if (spec.size == 0) {
      return absl::InvalidArgumentError(absl::StrCat(which, " is empty"));
    }
    if (spec.bus > UINT64_MAX - spec.size ||
        spec.frontend_address > UINT64_MAX - spec.size ||
        spec.mmap_offset > UINT64_MAX - spec.size) {
      return absl::InvalidArgumentError(absl::StrCat(which, " wraps"));
    }
    for (const Region& other : memory->regions_) {
      if (Overlap(spec.bus, spec.size, other.bus, other.size) ||
          Overlap(spec.frontend_address, spec.size, other.frontend_address,
                  other.size)) {
        return absl::InvalidArgumentError(
            absl::StrCat(which, " overlaps an earlier region"));
      }
    }
    // The pages must exist in the file: a mapping past its end would fault
    // (SIGBUS) at the device's first access.
    struct stat file;
    if (fstat(spec.fd, &file) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(which, ": fstat: ", strerror(errno)));
    }
    if (!S_ISREG(file.st_mode) ||
        spec.mmap_offset + spec.size > static_cast<uint64_t>(file.st_size)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s reaches past the end of its file (offset 0x%x, file size 0x%x)",
          which, spec.mmap_offset, static_cast<uint64_t>(file.st_size)));
    }
    // mmap wants a page-aligned offset: map from the page the region starts
    // in.
    const uint64_t slack = spec.mmap_offset % kPageSize;
    const uint64_t length = spec.size + slack;
    void* mapping = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED,
                         spec.fd, static_cast<off_t>(spec.mmap_offset - slack));
    if (mapping == MAP_FAILED) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot map ", which, ": ", strerror(errno)));
    }
    memory->regions_.push_back({spec.bus, spec.size,
                                static_cast<uint8_t*>(mapping) + slack,
                                spec.frontend_address, mapping, length});
  }
  return memory;
}

GuestMemory::~GuestMemory() {
  for (const Region& region : regions_) {
    munmap(region.mapping, region.mapping_size);
  }
  if (fd_ >= 0) close(fd_);
}

std::string GuestMemory::Describe() const {
  std::string text;
  for (const Region& region : regions_) {
    absl::StrAppendFormat(&text, "%s[0x%x, 0x%x)", text.empty() ? "" : " ",
                          region.bus, region.bus + region.size);
  }
  return text;
}

std::optional<uint64_t> GuestMemory::BusAddressOf(const void* p,
                                                  uint64_t length) const {
  const uintptr_t address = reinterpret_cast<uintptr_t>(p);
  for (const Region& region : regions_) {
    const uintptr_t start = reinterpret_cast<uintptr_t>(region.host);
    if (address < start) continue;
    const uint64_t offset = address - start;
    if (offset <= region.size && length <= region.size - offset) {
      return region.bus + offset;
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> GuestMemory::BusAddressOfFrontend(
    uint64_t address, uint64_t length) const {
  for (const Region& region : regions_) {
    if (address < region.frontend_address) continue;
    const uint64_t offset = address - region.frontend_address;
    if (offset <= region.size && length <= region.size - offset) {
      return region.bus + offset;
    }
  }
  return std::nullopt;
}

bool GuestMemory::Read(uint64_t bus, void* out, uint64_t length) const {
  const uint8_t* source = HostPointer(bus, length);
  if (source == nullptr) return false;
  if (length != 0) std::memcpy(out, source, length);
  return true;
}

bool GuestMemory::Write(uint64_t bus, const void* data, uint64_t length) const {
  uint8_t* target = HostPointer(bus, length);
  if (target == nullptr) return false;
  if (length != 0) std::memcpy(target, data, length);
  return true;
}

}  // namespace sim
