#include "conformance/scenario.h"

#include <cstdarg>
#include <string_view>

#include "base/format.h"

namespace conformance {
namespace {

// Plain pointers, constant-initialised: registration may run before any other
// static constructor, in any order across files.
Scenario* first_scenario = nullptr;
Scenario* last_scenario = nullptr;
int scenario_count = 0;

}  // namespace

void Context::Fail(const char* file, int line, const char* format, ...) {
  char message[384];
  va_list args;
  va_start(args, format);
  base::FormatV(message, sizeof(message), format, args);
  va_end(args);
  ++failures_;
  reporter_.Failure(file, line, message);
}

PathText Context::Path(const char* format, ...) {
  PathText path;
  const char* root = environment_.root;
  size_t length = base::Format(path.text, sizeof(path.text), "%s", root);
  // No "//" when the root is "/".
  if (length == 0 || root[length - 1] != '/') {
    length += base::Format(path.text + length, sizeof(path.text) - length, "/");
  }
  if (length < sizeof(path.text)) {
    va_list args;
    va_start(args, format);
    length += base::FormatV(path.text + length, sizeof(path.text) - length,
                            format, args);
    va_end(args);
  }
  if (length >= sizeof(path.text)) {
    Fail(__FILE__, __LINE__, "path \"%s...\" does not fit in %zu bytes",
         path.text, sizeof(path.text));
  }
  return path;
}

void Context::ExpectHostFile(const char* relative_path, uint64_t size) {
  ExpectOnHost(HostExpectation::Kind::kFile, relative_path, size);
}

void Context::ExpectHostAbsent(const char* relative_path) {
  ExpectOnHost(HostExpectation::Kind::kAbsent, relative_path, 0);
}

void Context::ExpectOnHost(HostExpectation::Kind kind,
                           const char* relative_path, uint64_t size) {
  // Relative, and confined to the share: the runner refuses anything else.
  const std::string_view path(relative_path);
  bool confined = !path.empty() && path.front() != '/';
  for (size_t start = 0; confined && start <= path.size();) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view component = path.substr(start, end - start);
    if (component.empty() || component == "." || component == "..") {
      confined = false;
    }
    start = end + 1;
  }
  for (const char c : path) {
    if (c == ' ' || c == '\n' || c == '\r') confined = false;
  }
  if (!confined) {
    Fail(__FILE__, __LINE__,
         "host expectation for \"%s\": not a plain relative path",
         relative_path);
    return;
  }
  reporter_.ExpectOnHost(HostExpectation{kind, relative_path, size});
}

ScenarioRegistration::ScenarioRegistration(Scenario* scenario) {
  scenario->next = nullptr;
  if (last_scenario == nullptr) {
    first_scenario = scenario;
  } else {
    last_scenario->next = scenario;
  }
  last_scenario = scenario;
  ++scenario_count;
}

const Scenario* FirstScenario() { return first_scenario; }
int ScenarioCount() { return scenario_count; }

bool RunScenario(const Scenario& scenario, const Environment& environment,
                 Reporter& reporter) {
  Context ctx(environment, reporter);
  scenario.body(ctx);
  return !ctx.failed();
}

ValueText DescribeSigned(long long value) {
  ValueText out;
  base::Format(out.text, sizeof(out.text), "%lld", value);
  return out;
}

ValueText DescribeUnsigned(unsigned long long value) {
  ValueText out;
  base::Format(out.text, sizeof(out.text), "%llu (0x%llx)", value, value);
  return out;
}

ValueText DescribeString(std::string_view value) {
  // base::Format has no precision ("%.*s"): quote and truncate by hand.
  ValueText out;
  constexpr size_t kMaxShown =
      sizeof(out.text) - 6;  // Quotes, "...", terminator.
  const bool truncated = value.size() > kMaxShown;
  const size_t shown = truncated ? kMaxShown : value.size();
  size_t n = 0;
  out.text[n++] = '"';
  for (size_t i = 0; i < shown; ++i) out.text[n++] = value[i];
  out.text[n++] = '"';
  if (truncated) {
    for (int i = 0; i < 3; ++i) out.text[n++] = '.';
  }
  out.text[n] = '\0';
  return out;
}

ValueText DescribePointer(const void* value) {
  ValueText out;
  base::Format(out.text, sizeof(out.text), "%p", value);
  return out;
}

}  // namespace conformance
