#include "cli/shell.h"

#include <editline/readline.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/abi.h"
#include "cli/commands.h"
#include "vfs/posix.h"

namespace cli {
namespace {

std::string HistoryPath() {
  const char* home = getenv("HOME");
  if (home == nullptr || *home == '\0') return "";
  return absl::StrCat(home, "/.vfsim_history");
}

std::string Prompt() {
  char cwd[base::kPathMax];
  std::string where = vfs::getcwd(cwd, sizeof(cwd)) > 0 ? cwd : "?";
  return absl::StrCat("vfsim:", where, "$ ");
}

// Runs one line of the shell or a script. Blank lines and comments are
// successes.
int RunLine(Session& session, const std::string& line, bool* exit_requested) {
  std::vector<std::string> words;
  std::string error;
  if (!SplitCommandLine(line, &words, &error)) {
    fprintf(stderr, "vfsim: %s\n", error.c_str());
    return kUsage;
  }
  if (words.empty()) return kSuccess;
  return RunCommandLine(session, words, /*in_shell=*/true, exit_requested);
}

int Interactive(Session& session) {
  std::string history = HistoryPath();
  using_history();
  stifle_history(1000);
  if (!history.empty()) read_history(history.c_str());
  printf(
      "vfsim shell: the share %s is mounted at %s. Type help; exit or Ctrl-D "
      "to leave.\n",
      session.options().share_dir.c_str(), session.mount_point().c_str());
  bool exit_requested = false;
  while (!exit_requested) {
    std::string prompt = Prompt();
    char* raw = readline(prompt.c_str());
    if (raw == nullptr) {
      printf("\n");
      break;
    }
    std::string line = raw;
    free(raw);
    if (line.find_first_not_of(" \t") != std::string::npos) {
      add_history(line.c_str());
    }
    RunLine(session, line, &exit_requested);
    fflush(stdout);
  }
  if (!history.empty()) write_history(history.c_str());
  return kSuccess;
}

}  // namespace

int RunCommandLine(Session& session, const std::vector<std::string>& words,
                   bool in_shell, bool* exit_requested) {
  CommandContext context{session, in_shell};
  int status = RunCommand(words, context);
  fflush(stdout);
  if (!session.CheckDevice()) {
    fprintf(stderr,
            "%s: failed: the device reported the driver breaking a "
            "virtio rule\n",
            words[0].c_str());
    if (status == kSuccess) status = kFailure;
  }
  if (exit_requested != nullptr) *exit_requested = context.exit_requested;
  return status;
}

int RunShell(Session& session) {
  if (isatty(STDIN_FILENO)) return Interactive(session);
  std::string line;
  int status = kSuccess;
  bool exit_requested = false;
  while (!exit_requested && std::getline(std::cin, line)) {
    std::vector<std::string> words;
    std::string error;
    if (SplitCommandLine(line, &words, &error) && words.empty()) continue;
    status = RunLine(session, line, &exit_requested);
  }
  return status;
}

int RunScript(Session& session, const std::string& path) {
  std::ifstream script(path);
  if (!script) {
    fprintf(stderr, "vfsim: run: %s: %s\n", path.c_str(), std::strerror(errno));
    return kUsage;
  }
  std::string line;
  int number = 0;
  bool exit_requested = false;
  while (!exit_requested && std::getline(script, line)) {
    ++number;
    int status = RunLine(session, line, &exit_requested);
    if (status != kSuccess) {
      fprintf(stderr, "vfsim: run: %s:%d: stopped: '%s' failed\n", path.c_str(),
              number, line.c_str());
      return status;
    }
  }
  return kSuccess;
}

}  // namespace cli
