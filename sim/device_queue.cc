#include "sim/device_queue.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "sim/packed_device_queue.h"
#include "sim/split_device_queue.h"

namespace sim {

bool IsValidQueueSize(uint32_t size, uint32_t max_size, bool packed) {
  return packed ? IsValidPackedQueueSize(size, max_size)
                : IsValidSplitQueueSize(size, max_size);
}

std::optional<ViolationRecord> CheckQueueLayout(const GuestMemory& memory,
                                                const QueueLayout& layout,
                                                bool packed) {
  return packed ? CheckPackedQueueLayout(memory, layout)
                : CheckSplitQueueLayout(memory, layout);
}

std::string DeviceQueue::DescribeState() const {
  return absl::StrCat("taken up to ", last_avail_idx(), ", used up to ",
                      used_idx(), ", ", in_flight(), " in flight");
}

std::unique_ptr<DeviceQueue> MakeDeviceQueue(const GuestMemory& memory,
                                             uint16_t index,
                                             const QueueLayout& layout,
                                             const QueueFeatures& features) {
  if (features.packed) {
    return std::make_unique<PackedDeviceQueue>(memory, index, layout, features);
  }
  return std::make_unique<SplitDeviceQueue>(memory, index, layout, features);
}

}  // namespace sim
