// A table of shared objects addressed by opaque 64-bit handles that a driver
// may forge.
//
// A handle packs a slot index (low 32 bits) and the slot's generation (high 32
// bits). Freeing a slot bumps its generation, so an old handle to a reused slot
// is recognised as stale instead of reaching the new occupant. Slot 0 is never
// used, so handle 0 is always invalid. A table may be one of 2^shard_bits
// shards (sim/handle_shards.h): its slot i is index (i << shard_bits) | shard,
// and an index of another shard is one it never handed out. The table is not
// synchronised: its owner holds a lock around every call.
#ifndef SIM_HANDLE_TABLE_H_
#define SIM_HANDLE_TABLE_H_

#include <cerrno>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace sim {

template <typename T>
class HandleTable {
 public:
  static constexpr uint64_t Pack(uint32_t index, uint32_t generation) {
    return (static_cast<uint64_t>(generation) << 32) | index;
  }
  static constexpr uint32_t IndexOf(uint64_t handle) {
    return static_cast<uint32_t>(handle);
  }
  static constexpr uint32_t GenerationOf(uint64_t handle) {
    return static_cast<uint32_t>(handle >> 32);
  }

  // `reserved` leading slots (besides 0) are never handed out by Insert;
  // InsertAt fills them with generation 0 (used for the FUSE root, node id 1).
  explicit HandleTable(uint32_t reserved = 0, uint32_t shard_bits = 0,
                       uint32_t shard = 0)
      : shard_bits_(shard_bits), shard_(shard), slots_(1 + reserved) {}

  // Stores `object` in a free slot and returns its handle.
  uint64_t Insert(std::shared_ptr<T> object) {
    uint32_t index;
    if (!free_.empty()) {
      index = free_.back();
      free_.pop_back();
    } else {
      index = static_cast<uint32_t>(slots_.size());
      slots_.push_back(Slot{});
    }
    Slot& slot = slots_[index];
    slot.object = std::move(object);
    ++live_;
    return Pack(IndexOfSlot(index), slot.generation);
  }

  // Fills reserved slot `index` with generation 0.
  uint64_t InsertAt(uint32_t index, std::shared_ptr<T> object) {
    Slot& slot = slots_[index];
    if (slot.object == nullptr) ++live_;
    slot.object = std::move(object);
    slot.generation = 0;
    return Pack(IndexOfSlot(index), 0);
  }

  // 0 for a live handle, EINVAL (index never handed out) or ESTALE (freed or
  // reused slot).
  int Check(uint64_t handle) const {
    const uint32_t index = SlotOf(handle);
    if (index == 0 || index >= slots_.size()) return EINVAL;
    const Slot& slot = slots_[index];
    if (slot.object == nullptr || slot.generation != GenerationOf(handle)) {
      return ESTALE;
    }
    return 0;
  }

  // The object of a live handle, held by the table (the owner's lock, held by
  // the caller, keeps it there); null when Check fails, with its error in
  // `*error` when given.
  const std::shared_ptr<T>* Find(uint64_t handle, int* error = nullptr) const {
    const int check = Check(handle);
    if (error != nullptr) *error = check;
    return check == 0 ? &slots_[SlotOf(handle)].object : nullptr;
  }

  // 0 and a reference to the object, or Check's error.
  int Get(uint64_t handle, std::shared_ptr<T>* out) const {
    const int error = Check(handle);
    if (error == 0) *out = slots_[SlotOf(handle)].object;
    return error;
  }

  // Frees the slot of a valid handle and returns its object (null when
  // invalid).
  std::shared_ptr<T> Remove(uint64_t handle) {
    if (Check(handle) != 0) return nullptr;
    const uint32_t index = SlotOf(handle);
    Slot& slot = slots_[index];
    std::shared_ptr<T> object = std::move(slot.object);
    --live_;
    // A slot whose generation would wrap is retired rather than reused.
    if (slot.generation != UINT32_MAX) {
      ++slot.generation;
      free_.push_back(index);
    }
    return object;
  }

  // Calls fn(handle, object) for every live object.
  template <typename Fn>
  void ForEach(Fn fn) const {
    for (uint32_t i = 1; i < slots_.size(); ++i) {
      if (slots_[i].object != nullptr)
        fn(Pack(IndexOfSlot(i), slots_[i].generation), slots_[i].object);
    }
  }

  size_t size() const { return live_; }

 private:
  uint32_t IndexOfSlot(uint32_t slot) const {
    return (slot << shard_bits_) | shard_;
  }
  // The slot a handle's index names; 0 (never used) for another shard's.
  uint32_t SlotOf(uint64_t handle) const {
    const uint32_t index = IndexOf(handle);
    const uint32_t mask = (uint32_t{1} << shard_bits_) - 1;
    return (index & mask) == shard_ ? index >> shard_bits_ : 0;
  }

  struct Slot {
    std::shared_ptr<T> object;
    // Starts at 1 so that no ordinary handle is ever a small integer such as 1.
    uint32_t generation = 1;
  };
  uint32_t shard_bits_;
  uint32_t shard_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  size_t live_ = 0;
};

}  // namespace sim

#endif  // SIM_HANDLE_TABLE_H_
