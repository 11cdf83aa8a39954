// The hosted harness's view of the share from the host side: a fresh share
// directory seeded as boot/run_qemu.sh seeds QEMU's, a manifest of everything
// in it, and the check that after a scenario the share holds what the scenario
// declared (conformance::HostExpectation) and nothing else changed. The same
// rules boot/run_qemu.sh applies after a QEMU run.
#ifndef TESTS_CONFORMANCE_HOST_SHARE_CHECK_H_
#define TESTS_CONFORMANCE_HOST_SHARE_CHECK_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "conformance/scenario.h"

namespace conformance_test {

// A host directory for one scenario run, seeded with conformance/host_share.h's
// files; removed with everything in it when destroyed.
class SeededShare {
 public:
  SeededShare();
  ~SeededShare();
  SeededShare(const SeededShare&) = delete;
  SeededShare& operator=(const SeededShare&) = delete;

  // Empty when the directory could not be made or seeded.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Every path below a directory (relative, "./"-less), with what identifies its
// state: type, permission bits, and for files size and content, for symlinks
// the target. Directory sizes are left out: they are filesystem noise.
using Manifest = std::map<std::string, std::string>;
Manifest TakeManifest(const std::string& directory);

// A declared expectation, owning its path.
struct DeclaredExpectation {
  conformance::HostExpectation::Kind kind;
  std::string path;
  uint64_t size;
};

// What is wrong with the share after a run: each expectation not met, and each
// path that changed (appeared, disappeared or differs from `before`) without
// being declared or lying below a declared path. Empty when all is well.
std::vector<std::string> CheckShare(
    const std::string& share, const Manifest& before,
    const std::vector<DeclaredExpectation>& expectations);

}  // namespace conformance_test

#endif  // TESTS_CONFORMANCE_HOST_SHARE_CHECK_H_
