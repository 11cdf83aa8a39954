#include "driver/virtqueue.h"

#include "base/format.h"

namespace driver {

base::Result<size_t> Virtqueue::PollUsed(std::span<UsedBuffer> out) {
  size_t count = 0;
  while (count < out.size()) {
    std::optional<UsedBuffer> used = TRY(PopUsed());
    if (!used.has_value()) break;
    out[count++] = *used;
  }
  return count;
}

void Virtqueue::ReportBroken(const char* what, uint32_t value) {
  base::Logf(platform_, base::LogLevel::kError,
             "virtqueue %u: device error: %s (%u)", index_, what, value);
  MarkBroken();
}

}  // namespace driver
