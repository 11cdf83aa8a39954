// Passthrough FUSE handlers (libfuse low-level API) over a real host directory,
// the share.
//
// Confinement: every host access is relative to a descriptor the device holds
// (the O_PATH descriptors of the inode table, or descriptors opened from them),
// with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW / AT_EMPTY_PATH, so no symlink is ever
// followed on the driver's behalf. Names are single components checked before
// the host is touched: empty or containing '/' -> EINVAL, longer than NAME_MAX
// -> ENAMETOOLONG, "." and ".." are resolved by LOOKUP only (".." of the root
// is the root) and refused with EINVAL by every operation that would create,
// remove or rename them. OPEN reopens an inode by its host file handle or
// through /proc/self/fd/N (sim/inode_reopener.h); /proc/self/fd/N is used only
// on descriptors of inodes that are not symlinks (that reopening, chmod,
// truncate and the xattr calls, which have no *at() form for O_PATH
// descriptors). FUSE file handles are table handles too: a forged, stale or
// mismatched fh gets EBADF. Host errors are returned as their errno,
// unchanged.
#ifndef SIM_PASSTHROUGH_FS_H_
#define SIM_PASSTHROUGH_FS_H_

#include <fcntl.h>
#include <fuse3/fuse_lowlevel.h>
#include <linux/fuse.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "sim/data_path_counters.h"
#include "sim/handle_shards.h"
#include "sim/host_closes.h"
#include "sim/inode_reopener.h"
#include "sim/inode_table.h"

namespace sim {

// What OPEN, CREATE and OPENDIR tell the driver about caching data, as
// virtiofsd's cache=auto|always|never does.
enum class DataCaching : uint8_t {
  // Nothing: the driver's own rules (Linux keeps a file's pages while it is
  // open and drops them at the next open, close-to-open).
  kAuto,
  // FOPEN_KEEP_CACHE and, for directories, FOPEN_CACHE_DIR: what the driver
  // cached outlives the open.
  kAlways,
  // FOPEN_DIRECT_IO: the driver caches no file data; every read and write is
  // a request.
  kNever,
};

struct PassthroughOptions {
  // Host directory exported to the driver.
  std::string share_dir;
  // Validity the driver may cache entries and attributes for (seconds, 0
  // allowed).
  double entry_timeout = 1.0;
  double attr_timeout = 1.0;
  DataCaching data_caching = DataCaching::kAuto;
  // Largest READ/WRITE payload advertised in the INIT reply.
  uint32_t max_write = 1u << 20;
  // MKNOD of character and block devices gets EPERM (they are made, as
  // virtiofsd makes them, where the host allows; never opened for the
  // driver).
  bool refuse_device_nodes = false;
};

// An open file or directory behind a file handle.
struct OpenHostFile;
class ReplyRouter;

class PassthroughFs {
 public:
  // Opens the share's root. Fails when it is not a directory that can be
  // opened.
  static absl::StatusOr<std::unique_ptr<PassthroughFs>> Create(
      const PassthroughOptions& options);
  ~PassthroughFs();

  // The handler table to give fuse_session_new, with this object as userdata.
  static const struct fuse_lowlevel_ops& Ops();

  // Whether a close on a filesystem of this type (statfs's f_type) can never
  // report an error: tmpfs and ext2/3/4 have no flush operation, so
  // FLUSH need not close a duplicate there (2 host calls, ~0.45 us), nor the
  // driver send it (FOPEN_NOFLUSH). Any other type (NFS, FUSE, overlayfs, ...)
  // is flushed.
  static bool CloseReportsNothing(int64_t statfs_type);

  const PassthroughOptions& options() const { return options_; }
  InodeTable& inodes() { return inodes_; }
  const InodeTable& inodes() const { return inodes_; }
  size_t open_file_count() const;

  // Drops every node id but the root and every open handle (DESTROY and session
  // reset), and closes their descriptors.
  void ReleaseAll();
  // Closes the descriptors of released handles whose close was deferred
  // (DeferredCloses): before a STATFS, and when the device goes idle.
  void FlushDeferredCloses() { deferred_closes_.Flush(); }

  // The FUSE minor version the driver announced in the last INIT (0 before
  // any, and after DESTROY).
  unsigned proto_minor() const {
    return proto_minor_.load(std::memory_order_acquire);
  }

  // The data path FuseServer runs itself, between the host and the guest's
  // buffers with no copy in between: READ of `size` bytes at `offset` of the
  // handle `fh` (of node `nodeid`) into `into`, WRITE of `from` at `offset`.
  // The bytes moved, or a negative errno (EBADF for a handle that is not an
  // open file of that node, EINVAL for a bad offset or size, the host's).
  ssize_t ReadInto(uint64_t nodeid, uint64_t fh, int64_t offset, uint32_t size,
                   std::span<const iovec> into);
  ssize_t WriteFrom(uint64_t nodeid, uint64_t fh, int64_t offset,
                    std::span<const iovec> from);
  DataPathCounters& data_path() { return data_path_; }

  // The requests FuseServer answers without libfuse, as the libfuse handlers
  // answer them (they call these): 0 or an errno. `requester` carries the
  // request's ids and, for CREATE, its umask; `fh` is null for a GETATTR
  // without a handle. On success, Lookup and Create fill `e` (and Create,
  // Open and Opendir `fi->fh` and the open flags) as the reply says.
  int Lookup(uint64_t parent_id, const char* name, fuse_entry_param* e);
  void Forget(std::span<const fuse_forget_one> forgets);
  int Getattr(uint64_t nodeid, const uint64_t* fh, struct stat* st);
  int Open(uint64_t nodeid, fuse_file_info* fi);
  int Create(const fuse_ctx& requester, uint64_t parent_id, const char* name,
             mode_t mode, fuse_file_info* fi, fuse_entry_param* e);
  int Release(uint64_t nodeid, uint64_t fh);
  int Unlink(const fuse_ctx& requester, uint64_t parent_id, const char* name);
  int Opendir(uint64_t nodeid, fuse_file_info* fi);
  int Releasedir(uint64_t nodeid, uint64_t fh);
  // Appends one READDIR record for `name` (or, for READDIRPLUS, one with
  // its entry `e`; a plain record reads only e.attr's st_ino and type) at
  // `buf` when it fits in `room`, with the offset of the next, `next`: its
  // size either way, nothing written when it does not fit (libfuse's
  // fuse_add_direntry and fuse_add_direntry_plus).
  using DirentEncoder =
      absl::FunctionRef<size_t(char* buf, size_t room, const char* name,
                               const fuse_entry_param& e, off_t next)>;
  // The bytes of records a READDIR(PLUS) asking for `size` gets: at most
  // max_write.
  size_t ReadDirBytes(size_t size) const {
    return std::min<size_t>(size, options_.max_write);
  }
  // READDIR, or READDIRPLUS with `plus`, from `offset` on the handle `fh` of
  // `nodeid`: the records `encode` writes into `out` (the caller's, of
  // ReadDirBytes), the first `used` bytes of it. An error after some records
  // still returns those.
  int ReadDir(uint64_t nodeid, uint64_t fh, std::span<char> out, int64_t offset,
              bool plus, DirentEncoder encode, size_t* used);

  // Where replies a session sends through a custom io go: libfuse hands the
  // custom io's writev the session's userdata, this object. Null for a session
  // on /dev/fuse.
  void set_reply_router(ReplyRouter* router) { reply_router_ = router; }
  ReplyRouter* reply_router() const { return reply_router_; }

 private:
  friend struct PassthroughOps;

  PassthroughFs(const PassthroughOptions& options, int root_fd,
                const struct stat& root_stat, bool root_close_reports_nothing,
                std::unique_ptr<InodeReopener> reopener);

  // Whether FLUSH of a file on device `dev` opened with `flags` can report an
  // error, so must ask the host (and the driver must send it): only a file
  // open for writing has delayed write errors; the share root's filesystem is
  // known, any other is flushed.
  bool FlushCanFail(dev_t dev, int flags) const {
    return (flags & O_ACCMODE) != O_RDONLY &&
           (dev != root_dev_ || !root_close_reports_nothing_);
  }

  const InodeReopener& reopener() const { return *reopener_; }

  // Where a handle of a `type` file opened with `flags` is closed when
  // released: read-only regular files and directories with others
  // (DeferredCloses), anything else at once (null). A fifo's reader is seen
  // by its writers.
  DeferredCloses* CloseLater(mode_t type, int flags) {
    return (type == S_IFREG || type == S_IFDIR) &&
                   (flags & O_ACCMODE) == O_RDONLY
               ? &deferred_closes_
               : nullptr;
  }

  // 0 with the open file behind `fh`, or EBADF.
  int GetFile(uint64_t fh, std::shared_ptr<OpenHostFile>* out) const;
  // 0 with the open file behind `fh` when it is a file (or, with `want_dir`, a
  // directory) of node `nodeid`; EBADF otherwise.
  int ResolveFile(uint64_t nodeid, uint64_t fh, bool want_dir,
                  std::shared_ptr<OpenHostFile>* out) const;
  uint64_t AddFile(std::shared_ptr<OpenHostFile> file);
  std::shared_ptr<OpenHostFile> RemoveFile(uint64_t fh);

  const PassthroughOptions options_;
  InodeTable inodes_;
  const dev_t root_dev_;
  const bool root_close_reports_nothing_;
  const std::unique_ptr<InodeReopener> reopener_;
  // Before files_: closing an open file may defer its descriptor.
  DeferredCloses deferred_closes_;
  HandleShards<OpenHostFile> files_;
  std::atomic<unsigned> proto_minor_{0};
  DataPathCounters data_path_;
  ReplyRouter* reply_router_ = nullptr;
};

}  // namespace sim

#endif  // SIM_PASSTHROUGH_FS_H_
