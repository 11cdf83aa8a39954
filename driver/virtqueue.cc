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

base::Result<uint64_t> Virtqueue::CheckChain(std::span<const Segment> readable,
                                             std::span<const Segment> writable,
                                             void* token) const {
  if (broken()) return base::Error{EIO};
  if (!is_set_up()) return base::Error{ENODEV};
  const size_t count = readable.size() + writable.size();
  if (count == 0 || count > size_ || token == nullptr) {
    return base::Error{EINVAL};
  }
  uint64_t writable_bytes = 0;
  for (const Segment& segment : readable) {
    if (segment.length == 0 || segment.length > UINT32_MAX) {
      return base::Error{EINVAL};
    }
  }
  for (const Segment& segment : writable) {
    if (segment.length == 0 || segment.length > UINT32_MAX) {
      return base::Error{EINVAL};
    }
    writable_bytes += segment.length;
  }
  return writable_bytes;
}

void Virtqueue::AbandonChains(std::vector<ChainRecord>& chains,
                              AbandonFn abandoned, void* context) {
  for (ChainRecord& chain : chains) {
    if (chain.descriptors == 0) continue;
    if (chain.indirect_table.cpu != nullptr) {
      platform_.FreeDma(chain.indirect_table);
    }
    if (abandoned != nullptr) abandoned(context, chain.token);
  }
  chains.clear();
}

void Virtqueue::ReportBroken(const char* what, uint32_t value) {
  base::Logf(platform_, base::LogLevel::kError,
             "virtqueue %u: device error: %s (%u)", index_, what, value);
  MarkBroken();
}

}  // namespace driver
