#include "sim/inode_table.h"

#include <unistd.h>

#include <cerrno>
#include <mutex>

#include "sim/host_calls.h"
#include "sim/host_closes.h"

namespace sim {

// The inode lives in its entry (one allocation); InodeTable::Get hands out
// references to it that share the entry's count.
struct InodeTable::Entry {
  Entry(int fd, const struct stat& st) : inode(fd, st) {}
  Inode inode;
  uint64_t nlookup = 0;
};

Inode::~Inode() {
  if (!fd_closed_) host::close(fd);
  delete file_handle.load(std::memory_order_relaxed);
}

InodeTable::InodeTable(int root_fd, const struct stat& root_stat)
    : table_(/*reserved=*/1) {
  auto entry = std::make_shared<Entry>(root_fd, root_stat);
  entry->nlookup = 1;
  root_ = std::shared_ptr<Inode>(entry, &entry->inode);
  table_.InsertAt(kRootId, std::move(entry));
  by_key_[{root_->dev, root_->ino}] = kRootId;
}

InodeTable::Entry* InodeTable::FindLocked(uint64_t nodeid, int* error) const {
  const std::shared_ptr<Entry>* entry = table_.Find(nodeid, error);
  return entry != nullptr ? entry->get() : nullptr;
}

uint64_t InodeTable::Ref(int fd, const struct stat& st, bool* added) {
  std::lock_guard lock(mu_);
  const Key key{st.st_dev, st.st_ino};
  if (added != nullptr) *added = false;
  if (auto it = by_key_.find(key); it != by_key_.end()) {
    if (Entry* entry = FindLocked(it->second)) {
      ++entry->nlookup;
      host::close(fd);
      return it->second;
    }
  }
  auto entry = std::make_shared<Entry>(fd, st);
  entry->nlookup = 1;
  const uint64_t nodeid = table_.Insert(std::move(entry));
  by_key_[key] = nodeid;
  if (added != nullptr) *added = true;
  return nodeid;
}

uint64_t InodeTable::RefKnown(const struct stat& st) {
  std::lock_guard lock(mu_);
  auto it = by_key_.find(Key{st.st_dev, st.st_ino});
  if (it == by_key_.end()) return 0;
  Entry* entry = FindLocked(it->second);
  if (entry == nullptr) return 0;
  ++entry->nlookup;
  return it->second;
}

int InodeTable::RefExisting(uint64_t nodeid) {
  std::lock_guard lock(mu_);
  int error = 0;
  if (Entry* entry = FindLocked(nodeid, &error)) ++entry->nlookup;
  return error;
}

int InodeTable::Get(uint64_t nodeid, std::shared_ptr<Inode>* out) const {
  std::lock_guard lock(mu_);
  int error = 0;
  if (const std::shared_ptr<Entry>* entry = table_.Find(nodeid, &error)) {
    *out = std::shared_ptr<Inode>(*entry, &(*entry)->inode);
  }
  return error;
}

void InodeTable::Forget(uint64_t nodeid, uint64_t nlookup,
                        FreedInodes* freed_into) {
  if (nodeid == kRootId) return;
  std::shared_ptr<Entry> freed;  // closed after the lock is released
  std::lock_guard lock(mu_);
  Entry* entry = FindLocked(nodeid);
  if (entry == nullptr) return;
  // A driver forgetting more than it looked up is clamped to zero.
  entry->nlookup -= nlookup < entry->nlookup ? nlookup : entry->nlookup;
  if (entry->nlookup > 0) return;
  by_key_.erase(Key{entry->inode.dev, entry->inode.ino});
  freed = table_.Remove(nodeid);
  if (freed_into != nullptr) freed_into->entries_.push_back(std::move(freed));
}

void InodeTable::CloseFreed(std::vector<std::shared_ptr<Entry>>& entries) {
  std::vector<int> fds;
  for (std::shared_ptr<Entry>& entry : entries) {
    // Out of the table nobody can take a new reference, so a count of one
    // stays one.
    if (entry.use_count() != 1) continue;
    fds.push_back(entry->inode.fd);
    entry->inode.fd_closed_ = true;
  }
  CloseTogether(fds);
  entries.clear();
}

void InodeTable::Clear() {
  FreedInodes freed;
  std::lock_guard lock(mu_);
  std::vector<uint64_t> ids;
  table_.ForEach([&](uint64_t id, const std::shared_ptr<Entry>&) {
    if (id != kRootId) ids.push_back(id);
  });
  for (uint64_t id : ids) freed.entries_.push_back(table_.Remove(id));
  by_key_.clear();
  by_key_[{root_->dev, root_->ino}] = kRootId;
}

size_t InodeTable::size() const {
  std::lock_guard lock(mu_);
  return table_.size();
}

uint64_t InodeTable::lookup_count(uint64_t nodeid) const {
  std::lock_guard lock(mu_);
  const Entry* entry = FindLocked(nodeid);
  return entry != nullptr ? entry->nlookup : 0;
}

}  // namespace sim
