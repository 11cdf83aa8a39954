#include "sim/guest_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

namespace sim {

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
  return std::unique_ptr<GuestMemory>(
      new GuestMemory(static_cast<uint8_t*>(host), base, size, fd));
}

GuestMemory::~GuestMemory() {
  munmap(host_, size_);
  close(fd_);
}

bool GuestMemory::Contains(uint64_t bus, uint64_t length) const {
  // Written so that no sum can wrap: bus - base_ is only computed once bus >=
  // base_.
  if (bus < base_) return false;
  uint64_t offset = bus - base_;
  if (offset > size_) return false;
  return length <= size_ - offset;
}

uint8_t* GuestMemory::HostPointer(uint64_t bus, uint64_t length) const {
  if (!Contains(bus, length)) return nullptr;
  return host_ + (bus - base_);
}

std::optional<uint64_t> GuestMemory::BusAddressOf(const void* p,
                                                  uint64_t length) const {
  uintptr_t address = reinterpret_cast<uintptr_t>(p);
  uintptr_t start = reinterpret_cast<uintptr_t>(host_);
  if (address < start) return std::nullopt;
  uint64_t offset = address - start;
  if (offset > size_ || length > size_ - offset) return std::nullopt;
  return base_ + offset;
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
