#include "base/result.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace {

// No default constructor; counts live objects so that leaks and double
// destruction show.
class Tracked {
 public:
  explicit Tracked(std::string name) : name_(std::move(name)) { ++live; }
  Tracked(const Tracked& other) : name_(other.name_) { ++live; }
  Tracked(Tracked&& other) : name_(std::move(other.name_)) { ++live; }
  Tracked& operator=(const Tracked&) = default;
  ~Tracked() { --live; }
  const std::string& name() const { return name_; }

  static int live;

 private:
  std::string name_;
};
int Tracked::live = 0;

base::Result<Tracked> Make(bool ok) {
  if (!ok) return base::Error{ENOENT};
  return Tracked("made");
}

base::Result<std::string> Forward(bool ok) {
  Tracked t = TRY(Make(ok));
  return t.name() + "!";
}

TEST(ResultTest, HoldsATypeWithoutDefaultConstructor) {
  {
    base::Result<Tracked> value = Make(true);
    ASSERT_TRUE(value.ok());
    EXPECT_EQ(value.value().name(), "made");
    EXPECT_EQ(Tracked::live, 1);
    base::Result<Tracked> error = Make(false);
    EXPECT_FALSE(error.ok());
    EXPECT_EQ(error.error(), ENOENT);
    EXPECT_EQ(error.negated_error(), -ENOENT);
    EXPECT_EQ(Tracked::live, 1);  // An error holds no value.
  }
  EXPECT_EQ(Tracked::live, 0);
}

TEST(ResultTest, CopiesMovesAndAssignsAcrossValueAndError) {
  {
    base::Result<Tracked> a = Make(true);
    base::Result<Tracked> b = a;
    EXPECT_EQ(Tracked::live, 2);
    b = Make(false);
    EXPECT_EQ(Tracked::live, 1);
    EXPECT_EQ(b.error(), ENOENT);
    b = std::move(a);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b.value().name(), "made");
    a = base::Error{EIO};
    EXPECT_EQ(a.error(), EIO);
  }
  EXPECT_EQ(Tracked::live, 0);
}

TEST(ResultTest, TryReturnsTheErrorOrYieldsTheValue) {
  EXPECT_EQ(Forward(true).value(), "made!");
  EXPECT_EQ(Forward(false).error(), ENOENT);
  EXPECT_EQ(Tracked::live, 0);
}

TEST(ResultTest, ZeroOrNegativeErrorBecomesEio) {
  base::Result<int> zero = base::Error{0};
  base::Result<void> negative = base::Error{-5};
  EXPECT_EQ(zero.error(), EIO);
  EXPECT_EQ(negative.error(), EIO);
  EXPECT_EQ(base::FromNegatedErrno(-EACCES).error(), EACCES);
  EXPECT_TRUE(base::FromNegatedErrno(3).ok());
}

}  // namespace
