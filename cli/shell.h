// The interactive shell and script runner of vfsim.
#ifndef CLI_SHELL_H_
#define CLI_SHELL_H_

#include <string>

#include "cli/session.h"

namespace cli {

// With a terminal on stdin: a prompt showing the current directory, line
// editing and history (libedit; kept in ~/.vfsim_history), until `exit` or
// Ctrl-D; returns 0. Otherwise reads one command per line with no prompt, runs
// them all, and returns the status of the last one, as sh does.
int RunShell(Session& session);

// Runs the commands in host file `path` (one per line, # comments), stopping
// at the first that fails; returns its status (0 when all succeed).
int RunScript(Session& session, const std::string& path);

// Runs one already-split command line and then checks the device (see
// Session::CheckDevice): a violation makes it fail.
int RunCommandLine(Session& session, const std::vector<std::string>& words,
                   bool in_shell, bool* exit_requested);

}  // namespace cli

#endif  // CLI_SHELL_H_
