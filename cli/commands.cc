#include "cli/commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/abi.h"
#include "cli/bench.h"
#include "cli/fault_command.h"
#include "cli/guest_fs.h"
#include "vfs/posix.h"

namespace cli {
namespace {

int Usage(const std::string& command, const std::string& usage) {
  return UsageError(command, "wrong arguments", usage);
}

// Leaves `options` and `operands` as ParseOptions made them, or prints the
// usage line when an option is unknown or the operand count is outside
// [min, max].
bool Operands(const std::vector<std::string>& args, const std::string& allowed,
              size_t min, size_t max, const std::string& usage,
              std::string* options, std::vector<std::string>* operands,
              int* status) {
  std::string error;
  if (!ParseOptions(args, allowed, options, operands, &error)) {
    *status = UsageError(args[0], error, usage);
    return false;
  }
  if (operands->size() < min) {
    *status = UsageError(args[0], "missing operand", usage);
    return false;
  }
  if (operands->size() > max) {
    *status = UsageError(args[0], "too many operands", usage);
    return false;
  }
  return true;
}

bool IsDirectory(const std::string& path) {
  vfs::Stat st;
  return vfs::stat(path.c_str(), &st) == 0 &&
         (st.st_mode & base::kTypeMask) == base::kTypeDirectory;
}

std::string BaseName(const std::string& path) {
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  size_t slash = trimmed.rfind('/');
  return slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
}

int Cat(const std::vector<std::string>& args) {
  std::string options;
  std::vector<std::string> paths;
  int status = kSuccess;
  if (!Operands(args, "", 1, SIZE_MAX, "cat PATH...", &options, &paths,
                &status)) {
    return status;
  }
  for (const std::string& path : paths) {
    std::string content;
    int result = ReadWholeFile(path, &content);
    if (result < 0) {
      status = ReportError("cat", path, result);
      continue;
    }
    fwrite(content.data(), 1, content.size(), stdout);
  }
  fflush(stdout);
  return status;
}

int Write(const std::vector<std::string>& args, const CommandContext& context) {
  std::string options;
  std::vector<std::string> operands;
  int status = kSuccess;
  const std::string usage = context.in_shell ? "write [-a] PATH TEXT..."
                                             : "write [-a] PATH [TEXT...]";
  if (!Operands(args, "a", context.in_shell ? 2 : 1, SIZE_MAX, usage, &options,
                &operands, &status)) {
    return status;
  }
  std::string data;
  if (operands.size() == 1) {
    char buffer[65536];
    size_t n;
    while ((n = fread(buffer, 1, sizeof(buffer), stdin)) > 0)
      data.append(buffer, n);
  } else {
    data = absl::StrJoin(operands.begin() + 1, operands.end(), " ") + "\n";
  }
  int flags = base::kOpenWriteOnly | base::kOpenCreate |
              (options.find('a') != std::string::npos ? base::kOpenAppend
                                                      : base::kOpenTruncate);
  int result = WriteWholeFile(operands[0], data, flags);
  if (result < 0) return ReportError("write", operands[0], result);
  return kSuccess;
}

int Mkdir(const std::vector<std::string>& args) {
  std::string options;
  std::vector<std::string> paths;
  int status = kSuccess;
  if (!Operands(args, "p", 1, SIZE_MAX, "mkdir [-p] PATH...", &options, &paths,
                &status)) {
    return status;
  }
  bool parents = options.find('p') != std::string::npos;
  for (const std::string& path : paths) {
    if (!parents) {
      int result = vfs::mkdir(path.c_str(), 0755);
      if (result < 0) status = ReportError("mkdir", path, result);
      continue;
    }
    // Each prefix in turn; existing directories are fine.
    std::string prefix = path[0] == '/' ? "/" : "";
    for (size_t start = 0; start <= path.size();) {
      size_t slash = path.find('/', start);
      if (slash == std::string::npos) slash = path.size();
      if (slash > start) {
        prefix = JoinPath(prefix, path.substr(start, slash - start));
        int result = vfs::mkdir(prefix.c_str(), 0755);
        if (result == -EEXIST && IsDirectory(prefix)) result = 0;
        if (result < 0) {
          status = ReportError("mkdir", prefix, result);
          break;
        }
      }
      start = slash + 1;
    }
  }
  return status;
}

int Rmdir(const std::vector<std::string>& args) {
  std::string options;
  std::vector<std::string> paths;
  int status = kSuccess;
  if (!Operands(args, "", 1, SIZE_MAX, "rmdir PATH...", &options, &paths,
                &status)) {
    return status;
  }
  for (const std::string& path : paths) {
    int result = vfs::rmdir(path.c_str());
    if (result < 0) status = ReportError("rmdir", path, result);
  }
  return status;
}

int Rm(const std::vector<std::string>& args) {
  std::string options;
  std::vector<std::string> paths;
  int status = kSuccess;
  if (!Operands(args, "rf", 1, SIZE_MAX, "rm [-r] [-f] PATH...", &options,
                &paths, &status)) {
    return status;
  }
  bool recursive = options.find('r') != std::string::npos;
  bool force = options.find('f') != std::string::npos;
  for (const std::string& path : paths) {
    int result;
    if (recursive) {
      result = RemoveTree(path);
    } else {
      vfs::Stat st;
      result = vfs::lstat(path.c_str(), &st);
      if (result == 0 &&
          (st.st_mode & base::kTypeMask) == base::kTypeDirectory) {
        result = -EISDIR;
      } else if (result == 0) {
        result = vfs::unlink(path.c_str());
      }
    }
    if (result == -ENOENT && force) continue;
    if (result < 0) status = ReportError("rm", path, result);
  }
  return status;
}

int Mv(const std::vector<std::string>& args) {
  std::string options;
  std::vector<std::string> operands;
  int status = kSuccess;
  if (!Operands(args, "", 2, 2, "mv SOURCE TARGET", &options, &operands,
                &status)) {
    return status;
  }
  std::string target = operands[1];
  if (IsDirectory(target)) target = JoinPath(target, BaseName(operands[0]));
  int result = vfs::rename(operands[0].c_str(), target.c_str());
  if (result < 0) {
    fprintf(stderr, "mv: %s -> %s: %s\n", DisplayPath(operands[0]).c_str(),
            DisplayPath(target).c_str(), ErrorText(result).c_str());
    return kFailure;
  }
  return kSuccess;
}

int Ln(const std::vector<std::string>& args) {
  std::string options;
  std::vector<std::string> operands;
  int status = kSuccess;
  if (!Operands(args, "s", 2, 2, "ln [-s] TARGET LINK", &options, &operands,
                &status)) {
    return status;
  }
  bool symbolic = options.find('s') != std::string::npos;
  int result = symbolic ? vfs::symlink(operands[0].c_str(), operands[1].c_str())
                        : vfs::link(operands[0].c_str(), operands[1].c_str());
  if (result < 0) return ReportError("ln", operands[1], result);
  return kSuccess;
}

int Cd(const std::vector<std::string>& args, CommandContext& context) {
  std::string options;
  std::vector<std::string> operands;
  int status = kSuccess;
  if (!Operands(args, "", 0, 1, "cd [PATH]", &options, &operands, &status)) {
    return status;
  }
  std::string path =
      operands.empty() ? context.session.mount_point() : operands[0];
  int result = vfs::chdir(path.c_str());
  if (result < 0) return ReportError("cd", path, result);
  return kSuccess;
}

int Pwd() {
  char cwd[base::kPathMax];
  int64_t result = vfs::getcwd(cwd, sizeof(cwd));
  if (result < 0) return ReportError("pwd", ".", static_cast<int>(result));
  printf("%s\n", cwd);
  return kSuccess;
}

int Trace(const std::vector<std::string>& args, CommandContext& context) {
  if (args.size() == 1) {
    printf("trace is %s\n",
           context.session.recorder().printing() ? "on" : "off");
    return kSuccess;
  }
  if (args.size() != 2 || (args[1] != "on" && args[1] != "off")) {
    return Usage("trace", "trace [on|off]");
  }
  context.session.recorder().set_printing(args[1] == "on");
  return kSuccess;
}

int Stats(const std::vector<std::string>& args, CommandContext& context) {
  if (args.size() == 2 && args[1] == "reset") {
    context.session.ResetStats();
    return kSuccess;
  }
  if (args.size() != 1) return Usage("stats", "stats [reset]");
  fputs(context.session.StatsText().c_str(), stdout);
  printf("violations: %llu\n",
         static_cast<unsigned long long>(
             context.session.recorder().violations_total()));
  return kSuccess;
}

}  // namespace

bool ParseOptions(const std::vector<std::string>& args,
                  const std::string& allowed, std::string* options,
                  std::vector<std::string>* operands, std::string* error) {
  options->clear();
  operands->clear();
  bool done = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!done && arg == "--") {
      done = true;
    } else if (!done && arg.size() > 1 && arg[0] == '-') {
      for (char letter : arg.substr(1)) {
        if (allowed.find(letter) == std::string::npos) {
          *error = absl::StrCat("unknown option -", std::string(1, letter));
          return false;
        }
        *options += letter;
      }
    } else {
      operands->push_back(arg);
    }
  }
  return true;
}

int UsageError(const std::string& command, const std::string& problem,
               const std::string& usage) {
  fprintf(stderr, "%s: %s (usage: %s)\n", command.c_str(), problem.c_str(),
          usage.c_str());
  return kUsage;
}

int ReportError(const std::string& command, const std::string& path,
                int negative_errno) {
  fprintf(stderr, "%s: %s: %s\n", command.c_str(), DisplayPath(path).c_str(),
          ErrorText(negative_errno).c_str());
  return kFailure;
}

int RunCommand(const std::vector<std::string>& args, CommandContext& context) {
  if (args.empty()) return kSuccess;
  const std::string& name = args[0];
  if (name == "ls") return ListCommand(args);
  if (name == "cat") return Cat(args);
  if (name == "stat") return StatCommand(args);
  if (name == "write") return Write(args, context);
  if (name == "mkdir") return Mkdir(args);
  if (name == "rmdir") return Rmdir(args);
  if (name == "rm") return Rm(args);
  if (name == "mv") return Mv(args);
  if (name == "ln") return Ln(args);
  if (name == "tree") return TreeCommand(args);
  if (name == "df") return DfCommand(args);
  if (name == "cd") return Cd(args, context);
  if (name == "pwd") return Pwd();
  if (name == "trace") return Trace(args, context);
  if (name == "stats") return Stats(args, context);
  if (name == "bench") return BenchCommand(args, context.session);
  if (name == "fault") return FaultCommand(args, context);
  if (name == "help") {
    fputs(ShellHelp().c_str(), stdout);
    return kSuccess;
  }
  if (context.in_shell && (name == "exit" || name == "quit")) {
    context.exit_requested = true;
    return kSuccess;
  }
  fprintf(stderr, "vfsim: unknown command '%s'%s\n", name.c_str(),
          context.in_shell ? " (type help)" : " (vfsim --help lists them)");
  return kUsage;
}

std::string ShellHelp() {
  return R"(Commands (paths are guest paths; relative ones start at the current directory):
  ls [-l] [-a] [PATH...]   list directories        cat PATH...      print files
  stat PATH...             show attributes         tree [PATH]      directory tree
  write [-a] PATH TEXT...  write TEXT and a newline to PATH (-a appends)
  mkdir [-p] PATH...       make directories        rmdir PATH...    remove empty ones
  rm [-r] [-f] PATH...     remove                  mv SOURCE TARGET rename or move
  ln [-s] TARGET LINK      hard or symbolic link   df [PATH]        filesystem usage
  cd [PATH]  pwd           change / print the current directory
  trace [on|off]           print each FUSE request the device handles (stderr)
  stats [reset]            requests per opcode with latency percentiles,
                           and the hand-off per request
  bench [MiB]              quick measurement: driver vs the host directory
  fault SPEC               make the device misbehave (see fault help)
  fault list|held|clear    the rules in force, completions held, no rules
  fault release [random SEED|I..]  complete held requests (all, or in order)
  fault avail-jump         break the request queue's ring as a buggy driver
                           would, to see the device report it and recover
  help  exit (or Ctrl-D)
)";
}

bool SplitCommandLine(const std::string& line, std::vector<std::string>* words,
                      std::string* error) {
  words->clear();
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote == '"' && i + 1 < line.size()) {
        word += line[++i];
      } else {
        word += c;
      }
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (in_word) words->push_back(std::move(word));
      word.clear();
      in_word = false;
    } else if (c == '#' && !in_word) {
      break;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < line.size()) {
      word += line[++i];
      in_word = true;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote != 0) {
    *error = absl::StrCat("unterminated ", std::string(1, quote), " quote");
    return false;
  }
  if (in_word) words->push_back(std::move(word));
  return true;
}

}  // namespace cli
