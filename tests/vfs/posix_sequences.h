// Sequences of POSIX calls whose outcome must be the same through vfs:: and
// through the host's own system calls, whatever filesystem is under vfs::.
#ifndef TESTS_VFS_POSIX_SEQUENCES_H_
#define TESTS_VFS_POSIX_SEQUENCES_H_

#include <vector>

#include "tests/vfs/posix_ops.h"

namespace vfs_test {

struct PosixSequence {
  const char* name;  // A test name: letters only.
  std::vector<Op> (*ops)();
};

// Every sequence, in a fixed order: file I/O and offsets, open flags,
// directories, symlinks, rename rules, hard links, dup, name limits,
// getdents64 with small buffers, chmod and access.
const std::vector<PosixSequence>& PosixSequences();

}  // namespace vfs_test

#endif  // TESTS_VFS_POSIX_SEQUENCES_H_
