// The share vfsim exports when no --share is given: a temporary host
// directory holding a small sample tree, removed when vfsim exits, also on an
// error exit and on SIGINT, SIGTERM or SIGHUP.
//
// This is the one place where vfsim touches the host directly: it prepares the
// share before the machine boots and removes it after the machine is gone.
// Everything in between goes through the driver.
#ifndef CLI_SAMPLE_SHARE_H_
#define CLI_SAMPLE_SHARE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace cli {

class SampleShare {
 public:
  // Creates the directory under $TMPDIR (or /tmp) and fills it:
  //   README.txt  docs/guide.txt  docs/notes/todo.txt  src/main.c
  //   src/empty/  data/numbers.txt (100 lines)  link-to-guide -> docs/guide.txt
  static absl::StatusOr<std::unique_ptr<SampleShare>> Create();
  // Removes the tree.
  ~SampleShare();
  SampleShare(const SampleShare&) = delete;
  SampleShare& operator=(const SampleShare&) = delete;

  const std::string& path() const { return path_; }

 private:
  explicit SampleShare(std::string path);

  std::string path_;
};

// Removes a host directory tree (no symlink is followed). For the sample
// share and for bench's host-side files.
void RemoveHostTree(const std::string& path);

}  // namespace cli

#endif  // CLI_SAMPLE_SHARE_H_
