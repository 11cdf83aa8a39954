// The simulated machines a test runs on: both transports, both ring formats,
// both notify modes, and completion by interrupt where the device interrupts
// from a thread of its own.
#ifndef TESTS_COMMON_MACHINE_VARIANTS_H_
#define TESTS_COMMON_MACHINE_VARIANTS_H_

#include <string>
#include <vector>

#include "base/platform.h"
#include "gtest/gtest.h"
#include "sim/machine.h"

namespace testing_variants {

struct MachineVariant {
  base::TransportKind transport = base::TransportKind::kPci;
  base::RingFormat ring = base::RingFormat::kSplit;
  sim::NotifyMode notify_mode = sim::NotifyMode::kInline;
  sim::CompletionMode completion = sim::CompletionMode::kPoll;

  // e.g. "PciPackedInline", "MmioSplitThreadInterrupt".
  std::string Name() const {
    return std::string(transport == base::TransportKind::kPci ? "Pci"
                                                              : "Mmio") +
           (ring == base::RingFormat::kSplit ? "Split" : "Packed") +
           (notify_mode == sim::NotifyMode::kInline ? "Inline" : "Thread") +
           (completion == sim::CompletionMode::kInterrupt ? "Interrupt" : "");
  }
  // `options` set to run on this variant.
  void Apply(sim::MachineOptions& options) const {
    options.transport = transport;
    options.ring = ring;
    options.notify_mode = notify_mode;
    options.completion = completion;
  }
};

inline std::vector<MachineVariant> AllMachineVariants() {
  std::vector<MachineVariant> variants;
  for (base::TransportKind transport :
       {base::TransportKind::kPci, base::TransportKind::kMmio}) {
    for (base::RingFormat ring :
         {base::RingFormat::kSplit, base::RingFormat::kPacked}) {
      for (sim::NotifyMode mode :
           {sim::NotifyMode::kInline, sim::NotifyMode::kThread}) {
        variants.push_back({transport, ring, mode});
      }
      // Inline, the interrupt comes before the notify returns: only the
      // device thread's interrupts make a waiter sleep.
      variants.push_back({transport, ring, sim::NotifyMode::kThread,
                          sim::CompletionMode::kInterrupt});
    }
  }
  return variants;
}

inline std::string MachineVariantName(
    const ::testing::TestParamInfo<MachineVariant>& info) {
  return info.param.Name();
}

}  // namespace testing_variants

#endif  // TESTS_COMMON_MACHINE_VARIANTS_H_
