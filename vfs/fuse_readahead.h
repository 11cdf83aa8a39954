// vfs::fusefs::Readahead: the read-ahead windows of one open regular file.
//
// A small read that continues where the previous one on the description
// ended asks the device for a whole window (the session's max_readahead), and
// the small reads that follow are copied from it, as Linux's page cache reads
// ahead for a FUSE file opened without FOPEN_DIRECT_IO. A request costs the
// simulated machine ~0.5 us of its own besides the host's pread; copying
// 4 KiB out of the window ~0.1 us. Reads larger than a window's eighth go to
// the device as they are: the copy would cost more than the request it saves.
//
// Asynchronously, as Linux's async read-ahead: the first read served from a
// full window sends the READ of the next window into a second one and
// returns; the reader finds it done (or waits for the rest) when it gets
// there, so a device that works beside the reader (a device thread, a real
// device) fills one window while the reader copies out of the other. A window
// takes the budget's memory only when it is first needed, so a reader that
// stops after one window holds one.
//
// Coherence is Linux's with cache=auto: a window is valid while the node's
// data is unchanged by this filesystem (FuseNode::data_version: a write,
// truncation, fallocate or copy into the file, or an O_TRUNC open, through any
// descriptor); changes made elsewhere (the host, another machine) are seen by
// reads past the windows and by the next open (close-to-open).
#ifndef VFS_FUSE_READAHEAD_H_
#define VFS_FUSE_READAHEAD_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "base/dma_buffer.h"
#include "base/platform.h"
#include "base/result.h"
#include "driver/fuse_client.h"
#include "vfs/byte_budget.h"
#include "vfs/spin_lock.h"

namespace vfs::fusefs {

// Window memory of one filesystem's open files together: bounded, so that
// many sequential readers cannot take the DMA memory other transfers need.
// A window to read ahead into takes only from the free half, so that readers
// without a window get one before others get a second.
using ReadaheadBudget = ByteBudget<8u << 20>;

// The file handle a description's reads go to.
struct ReadTarget {
  driver::FuseClient& client;
  uint64_t nodeid;
  uint64_t fh;
};

class Readahead {
 public:
  // `window_bytes` 0: never reads ahead.
  Readahead(base::Platform& platform, ReadaheadBudget& budget,
            uint32_t window_bytes)
      : platform_(platform), budget_(budget), window_bytes_(window_bytes) {}
  ~Readahead();
  Readahead(const Readahead&) = delete;
  Readahead& operator=(const Readahead&) = delete;

  // Reads `buffer` at `offset`: from the current window when it holds the
  // whole range and the node's data is not newer (`data_version` now) than
  // it; otherwise from the device, into a window for a small read that
  // continues the previous one, straight into `buffer` for any other.
  // `version` is FuseFs::AttrVersion, read before this call.
  base::Result<size_t> Read(std::span<std::byte> buffer, uint64_t offset,
                            uint64_t data_version, uint64_t version,
                            const ReadTarget& target);

  // Waits for a READ sent ahead and drops it: before the handle is released.
  // Not concurrent with Read.
  void Drop();

 private:
  struct Window {
    std::optional<base::DmaBuffer> memory;  // Allocated at its first fill.
    bool valid = false;
    uint64_t start = 0;
    size_t length = 0;
    uint64_t version = 0;  // FuseFs::AttrVersion from before its READ.
  };
  enum class Plan { kServed, kServedSendAhead, kTakeOver, kDirect };

  // Copies `buffer` out of the current window when it holds the range.
  bool CopyLocked(std::span<std::byte> buffer, uint64_t offset,
                  uint64_t data_version);
  // Whether the current window is full and nothing is sent ahead of it.
  bool CanSendAheadLocked() const;
  // Whether the caller, served from the current window, sends the next one's
  // READ ahead: it then takes the windows.
  bool TakeToSendAheadLocked();
  // For the caller that took the windows (busy_): serves `buffer` from the
  // window sent ahead or from a window filled now, then sends the next one
  // ahead when it can; gives the windows back.
  base::Result<size_t> Refill(std::span<std::byte> buffer, uint64_t offset,
                              uint64_t data_version, uint64_t version,
                              const ReadTarget& target);
  // For the caller that took the windows: gives them back, none filled.
  void GiveBack();
  // Sends the READ of the window after the current one into the other
  // window; gives the windows back.
  void SendAhead(uint64_t version, const ReadTarget& target);
  // Memory for `window` from the budget, leaving `keep_free` of it.
  bool Allocate(Window& window, size_t keep_free);
  std::span<std::byte> Memory(Window& window) {
    return {reinterpret_cast<std::byte*>(window.memory->data()), window_bytes_};
  }

  base::Platform& platform_;
  ReadaheadBudget& budget_;
  const uint32_t window_bytes_;

  SpinLock lock_;  // Guards what follows (and the valid windows' bytes).
  // Where a read continuing the last one starts (none has been made yet).
  uint64_t next_offset_ = ~uint64_t{0};
  Window windows_[2];
  int current_ = 0;  // The window reads are served from.
  // A call is filling a window or receiving the one sent ahead: the windows'
  // other fields and the READ sent ahead are its own until it is done.
  bool busy_ = false;
  // The other window's READ is with the device, for `ahead_start_` as of
  // `ahead_version_`.
  bool ahead_ = false;
  uint64_t ahead_start_ = 0;
  uint64_t ahead_version_ = 0;
  driver::FuseClient::PendingRead pending_;  // The READ sent ahead.
};

}  // namespace vfs::fusefs

#endif  // VFS_FUSE_READAHEAD_H_
