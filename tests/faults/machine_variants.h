// The machines the fault tests run on: both transports, both notify modes.
#ifndef TESTS_FAULTS_MACHINE_VARIANTS_H_
#define TESTS_FAULTS_MACHINE_VARIANTS_H_

#include <string>
#include <tuple>

#include "base/platform.h"
#include "gtest/gtest.h"
#include "sim/machine.h"

namespace faults_test {

using MachineVariant = std::tuple<base::TransportKind, sim::NotifyMode>;

inline auto AllMachineVariants() {
  return ::testing::Combine(
      ::testing::Values(base::TransportKind::kPci, base::TransportKind::kMmio),
      ::testing::Values(sim::NotifyMode::kInline, sim::NotifyMode::kThread));
}

inline std::string MachineVariantName(
    const ::testing::TestParamInfo<MachineVariant>& info) {
  return std::string(std::get<0>(info.param) == base::TransportKind::kPci
                         ? "Pci"
                         : "Mmio") +
         (std::get<1>(info.param) == sim::NotifyMode::kInline ? "Inline"
                                                              : "Thread");
}

// `options` set to run on `variant`.
inline void SetVariant(const MachineVariant& variant,
                       sim::MachineOptions& options) {
  options.transport = std::get<0>(variant);
  options.notify_mode = std::get<1>(variant);
}

}  // namespace faults_test

#endif  // TESTS_FAULTS_MACHINE_VARIANTS_H_
