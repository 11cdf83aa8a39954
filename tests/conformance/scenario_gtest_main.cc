// The hosted harness of the conformance scenarios: each registered scenario
// becomes one GoogleTest test per machine configuration, <Config>.<scenario>
// (PciInline, PciThread, MmioInline, MmioThread, and the same on packed rings:
// both transports, both ring formats, both ways the simulated device answers a
// notify). Each test boots a sim::Machine on a
// fresh, seeded share mounted at /root, runs the scenario with
// Environment::root = "/root", and then checks what the image's runner checks
// after QEMU: the scenario closed everything it opened (the share unmounts),
// and the host directory holds what the scenario declared and nothing else
// changed. Failed checks are test failures at the check's file and line.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "conformance/scenario.h"
#include "sim/machine.h"
#include "tests/conformance/host_share_check.h"
#include "vfs/posix.h"

namespace conformance_test {
namespace {

struct Configuration {
  const char* name;
  base::TransportKind transport;
  base::RingFormat ring;
  sim::NotifyMode notify_mode;
};

constexpr Configuration kConfigurations[] = {
    {"PciInline", base::TransportKind::kPci, base::RingFormat::kSplit,
     sim::NotifyMode::kInline},
    {"PciThread", base::TransportKind::kPci, base::RingFormat::kSplit,
     sim::NotifyMode::kThread},
    {"MmioInline", base::TransportKind::kMmio, base::RingFormat::kSplit,
     sim::NotifyMode::kInline},
    {"MmioThread", base::TransportKind::kMmio, base::RingFormat::kSplit,
     sim::NotifyMode::kThread},
    {"PciPackedInline", base::TransportKind::kPci, base::RingFormat::kPacked,
     sim::NotifyMode::kInline},
    {"PciPackedThread", base::TransportKind::kPci, base::RingFormat::kPacked,
     sim::NotifyMode::kThread},
    {"MmioPackedInline", base::TransportKind::kMmio, base::RingFormat::kPacked,
     sim::NotifyMode::kInline},
    {"MmioPackedThread", base::TransportKind::kMmio, base::RingFormat::kPacked,
     sim::NotifyMode::kThread},
};

class GoogleTestReporter final : public conformance::Reporter {
 public:
  void Failure(const char* file, int line, const char* message) override {
    ADD_FAILURE_AT(file, line) << message;
  }
  void ExpectOnHost(const conformance::HostExpectation& expectation) override {
    expectations.push_back(
        {expectation.kind, expectation.path, expectation.size});
  }

  std::vector<DeclaredExpectation> expectations;
};

class ScenarioTest : public testing::Test {
 public:
  ScenarioTest(const conformance::Scenario* scenario,
               const Configuration* configuration)
      : scenario_(scenario), configuration_(configuration) {}

  void TestBody() override {
    SeededShare share;
    ASSERT_FALSE(share.path().empty()) << "cannot make a seeded share";
    const Manifest before = TakeManifest(share.path());

    // From the device's thread in kThread mode.
    std::mutex violations_lock;
    std::vector<std::string> violations;
    auto machine = sim::Machine::Create(
        {.share_dir = share.path(),
         .transport = configuration_->transport,
         .ring = configuration_->ring,
         .notify_mode = configuration_->notify_mode,
         .log_sink =
             [](base::LogLevel level, const char* message) {
               if (level >= base::LogLevel::kWarning) {
                 fprintf(stderr, "%s\n", message);
               }
             },
         .on_violation =
             [&](const sim::ViolationRecord& violation) {
               std::lock_guard<std::mutex> guard(violations_lock);
               violations.push_back(sim::ToString(violation));
             }});
    ASSERT_TRUE(machine.ok()) << machine.status();
    const std::string root = (*machine)->mount_point();

    GoogleTestReporter reporter;
    conformance::Environment environment;
    environment.root = root.c_str();
    const bool passed =
        conformance::RunScenario(*scenario_, environment, reporter);

    // Everything the scenario opened on the share is closed again.
    const int unmounted = vfs::umount(root.c_str());
    if (passed) {
      EXPECT_EQ(unmounted, 0)
          << "the scenario left files or directories open on the share";
    }
    machine->reset();  // The VFS and the FUSE session end: FORGETs, RELEASEs.
    for (const std::string& violation : violations) {
      ADD_FAILURE() << "the driver broke a virtio rule: " << violation;
    }
    for (const std::string& problem :
         CheckShare(share.path(), before, reporter.expectations)) {
      ADD_FAILURE() << "share: " << problem;
    }
  }

 private:
  const conformance::Scenario* scenario_;
  const Configuration* configuration_;
};

}  // namespace
}  // namespace conformance_test

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  if (conformance::ScenarioCount() == 0) {
    fprintf(stderr, "no conformance scenario is linked in\n");
    return 1;
  }
  for (const conformance_test::Configuration& configuration :
       conformance_test::kConfigurations) {
    for (const conformance::Scenario* s = conformance::FirstScenario(); s;
         s = s->next) {
      const conformance_test::Configuration* c = &configuration;
      testing::RegisterTest(configuration.name, s->name, nullptr, nullptr,
                            s->file, s->line, [s, c]() -> testing::Test* {
                              return new conformance_test::ScenarioTest(s, c);
                            });
    }
  }
  return RUN_ALL_TESTS();
}
