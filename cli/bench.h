// `bench`: a quick, honest measurement a developer runs by hand. The same
// operations run through the driver (vfs:: calls on the share) and directly on
// the host directory behind it, side by side, with the FUSE requests each
// guest operation cost. A few seconds at most; Google Benchmark suites live in
// bench/.
#ifndef CLI_BENCH_H_
#define CLI_BENCH_H_

#include <string>
#include <vector>

#include "cli/session.h"

namespace cli {

// bench [MiB]: sequential write and read of MiB (default 16) in 128 KiB calls,
// a stat loop, a create+close+unlink loop.
int BenchCommand(const std::vector<std::string>& args, Session& session);

}  // namespace cli

#endif  // CLI_BENCH_H_
