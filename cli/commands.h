// The commands a vfsim user types, on the command line or in the shell: each
// acts on the guest through vfs/posix.h, prints what a coreutils user expects,
// and reports errors as "mkdir: /root/a: File exists".
#ifndef CLI_COMMANDS_H_
#define CLI_COMMANDS_H_

#include <string>
#include <vector>

#include "cli/session.h"

namespace cli {

// Exit statuses of commands and of vfsim.
inline constexpr int kSuccess = 0;
inline constexpr int kFailure = 1;  // The command ran and failed.
inline constexpr int kUsage = 2;    // Bad arguments.

struct CommandContext {
  Session& session;
  // Commands come from the shell or a script (not vfsim's own command line):
  // `write PATH` without TEXT does not read stdin, `exit` is allowed.
  bool in_shell = false;
  // Set by `exit` / `quit`.
  bool exit_requested = false;
};

// Runs one command (args[0] is its name). Returns its exit status. Unknown
// commands are a usage error.
int RunCommand(const std::vector<std::string>& args, CommandContext& context);

// The command summary `help` prints in the shell.
std::string ShellHelp();

// Splits a shell line into words: blanks separate, '...' and "..." quote,
// backslash escapes; '#' at the start of a word starts a comment. False (and
// an error message) for an unterminated quote.
bool SplitCommandLine(const std::string& line, std::vector<std::string>* words,
                      std::string* error);

// ---- Implemented in listing.cc. ----
int ListCommand(const std::vector<std::string>& args);
int TreeCommand(const std::vector<std::string>& args);
int StatCommand(const std::vector<std::string>& args);
int DfCommand(const std::vector<std::string>& args);

// Splits leading "-xyz" options off `args` (args[0] is the command). Accepts
// only letters in `allowed`; on anything else sets `error` ("unknown option
// -q") and returns false.
bool ParseOptions(const std::vector<std::string>& args,
                  const std::string& allowed, std::string* options,
                  std::vector<std::string>* operands, std::string* error);
// Prints "CMD: PROBLEM (usage: USAGE)" to stderr, one line; returns kUsage.
int UsageError(const std::string& command, const std::string& problem,
               const std::string& usage);
// Prints "CMD: PATH: error text" to stderr; returns kFailure.
int ReportError(const std::string& command, const std::string& path,
                int negative_errno);

}  // namespace cli

#endif  // CLI_COMMANDS_H_
