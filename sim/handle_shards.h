// Handles (HandleTable) spread over shards, each a table under a lock of its
// own on a cache line of its own: threads that add objects and use them (a
// queue's thread and the files it opened) take and write no line another
// thread does, where one table under one lock moved that lock's line between
// CPUs at every request. An object goes into the adding thread's shard
// (ThreadSlot); a handle's low index bits say its shard, so any handle,
// forged ones included, is checked by one shard's table. Thread-safe.
#ifndef SIM_HANDLE_SHARDS_H_
#define SIM_HANDLE_SHARDS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "sim/adaptive_mutex.h"
#include "sim/handle_table.h"
#include "sim/thread_slot.h"

namespace sim {

template <typename T>
class HandleShards {
 public:
  static constexpr uint32_t kShardBits = 4;
  static constexpr uint32_t kShards = 1 << kShardBits;
  static_assert(kShards == kThreadSlots);

  HandleShards() {
    for (uint32_t s = 0; s < kShards; ++s) {
      shards_[s].table = HandleTable<T>(/*reserved=*/0, kShardBits, s);
    }
  }

  uint64_t Insert(std::shared_ptr<T> object) {
    Shard& shard = shards_[ThreadSlot().index];
    std::lock_guard lock(shard.mu);
    return shard.table.Insert(std::move(object));
  }
  // As HandleTable::Get.
  int Get(uint64_t handle, std::shared_ptr<T>* out) const {
    const Shard& shard = ShardOf(handle);
    std::lock_guard lock(shard.mu);
    return shard.table.Get(handle, out);
  }
  // As HandleTable::Remove.
  std::shared_ptr<T> Remove(uint64_t handle) {
    Shard& shard = ShardOf(handle);
    std::lock_guard lock(shard.mu);
    return shard.table.Remove(handle);
  }
  // Removes every object and hands them back.
  std::vector<std::shared_ptr<T>> RemoveAll() {
    std::vector<std::shared_ptr<T>> removed;
    for (Shard& shard : shards_) {
      std::lock_guard lock(shard.mu);
      std::vector<uint64_t> handles;
      shard.table.ForEach([&](uint64_t handle, const std::shared_ptr<T>&) {
        handles.push_back(handle);
      });
      for (uint64_t handle : handles) {
        removed.push_back(shard.table.Remove(handle));
      }
    }
    return removed;
  }
  size_t size() const {
    size_t total = 0;
    for (const Shard& shard : shards_) {
      std::lock_guard lock(shard.mu);
      total += shard.table.size();
    }
    return total;
  }

 private:
  struct alignas(64) Shard {
    mutable AdaptiveMutex mu;
    HandleTable<T> table;
  };
  Shard& ShardOf(uint64_t handle) {
    return shards_[HandleTable<T>::IndexOf(handle) & (kShards - 1)];
  }
  const Shard& ShardOf(uint64_t handle) const {
    return shards_[HandleTable<T>::IndexOf(handle) & (kShards - 1)];
  }
  std::array<Shard, kShards> shards_;
};

}  // namespace sim

#endif  // SIM_HANDLE_SHARDS_H_
