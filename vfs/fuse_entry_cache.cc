#include "vfs/fuse_entry_cache.h"

#include <utility>

#include "vfs/name_hash.h"

namespace vfs {
namespace {

// `now` plus `nanos`, saturating.
uint64_t Deadline(uint64_t now, uint64_t nanos) {
  uint64_t until;
  if (__builtin_add_overflow(now, nanos, &until)) return ~uint64_t{0};
  return until;
}

size_t BucketCountFor(size_t capacity) {
  size_t count = 16;
  while (count < 2 * capacity) count *= 2;
  return count;
}

}  // namespace

EntryCache::EntryCache(base::Platform& platform, size_t capacity)
    : platform_(platform),
      lock_(platform.CreateLock()),
      capacity_(capacity > 0 ? capacity : 1),
      bucket_count_(BucketCountFor(capacity_)),
      buckets_(new std::atomic<Entry*>[bucket_count_]()) {}

EntryCache::~EntryCache() {
  DroppedNodes dropped(platform_);
  Clear(dropped);
}

size_t EntryCache::Bucket(const Children* dir, std::string_view name) const {
  return HashName(name, reinterpret_cast<uintptr_t>(dir)) & (bucket_count_ - 1);
}

EntryCache::Entry* EntryCache::Find(const Children* dir,
                                    std::string_view name) const {
  for (Entry* e = buckets_[Bucket(dir, name)].load(std::memory_order_acquire);
       e; e = e->hash_next.load(std::memory_order_acquire)) {
    if (e->dir == dir && e->name == name) return e;
  }
  return nullptr;
}

void EntryCache::MoveToFront(Entry* entry) {
  entry->referenced.store(false, std::memory_order_relaxed);
  if (lru_head_ == entry) return;
  // Unlink.
  entry->lru_prev->lru_next = entry->lru_next;
  if (entry->lru_next) {
    entry->lru_next->lru_prev = entry->lru_prev;
  } else {
    lru_tail_ = entry->lru_prev;
  }
  // Push at the head.
  entry->lru_prev = nullptr;
  entry->lru_next = lru_head_;
  lru_head_->lru_prev = entry;
  lru_head_ = entry;
}

void EntryCache::EvictOne(DroppedNodes& dropped) {
  // Each entry passed over loses its mark, so this ends within one round.
  while (lru_tail_->referenced.load(std::memory_order_relaxed)) {
    MoveToFront(lru_tail_);
  }
  Erase(lru_tail_, dropped);
}

void EntryCache::Erase(Entry* entry, DroppedNodes& dropped) {
  // Walks that reached it go on from it along its own link, unchanged.
  for (std::atomic<Entry*>* link =
           &buckets_[Bucket(entry->dir, entry->name.view())];
       Entry* e = link->load(std::memory_order_relaxed); link = &e->hash_next) {
    if (e == entry) {
      link->store(entry->hash_next.load(std::memory_order_relaxed),
                  std::memory_order_release);
      break;
    }
  }
  if (entry->lru_prev) {
    entry->lru_prev->lru_next = entry->lru_next;
  } else {
    lru_head_ = entry->lru_next;
  }
  if (entry->lru_next) {
    entry->lru_next->lru_prev = entry->lru_prev;
  } else {
    lru_tail_ = entry->lru_prev;
  }
  if (entry->sibling_prev) {
    entry->sibling_prev->sibling_next = entry->sibling_next;
  } else {
    entry->dir->head_ = entry->sibling_next;
  }
  if (entry->sibling_next)
    entry->sibling_next->sibling_prev = entry->sibling_prev;
  if (Node* child = entry->child.exchange(nullptr, std::memory_order_relaxed)) {
    dropped.push_back(RefPtr<Node>::Adopt(child));
  }
  dropped.Retire(entry);
  --size_;
}

EntryCache::Entry* EntryCache::FindValid(const Children& dir,
                                         std::string_view name, uint64_t now) {
  Entry* entry = Find(&dir, name);
  if (!entry || now >= entry->valid_until.load(std::memory_order_relaxed)) {
    return nullptr;
  }
  // Read first: a hit on a marked entry writes nothing.
  if (!entry->referenced.load(std::memory_order_relaxed)) {
    entry->referenced.store(true, std::memory_order_relaxed);
  }
  return entry;
}

EntryCache::Answer EntryCache::Find(const Children& dir, std::string_view name,
                                    uint64_t now) {
  base::LockGuard guard(*lock_);
  Entry* entry = FindValid(dir, name, now);
  if (!entry) return {};
  Node* child = entry->child.load(std::memory_order_relaxed);
  if (!child) return {Answer::Kind::kAbsent, nullptr};
  return {Answer::Kind::kPresent, RefPtr<Node>(child)};
}

Node* EntryCache::FindInSection(const Children& dir, std::string_view name,
                                uint64_t now) {
  Entry* entry = FindValid(dir, name, now);
  if (!entry) return nullptr;
  // Acquire: the node's state was written before it was published here.
  return entry->child.load(std::memory_order_acquire);
}

RefPtr<Node> EntryCache::Peek(const Children& dir, std::string_view name) {
  base::LockGuard guard(*lock_);
  Entry* entry = Find(&dir, name);
  return RefPtr<Node>(entry ? entry->child.load(std::memory_order_relaxed)
                            : nullptr);
}

void EntryCache::Add(Children& dir, std::string_view name, RefPtr<Node> child,
                     uint64_t now, uint64_t valid_ns, DroppedNodes& dropped) {
  while (size_ >= capacity_ && lru_tail_) EvictOne(dropped);
  auto* entry =
      new Entry(&dir, name, child.Leak(), Deadline(now, valid_ns), valid_ns);
  std::atomic<Entry*>& bucket = buckets_[Bucket(&dir, name)];
  entry->hash_next.store(bucket.load(std::memory_order_relaxed),
                         std::memory_order_relaxed);
  // Release: a walk that finds it finds it whole.
  bucket.store(entry, std::memory_order_release);
  entry->lru_next = lru_head_;
  if (lru_head_) lru_head_->lru_prev = entry;
  lru_head_ = entry;
  if (!lru_tail_) lru_tail_ = entry;
  entry->sibling_next = dir.head_;
  if (dir.head_) dir.head_->sibling_prev = entry;
  dir.head_ = entry;
  ++size_;
}

void EntryCache::Refill(Entry* entry, RefPtr<Node> child, uint64_t now,
                        uint64_t valid_ns, DroppedNodes& dropped) {
  // The same node again (a listing or lookup that renews the name) stays
  // pinned: `child`'s reference, not the last, goes without a wait.
  Node* old = entry->child.load(std::memory_order_relaxed);
  if (child.get() != old) {
    // Release: a walk that reads the new child finds it whole.
    entry->child.store(child.Leak(), std::memory_order_release);
    if (old) dropped.push_back(RefPtr<Node>::Adopt(old));
  }
  entry->valid_until.store(Deadline(now, valid_ns), std::memory_order_relaxed);
  entry->valid_ns = valid_ns;
  MoveToFront(entry);
}

void EntryCache::Insert(Children& dir, std::string_view name,
                        RefPtr<Node> child, uint64_t now, uint64_t valid_ns,
                        DroppedNodes& dropped) {
  base::LockGuard guard(*lock_);
  InsertLocked(dir, name, std::move(child), now, valid_ns, dropped);
}

void EntryCache::InsertLocked(Children& dir, std::string_view name,
                              RefPtr<Node> child, uint64_t now,
                              uint64_t valid_ns, DroppedNodes& dropped) {
  if (Entry* old = Find(&dir, name)) {
    Refill(old, std::move(child), now, valid_ns, dropped);
  } else {
    Add(dir, name, std::move(child), now, valid_ns, dropped);
  }
}

Node* EntryCache::Remove(Children& dir, std::string_view name,
                         DroppedNodes& dropped) {
  base::LockGuard guard(*lock_);
  Entry* entry = Find(&dir, name);
  if (!entry) return nullptr;
  Node* child = entry->child.load(std::memory_order_relaxed);
  Erase(entry, dropped);
  return child;
}

Node* EntryCache::RemoveAsAbsent(Children& dir, std::string_view name,
                                 const Node* removed, uint64_t now,
                                 DroppedNodes& dropped) {
  base::LockGuard guard(*lock_);
  Entry* entry = Find(&dir, name);
  if (!entry) return nullptr;
  Node* child = entry->child.load(std::memory_order_relaxed);
  if (child && child == removed && entry->valid_ns > 0) {
    Refill(entry, nullptr, now, entry->valid_ns, dropped);
  } else {
    Erase(entry, dropped);
  }
  return child;
}

void EntryCache::RemoveChildren(Children& dir, DroppedNodes& dropped) {
  base::LockGuard guard(*lock_);
  while (dir.head_) Erase(dir.head_, dropped);
}

void EntryCache::Clear(DroppedNodes& dropped) {
  base::LockGuard guard(*lock_);
  while (lru_head_) Erase(lru_head_, dropped);
}

size_t EntryCache::size() const {
  base::LockGuard guard(*lock_);
  return size_;
}

}  // namespace vfs
