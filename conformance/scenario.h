// Conformance scenarios: written once, run both in the hosted GoogleTest suite
// (against the simulated device) and in the boot image (against QEMU's
// virtio-fs device).
//
//   SCENARIO(write_then_read_back) {
//     const int fd = vfs::open(ctx.Path("a"), O_CREAT | O_RDWR, 0644);
//     CHECK_OK(fd);
//     CHECK_EQ(vfs::write(fd, "hi", 2), 2);
//     CHECK_OK(vfs::close(fd));
//     ctx.ExpectHostFile("a", 2);  // Or unlink it: scenarios leave nothing
//   }                              // they do not declare.
//
// SCENARIO registers the scenario in a process-wide list at static
// initialisation (the image runs .init_array, so the same works there). A CHECK
// that fails reports "file:line expression (values)" to the harness and ends
// the scenario: the body returns. The harness decides what a failure means: the
// image prints "FAIL name: file:line ..." on the serial port, GoogleTest
// records a test failure.
//
// Kernel code: no exceptions, no libc, no allocation in the macro layer itself.
#ifndef CONFORMANCE_SCENARIO_H_
#define CONFORMANCE_SCENARIO_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "base/result.h"

namespace conformance {

// What scenarios run against; each harness fills it in.
struct Environment {
  // Where scenarios create their files: the root directory of a mount of the
  // device under test (the share's root: host expectations are relative to
  // it).
  const char* root = "/";
};

// What a scenario declares it leaves on the host, in the shared directory
// below the device: `path` is relative to the share's root (no leading '/', no
// ".." component). The image prints it for the runner ("HOST-EXPECT file PATH
// SIZE", "HOST-EXPECT absent PATH"); the hosted harness checks the share
// directory itself after the scenario. Either way any other change the
// scenario makes to the share fails the run.
struct HostExpectation {
  enum class Kind { kFile, kAbsent };
  Kind kind;
  const char* path;
  uint64_t size;  // kFile: the file's size in bytes.
};

// Receives a scenario's failed checks and host expectations.
class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual void Failure(const char* file, int line, const char* message) = 0;
  virtual void ExpectOnHost(const HostExpectation& expectation) = 0;
};

// A path below Environment::root, built by Context::Path.
struct PathText {
  char text[320];
  const char* c_str() const { return text; }
  operator const char*() const { return text; }  // NOLINT: for vfs:: calls.
};

// The `ctx` a scenario body sees.
class Context {
 public:
  Context(const Environment& environment, Reporter& reporter)
      : environment_(environment), reporter_(reporter) {}

  const Environment& environment() const { return environment_; }
  bool failed() const { return failures_ > 0; }
  int failures() const { return failures_; }

  [[gnu::format(printf, 4, 5)]] void Fail(const char* file, int line,
                                          const char* format, ...);

  // environment().root + "/" + the formatted relative path. A path that does
  // not fit fails the scenario (and comes back truncated).
  [[gnu::format(printf, 2, 3)]] PathText Path(const char* format, ...);

  // Declares what this scenario leaves on the host (see HostExpectation):
  // a regular file of `size` bytes at `relative_path`, or nothing there.
  void ExpectHostFile(const char* relative_path, uint64_t size);
  void ExpectHostAbsent(const char* relative_path);

 private:
  void ExpectOnHost(HostExpectation::Kind kind, const char* relative_path,
                    uint64_t size);

  const Environment& environment_;
  Reporter& reporter_;
  int failures_ = 0;
};

using ScenarioBody = void (*)(Context& ctx);

struct Scenario {
  const char* name;
  ScenarioBody body;
  const char* file;
  int line;
  Scenario* next;
};

// Appends `scenario` to the list; SCENARIO's static object calls it.
class ScenarioRegistration {
 public:
  explicit ScenarioRegistration(Scenario* scenario);
};

// The registered scenarios, in registration order.
const Scenario* FirstScenario();
int ScenarioCount();

// Runs one scenario; true when no check failed.
bool RunScenario(const Scenario& scenario, const Environment& environment,
                 Reporter& reporter);

// ---- How CHECK_EQ prints a value: integers, booleans, strings, pointers. ----
struct ValueText {
  char text[72];
};

ValueText DescribeSigned(long long value);
ValueText DescribeUnsigned(unsigned long long value);
ValueText DescribeString(std::string_view value);
ValueText DescribePointer(const void* value);

template <typename T>
ValueText Describe(const T& value) {
  using U = std::remove_cvref_t<T>;
  if constexpr (std::is_same_v<U, bool>) {
    return DescribeString(value ? "true" : "false");
  } else if constexpr (std::is_enum_v<U>) {
    return DescribeSigned(static_cast<long long>(value));
  } else if constexpr (std::is_integral_v<U> && std::is_signed_v<U>) {
    return DescribeSigned(value);
  } else if constexpr (std::is_integral_v<U>) {
    return DescribeUnsigned(value);
  } else if constexpr (std::is_convertible_v<const U&, std::string_view>) {
    return DescribeString(std::string_view(value));
  } else if constexpr (std::is_pointer_v<U>) {
    return DescribePointer(value);
  } else {
    return DescribeString("<value>");
  }
}

// The positive errno a call reported, 0 for success: a base::Result's error,
// or a system-call style int (negative errno on failure, anything >= 0 on
// success).
template <typename T>
int ErrorOf(const base::Result<T>& result) {
  return result.error();
}
inline int ErrorOf(long long syscall_return) {
  return syscall_return < 0 ? static_cast<int>(-syscall_return) : 0;
}

}  // namespace conformance

#define CONFORMANCE_CONCAT_(a, b) a##b
#define CONFORMANCE_CONCAT(a, b) CONFORMANCE_CONCAT_(a, b)

// Defines and registers a scenario. `name` must be a C identifier, unique
// program-wide.
#define SCENARIO(name)                                                      \
  static void CONFORMANCE_CONCAT(ConformanceScenarioBody_,                  \
                                 name)(::conformance::Context & ctx);       \
  static ::conformance::Scenario CONFORMANCE_CONCAT(conformance_scenario_,  \
                                                    name){                  \
      #name, &CONFORMANCE_CONCAT(ConformanceScenarioBody_, name), __FILE__, \
      __LINE__, nullptr};                                                   \
  static ::conformance::ScenarioRegistration CONFORMANCE_CONCAT(            \
      conformance_registration_,                                            \
      name){&CONFORMANCE_CONCAT(conformance_scenario_, name)};              \
  static void CONFORMANCE_CONCAT(ConformanceScenarioBody_, name)(           \
      [[maybe_unused]] ::conformance::Context & ctx)

// The checks. Each evaluates its arguments once; on failure it reports and
// returns from the enclosing function (the scenario body, or a void helper
// taking `ctx`). CHECK_EQ holds copies of both values: `Open(...).value()`
// returns a reference into a temporary that dies with the full expression.
// Compare strings as std::string_view (two `const char*` compare as pointers).
#define CHECK_TRUE(condition)                                     \
  do {                                                            \
    if (!(condition)) {                                           \
      ctx.Fail(__FILE__, __LINE__, "CHECK_TRUE(%s)", #condition); \
      return;                                                     \
    }                                                             \
  } while (0)

#define CHECK_EQ(actual, expected)                                           \
  do {                                                                       \
    const auto conformance_actual_ = (actual);                               \
    const auto conformance_expected_ = (expected);                           \
    if (!(conformance_actual_ == conformance_expected_)) {                   \
      ctx.Fail(__FILE__, __LINE__, "CHECK_EQ(%s, %s): %s != %s", #actual,    \
               #expected, ::conformance::Describe(conformance_actual_).text, \
               ::conformance::Describe(conformance_expected_).text);         \
      return;                                                                \
    }                                                                        \
  } while (0)

// `call` succeeded: a base::Result that is ok, or a system-call style int >=
// 0.
#define CHECK_OK(call)                                              \
  do {                                                              \
    const int conformance_error_ = ::conformance::ErrorOf(call);    \
    if (conformance_error_ != 0) {                                  \
      ctx.Fail(__FILE__, __LINE__, "CHECK_OK(%s): error %d", #call, \
               conformance_error_);                                 \
      return;                                                       \
    }                                                               \
  } while (0)

// `call` failed with exactly the positive errno `code` (ENOENT, EEXIST ...).
#define CHECK_ERRNO(call, code)                                            \
  do {                                                                     \
    const int conformance_error_ = ::conformance::ErrorOf(call);           \
    if (conformance_error_ != (code)) {                                    \
      ctx.Fail(__FILE__, __LINE__,                                         \
               "CHECK_ERRNO(%s, %s): error %d, expected %d", #call, #code, \
               conformance_error_, static_cast<int>(code));                \
      return;                                                              \
    }                                                                      \
  } while (0)

#endif  // CONFORMANCE_SCENARIO_H_
