// vfs::EntryCache: the name cache of a filesystem whose truth lives in a device
// (FUSE): which node a name in a directory led to, and until when the device
// allows that answer to be reused (FUSE's entry_valid; zero: ask every time).
//
// Since the VFS keeps no dentry cache and asks the filesystem at every path
// step, this is where a remote filesystem avoids a LOOKUP per step. An entry
// holds a reference to the child node, so a cached name keeps its node (and
// the device's lookup count) alive, as a dentry keeps its inode in Linux.
// Entries also outlive their validity: an expired entry is not an answer, but
// it still tells which node a removed or renamed name referred to, so that
// node's attributes can be invalidated.
//
// An entry may also say that a name does not exist (a negative entry, as a
// negative dentry in Linux), for the validity the device gave the name while
// it existed: the client puts one where it removed a name itself. Any entry
// inserted for the name replaces it; once expired it answers nothing.
//
// The total number of entries is bounded: past `capacity`, the least recently
// used entry is dropped, kept in order as Linux's dentry LRU is: a hit only
// marks its entry referenced, and eviction moves a referenced entry it finds
// at the old end to the young one instead (a second chance). Every step of
// every path walk is a hit, and relinking the entry at the young end wrote the
// list's head and two neighbours: lines every CPU's walks then fetched back
// (two threads stat'ing through the same directories ran slower than one).
//
// Each directory owns a Children list head; a directory drops its entries when
// it goes away (RemoveChildren), which releases its children in turn.
//
// Thread-safe. References to dropped nodes are handed back to the caller in a
// DroppedNodes, to be released after the cache's lock is gone: releasing the
// last reference to a node runs its filesystem's teardown, which may use this
// cache again; and after the walks that may pass through the node without a
// reference (FindInSection) have ended.
#ifndef VFS_FUSE_ENTRY_CACHE_H_
#define VFS_FUSE_ENTRY_CACHE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "base/platform.h"
#include "vfs/kstring.h"
#include "vfs/node.h"
#include "vfs/ref_counted.h"
#include "vfs/walk_section.h"

namespace vfs {

class EntryCache {
 private:
  struct Entry;

 public:
  // The entries of one directory. Guarded by the cache's lock; a directory
  // holds one and must call RemoveChildren before it goes away.
  class Children {
   public:
    Children() = default;
    Children(const Children&) = delete;
    Children& operator=(const Children&) = delete;

   private:
    friend class EntryCache;
    Entry* head_ = nullptr;
  };

  EntryCache(base::Platform& platform, size_t capacity);
  ~EntryCache();  // Expects no entries left (Clear first).
  EntryCache(const EntryCache&) = delete;
  EntryCache& operator=(const EntryCache&) = delete;

  // What the cache knows of a name at some moment.
  struct Answer {
    enum class Kind {
      kUnknown,  // No valid entry: ask the device.
      kPresent,  // `node` is the child.
      kAbsent,   // The name does not exist.
    };
    Kind kind = Kind::kUnknown;
    RefPtr<Node> node;  // kPresent only.
  };

  // The answer for `name` of `dir` at `now` (kUnknown once the entry expired).
  Answer Find(const Children& dir, std::string_view name, uint64_t now);
  // The child a kPresent answer would give, for a walk inside a WalkSection:
  // without the lock (two walks through the same names write no line in
  // common) and without a reference, valid until the section ends (the
  // cache's dropped nodes and entries go after WaitForWalks). Null for any
  // other answer.
  Node* FindInSection(const Children& dir, std::string_view name, uint64_t now);
  // The node the entry `name` of `dir` names, valid or not; null when there
  // is no entry or a negative one.
  RefPtr<Node> Peek(const Children& dir, std::string_view name);
  // Adds or replaces the entry `name` of `dir`: `child` is the node, the
  // device allowed the answer to be reused for `valid_ns` from `now`.
  void Insert(Children& dir, std::string_view name, RefPtr<Node> child,
              uint64_t now, uint64_t valid_ns, DroppedNodes& dropped);
  // Insert, unless `stale()` says otherwise, asked under the cache's lock: so
  // that an answer the device gave to a request (a LOOKUP) is not cached after
  // a change made meanwhile to the name (an unlink or rename, which records
  // itself before it updates the cache, then waits for the lock to do so).
  // Returns whether it inserted.
  template <typename Stale>
  bool InsertUnless(Children& dir, std::string_view name, RefPtr<Node> child,
                    uint64_t now, uint64_t valid_ns, DroppedNodes& dropped,
                    Stale stale) {
    base::LockGuard guard(*lock_);
    if (stale()) return false;
    InsertLocked(dir, name, std::move(child), now, valid_ns, dropped);
    return true;
  }
  // Removes the entry `name` of `dir`, valid or not; returns its child (null
  // when there was none or the entry was negative). The child is also added
  // to `dropped`.
  Node* Remove(Children& dir, std::string_view name, DroppedNodes& dropped);
  // The client removed the name `name` of `dir`, which named `removed`: when
  // the entry still names `removed` (nothing replaced it meanwhile), it
  // becomes a negative entry, valid for the validity the name had from `now`
  // (none when that was zero: the entry is removed). Any other entry is
  // removed. Returns the child the entry held, as Remove.
  Node* RemoveAsAbsent(Children& dir, std::string_view name,
                       const Node* removed, uint64_t now,
                       DroppedNodes& dropped);
  // Removes every entry of `dir`.
  void RemoveChildren(Children& dir, DroppedNodes& dropped);
  // Removes every entry.
  void Clear(DroppedNodes& dropped);

  size_t size() const;
  size_t capacity() const { return capacity_; }

 private:
  // What FindInSection reads without the lock (the hash chains, and an
  // entry's child, validity and mark) is atomic, written under the lock; an
  // entry taken out of its chain is freed after the walks (DroppedNodes), as
  // its child is released.
  struct Entry : Retired {
    Entry(Children* dir, std::string_view name, Node* child,
          uint64_t valid_until, uint64_t valid_ns)
        : dir(dir),
          name(name),
          child(child),
          valid_until(valid_until),
          valid_ns(valid_ns) {}

    Children* const dir;
    const KString name;
    // Holds a reference. Null: the name does not exist.
    std::atomic<Node*> child;
    std::atomic<uint64_t> valid_until;
    uint64_t valid_ns;  // The validity the device gave the name.
    std::atomic<Entry*> hash_next{nullptr};
    Entry* lru_prev = nullptr;  // Toward the most recently used.
    Entry* lru_next = nullptr;
    Entry* sibling_prev = nullptr;
    Entry* sibling_next = nullptr;
    // Used since it was last put at the young end.
    std::atomic<bool> referenced{false};
  };

  size_t Bucket(const Children* dir, std::string_view name) const;
  Entry* Find(const Children* dir, std::string_view name) const;
  // The entry answering for `name` of `dir` at `now` (valid), marked
  // referenced; null when none does. With or without the lock.
  Entry* FindValid(const Children& dir, std::string_view name, uint64_t now);
  // Unlinks `entry` from every list and hands it, and its child, to `dropped`.
  void Erase(Entry* entry, DroppedNodes& dropped);
  void MoveToFront(Entry* entry);
  // Drops the least recently used entry, giving each referenced one it meets
  // at the old end a second chance.
  void EvictOne(DroppedNodes& dropped);
  // Makes `entry` name `child` (null: a negative entry) for `valid_ns` from
  // `now`, as most recently used; its old child, unless the same, goes to
  // `dropped`.
  void Refill(Entry* entry, RefPtr<Node> child, uint64_t now, uint64_t valid_ns,
              DroppedNodes& dropped);
  void InsertLocked(Children& dir, std::string_view name, RefPtr<Node> child,
                    uint64_t now, uint64_t valid_ns, DroppedNodes& dropped);
  // Adds a new entry (none for its name exists), evicting the least recently
  // used beyond capacity.
  void Add(Children& dir, std::string_view name, RefPtr<Node> child,
           uint64_t now, uint64_t valid_ns, DroppedNodes& dropped);

  base::Platform& platform_;
  std::unique_ptr<base::Lock> lock_;
  const size_t capacity_;
  // A power of two, at least twice capacity_.
  const size_t bucket_count_;
  const std::unique_ptr<std::atomic<Entry*>[]> buckets_;
  Entry* lru_head_ = nullptr;  // Most recently used.
  Entry* lru_tail_ = nullptr;
  size_t size_ = 0;
};

}  // namespace vfs

#endif  // VFS_FUSE_ENTRY_CACHE_H_
