// The device's inode table: every host inode the driver holds a node id for.
//
// Entries are keyed by (st_dev, st_ino), so hard links reach the same entry,
// and each holds an O_PATH|O_NOFOLLOW descriptor through which every later
// operation on the inode is made (never a path). Node ids are HandleTable
// handles: a freed or reused slot answers ESTALE, an id that was never handed
// out (zero, out of range, forged index) answers EINVAL, and no id is ever
// turned into a pointer. Node id 1 (FUSE_ROOT_ID) is the share root, which
// FORGET never frees. Thread-safe.
#ifndef SIM_INODE_TABLE_H_
#define SIM_INODE_TABLE_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "sim/adaptive_mutex.h"
#include "sim/handle_table.h"

namespace sim {

// An inode's host file handle (name_to_handle_at), kept for reopening it
// (sim/inode_reopener.h). `usable` is false when the reopener cannot use it:
// the inode's filesystem has none, or it lies on another mount than the
// share root.
struct HostFileHandle {
  bool usable = false;
  // A struct file_handle followed by room for the longest handle.
  static constexpr size_t kStorageBytes = sizeof(file_handle) + MAX_HANDLE_SZ;
  alignas(file_handle) unsigned char storage[kStorageBytes];
  file_handle* header() { return reinterpret_cast<file_handle*>(storage); }
};

// One host inode. Immutable once created but for its file handle, filled in
// on its first reopen, and a directory's lookup hint; shared so that a handler
// keeps the descriptor open even if a concurrent FORGET frees the entry.
struct Inode {
  Inode(int fd, const struct stat& st)
      : fd(fd), dev(st.st_dev), ino(st.st_ino), type(st.st_mode & S_IFMT) {}
  ~Inode();
  Inode(const Inode&) = delete;
  Inode& operator=(const Inode&) = delete;

  const int fd;  // O_PATH | O_NOFOLLOW
  const dev_t dev;
  const ino_t ino;
  const mode_t type;  // S_IFMT bits
  // Null until the first reopen; owned, set once.
  mutable std::atomic<HostFileHandle*> file_handle{nullptr};
  // Of a directory: how many of its last LOOKUPs in a row found an inode the
  // table did not hold, up to the count at which PassthroughOps::DoLookup
  // opens the directory's names first. Written only when it changes.
  mutable std::atomic<uint8_t> new_lookups_in_a_row{0};

 private:
  friend class InodeTable;
  // Set when the table closed `fd` together with others (FreedInodes).
  bool fd_closed_ = false;
};

class InodeTable {
 public:
  static constexpr uint64_t kRootId = 1;

  // Takes ownership of `root_fd`, an O_PATH descriptor of the share's root
  // directory.
  InodeTable(int root_fd, const struct stat& root_stat);

  // Adds one lookup to the inode `st` describes, creating its entry from `fd`
  // (whose ownership is taken; it is closed when an entry already exists).
  // Returns the node id; `*added` says whether the entry is new.
  uint64_t Ref(int fd, const struct stat& st, bool* added = nullptr);
  // Adds one lookup to the entry of the inode `st` describes and returns its
  // node id; 0 when there is none. An entry holds its inode open, so the
  // host cannot have reused that (st_dev, st_ino) for another file.
  uint64_t RefKnown(const struct stat& st);
  // Adds one lookup to an existing entry: 0, EINVAL or ESTALE.
  int RefExisting(uint64_t nodeid);
  // 0 with the inode, EINVAL (never handed out) or ESTALE (forgotten).
  int Get(uint64_t nodeid, std::shared_ptr<Inode>* out) const;
  class FreedInodes;  // Defined below.

  // Drops `nlookup` lookups; the entry is freed at zero, into `freed` when
  // given. Unknown ids and the root are ignored, as FORGET has no reply to
  // carry an error.
  void Forget(uint64_t nodeid, uint64_t nlookup, FreedInodes* freed = nullptr);
  // Frees every entry but the root (session teardown).
  void Clear();

  // Live entries, the root included.
  size_t size() const;
  // The lookup count of a live entry (0 when none); for tests.
  uint64_t lookup_count(uint64_t nodeid) const;
  const std::shared_ptr<Inode>& root() const { return root_; }

 private:
  struct Entry;
  using Key = std::pair<dev_t, ino_t>;

  // The entry of a live node id, or null (with Get's error in `*error` when
  // given); mu_ held.
  Entry* FindLocked(uint64_t nodeid, int* error = nullptr) const;
  // Closes the descriptors of `entries` that nobody else holds together
  // (sim/host_closes.h), then drops them all (an entry still held is closed by
  // its last holder).
  static void CloseFreed(std::vector<std::shared_ptr<Entry>>& entries);

  std::shared_ptr<Inode> root_;
  mutable AdaptiveMutex mu_;
  HandleTable<Entry> table_;
  absl::flat_hash_map<Key, uint64_t> by_key_;
};

// Entries that InodeTable::Forget freed, whose descriptors are closed
// together when this is destroyed: a BATCH_FORGET frees many inodes, whose
// descriptors, opened one after another, mostly have consecutive numbers.
// Not thread-safe.
class InodeTable::FreedInodes {
 public:
  FreedInodes() = default;
  ~FreedInodes() { CloseFreed(entries_); }
  FreedInodes(const FreedInodes&) = delete;
  FreedInodes& operator=(const FreedInodes&) = delete;

 private:
  friend class InodeTable;
  std::vector<std::shared_ptr<Entry>> entries_;
};

}  // namespace sim

#endif  // SIM_INODE_TABLE_H_
