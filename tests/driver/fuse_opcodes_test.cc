#include "driver/fuse_opcodes.h"

#include <gtest/gtest.h>
#include <linux/fuse.h>

#include <cstring>
#include <set>

namespace {

using driver::FindFuseOpcode;
using driver::FuseLane;
using driver::FuseReply;
using driver::kFuseOpcodes;

TEST(FuseOpcodesTest, EveryOpcodeOnceInOrderAndFoundByNumber) {
  std::set<uint32_t> seen;
  uint32_t previous = 0;
  for (const driver::FuseOpcodeInfo& info : kFuseOpcodes) {
    EXPECT_GT(info.opcode, previous) << info.name;
    previous = info.opcode;
    EXPECT_TRUE(seen.insert(info.opcode).second) << info.name;
    EXPECT_EQ(FindFuseOpcode(info.opcode), &info) << info.name;
    EXPECT_LE(info.compat_in_size, info.in_size) << info.name;
  }
  // <linux/fuse.h> 7.38 numbers its opcodes 1..51 with gaps at 7, 19 and 45
  // (RENAME2 is 45 and present), plus CUSE_INIT.
  for (uint32_t op = 1; op <= FUSE_TMPFILE; ++op) {
    const bool gap = op == 7 || op == 19;
    EXPECT_EQ(FindFuseOpcode(op) == nullptr, gap) << op;
  }
  EXPECT_NE(FindFuseOpcode(CUSE_INIT), nullptr);
  EXPECT_EQ(FindFuseOpcode(0), nullptr);
  EXPECT_EQ(FindFuseOpcode(FUSE_TMPFILE + 1), nullptr);
  EXPECT_EQ(FindFuseOpcode(UINT32_MAX), nullptr);
}

TEST(FuseOpcodesTest, RowsSayWhatTheProtocolSays) {
  const auto& lookup = driver::kFuseOpcode<FUSE_LOOKUP>;
  EXPECT_STREQ(lookup.name, "LOOKUP");
  EXPECT_EQ(lookup.in_size, 0u);
  EXPECT_EQ(lookup.names, 1u);
  EXPECT_EQ(lookup.reply, FuseReply::kEntry);

  EXPECT_EQ(driver::kFuseOpcode<FUSE_RENAME2>.names, 2u);
  EXPECT_EQ(driver::kFuseOpcode<FUSE_SYMLINK>.names, 2u);
  EXPECT_EQ(driver::kFuseOpcode<FUSE_WRITE>.tail, driver::FuseTail::kWriteData);

  // The housekeeping requests travel on the high-priority queue, without a
  // caller's credentials, and get no reply.
  for (uint32_t op : {FUSE_FORGET, FUSE_BATCH_FORGET, FUSE_INTERRUPT}) {
    const auto* info = FindFuseOpcode(op);
    EXPECT_EQ(info->lane, FuseLane::kHighPriority) << info->name;
    EXPECT_FALSE(info->sends_credentials) << info->name;
    EXPECT_EQ(info->reply, FuseReply::kNone) << info->name;
  }
  EXPECT_FALSE(driver::kFuseOpcode<FUSE_INIT>.sends_credentials);
  EXPECT_TRUE(driver::kFuseOpcode<FUSE_MKDIR>.sends_credentials);

  // The compat forms of the protocol's grown structs.
  EXPECT_EQ(driver::kFuseOpcode<FUSE_SETXATTR>.compat_in_size,
            FUSE_COMPAT_SETXATTR_IN_SIZE);
  EXPECT_EQ(driver::kFuseOpcode<FUSE_INIT>.compat_in_size,
            offsetof(fuse_init_in, flags2));
  EXPECT_EQ(driver::kFuseOpcode<FUSE_INIT>.compat_out_size,
            FUSE_COMPAT_22_INIT_OUT_SIZE);
  EXPECT_EQ(driver::FuseReplyStructSize(FuseReply::kCreate),
            sizeof(fuse_entry_out) + sizeof(fuse_open_out));
  EXPECT_EQ(driver::MaxFuseInSize(), sizeof(fuse_setattr_in));
}

}  // namespace
