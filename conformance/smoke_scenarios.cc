// Scenarios that need no file system: they prove the scenario layer and its two
// harnesses (GoogleTest, the boot image) on kernel code that behaves the same
// everywhere, the formatter and the error plumbing the file-system scenarios
// rely on to report.
#include <string_view>

#include "base/format.h"
#include "base/result.h"
#include "conformance/scenario.h"

namespace conformance {
namespace {

base::Result<int> Half(int value) {
  if (value % 2 != 0) return base::Error{EINVAL};
  return value / 2;
}

base::Result<int> Quarter(int value) {
  const int half = TRY(Half(value));
  return TRY(Half(half));
}

SCENARIO(format_renders_numbers_and_strings) {
  char buffer[64];
  const size_t length =
      base::Format(buffer, sizeof(buffer), "%s=%d/%x/%05u/%lld", "n", -42,
                   0xbeefu, 7u, -9000000000LL);
  CHECK_EQ(std::string_view(buffer),
           std::string_view("n=-42/beef/00007/-9000000000"));
  CHECK_EQ(length, std::string_view(buffer).size());
  // Truncation keeps the terminator and still reports the full length.
  char small[4];
  CHECK_EQ(base::Format(small, sizeof(small), "%d", 123456), size_t{6});
  CHECK_EQ(std::string_view(small), std::string_view("123"));
}

SCENARIO(result_carries_errno_through_try) {
  CHECK_OK(Quarter(8));
  CHECK_EQ(Quarter(8).value(), 2);
  CHECK_ERRNO(Quarter(6), EINVAL);  // 6 / 2 = 3 is odd: the second Half fails.
  CHECK_ERRNO(Quarter(5), EINVAL);
  CHECK_ERRNO(base::FromNegatedErrno(-ENOENT), ENOENT);
  CHECK_OK(base::FromNegatedErrno(0));
  CHECK_ERRNO(-EEXIST, EEXIST);  // A system-call style return.
  CHECK_OK(3);
}

}  // namespace
}  // namespace conformance
