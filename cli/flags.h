// The command-line flags of vfsim and a strict parser for them.
//
// Abseil's own parser exits with status 1 and a long message on an unknown
// flag; vfsim promises one clear line and status 2 for every usage error, so
// flags are parsed here, against Abseil's flag registry: "--name=value",
// "--name value", "--bool_flag", "--nobool_flag". Everything else is an
// argument of the command, including single-dash options such as "-l".
#ifndef CLI_FLAGS_H_
#define CLI_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"

ABSL_DECLARE_FLAG(std::string, share);
ABSL_DECLARE_FLAG(std::string, tag);
ABSL_DECLARE_FLAG(std::string, transport);
ABSL_DECLARE_FLAG(std::string, ring);
ABSL_DECLARE_FLAG(std::string, completion);
ABSL_DECLARE_FLAG(std::string, notify);
ABSL_DECLARE_FLAG(std::string, data_caching);
ABSL_DECLARE_FLAG(uint32_t, queue_size);
ABSL_DECLARE_FLAG(uint32_t, request_queues);
ABSL_DECLARE_FLAG(double, entry_timeout);
ABSL_DECLARE_FLAG(double, attr_timeout);
ABSL_DECLARE_FLAG(bool, strict);
ABSL_DECLARE_FLAG(bool, trace);
ABSL_DECLARE_FLAG(std::string, trace_json);
ABSL_DECLARE_FLAG(bool, stats);
ABSL_DECLARE_FLAG(bool, help);

namespace cli {

// Sets the flags found in argv[1..] and returns the other arguments in order.
// An InvalidArgument status holds the one line to print.
absl::StatusOr<std::vector<std::string>> ParseFlags(int argc, char** argv);

// The usage text printed by --help and `vfsim help`.
std::string UsageText();

}  // namespace cli

#endif  // CLI_FLAGS_H_
