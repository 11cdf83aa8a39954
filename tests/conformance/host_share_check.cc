#include "tests/conformance/host_share_check.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>
#include <sstream>
#include <system_error>

#include "conformance/host_share.h"

namespace conformance_test {
namespace {

namespace fs = std::filesystem;

bool WriteHostFile(const fs::path& path, const char* content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  return static_cast<bool>(out);
}

std::string Describe(const fs::path& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return "unreadable";
  std::ostringstream out;
  out << std::oct << (st.st_mode & 07777) << std::dec << ' ';
  if (S_ISDIR(st.st_mode)) {
    out << "directory";
  } else if (S_ISLNK(st.st_mode)) {
    std::error_code error;
    out << "symlink -> " << fs::read_symlink(path, error).string();
  } else if (S_ISREG(st.st_mode)) {
    std::ifstream in(path, std::ios::binary);
    const std::string content((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
    out << "file of " << st.st_size << " bytes, content hash "
        << std::hash<std::string>()(content);
  } else {
    out << "type " << std::oct << (st.st_mode & S_IFMT);
  }
  return out.str();
}

// `path` is `declared` or lies below it.
bool Covers(const std::string& declared, const std::string& path) {
  return path == declared || (path.size() > declared.size() &&
                              path.compare(0, declared.size(), declared) == 0 &&
                              path[declared.size()] == '/');
}

}  // namespace

SeededShare::SeededShare() {
  const char* base = getenv("TEST_TMPDIR");
  std::string templ =
      std::string(base ? base : "/tmp") + "/conformance_share.XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) return;
  const fs::path share(templ);
  std::error_code error;
  fs::permissions(share, fs::perms(0755), error);
  fs::create_directory(share / conformance::kSeedDirectory, error);
  if (error ||
      !WriteHostFile(share / conformance::kSeedReadPath,
                     conformance::kSeedReadContent) ||
      !WriteHostFile(share / conformance::kSeedRemovePath,
                     conformance::kSeedRemoveContent)) {
    fs::remove_all(share, error);
    return;
  }
  path_ = templ;
}

SeededShare::~SeededShare() {
  if (path_.empty()) return;
  std::error_code error;
  fs::remove_all(path_, error);
}

Manifest TakeManifest(const std::string& directory) {
  Manifest manifest;
  std::error_code error;
  for (fs::recursive_directory_iterator it(directory, error), end;
       !error && it != end; it.increment(error)) {
    const std::string relative =
        fs::path(it->path()).lexically_relative(directory).string();
    manifest[relative] = Describe(it->path());
  }
  return manifest;
}

std::vector<std::string> CheckShare(
    const std::string& share, const Manifest& before,
    const std::vector<DeclaredExpectation>& expectations) {
  std::vector<std::string> problems;
  for (const DeclaredExpectation& expected : expectations) {
    const std::string where = share + "/" + expected.path;
    struct stat st;
    const bool exists = ::lstat(where.c_str(), &st) == 0;
    if (expected.kind == conformance::HostExpectation::Kind::kAbsent) {
      if (exists)
        problems.push_back(expected.path + ": exists, expected absent");
      continue;
    }
    if (!exists) {
      problems.push_back(expected.path + ": missing, expected a file of " +
                         std::to_string(expected.size) + " bytes");
    } else if (!S_ISREG(st.st_mode) ||
               static_cast<uint64_t>(st.st_size) != expected.size) {
      problems.push_back(expected.path + ": " + Describe(where) +
                         ", expected a file of " +
                         std::to_string(expected.size) + " bytes");
    }
  }

  auto declared = [&](const std::string& path) {
    for (const DeclaredExpectation& expected : expectations) {
      if (Covers(expected.path, path)) return true;
    }
    return false;
  };
  const Manifest after = TakeManifest(share);
  std::set<std::string> paths;
  for (const auto& [path, state] : before) paths.insert(path);
  for (const auto& [path, state] : after) paths.insert(path);
  for (const std::string& path : paths) {
    if (declared(path)) continue;
    const auto was = before.find(path);
    const auto is = after.find(path);
    if (was == before.end()) {
      problems.push_back(path + ": left behind (" + is->second +
                         "), not declared");
    } else if (is == after.end()) {
      problems.push_back(path + ": removed (was " + was->second +
                         "), not declared");
    } else if (was->second != is->second) {
      problems.push_back(path + ": changed from " + was->second + " to " +
                         is->second + ", not declared");
    }
  }
  return problems;
}

}  // namespace conformance_test
