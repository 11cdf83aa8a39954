// The reply checks and the dirent parser on their own.
#include "driver/fuse_reply.h"

#include <linux/fuse.h>

#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "driver/dirent_parser.h"
#include "gtest/gtest.h"
#include "tests/driver/scripted_fuse_device.h"

namespace driver_test {
namespace {

using driver::CheckDirents;
using driver::CheckReplyHeader;
using driver::DirentFormat;
using driver::DirentList;

fuse_out_header Header(uint32_t len, int32_t error, uint64_t unique) {
  fuse_out_header h{};
  h.len = len;
  h.error = error;
  h.unique = unique;
  return h;
}

TEST(CheckReplyHeaderTest, AcceptsWellFormedRepliesAndReportsPayload) {
  auto ok = CheckReplyHeader(40, 100, Header(40, 0, 8), 8);
  EXPECT_EQ(ok.malformed, nullptr);
  EXPECT_EQ(ok.error, 0);
  EXPECT_EQ(ok.payload_size, 24u);
  auto err = CheckReplyHeader(16, 100, Header(16, -ENOENT, 8), 8);
  EXPECT_EQ(err.malformed, nullptr);
  EXPECT_EQ(err.error, ENOENT);
  auto edge = CheckReplyHeader(16, 16, Header(16, -4095, 8), 8);
  EXPECT_EQ(edge.malformed, nullptr);
  EXPECT_EQ(edge.error, 4095);
}

TEST(CheckReplyHeaderTest, RefusesEachBrokenField) {
  EXPECT_NE(CheckReplyHeader(15, 100, Header(15, 0, 8), 8).malformed, nullptr);
  EXPECT_NE(CheckReplyHeader(120, 100, Header(120, 0, 8), 8).malformed,
            nullptr);
  EXPECT_NE(CheckReplyHeader(40, 100, Header(41, 0, 8), 8).malformed, nullptr);
  EXPECT_NE(CheckReplyHeader(40, 100, Header(40, 0, 9), 8).malformed, nullptr);
  EXPECT_NE(CheckReplyHeader(16, 100, Header(16, 1, 8), 8).malformed, nullptr);
  EXPECT_NE(CheckReplyHeader(16, 100, Header(16, -4096, 8), 8).malformed,
            nullptr);
  EXPECT_NE(CheckReplyHeader(16, 100, Header(16, INT_MIN, 8), 8).malformed,
            nullptr);
  EXPECT_NE(CheckReplyHeader(24, 100, Header(24, -EIO, 8), 8).malformed,
            nullptr);
  for (uint32_t used : {0u, 15u, 120u}) {
    EXPECT_EQ(CheckReplyHeader(used, 100, Header(used, 0, 8), 8).error, EIO);
  }
}

TEST(CheckPayloadSizeTest, FixedAndDataShapes) {
  using driver::CheckPayloadSize;
  using driver::ReplyShape;
  EXPECT_EQ(CheckPayloadSize(ReplyShape::kFixed, 16, 16, 16), nullptr);
  EXPECT_NE(CheckPayloadSize(ReplyShape::kFixed, 15, 16, 16), nullptr);
  EXPECT_NE(CheckPayloadSize(ReplyShape::kFixed, 17, 16, 16), nullptr);
  EXPECT_EQ(CheckPayloadSize(ReplyShape::kFixed, 30, 24, 64), nullptr);
  EXPECT_EQ(CheckPayloadSize(ReplyShape::kData, 0, 0, 100), nullptr);
  EXPECT_EQ(CheckPayloadSize(ReplyShape::kData, 100, 0, 100), nullptr);
  EXPECT_NE(CheckPayloadSize(ReplyShape::kData, 101, 0, 100), nullptr);
}

TEST(TimeoutNanosTest, ConvertsAndSaturates) {
  EXPECT_EQ(driver::TimeoutNanos(2, 5), 2'000'000'005u);
  EXPECT_EQ(driver::TimeoutNanos(0, 0), 0u);
  EXPECT_EQ(driver::TimeoutNanos(UINT64_MAX, 0), UINT64_MAX);
  EXPECT_EQ(driver::TimeoutNanos(0, 4'000'000'000u), 999'999'999u);
}

TEST(CheckAttrTest, FileTypeAndSize) {
  fuse_attr attr = RegularAttr(1, 10);
  EXPECT_EQ(driver::CheckAttr(attr), nullptr);
  attr.mode = 0170644;  // Not a file type.
  EXPECT_NE(driver::CheckAttr(attr), nullptr);
  attr = RegularAttr(1, uint64_t{1} << 63);
  EXPECT_NE(driver::CheckAttr(attr), nullptr);
}

TEST(CheckXattrListTest, NamesMustBeTerminatedAndNonEmpty) {
  EXPECT_EQ(driver::CheckXattrList("a\0bc\0", 5), nullptr);
  EXPECT_EQ(driver::CheckXattrList("", 0), nullptr);
  EXPECT_NE(driver::CheckXattrList("a\0bc", 4), nullptr);
  EXPECT_NE(driver::CheckXattrList("\0", 1), nullptr);
  EXPECT_NE(driver::CheckXattrList("a\0\0", 3), nullptr);
}

TEST(DirentParserTest, WalksValidRecordsFromAnUnalignedBuffer) {
  std::vector<uint8_t> records;
  AppendDirent(records, 10, 1, "a");
  AppendDirent(records, 11, 2, "bcdefghi");  // Exactly fills its padding.
  AppendDirent(records, 12, 3, std::string(255, 'z'));
  // Copy to an odd address: the parser must not assume alignment.
  std::vector<uint8_t> storage(records.size() + 1);
  std::memcpy(storage.data() + 1, records.data(), records.size());
  std::span<const uint8_t> bytes(storage.data() + 1, records.size());
  auto check = CheckDirents(bytes, DirentFormat::kPlain);
  ASSERT_EQ(check.malformed, nullptr);
  EXPECT_EQ(check.count, 3u);
  EXPECT_EQ(check.valid_bytes, bytes.size());
  EXPECT_EQ(check.last_offset, 3u);
  DirentList list(bytes, check.count, DirentFormat::kPlain);
  std::vector<driver::DirEntry> entries(list.begin(), list.end());
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].name, "a");
  EXPECT_EQ(entries[1].name, "bcdefghi");
  EXPECT_EQ(entries[2].name.size(), 255u);
  EXPECT_EQ(entries[2].ino, 12u);
  EXPECT_EQ(entries[2].next_offset, 3u);
  // READDIR records look nothing up.
  EXPECT_EQ(entries[2].nodeid, 0u);
  EXPECT_EQ(entries[2].entry().attr.mode, 0u);
}

TEST(DirentParserTest, ReportsTheValidPrefixBeforeABadRecord) {
  std::vector<uint8_t> records;
  AppendDirent(records, 10, 1, "good");
  const size_t good_size = records.size();
  AppendDirent(records, 11, 2, "bad/");
  auto check = CheckDirents(records, DirentFormat::kPlain);
  EXPECT_NE(check.malformed, nullptr);
  EXPECT_EQ(check.count, 1u);
  EXPECT_EQ(check.valid_bytes, good_size);
}

// Every name length up to 20 (past a word or two, should the check read words),
// with '/' or NUL at every place, and clean, in records whose header bytes
// hold both.
TEST(DirentParserTest, FindsASlashOrNulAnywhereInANameOfAnyLength) {
  for (size_t length = 1; length <= 20; ++length) {
    for (DirentFormat format : {DirentFormat::kPlain, DirentFormat::kPlus}) {
      const auto listing = [&](const std::string& name) {
        std::vector<uint8_t> records;
        // Header bytes of '/' and 0 below the name (ino, off, namelen).
        const uint64_t slashes = 0x2f2f2f2f2f2f2f2f;
        if (format == DirentFormat::kPlain) {
          AppendDirent(records, slashes, slashes, name);
        } else {
          fuse_entry_out entry{};
          entry.attr.ino = slashes;
          AppendDirentPlus(records, entry, slashes, name);
        }
        return CheckDirents(records, format);
      };
      const std::string clean(length, 'n');
      EXPECT_EQ(listing(clean).malformed, nullptr) << length;
      for (size_t at = 0; at < length; ++at) {
        for (char bad : {'/', '\0'}) {
          std::string name = clean;
          name[at] = bad;
          EXPECT_NE(listing(name).malformed, nullptr)
              << "length " << length << ", byte " << at << " = "
              << static_cast<int>(bad);
        }
      }
    }
  }
}

TEST(DirentParserTest, PlusRecordsCarryEntriesAndDotsHoldNoLookup) {
  std::vector<uint8_t> records;
  AppendDirentPlus(records, EntryOut(5, 040755), 1, "..", 4);
  AppendDirentPlus(records, EntryOut(6), 2, "f");
  auto check = CheckDirents(records, DirentFormat::kPlus);
  ASSERT_EQ(check.malformed, nullptr);
  DirentList list(records, check.count, DirentFormat::kPlus);
  std::vector<driver::DirEntry> entries(list.begin(), list.end());
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_FALSE(entries[0].HoldsLookup());
  EXPECT_TRUE(entries[1].HoldsLookup());
  EXPECT_EQ(entries[1].nodeid, 6u);
  EXPECT_EQ(entries[1].entry().attr_valid_ns, 2'000'000'000u);
  EXPECT_EQ(entries[1].entry().attr.mode, EntryOut(6).attr.mode);
  // The entry is read from the reply when asked for, with the node id the
  // record was seen with, whatever the buffer says since.
  const uint64_t other = 99;
  const size_t second = entries[1].plus_record - records.data();
  std::memcpy(records.data() + second + offsetof(fuse_entry_out, nodeid),
              &other, sizeof(other));
  EXPECT_EQ(entries[1].entry().generation, EntryOut(6).generation);
  EXPECT_EQ(entries[1].entry().nodeid, 6u);
  // A looked-up entry with a broken attribute block is refused.
  std::vector<uint8_t> bad;
  fuse_entry_out entry = EntryOut(7);
  entry.attr.mode = 0;
  AppendDirentPlus(bad, entry, 1, "x");
  EXPECT_NE(CheckDirents(bad, DirentFormat::kPlus).malformed, nullptr);
}

TEST(DirentParserTest,
     IteratorStaysInsideTheBufferEvenIfItChangesAfterValidation) {
  std::vector<uint8_t> records;
  AppendDirent(records, 10, 1, "a");
  AppendDirent(records, 11, 2, "b");
  auto check = CheckDirents(records, DirentFormat::kPlain);
  ASSERT_EQ(check.malformed, nullptr);
  // The device rewrites the first namelen after the check.
  uint32_t huge = 1 << 20;
  std::memcpy(records.data() + offsetof(fuse_dirent, namelen), &huge,
              sizeof(huge));
  DirentList list(records, check.count, DirentFormat::kPlain);
  size_t seen = 0;
  for (driver::DirEntry e : list) {
    EXPECT_LE(reinterpret_cast<const uint8_t*>(e.name.data()) + e.name.size(),
              records.data() + records.size());
    ++seen;
  }
  EXPECT_GE(seen, 1u);
}

}  // namespace
}  // namespace driver_test
