// Small helpers over vfs/posix.h for the commands: whole-file reads and
// writes, sorted directory listings, recursive removal, and the strings a
// person reads (mode bits, error text, absolute paths). Every call goes through
// the VFS and the driver; errors are negative errno values, as vfs:: returns
// them.
#ifndef CLI_GUEST_FS_H_
#define CLI_GUEST_FS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "vfs/stat.h"

namespace cli {

struct GuestDirEntry {
  std::string name;
  uint64_t ino = 0;
  uint8_t type = 0;  // d_type.
};

// The entries of directory `path`, "." and ".." left out, sorted by name.
int ListDirectory(const std::string& path, std::vector<GuestDirEntry>* out);
// The whole content of file `path`.
int ReadWholeFile(const std::string& path, std::string* out);
// Writes `data` to `path` (opened with `flags`, created with mode 0644).
int WriteWholeFile(const std::string& path, const std::string& data, int flags);
int ReadLinkTarget(const std::string& path, std::string* out);
// Removes `path` and, when it is a directory, everything in it.
int RemoveTree(const std::string& path);

// The strerror text of a negative errno ("File exists").
std::string ErrorText(int negative_errno);
// `path` made absolute against the current directory and normalized (".",
// "..", repeated slashes) without following symlinks, for messages.
std::string DisplayPath(const std::string& path);
// "drwxr-xr-x", as ls -l prints st_mode.
std::string ModeString(uint32_t mode);
// "regular file", "directory", "symbolic link", ...
std::string FileTypeName(uint32_t mode);
// "a/b" + "c" -> "a/b/c"; "/" + "c" -> "/c".
std::string JoinPath(const std::string& dir, const std::string& name);

}  // namespace cli

#endif  // CLI_GUEST_FS_H_
