// vfs::fusefs::Listing: a directory's entries as the device last listed them
// whole, kept where the device allows it (FOPEN_CACHE_DIR in its OPENDIR
// reply: virtiofsd's cache=always), so that the next listing from the start
// sends no READDIR, as Linux's fs/fuse/readdir.c keeps them in the
// directory's page cache.
//
// Coherence is Linux's: a listing is served from position 0 only while the
// directory's attributes (asked again once their validity ran out) show the
// mtime it was made at, and while this filesystem has changed nothing in the
// directory since (FuseNode::changed_version: a create, link, unlink, rename
// or mkdir there invalidates the directory's attributes). A change made on the
// host shows once the directory's attributes expire and its mtime moved.
//
// One open directory reading from position 0 to the end without a seek makes
// a listing (ListingFill); it is kept only when nothing changed the directory
// meanwhile. A listing never changes once made, so readers take no lock; its
// memory comes from the filesystem's ListingBudget, and a listing that does
// not fit is not kept.
#ifndef VFS_FUSE_LISTING_H_
#define VFS_FUSE_LISTING_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "driver/dirent_parser.h"
#include "vfs/byte_budget.h"
#include "vfs/ref_counted.h"
#include "vfs/stat.h"

namespace vfs::fusefs {

// The cached listings of one filesystem together.
using ListingBudget = ByteBudget<4u << 20>;

// What a listing was made against: the directory as the listing began.
struct ListingStamp {
  Timespec mtime;
  uint64_t changed_version = 0;  // FuseNode::changed_version.
  uint64_t attr_version = 0;     // FuseFs::AttrVersion.

  // Whether nothing this filesystem did makes a listing so stamped stale: the
  // directory's change version is still `changed_now`, and no invalidation of
  // every node's attributes (FuseFs::all_invalid_before) came after it began.
  bool Current(uint64_t changed_now, uint64_t all_invalid_before) const {
    return changed_version == changed_now && attr_version >= all_invalid_before;
  }
};

class Listing final : public RefCounted {
 public:
  // `records` holds `count` fuse_dirent records (READDIR's format), whose
  // bytes the caller took from `budget`.
  Listing(ListingBudget& budget, std::vector<uint8_t> records, size_t count,
          const ListingStamp& stamp, uint64_t end_position)
      : budget_(budget),
        records_(std::move(records)),
        count_(count),
        stamp_(stamp),
        end_position_(end_position) {}

  driver::DirentList entries() const {
    return driver::DirentList(records_, count_, driver::DirentFormat::kPlain);
  }
  const ListingStamp& stamp() const { return stamp_; }
  // The position after the last entry, where the device said the end is.
  uint64_t end_position() const { return end_position_; }

 protected:
  ~Listing() override { budget_.Give(records_.size()); }

 private:
  ListingBudget& budget_;
  const std::vector<uint8_t> records_;
  const size_t count_;
  const ListingStamp stamp_;
  const uint64_t end_position_;
};

// A listing being read from the device, reply by reply, from position 0.
class ListingFill {
 public:
  // The most one listing keeps: a directory this large is read from the
  // device each time rather than take the budget from many smaller ones.
  static constexpr size_t kMaxBytes = ListingBudget::kMaxBytes / 8;

  explicit ListingFill(const ListingStamp& stamp) : stamp_(stamp) {}

  // Adds the entries of a reply the device gave from `position`. False when
  // the fill cannot go on: the reader did not continue where the last reply
  // ended (a seek), or the listing grew past kMaxBytes.
  bool Add(uint64_t position, const driver::DirentList& entries);
  // The device's reply from `position` was empty: the listing ends there. The
  // listing, with its memory taken from `budget`; null when the fill does not
  // stand at `position` or the budget has no room.
  RefPtr<Listing> End(uint64_t position, ListingBudget& budget);

 private:
  const ListingStamp stamp_;
  std::vector<uint8_t> records_;
  size_t count_ = 0;
  uint64_t position_ = 0;  // Where the next reply must begin.
};

}  // namespace vfs::fusefs

#endif  // VFS_FUSE_LISTING_H_
