// vfs::OpenFile: an open file description, what open(2) creates and dup(2)
// shares.
//
// The public methods are the system-call level operations the descriptor layer
// calls: they check the access mode, keep the file offset (shared by every
// descriptor dup'ed from one open), and serialise the calls that move it. A
// filesystem derives from OpenFile and overrides the protected hooks, which see
// explicit offsets only.
#ifndef VFS_OPEN_FILE_H_
#define VFS_OPEN_FILE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "base/platform.h"
#include "base/result.h"
#include "vfs/dirent.h"
#include "vfs/node.h"
#include "vfs/on_demand_lock.h"
#include "vfs/ref_counted.h"
#include "vfs/stat.h"

namespace vfs {

class Location;

class OpenFile : public RefCounted {
 public:
  // `flags` as Node::Open received them.
  OpenFile(base::Platform& platform, RefPtr<Node> node, int flags);
  ~OpenFile() override;

  Node& node() const { return *node_; }
  // The file status flags kept from open(2) (access mode, O_APPEND,
  // O_NONBLOCK ...).
  int flags() const { return flags_.load(std::memory_order_relaxed); }
  // F_SETFL: replaces the changeable ones (O_APPEND, O_NONBLOCK, O_ASYNC,
  // O_DIRECT, O_NOATIME) and keeps the rest.
  void SetStatusFlags(int flags);
  // O_PATH: the location alone, no data access.
  bool path_only() const { return (flags() & base::kOpenPath) != 0; }
  bool readable() const {
    return !path_only() &&
           (flags() & base::kOpenAccessMode) != base::kOpenWriteOnly;
  }
  bool writable() const {
    return !path_only() &&
           (flags() & base::kOpenAccessMode) != base::kOpenReadOnly;
  }
  // Where it was opened (null only before SetLocation).
  const RefPtr<Location>& location() const { return location_; }

  // Records where the file was opened (keeps its mount busy, gives fstat its
  // st_dev). The VFS calls it once, before the file is shared.
  void SetLocation(RefPtr<Location> location);

  // ---- System-call operations. ----
  Result<size_t> Read(std::span<std::byte> buffer);
  Result<size_t> Write(std::span<const std::byte> data);
  Result<size_t> Pread(std::span<std::byte> buffer, int64_t offset);
  Result<size_t> Pwrite(std::span<const std::byte> data, int64_t offset);
  // whence: kSeekSet, kSeekCur, kSeekEnd, kSeekData, kSeekHole.
  Result<uint64_t> Lseek(int64_t offset, int whence);
  Result<Stat> Fstat();
  // Fills `buffer` with linux_dirent64 records from the current position on,
  // and moves the position past them. EINVAL when not even one entry fits.
  Result<size_t> Getdents64(std::span<std::byte> buffer);
  // ftruncate(2): `change` sets the size (kSize), and may clear the
  // set-user-ID bit with it (kMode). EINVAL unless a regular file open for
  // writing.
  Result<void> Ftruncate(const AttrChange& change);
  Result<void> Fsync(bool data_only);
  // The subset of `events` (kPollIn, kPollOut) that would not block, plus error
  // states.
  Result<uint32_t> Poll(uint32_t events);
  // fallocate(2) on a file open for writing.
  Result<void> Fallocate(int mode, int64_t offset, int64_t length);
  // Copies `length` bytes at `*in_offset` here to `*out_offset` in `out` (the
  // file offsets when null, moved past what was copied); returns the bytes
  // copied. The filesystem's copy when it has one for these two files, else
  // reads and writes.
  Result<size_t> CopyFileRange(int64_t* in_offset, OpenFile& out,
                               int64_t* out_offset, size_t length);

 protected:
  // ---- Filesystem hooks. Defaults behave like a file with no such operation.
  // ---- Reads at `offset`; 0 at end of file.
  virtual Result<size_t> ReadAt(std::span<std::byte> buffer, uint64_t offset);
  // Writes at *offset, or at the current end of file when `append`, and leaves
  // *offset just past the written bytes.
  virtual Result<size_t> WriteAt(std::span<const std::byte> data,
                                 uint64_t* offset, bool append);
  // Adds entries to `out` from directory position `position` on (0 is the
  // start), until Add refuses one or the directory ends. Positions are the
  // filesystem's cookies.
  virtual Result<void> ReadDirectory(DirentWriter& out, uint64_t position);
  // Attributes through the open file (FUSE passes its file handle); default:
  // the node's.
  virtual Result<Stat> GetAttr();
  virtual Result<Stat> SetAttr(const AttrChange& change);
  virtual Result<void> Sync(bool data_only);
  virtual Result<uint32_t> PollReady(uint32_t events);
  // The next data (kSeekData) or hole (kSeekHole) at or after `offset`;
  // ENXIO past the end. Default: the whole file is data.
  virtual Result<uint64_t> SeekDataOrHole(uint64_t offset, int whence);
  virtual Result<void> Allocate(int mode, uint64_t offset, uint64_t length);
  // The filesystem's own copy to `out`; EXDEV when it has none for these
  // files (the caller then reads and writes).
  virtual Result<size_t> CopyRange(uint64_t in_offset, OpenFile& out,
                                   uint64_t out_offset, size_t length);

 private:
  RefPtr<Node> node_;
  std::atomic<int> flags_;
  RefPtr<Location> location_;
  // Serialises read, write, lseek and getdents64 on this description: each both
  // uses and moves the offset, and POSIX wants them atomic with respect to each
  // other.
  OnDemandLock position_lock_;
  uint64_t position_ = 0;
};

}  // namespace vfs

#endif  // VFS_OPEN_FILE_H_
