// memfs regular files: contents, and what open(2) returns for them.
#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "vfs/memfs_nodes.h"

namespace vfs::memfs {
namespace {

constexpr uint64_t kPageSize = MemFs::kPageSize;
constexpr uint64_t kMaxFileSize = std::numeric_limits<int64_t>::max();

class OpenRegularFile final : public OpenFile {
 public:
  OpenRegularFile(RefPtr<File> file, int flags)
      : OpenFile(file->fs().platform(), file, flags), file_(std::move(file)) {}

 protected:
  Result<size_t> ReadAt(std::span<std::byte> buffer, uint64_t offset) override {
    return file_->Read(buffer, offset);
  }
  Result<size_t> WriteAt(std::span<const std::byte> data, uint64_t* offset,
                         bool append) override {
    return file_->Write(data, offset, append);
  }

 private:
  RefPtr<File> file_;
};

}  // namespace

File::File(RefPtr<MemFs> fs, uint64_t ino, uint32_t mode)
    : MemNode(std::move(fs), ino, base::kTypeRegular, mode) {
  AddLinks(1);
}

File::~File() { fs().FreePages(pages_.size()); }

Result<RefPtr<OpenFile>> File::Open(int flags) {
  if (flags & base::kOpenTruncate) {
    AttrChange change;
    change.valid = AttrChange::kSize;
    change.size = 0;
    TRY(SetAttr(change));
  }
  return RefPtr<OpenFile>(MakeRef<OpenRegularFile>(RefPtr<File>(this), flags));
}

File::Page* File::FindPage(uint64_t index) {
  auto it = std::lower_bound(
      pages_.begin(), pages_.end(), index,
      [](const PageSlot& slot, uint64_t i) { return slot.index < i; });
  return it != pages_.end() && it->index == index ? it->page.get() : nullptr;
}

File::Page* File::PageForWrite(uint64_t index) {
  auto it = std::lower_bound(
      pages_.begin(), pages_.end(), index,
      [](const PageSlot& slot, uint64_t i) { return slot.index < i; });
  if (it != pages_.end() && it->index == index) return it->page.get();
  if (!fs().AllocatePage()) return nullptr;
  it = pages_.insert(it, PageSlot{index, std::make_unique<Page>()});
  return it->page.get();
}

Result<size_t> File::Read(std::span<std::byte> buffer, uint64_t offset) {
  base::LockGuard guard(*lock_);
  if (offset >= size_) return size_t{0};
  size_t length =
      static_cast<size_t>(std::min<uint64_t>(buffer.size(), size_ - offset));
  size_t done = 0;
  while (done < length) {
    uint64_t at = offset + done;
    size_t in_page = at % kPageSize;
    size_t chunk = std::min<size_t>(length - done, kPageSize - in_page);
    if (Page* page = FindPage(at / kPageSize)) {
      memcpy(buffer.data() + done, page->data() + in_page, chunk);
    } else {
      memset(buffer.data() + done, 0, chunk);
    }
    done += chunk;
  }
  return length;
}

Result<size_t> File::Write(std::span<const std::byte> data, uint64_t* offset,
                           bool append) {
  base::LockGuard guard(*lock_);
  if (append) *offset = size_;
  if (data.empty()) return size_t{0};
  if (*offset >= kMaxFileSize) return Error{EFBIG};
  size_t length = static_cast<size_t>(
      std::min<uint64_t>(data.size(), kMaxFileSize - *offset));
  size_t done = 0;
  while (done < length) {
    uint64_t at = *offset + done;
    size_t in_page = at % kPageSize;
    size_t chunk = std::min<size_t>(length - done, kPageSize - in_page);
    Page* page = PageForWrite(at / kPageSize);
    if (!page) break;  // Full: a short write, or ENOSPC if nothing fit.
    memcpy(page->data() + in_page, data.data() + done, chunk);
    done += chunk;
  }
  if (done == 0) return Error{ENOSPC};
  *offset += done;
  size_ = std::max(size_, *offset);
  TouchLocked(/*contents=*/true);
  return done;
}

void File::FillSize(Stat& st) const {
  st.st_size = static_cast<int64_t>(size_);
  st.st_blocks = static_cast<int64_t>(pages_.size() * (kPageSize / 512));
}

Result<void> File::Resize(uint64_t size) {
  if (size > kMaxFileSize) return Error{EFBIG};
  if (size < size_) {
    // Drop the pages wholly past the end, and zero the tail of the last one, so
    // that growing the file again reads zeros there.
    uint64_t keep = (size + kPageSize - 1) / kPageSize;
    auto first_dropped = std::lower_bound(
        pages_.begin(), pages_.end(), keep,
        [](const PageSlot& slot, uint64_t i) { return slot.index < i; });
    fs().FreePages(static_cast<uint64_t>(pages_.end() - first_dropped));
    pages_.erase(first_dropped, pages_.end());
    if (size % kPageSize != 0) {
      if (Page* page = FindPage(size / kPageSize)) {
        memset(page->data() + size % kPageSize, 0,
               kPageSize - size % kPageSize);
      }
    }
  }
  size_ = size;
  return {};
}

}  // namespace vfs::memfs
