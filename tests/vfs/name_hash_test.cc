// vfs::HashName: equal names hash alike, a name's every byte and the seed
// count, and the low bits (a table's bucket) spread names that differ only in
// their last characters.
#include "vfs/name_hash.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace vfs {
namespace {

TEST(NameHashTest, EqualNamesHashAlikeAndTheSeedCounts) {
  const std::string name = "a_rather_long_file_name.txt";
  EXPECT_EQ(HashName(name, 7), HashName(std::string(name), 7));
  EXPECT_NE(HashName(name, 7), HashName(name, 8));
  EXPECT_NE(HashName(""), HashName(std::string_view("\0", 1)));
}

// Every byte of names of 1 to 24 bytes (whole words, partial ones, both),
// each changed in turn, changes the hash; so does the length alone.
TEST(NameHashTest, EveryByteAndTheLengthCount) {
  for (size_t length = 1; length <= 24; ++length) {
    const std::string name(length, 'x');
    const uint64_t hash = HashName(name);
    EXPECT_NE(hash, HashName(name + '\0')) << length;
    for (size_t at = 0; at < length; ++at) {
      std::string changed = name;
      changed[at] = 'y';
      EXPECT_NE(hash, HashName(changed)) << length << " " << at;
    }
  }
}

// 10,000 numbered names in 16,384 buckets taken from the low bits: as a
// random spread would, most get a bucket of their own.
TEST(NameHashTest, LowBitsSpreadNumberedNames) {
  constexpr uint64_t kBuckets = 1 << 14;
  std::vector<int> counts(kBuckets);
  for (int i = 0; i < 10000; ++i) {
    ++counts[HashName("file_" + std::to_string(i), 42) & (kBuckets - 1)];
  }
  int used = 0, longest = 0;
  for (int count : counts) {
    used += count > 0;
    longest = std::max(longest, count);
  }
  // A uniform spread fills ~7,400 buckets, none with more than ~6.
  EXPECT_GT(used, 7000);
  EXPECT_LE(longest, 8);
}

}  // namespace
}  // namespace vfs
