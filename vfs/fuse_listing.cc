#include "vfs/fuse_listing.h"

#include <linux/fuse.h>

#include <cstring>
#include <utility>

namespace vfs::fusefs {

bool ListingFill::Add(uint64_t position, const driver::DirentList& entries) {
  if (position != position_) return false;
  for (const driver::DirEntry entry : entries) {
    const size_t at = records_.size();
    const size_t length =
        FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + entry.name.size());
    if (at + length > kMaxBytes) return false;
    records_.resize(at + length);  // Zeros: the padding after the name.
    const fuse_dirent header{
        .ino = entry.ino,
        .off = entry.next_offset,
        .namelen = static_cast<uint32_t>(entry.name.size()),
        .type = entry.type};
    memcpy(&records_[at], &header, FUSE_NAME_OFFSET);
    memcpy(&records_[at + FUSE_NAME_OFFSET], entry.name.data(),
           entry.name.size());
    ++count_;
    position_ = entry.next_offset;
  }
  return true;
}

RefPtr<Listing> ListingFill::End(uint64_t position, ListingBudget& budget) {
  if (position != position_ || !budget.Take(records_.size())) return nullptr;
  return MakeRef<Listing>(budget, std::move(records_), count_, stamp_,
                          position_);
}

}  // namespace vfs::fusefs
