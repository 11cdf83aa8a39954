// Opens a host inode anew from the O_PATH descriptor the inode table holds
// for it, following no path. Linux offers two ways: open_by_handle_at with
// the inode's file handle, and the descriptor's entry in /proc/self/fd. The
// handle costs the host about 0.7 us less per open (open+close of a tmpfs
// file on the project's 2-core machine: 1.7 us by handle, 2.5 us through
// /proc, whose magic link is a path walk of its own), but needs
// CAP_DAC_READ_SEARCH, a filesystem that exports handles, and the share
// root's mount: a handle names an inode within one filesystem, and the host
// resolves it in the mount it is given, so a handle from another mount could
// name an unrelated file. An inode whose handle cannot be used, and any open
// by handle that fails, goes through /proc, so every error is /proc's, as
// before handles were used. Thread-safe.
#ifndef SIM_INODE_REOPENER_H_
#define SIM_INODE_REOPENER_H_

#include <sys/stat.h>

#include <atomic>
#include <memory>

#include "absl/status/statusor.h"
#include "sim/inode_table.h"

namespace sim {

class InodeReopener {
 public:
  // `root_fd` is the share root's O_PATH descriptor (not taken). Fails only
  // when /proc/self/fd cannot be opened; file handles are simply not used
  // when the host does not allow them.
  static absl::StatusOr<std::unique_ptr<InodeReopener>> Create(int root_fd);
  ~InodeReopener();
  InodeReopener(const InodeReopener&) = delete;
  InodeReopener& operator=(const InodeReopener&) = delete;

  // A new descriptor of `inode`, which is not a symlink, opened with `flags`;
  // -1 with errno on failure.
  int Open(const Inode& inode, int flags) const;
  // The same through /proc/self/fd alone, for any descriptor `fd` of a file
  // that is not a symlink.
  int OpenThroughProc(int fd, int flags) const;
  // An O_PATH descriptor of the file open as `fd` (`st`), just created or
  // opened as `name` under `parent`, for the inode table. open_tree(2) on `fd`
  // itself (Linux 5.2) looks nothing up, so it is that file whatever happened
  // to the name: one host call, 1.5 us on the project's 2-core machine, where
  // the name's openat and the fstat that checks it take 2.35 us. Where
  // open_tree is missing or filtered (ENOSYS, EPERM: then never tried again)
  // or fails: by name, as virtiofsd looks a created file up, kept only if it
  // is still that file (a host process may have renamed another over the name
  // since); through /proc otherwise. The name costs the host about 0.8 us less
  // (openat, fstat and close of a tmpfs file: 1.5 us, against 2.3 us through
  // /proc).
  int OpenPath(const Inode& parent, const char* name, int fd,
               const struct stat& st) const;

  // Whether Open tries file handles at all.
  bool uses_file_handles() const { return mount_fd_ >= 0; }

 private:
  InodeReopener(int proc_fds, int mount_fd, int mount_id)
      : proc_fds_(proc_fds), mount_fd_(mount_fd), mount_id_(mount_id) {}

  // The inode's handle, asked of the host on its first reopen.
  HostFileHandle& HandleOf(const Inode& inode) const;

  const int proc_fds_;  // O_PATH descriptor of /proc/self/fd.
  // Whether OpenPath found open_tree missing or filtered.
  mutable std::atomic<bool> no_open_tree_{false};
  // A readable descriptor of the share root (open_by_handle_at refuses O_PATH
  // ones) and the id of its mount; -1 when handles are not used.
  const int mount_fd_;
  const int mount_id_;
};

}  // namespace sim

#endif  // SIM_INODE_REOPENER_H_
