#include "vfs/walk_section.h"

#include <atomic>

namespace vfs {
namespace {

// Sections are counted on the slot of the CPU they begin on (modulo the
// slots); threads that share a slot add to the same counter, which stays
// right, only slower.
constexpr uint32_t kSlots = 16;

struct alignas(64) Slot {
  // Sections begun in each of the two phases (the phase's lowest bit).
  std::atomic<uint32_t> sections[2];
};

constinit Slot slots[kSlots] = {};
// How many waits have begun: the current phase.
constinit std::atomic<uint32_t> phase{0};
// One wait at a time: a wait that began while another waited for the old
// phase would otherwise wait only for the newer one.
constinit std::atomic<bool> waiting{false};

}  // namespace

WalkSection::WalkSection(const base::Platform& platform)
    : slot_(platform.CurrentCpu() % kSlots) {
  for (;;) {
    const uint32_t seen = phase.load(std::memory_order_seq_cst);
    std::atomic<uint32_t>& count = slots[slot_].sections[seen & 1];
    count.fetch_add(1, std::memory_order_seq_cst);
    // A wait that began the next phase between the load and the add may have
    // looked at this counter already: count in the phase current after it.
    if (phase.load(std::memory_order_seq_cst) == seen) {
      phase_ = seen & 1;
      return;
    }
    count.fetch_sub(1, std::memory_order_relaxed);
  }
}

WalkSection::~WalkSection() {
  // Release: what the walk read happens before the waiter's reuse of it.
  slots[slot_].sections[phase_].fetch_sub(1, std::memory_order_release);
}

void WaitForWalks(base::Platform& platform) {
  while (waiting.exchange(true, std::memory_order_acquire)) platform.Relax();
  // Sections that begin from here count in the new phase. One that saw the
  // old phase and adds after the flip sees the flip when it checks again,
  // and counts anew; one that added before is counted in the old phase,
  // which this waits to drain. Whatever was unpinned before this call is
  // out of the reach of any section that begins after the flip.
  const uint32_t old = phase.fetch_add(1, std::memory_order_seq_cst) & 1;
  for (Slot& slot : slots) {
    while (slot.sections[old].load(std::memory_order_acquire) != 0) {
      platform.Relax();
    }
  }
  waiting.store(false, std::memory_order_release);
}

}  // namespace vfs
