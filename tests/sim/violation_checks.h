// The device's answer to a broken virtio rule, checked one way for every
// strict-rule test (split rings in strict_rules_test, packed rings in
// packed_strict_rules_test): it names the violation, asks for a reset, tells
// the driver so with a configuration change interrupt, and a reset clears it.
#ifndef TESTS_SIM_VIOLATION_CHECKS_H_
#define TESTS_SIM_VIOLATION_CHECKS_H_

#include <gtest/gtest.h>
#include <linux/virtio_config.h>

#include <vector>

#include "sim/violation.h"
#include "sim/virtio_device_model.h"
#include "tests/sim/test_driver.h"

namespace sim_test {

// The first violation `machine` recorded, and the first one passed to its
// on_violation callback (collected in `reported`), is `expected`, with a
// message; the device set DEVICE_NEEDS_RESET and raised a configuration change
// interrupt. Then resets the device (status 0, checked) and clears the record,
// so that the caller can show the device works again. A fatal failure returns
// early: the caller checks HasFatalFailure().
inline void ExpectViolationReportedAndReset(
    Machine& machine, const std::vector<sim::Violation>& reported,
    sim::Violation expected) {
  std::vector<sim::ViolationRecord> violations = machine.device->violations();
  ASSERT_FALSE(violations.empty()) << "no violation recorded";
  EXPECT_EQ(violations.front().violation, expected)
      << "got " << ToString(violations.front()) << ", expected "
      << sim::ViolationName(expected);
  EXPECT_FALSE(violations.front().message.empty());
  ASSERT_FALSE(reported.empty());
  EXPECT_EQ(reported.front(), expected);
  TestDriver& driver = *machine.driver;
  EXPECT_TRUE(driver.Status() & VIRTIO_CONFIG_S_NEEDS_RESET);
  EXPECT_TRUE(driver.TakeIsr() & sim::VirtioDeviceModel::kIsrConfig);

  driver.SetStatus(0);
  EXPECT_EQ(driver.Status(), 0);
  machine.model().ClearViolations();
}

}  // namespace sim_test

#endif  // TESTS_SIM_VIOLATION_CHECKS_H_
