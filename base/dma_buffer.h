// DmaBuffer: owns memory from Platform::AllocateDma, kernel memory the device
// reaches where it is. Kernel code that hands a buffer of its own to the device
// (a READDIR's or READLINK's reply space) takes it from here, so the transfer
// maps it in place instead of bouncing it.
#ifndef BASE_DMA_BUFFER_H_
#define BASE_DMA_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <utility>

#include "base/platform.h"
#include "base/result.h"

namespace base {

class DmaBuffer {
 public:
  // `size` bytes (contents undefined). ENOMEM.
  static Result<DmaBuffer> Allocate(Platform& platform, size_t size,
                                    size_t alignment = 64) {
    DmaRegion region = TRY(platform.AllocateDma(size, alignment));
    return DmaBuffer(platform, region);
  }

  DmaBuffer(DmaBuffer&& other)
      : platform_(other.platform_), region_(std::exchange(other.region_, {})) {}
  DmaBuffer& operator=(DmaBuffer&& other) {
    if (this != &other) {
      Free();
      platform_ = other.platform_;
      region_ = std::exchange(other.region_, {});
    }
    return *this;
  }
  DmaBuffer(const DmaBuffer&) = delete;
  DmaBuffer& operator=(const DmaBuffer&) = delete;
  ~DmaBuffer() { Free(); }

  uint8_t* data() const { return static_cast<uint8_t*>(region_.cpu); }
  size_t size() const { return region_.size; }

 private:
  DmaBuffer(Platform& platform, const DmaRegion& region)
      : platform_(&platform), region_(region) {}
  void Free() {
    if (region_.cpu != nullptr) platform_->FreeDma(region_);
    region_ = {};
  }

  Platform* platform_;
  DmaRegion region_;
};

}  // namespace base

#endif  // BASE_DMA_BUFFER_H_
