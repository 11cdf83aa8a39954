#include <thread>

#include "gtest/gtest.h"

namespace {

TEST(SingleThreadedGuardTest, ATestDeclaredSingleThreadedDiesOnItsFirstThread) {
  EXPECT_DEATH(std::thread([] {}).join(),
               "declared single-threaded .* but starts a thread");
}

}  // namespace
