#include "sim/inode_reopener.h"

#include <fcntl.h>

#include <cerrno>
#include <charconv>

#include "sim/host_calls.h"

namespace sim {
namespace {

// The handle of the file behind `fd` and the id of its mount; false when the
// host has none for it.
bool AskHandle(int fd, HostFileHandle* handle, int* mount_id) {
  handle->header()->handle_bytes = MAX_HANDLE_SZ;
  return host::name_to_handle_at(fd, "", handle->header(), mount_id,
                                 AT_EMPTY_PATH) == 0;
}

// A readable descriptor of the share root when the host opens files by handle
// for this process (it needs CAP_DAC_READ_SEARCH and handles on the share's
// filesystem), with the root's mount id; -1 otherwise.
int OpenMountForHandles(int root_fd, int* mount_id) {
  HostFileHandle root;
  if (!AskHandle(root_fd, &root, mount_id)) return -1;
  const int mount_fd =
      host::openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (mount_fd < 0) return -1;
  const int probe =
      host::open_by_handle_at(mount_fd, root.header(), O_PATH | O_CLOEXEC);
  if (probe < 0) {
    host::close(mount_fd);
    return -1;
  }
  host::close(probe);
  return mount_fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<InodeReopener>> InodeReopener::Create(
    int root_fd) {
  const int proc_fds =
      host::open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (proc_fds < 0) return absl::ErrnoToStatus(errno, "open /proc/self/fd");
  int mount_id = -1;
  const int mount_fd = OpenMountForHandles(root_fd, &mount_id);
  return std::unique_ptr<InodeReopener>(
      new InodeReopener(proc_fds, mount_fd, mount_id));
}

InodeReopener::~InodeReopener() {
  host::close(proc_fds_);
  if (mount_fd_ >= 0) host::close(mount_fd_);
}

int InodeReopener::Open(const Inode& inode, int flags) const {
  if (uses_file_handles()) {
    HostFileHandle& handle = HandleOf(inode);
    if (handle.usable) {
      const int fd = host::open_by_handle_at(mount_fd_, handle.header(), flags);
      if (fd >= 0) return fd;
    }
  }
  return OpenThroughProc(inode.fd, flags);
}

int InodeReopener::OpenThroughProc(int fd, int flags) const {
  char name[16];
  *std::to_chars(name, name + sizeof(name) - 1, fd).ptr = '\0';
  return host::openat(proc_fds_, name, flags);
}

int InodeReopener::OpenPath(const Inode& parent, const char* name, int fd,
                            const struct stat& st) const {
  if (!no_open_tree_.load(std::memory_order_relaxed)) {
    const int same = host::open_tree(fd, "", AT_EMPTY_PATH | OPEN_TREE_CLOEXEC);
    if (same >= 0) return same;
    if (errno == ENOSYS || errno == EPERM) {
      no_open_tree_.store(true, std::memory_order_relaxed);
    }
  }
  const int by_name =
      host::openat(parent.fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (by_name >= 0) {
    struct stat now;
    if (host::fstat(by_name, &now) == 0 && now.st_dev == st.st_dev &&
        now.st_ino == st.st_ino) {
      return by_name;
    }
    host::close(by_name);
  }
  return OpenThroughProc(fd, O_PATH | O_CLOEXEC);
}

HostFileHandle& InodeReopener::HandleOf(const Inode& inode) const {
  if (HostFileHandle* known =
          inode.file_handle.load(std::memory_order_acquire)) {
    return *known;
  }
  auto asked = std::make_unique<HostFileHandle>();
  int mount_id;
  asked->usable =
      AskHandle(inode.fd, asked.get(), &mount_id) && mount_id == mount_id_;
  HostFileHandle* expected = nullptr;
  if (inode.file_handle.compare_exchange_strong(expected, asked.get(),
                                                std::memory_order_acq_rel,
                                                std::memory_order_acquire)) {
    return *asked.release();
  }
  return *expected;  // Another thread asked first.
}

}  // namespace sim
