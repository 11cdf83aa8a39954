#include "tests/cli/vfsim_runner.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

extern char** environ;

namespace cli_test {
namespace {

std::string TempRoot() {
  const char* tmp = getenv("TEST_TMPDIR");
  return tmp != nullptr ? tmp : "/tmp";
}

std::atomic<int> counter{0};

}  // namespace

std::string VfsimPath() {
  const char* srcdir = getenv("TEST_SRCDIR");
  const char* workspace = getenv("TEST_WORKSPACE");
  std::string root = srcdir != nullptr ? srcdir : ".";
  return root + "/" + (workspace != nullptr ? workspace : "virtiofs_sim") +
         "/cli/vfsim";
}

std::string MakeTempDir() {
  std::string pattern = TempRoot() + "/vfsim-test-XXXXXX";
  EXPECT_NE(mkdtemp(pattern.data()), nullptr) << strerror(errno);
  return pattern;
}

void WriteHostFile(const std::string& path, const std::string& content) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << content;
  ASSERT_TRUE(file.good()) << path;
}

std::string ReadHostFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

std::vector<std::string> ListHostDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return names;
  while (struct dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

RunResult RunVfsim(const std::vector<std::string>& args,
                   const std::string& input,
                   const std::map<std::string, std::string>& env) {
  std::string base = TempRoot() + "/run-" + std::to_string(getpid()) + "-" +
                     std::to_string(counter.fetch_add(1));
  std::string in_path = base + ".in", out_path = base + ".out",
              err_path = base + ".err";
  WriteHostFile(in_path, input);
  std::string binary = VfsimPath();
  std::vector<char*> argv;
  argv.push_back(binary.data());
  std::vector<std::string> copies = args;
  for (std::string& arg : copies) argv.push_back(arg.data());
  argv.push_back(nullptr);

  pid_t child = fork();
  if (child == 0) {
    for (const auto& [key, value] : env) setenv(key.c_str(), value.c_str(), 1);
    int in = open(in_path.c_str(), O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  RunResult result;
  int wait_status = 0;
  if (child < 0 || waitpid(child, &wait_status, 0) != child) return result;
  if (WIFEXITED(wait_status)) {
    result.status = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    result.status = 128 + WTERMSIG(wait_status);
  }
  result.out = ReadHostFile(out_path);
  result.err = ReadHostFile(err_path);
  unlink(in_path.c_str());
  unlink(out_path.c_str());
  unlink(err_path.c_str());
  return result;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream stream(text);
  std::string line;
  while (std::getline(stream, line)) lines.push_back(line);
  return lines;
}

bool ParseFlatJsonObject(const std::string& text,
                         std::map<std::string, std::string>* fields) {
  fields->clear();
  size_t i = 0;
  auto skip = [&] {
    while (i < text.size() && isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  auto string = [&](std::string* out) {
    if (i >= text.size() || text[i] != '"') return false;
    ++i;
    out->clear();
    while (i < text.size() && text[i] != '"') {
      if (text[i] == '\\') {
        if (++i >= text.size()) return false;
        if (text[i] == 'u') {
          if (i + 4 >= text.size()) return false;
          *out +=
              static_cast<char>(std::stoi(text.substr(i + 1, 4), nullptr, 16));
          i += 5;
          continue;
        }
        if (strchr("\"\\/bfnrt", text[i]) == nullptr) return false;
      } else if (static_cast<unsigned char>(text[i]) < 0x20) {
        return false;
      }
      *out += text[i++];
    }
    if (i >= text.size()) return false;
    ++i;
    return true;
  };
  skip();
  if (i >= text.size() || text[i++] != '{') return false;
  skip();
  if (i < text.size() && text[i] == '}') return ++i, skip(), i == text.size();
  for (;;) {
    std::string key, value;
    skip();
    if (!string(&key)) return false;
    skip();
    if (i >= text.size() || text[i++] != ':') return false;
    skip();
    if (i < text.size() && text[i] == '"') {
      if (!string(&value)) return false;
    } else {
      size_t start = i;
      while (i < text.size() && text[i] != ',' && text[i] != '}' &&
             !isspace(static_cast<unsigned char>(text[i]))) {
        ++i;
      }
      value = text.substr(start, i - start);
      bool number =
          !value.empty() &&
          value.find_first_not_of("-+.eE0123456789") == std::string::npos;
      if (!number && value != "true" && value != "false" && value != "null")
        return false;
    }
    if (fields->count(key)) return false;
    (*fields)[key] = value;
    skip();
    if (i >= text.size()) return false;
    if (text[i] == ',') {
      ++i;
      continue;
    }
    if (text[i++] != '}') return false;
    skip();
    return i == text.size();
  }
}

}  // namespace cli_test
