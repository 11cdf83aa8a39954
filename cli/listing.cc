// ls, tree, stat and df: the commands that show what the guest sees.
#include <time.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/abi.h"
#include "cli/commands.h"
#include "cli/guest_fs.h"
#include "vfs/posix.h"

namespace cli {
namespace {

bool IsDirectoryMode(uint32_t mode) {
  return (mode & base::kTypeMask) == base::kTypeDirectory;
}
bool IsSymlinkMode(uint32_t mode) {
  return (mode & base::kTypeMask) == base::kTypeSymlink;
}

std::string TimeString(const vfs::Timespec& time, bool with_nanos) {
  time_t seconds = static_cast<time_t>(time.tv_sec);
  struct tm local;
  localtime_r(&seconds, &local);
  char text[64];
  strftime(text, sizeof(text), with_nanos ? "%Y-%m-%d %H:%M:%S" : "%b %e %H:%M",
           &local);
  if (!with_nanos) return text;
  char zone[16];
  strftime(zone, sizeof(zone), "%z", &local);
  return absl::StrFormat("%s.%09d %s", text, time.tv_nsec, zone);
}

// One `ls -l` line for `path` shown as `name`.
std::string LongLine(const std::string& path, const std::string& name,
                     const vfs::Stat& st) {
  std::string line = absl::StrFormat(
      "%s %3u %5u %5u %8d %s %s", ModeString(st.st_mode), st.st_nlink,
      st.st_uid, st.st_gid, st.st_size, TimeString(st.st_mtim, false), name);
  if (IsSymlinkMode(st.st_mode)) {
    std::string target;
    if (ReadLinkTarget(path, &target) == 0)
      absl::StrAppend(&line, " -> ", target);
  }
  return line;
}

int ListOne(const std::string& path, bool long_format, bool all,
            bool show_header) {
  vfs::Stat st;
  int result = vfs::stat(path.c_str(), &st);
  if (result < 0) result = vfs::lstat(path.c_str(), &st);
  if (result < 0) return ReportError("ls", path, result);
  if (!IsDirectoryMode(st.st_mode)) {
    if (long_format) {
      vfs::lstat(path.c_str(), &st);
      printf("%s\n", LongLine(path, path, st).c_str());
    } else {
      printf("%s\n", path.c_str());
    }
    return kSuccess;
  }
  std::vector<GuestDirEntry> entries;
  result = ListDirectory(path, &entries);
  if (result < 0) return ReportError("ls", path, result);
  if (show_header) printf("%s:\n", path.c_str());
  int status = kSuccess;
  for (const GuestDirEntry& entry : entries) {
    if (!all && entry.name[0] == '.') continue;
    std::string child = JoinPath(path, entry.name);
    if (!long_format) {
      printf("%s%s\n", entry.name.c_str(),
             entry.type == base::DirentTypeOf(base::kTypeDirectory) ? "/" : "");
      continue;
    }
    vfs::Stat child_st;
    int child_result = vfs::lstat(child.c_str(), &child_st);
    if (child_result < 0) {
      status = ReportError("ls", child, child_result);
      continue;
    }
    printf("%s\n", LongLine(child, entry.name, child_st).c_str());
  }
  return status;
}

struct TreeCounts {
  uint64_t directories = 0;
  uint64_t files = 0;
};

int TreeWalk(const std::string& path, const std::string& prefix,
             TreeCounts& counts) {
  std::vector<GuestDirEntry> entries;
  int result = ListDirectory(path, &entries);
  if (result < 0) return ReportError("tree", path, result);
  int status = kSuccess;
  for (size_t i = 0; i < entries.size(); ++i) {
    const GuestDirEntry& entry = entries[i];
    bool last = i + 1 == entries.size();
    std::string child = JoinPath(path, entry.name);
    vfs::Stat st;
    result = vfs::lstat(child.c_str(), &st);
    if (result < 0) {
      status = ReportError("tree", child, result);
      continue;
    }
    std::string line = absl::StrCat(prefix, last ? "`-- " : "|-- ", entry.name);
    if (IsSymlinkMode(st.st_mode)) {
      std::string target;
      if (ReadLinkTarget(child, &target) == 0)
        absl::StrAppend(&line, " -> ", target);
    }
    printf("%s\n", line.c_str());
    if (IsDirectoryMode(st.st_mode)) {
      ++counts.directories;
      int sub = TreeWalk(child, prefix + (last ? "    " : "|   "), counts);
      if (sub != kSuccess) status = sub;
    } else {
      ++counts.files;
    }
  }
  return status;
}

}  // namespace

int ListCommand(const std::vector<std::string>& args) {
  std::string options;
  std::vector<std::string> paths;
  std::string error;
  if (!ParseOptions(args, "la", &options, &paths, &error)) {
    return UsageError("ls", error, "ls [-l] [-a] [PATH...]");
  }
  if (paths.empty()) paths.push_back(".");
  bool long_format = options.find('l') != std::string::npos;
  bool all = options.find('a') != std::string::npos;
  int status = kSuccess;
  for (size_t i = 0; i < paths.size(); ++i) {
    if (i > 0) printf("\n");
    int result = ListOne(paths[i], long_format, all, paths.size() > 1);
    if (result != kSuccess) status = result;
  }
  return status;
}

int TreeCommand(const std::vector<std::string>& args) {
  std::string options;
  std::vector<std::string> paths;
  std::string error;
  if (!ParseOptions(args, "", &options, &paths, &error)) {
    return UsageError("tree", error, "tree [PATH]");
  }
  if (paths.size() > 1)
    return UsageError("tree", "too many operands", "tree [PATH]");
  std::string path = paths.empty() ? "." : paths[0];
  vfs::Stat st;
  int result = vfs::stat(path.c_str(), &st);
  if (result < 0) return ReportError("tree", path, result);
  if (!IsDirectoryMode(st.st_mode)) return ReportError("tree", path, -ENOTDIR);
  printf("%s\n", path.c_str());
  TreeCounts counts;
  int status = TreeWalk(path, "", counts);
  printf("\n%llu director%s, %llu file%s\n",
         static_cast<unsigned long long>(counts.directories),
         counts.directories == 1 ? "y" : "ies",
         static_cast<unsigned long long>(counts.files),
         counts.files == 1 ? "" : "s");
  return status;
}

int StatCommand(const std::vector<std::string>& args) {
  std::string options;
  std::vector<std::string> paths;
  std::string error;
  if (!ParseOptions(args, "L", &options, &paths, &error)) {
    return UsageError("stat", error, "stat [-L] PATH...");
  }
  if (paths.empty())
    return UsageError("stat", "missing operand", "stat [-L] PATH...");
  bool follow = options.find('L') != std::string::npos;
  int status = kSuccess;
  for (const std::string& path : paths) {
    vfs::Stat st;
    int result =
        follow ? vfs::stat(path.c_str(), &st) : vfs::lstat(path.c_str(), &st);
    if (result < 0) {
      status = ReportError("stat", path, result);
      continue;
    }
    std::string name = absl::StrCat("'", path, "'");
    if (IsSymlinkMode(st.st_mode)) {
      std::string target;
      if (ReadLinkTarget(path, &target) == 0)
        absl::StrAppend(&name, " -> '", target, "'");
    }
    printf("  File: %s\n", name.c_str());
    printf("  Size: %-15lld Blocks: %-10lld IO Block: %-6lld %s\n",
           static_cast<long long>(st.st_size),
           static_cast<long long>(st.st_blocks),
           static_cast<long long>(st.st_blksize),
           FileTypeName(st.st_mode).c_str());
    printf("Device: %llxh/%llud\tInode: %-11llu Links: %u\n",
           static_cast<unsigned long long>(st.st_dev),
           static_cast<unsigned long long>(st.st_dev),
           static_cast<unsigned long long>(st.st_ino), st.st_nlink);
    printf("Access: (%04o/%s)  Uid: (%5u)   Gid: (%5u)\n",
           st.st_mode & base::kPermissionMask, ModeString(st.st_mode).c_str(),
           st.st_uid, st.st_gid);
    printf("Access: %s\n", TimeString(st.st_atim, true).c_str());
    printf("Modify: %s\n", TimeString(st.st_mtim, true).c_str());
    printf("Change: %s\n", TimeString(st.st_ctim, true).c_str());
  }
  return status;
}

int DfCommand(const std::vector<std::string>& args) {
  std::string options;
  std::vector<std::string> paths;
  std::string error;
  if (!ParseOptions(args, "", &options, &paths, &error)) {
    return UsageError("df", error, "df [PATH...]");
  }
  if (paths.empty()) paths.push_back(".");
  printf("%-20s %12s %12s %12s %5s %12s %12s\n", "Path", "1K-blocks", "Used",
         "Available", "Use%", "Inodes", "IFree");
  int status = kSuccess;
  for (const std::string& path : paths) {
    vfs::StatFs fs;
    int result = vfs::statfs(path.c_str(), &fs);
    if (result < 0) {
      status = ReportError("df", path, result);
      continue;
    }
    uint64_t unit = fs.f_frsize != 0 ? fs.f_frsize : fs.f_bsize;
    uint64_t total = fs.f_blocks * unit / 1024;
    uint64_t used = (fs.f_blocks - fs.f_bfree) * unit / 1024;
    uint64_t avail = fs.f_bavail * unit / 1024;
    uint64_t percent = used + avail == 0
                           ? 0
                           : (used * 100 + used + avail - 1) / (used + avail);
    printf("%-20s %12llu %12llu %12llu %4llu%% %12llu %12llu\n",
           DisplayPath(path).c_str(), static_cast<unsigned long long>(total),
           static_cast<unsigned long long>(used),
           static_cast<unsigned long long>(avail),
           static_cast<unsigned long long>(percent),
           static_cast<unsigned long long>(fs.f_files),
           static_cast<unsigned long long>(fs.f_ffree));
  }
  return status;
}

}  // namespace cli
