// Runs the built vfsim binary as a user would: arguments, stdin and
// environment in; stdout, stderr and exit status out.
#ifndef TESTS_CLI_VFSIM_RUNNER_H_
#define TESTS_CLI_VFSIM_RUNNER_H_

#include <map>
#include <string>
#include <vector>

namespace cli_test {

struct RunResult {
  int status = -1;  // The exit status, or 128 + the signal that ended it.
  std::string out;
  std::string err;
};

// The vfsim binary in the test's runfiles.
std::string VfsimPath();

// Runs vfsim with `args` and `input` on stdin. `env` entries are added to (or
// replace those of) the test's environment.
RunResult RunVfsim(const std::vector<std::string>& args,
                   const std::string& input = "",
                   const std::map<std::string, std::string>& env = {});

// A fresh empty directory under TEST_TMPDIR.
std::string MakeTempDir();
// Creates a host file with `content`.
void WriteHostFile(const std::string& path, const std::string& content);
// A host file's content ("" when it cannot be read).
std::string ReadHostFile(const std::string& path);
// The names in a host directory (without "." and ".."), sorted.
std::vector<std::string> ListHostDir(const std::string& path);

// The lines of `text`, without their newlines.
std::vector<std::string> Lines(const std::string& text);

// Parses one flat JSON object ({"key": string|number|true|false|null, ...})
// into key -> raw value text (strings unescaped, without quotes). False when
// `text` is not such an object.
bool ParseFlatJsonObject(const std::string& text,
                         std::map<std::string, std::string>* fields);

}  // namespace cli_test

#endif  // TESTS_CLI_VFSIM_RUNNER_H_
