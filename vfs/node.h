// vfs::Node: a file, directory or symlink of some filesystem, as the VFS sees
// it.
//
// A filesystem type plugs in by deriving from Node (and from OpenFile for what
// open(2) returns) and mounting its root node. The VFS walks paths one
// component at a time with Lookup, and keeps a node only as long as it holds a
// reference: when the last RefPtr goes, OnLastReference runs (a FUSE client
// sends FORGET there).
//
// Contract for every method:
//  - `name` is one component: never empty, never "." or "..", no '/', at
//    most kNameMax bytes. The VFS handles ".", "..", symlinks, mount points
//    and trailing slashes.
//  - A directory method is only called on a node whose type() is a directory.
//  - Two nodes passed together (Rename, Link) are of the same mount, hence the
//    same filesystem: an implementation may static_cast them to its own type.
//  - Calls come from any thread, concurrently; an implementation locks what
//    it shares. The VFS holds none of its own locks while it calls a node, so
//    a node may block (wait for a device).
//  - Errors are positive errno values. The defaults below return what Linux
//    returns when a filesystem lacks the operation.
#ifndef VFS_NODE_H_
#define VFS_NODE_H_

#include <atomic>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/abi.h"
#include "base/result.h"
#include "vfs/file_locks.h"
#include "vfs/kstring.h"
#include "vfs/ref_counted.h"
#include "vfs/stat.h"

namespace vfs {

using base::Error;
using base::Result;

class OpenFile;
struct Pipe;

// Attributes that filesystems whose truth lives elsewhere received from it,
// counted per thread: a system call notes its thread's count when it begins
// (AttrArrivals), attributes are stamped as they come (NoteAttrArrival), and
// ArrivedSince tells whether a stamp came later on the same thread, that is,
// during the call. Per thread, so that counting writes nothing another CPU
// reads (the count's top bits name the thread), and a load to note.
uint64_t AttrArrivals();
// Counts one arrival on this thread and returns its stamp.
uint64_t NoteAttrArrival();
bool ArrivedSince(uint64_t stamp, uint64_t arrivals_before);
// What a caller that noted no start passes to GetAttrSince: only attributes
// still valid serve.
inline constexpr uint64_t kNoCallStart = ~uint64_t{0};

class Node : public RefCounted {
 public:
  // `type` is the file type bits of st_mode (kTypeDirectory, kTypeRegular...).
  // A node's type never changes: the VFS decides on it without asking for
  // attributes.
  explicit Node(uint32_t type) : type_(type & base::kTypeMask) {}
  ~Node() override;

  uint32_t type() const { return type_; }
  bool is_directory() const { return type_ == base::kTypeDirectory; }
  bool is_symlink() const { return type_ == base::kTypeSymlink; }
  bool is_regular() const { return type_ == base::kTypeRegular; }

  // ---- Any node. ----
  // Attributes; st_dev is filled in by the VFS.
  virtual Result<Stat> GetAttr() = 0;
  // As GetAttr, for a system call that began when AttrArrivals() was
  // `arrivals_before`: attributes that reached the node since are as fresh as
  // any it could ask for, whatever their validity. This spares stat(2) a
  // GETATTR right after its own path walk's LOOKUP brought the attributes
  // with a zero timeout (Linux keeps them for the rest of the jiffy:
  // fuse_update_get_attr).
  virtual Result<Stat> GetAttrSince(uint64_t arrivals_before) {
    (void)arrivals_before;
    return GetAttr();
  }
  // What GetAttrSince would give where it needs to ask no one (the attributes
  // are cached and valid, or nothing is remote), for a walk inside a
  // WalkSection, which must not block; false where it would have to ask.
  virtual bool CachedAttrSince(uint64_t arrivals_before, Stat* attr) {
    (void)arrivals_before;
    (void)attr;
    return false;
  }
  // Applies `change` (chmod, truncate, utimes) and returns the new attributes.
  virtual Result<Stat> SetAttr(const AttrChange& change);
  // Opens the node. `flags` are open(2)'s minus what the VFS consumed (O_CREAT,
  // O_EXCL, O_NOFOLLOW, O_DIRECTORY, O_CLOEXEC): the access mode, O_APPEND,
  // O_NONBLOCK, O_SYNC and O_TRUNC, which the filesystem applies to a regular
  // file. Directories are opened read-only, to read entries from.
  virtual Result<RefPtr<OpenFile>> Open(int flags);
  // Statistics of the filesystem the node is on.
  virtual Result<StatFs> GetFsStat();

  // ---- Extended attributes (EOPNOTSUPP where the filesystem has none). The
  // VFS has checked the name and the caller's permission. ----
  // The value of `name` into `value`; with an empty `value`, the size it
  // needs. ENODATA, ERANGE.
  virtual Result<size_t> GetXattr(std::string_view name, std::span<char> value);
  // kXattrCreate / kXattrReplace in `flags`. EEXIST, ENODATA.
  virtual Result<void> SetXattr(std::string_view name,
                                std::span<const char> value, int flags);
  // NUL-terminated names back to back; with an empty `list`, the size they
  // need. ERANGE.
  virtual Result<size_t> ListXattr(std::span<char> list);
  virtual Result<void> RemoveXattr(std::string_view name);

  // ---- Symlinks. ----
  // The link's target, exactly as it was created.
  virtual Result<KString> ReadLink();

  // ---- Directories. ----
  // The child called `name`; ENOENT when there is none.
  virtual Result<RefPtr<Node>> Lookup(std::string_view name);
  // The child Lookup would give where it needs to ask no one, for a walk
  // inside a WalkSection: without blocking and without a reference, valid
  // until the section ends (a filesystem that implements this releases a
  // node it unpins only after WaitForWalks). Null where Lookup would have to
  // ask, or would fail.
  virtual Node* LookupInSection(std::string_view name) {
    (void)name;
    return nullptr;
  }
  // Creates the regular file `name` (EEXIST if the name is taken) and opens it
  // with `flags` (as for Open), in one step as FUSE's CREATE does. `mode` is
  // permission bits, the umask already applied.
  virtual Result<RefPtr<OpenFile>> Create(std::string_view name, uint32_t mode,
                                          int flags);
  // Whether open(2) with O_CREAT should call Create for `name` before looking
  // it up (as Linux's atomic_open): true where a lookup would cost a request
  // and the name is not known to exist. The VFS looks the name up when Create
  // fails, so the answer changes the cost, never the outcome.
  virtual bool PrefersCreateFirst(std::string_view name) {
    (void)name;
    return false;
  }
  virtual Result<void> Mkdir(std::string_view name, uint32_t mode);
  // A regular file, FIFO, socket or device node (`mode` has the file type;
  // `device` is the device number of a device node). EPERM where the
  // filesystem makes none.
  virtual Result<void> Mknod(std::string_view name, uint32_t mode,
                             uint64_t device);
  // An open regular file with no name in this directory (O_TMPFILE), `flags`
  // as for Open plus kOpenExclusive: it may never be linked. EOPNOTSUPP
  // where the filesystem has none.
  virtual Result<RefPtr<OpenFile>> CreateUnnamed(uint32_t mode, int flags);
  virtual Result<void> Symlink(std::string_view name, std::string_view target);
  // Adds `name` as a new hard link to `target` (not a directory).
  virtual Result<void> Link(std::string_view name, Node& target);
  // Removes the non-directory `name` (EISDIR for a directory).
  virtual Result<void> Unlink(std::string_view name);
  // Removes the empty directory `name` (ENOTDIR, ENOTEMPTY).
  virtual Result<void> Rmdir(std::string_view name);
  // rename(2) of `old_name` here to `new_name` in `new_dir`, replacing what is
  // there under POSIX's rules (EISDIR, ENOTDIR, ENOTEMPTY, EINVAL for a
  // directory moved below itself), or with renameat2's `flags`:
  // kRenameNoReplace (EEXIST when the new name exists) or kRenameExchange
  // (the two names swap; ENOENT unless both exist). The VFS has already
  // refused "." and "..", mount points and cross-mount moves.
  virtual Result<void> Rename(std::string_view old_name, Node& new_dir,
                              std::string_view new_name, unsigned flags);

  // The advisory locks on this file, made on first use (null when out of
  // memory); existing_locks() is null until then.
  FileLocks* locks();
  FileLocks* existing_locks() const {
    return locks_.load(std::memory_order_acquire);
  }
  // The pipe of a FIFO (vfs/fifo.h), made on first use; null when out of
  // memory.
  Pipe* pipe();

  // True while something is mounted on this node (kept by the mount table).
  bool has_mounts() const {
    return mounts_.load(std::memory_order_acquire) != 0;
  }

 private:
  friend class MountTable;

  const uint32_t type_;
  std::atomic<uint32_t> mounts_{0};
  std::atomic<FileLocks*> locks_{nullptr};
  std::atomic<Pipe*> pipe_{nullptr};
};

}  // namespace vfs

#endif  // VFS_NODE_H_
