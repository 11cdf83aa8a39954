// The nodes of vfs::MemFs (internal to memfs_*.cc).
//
// Locking: MemFs::tree_lock() guards every directory's entries, each
// directory's parent and removed flag, and link counts; a node's own lock
// guards its attributes and, for a file, its pages. The tree lock is taken
// first when both are needed. Cached walks look names up without the tree
// lock (EntryTable) and take a node's lock inside a WalkSection
// (CachedAttrSince): nothing waits for walks holding one.
#ifndef VFS_MEMFS_NODES_H_
#define VFS_MEMFS_NODES_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "vfs/dirent.h"
#include "vfs/kstring.h"
#include "vfs/memfs.h"
#include "vfs/node.h"
#include "vfs/open_file.h"
#include "vfs/walk_section.h"

namespace vfs::memfs {

class Directory;

// What every memfs node has: an inode number and the attributes stat reports.
class MemNode : public Node {
 public:
  MemNode(RefPtr<MemFs> fs, uint64_t ino, uint32_t type, uint32_t mode);
  ~MemNode() override;

  Result<Stat> GetAttr() override;
  // Nothing is remote: the attributes are always at hand.
  bool CachedAttrSince(uint64_t arrivals_before, Stat* attr) override;
  Result<Stat> SetAttr(const AttrChange& change) override;
  Result<StatFs> GetFsStat() override { return fs_->GetFsStat(); }

  MemFs& fs() const { return *fs_; }
  uint64_t ino() const { return ino_; }

  // The owner a new node takes: the creating task's filesystem ids, or the
  // group of a setgid `parent` (a directory also inheriting the setgid bit).
  void InitOwner(const MemNode& parent);

  // Link count changes (tree lock held).
  void AddLinks(int delta);
  uint32_t links() const { return nlink_; }
  // An unnamed file (O_TMPFILE without O_EXCL) may get its first name once
  // (tree lock held).
  void set_linkable() { linkable_ = true; }
  bool take_linkable() { return std::exchange(linkable_, false); }
  // Marks a change of the node's metadata (ctime), or contents too (mtime).
  void Touch(bool contents);

 protected:
  // Touch, with the node lock held.
  void TouchLocked(bool contents);

  // Size and blocks for stat (node lock held).
  virtual void FillSize(Stat& st) const = 0;
  // Applies a size change (node lock held); EISDIR / EINVAL when the node has
  // no size.
  virtual Result<void> Resize(uint64_t size) = 0;

  std::unique_ptr<base::Lock> lock_;

 private:
  RefPtr<MemFs> fs_;
  const uint64_t ino_;
  uint32_t mode_;  // Permission bits.
  uint32_t nlink_ = 0;
  bool linkable_ = false;  // Tree lock.
  uint32_t uid_ = 0;
  uint32_t gid_ = 0;
  Timespec atime_, mtime_, ctime_;
};

// A regular file: its contents in pages, absent pages reading as zeros.
class File final : public MemNode {
 public:
  File(RefPtr<MemFs> fs, uint64_t ino, uint32_t mode);
  ~File() override;

  Result<RefPtr<OpenFile>> Open(int flags) override;

  Result<size_t> Read(std::span<std::byte> buffer, uint64_t offset);
  Result<size_t> Write(std::span<const std::byte> data, uint64_t* offset,
                       bool append);

 protected:
  void FillSize(Stat& st) const override;
  Result<void> Resize(uint64_t size) override;

 private:
  using Page = std::array<std::byte, MemFs::kPageSize>;
  struct PageSlot {
    uint64_t index;
    std::unique_ptr<Page> page;
  };

  // The page holding byte `index * kPageSize`, or null for a hole.
  Page* FindPage(uint64_t index);
  // The page, allocated if it was a hole; null when the filesystem is full.
  Page* PageForWrite(uint64_t index);

  uint64_t size_ = 0;
  std::vector<PageSlot> pages_;  // Sorted by index.
};

// A FIFO, socket or device node: a name and attributes, never opened (memfs
// keeps no pipes and reaches no devices).
class Special final : public MemNode {
 public:
  Special(RefPtr<MemFs> fs, uint64_t ino, uint32_t mode, uint64_t device);

  Result<Stat> GetAttr() override;

 protected:
  void FillSize(Stat& st) const override { st.st_size = 0; }
  Result<void> Resize(uint64_t) override { return Error{EINVAL}; }

 private:
  const uint64_t device_;
};

class Symlink final : public MemNode {
 public:
  Symlink(RefPtr<MemFs> fs, uint64_t ino, std::string_view target);

  Result<KString> ReadLink() override { return target_.Copy(); }

 protected:
  void FillSize(Stat& st) const override;
  Result<void> Resize(uint64_t) override { return Error{EINVAL}; }

 private:
  const KString target_;
};

// The entries of one directory: found by name through a hash table, listed in
// the order they were added. Each entry keeps the position it was given when
// added, so a reader resumes after a removal or an addition exactly where it
// stopped.
//
// Find may also run without the tree lock, for a walk inside a WalkSection:
// the hash chains and an entry's node are atomic, written under the lock; a
// removed entry is freed after the walks (DroppedNodes::Retire), and a bucket
// array outgrown only with the table. A walk that meets a chain being
// rehashed may miss its name (it then asks under the lock), never loops.
class EntryTable {
 public:
  class Entry : public Retired {
   public:
    Entry(std::string_view name, MemNode* node, uint64_t position)
        : name(name), position(position), node_(node) {}
    // Acquire: a walk that found the entry without the lock finds the node
    // whole.
    MemNode* node() const { return node_.load(std::memory_order_acquire); }

    const KString name;
    const uint64_t position;

   private:
    friend class EntryTable;
    std::atomic<MemNode*> node_;  // Holds a reference.
    std::atomic<Entry*> next_in_bucket_{nullptr};
  };

  EntryTable();
  ~EntryTable();

  Entry* Find(std::string_view name) const;
  void Insert(std::string_view name, RefPtr<MemNode> node);
  // Removes `entry` (freed by `dropped`); returns its node.
  RefPtr<MemNode> Remove(Entry* entry, DroppedNodes& dropped);
  // Swaps the nodes of two entries.
  static void SwapNodes(Entry& a, Entry& b);
  // The first entry whose position is `position` or later; null past the end.
  const Entry* FirstFrom(uint64_t position) const;
  const Entry* After(const Entry* entry) const;
  size_t size() const { return ordered_.size(); }

 private:
  std::vector<Entry*>::const_iterator LowerBound(uint64_t position) const;
  void Grow();

  struct Buckets {
    explicit Buckets(size_t count)
        : count(count), heads(new std::atomic<Entry*>[count]()) {}
    const size_t count;  // A power of two.
    const std::unique_ptr<std::atomic<Entry*>[]> heads;
  };

  // The chain `name` is on in `buckets`.
  static std::atomic<Entry*>& Head(const Buckets& buckets,
                                   std::string_view name);

  std::vector<Entry*> ordered_;                   // Owned; sorted by position.
  std::atomic<Buckets*> buckets_;                 // The last of `arrays_`.
  std::vector<std::unique_ptr<Buckets>> arrays_;  // Kept for the walks.
  uint64_t next_position_ = 0;
};

class Directory final : public MemNode {
 public:
  // Positions 0 and 1 are "." and ".."; entries come after.
  static constexpr uint64_t kFirstEntryPosition = 2;

  Directory(RefPtr<MemFs> fs, uint64_t ino, uint32_t mode, Directory* parent);
  ~Directory() override;

  Result<RefPtr<OpenFile>> Open(int flags) override;
  Result<RefPtr<Node>> Lookup(std::string_view name) override;
  // The node of `name`, without the tree lock; a removal (Unlink, Rmdir, a
  // replacing Rename) drops the node's reference after WaitForWalks.
  Node* LookupInSection(std::string_view name) override;
  Result<RefPtr<OpenFile>> Create(std::string_view name, uint32_t mode,
                                  int flags) override;
  Result<void> Mkdir(std::string_view name, uint32_t mode) override;
  Result<RefPtr<OpenFile>> CreateUnnamed(uint32_t mode, int flags) override;
  Result<void> Mknod(std::string_view name, uint32_t mode,
                     uint64_t device) override;
  Result<void> Symlink(std::string_view name, std::string_view target) override;
  Result<void> Link(std::string_view name, Node& target) override;
  Result<void> Unlink(std::string_view name) override;
  Result<void> Rmdir(std::string_view name) override;
  Result<void> Rename(std::string_view old_name, Node& new_dir,
                      std::string_view new_name, unsigned flags) override;

  Result<void> ReadEntries(DirentWriter& out, uint64_t position);

 protected:
  void FillSize(Stat& st) const override;
  Result<void> Resize(uint64_t) override { return Error{EISDIR}; }

 private:
  // With the tree lock held: ENOENT once removed, EEXIST when `name` is taken.
  Result<void> CheckCanAdd(std::string_view name) const;
  // With the tree lock held: whether this directory is `dir` or one of its
  // ancestors.
  bool Contains(const Directory* dir) const;
  // With the tree lock held: takes the entry out of the table (and updates
  // times); `dropped` frees it after the walks.
  RefPtr<MemNode> DetachEntry(EntryTable::Entry* entry, DroppedNodes& dropped);
  // DetachEntry, and the link counts of a removal.
  void RemoveEntry(EntryTable::Entry* entry, DroppedNodes& dropped);
  // renameat2's RENAME_EXCHANGE of `from` here and `to` in `new_dir` (tree
  // lock held).
  Result<void> Exchange(EntryTable::Entry* from, Directory& new_dir,
                        EntryTable::Entry* to);
  void AddEntry(std::string_view name, RefPtr<MemNode> node);

  EntryTable entries_;
  std::atomic<size_t> entry_count_{
      0};              // entries_.size(), for stat without the tree lock.
  Directory* parent_;  // Null for the root and once removed.
  bool removed_ = false;
};

}  // namespace vfs::memfs

#endif  // VFS_MEMFS_NODES_H_
