// Hostile FUSE requests sent to the virtio-fs device through a real virtqueue:
// the driver's transport carries bytes built by hand, so the device sees
// exactly what a buggy or malicious guest would put in a descriptor chain. Each
// request must get an errno reply (or no reply for a headerless one), the
// device must stay usable, break no virtio rule, and leave everything outside
// the share untouched.
#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "driver/fuse_channel.h"
#include "gtest/gtest.h"
#include "sim/machine.h"
#include "tests/sim/fuse_test_util.h"

namespace sim {
namespace {

using testing::Bytes;
using testing::TempShare;

class VirtqueueHostileTest
    : public ::testing::TestWithParam<base::TransportKind> {
 protected:
  void SetUp() override {
    share_.WriteFile("file.txt", "inside");
    ASSERT_EQ(::symlink("../outside", share_.SharePath("escape").c_str()), 0);
    outside_before_ = share_.SnapshotOutside();
    auto machine =
        Machine::Create({.share_dir = share_.share(), .transport = GetParam()});
    ASSERT_TRUE(machine.ok()) << machine.status();
    machine_ = std::move(*machine);
  }

  void TearDown() override {
    if (machine_) {
      EXPECT_TRUE(machine_->device().violations().empty());
      // Still usable: a well-formed request after all the bad ones.
      auto entry = machine_->client().Lookup(FUSE_ROOT_ID, "file.txt");
      EXPECT_TRUE(entry.ok()) << entry.error();
    }
    machine_.reset();
    EXPECT_EQ(share_.SnapshotOutside(), outside_before_);
  }

  // Sends `request` as is through the request queue (its first bytes in the
  // message's head, the rest as payload); returns what the device wrote.
  std::vector<uint8_t> Send(std::vector<uint8_t> request,
                            size_t reply_capacity = 4096) {
    driver::VirtioFs& channel = machine_->virtio_fs();
    driver::FuseMessage message;
    EXPECT_TRUE(channel.Begin(driver::FuseLane::kRequest, message).ok());
    const size_t head = std::min(request.size(), message.request_head.size());
    std::memcpy(message.request_head.data(), request.data(), head);
    driver::ConstBuffer rest{request.data() + head, request.size() - head};
    std::vector<uint8_t> reply(reply_capacity);
    driver::MutableBuffer out{reply.data(), reply.size()};
    auto used = channel.Exchange(message, head, {&rest, rest.size ? 1u : 0u}, 0,
                                 {&out, reply_capacity ? 1u : 0u});
    channel.End(message);
    EXPECT_TRUE(used.ok()) << used.error();
    reply.resize(used.ok() ? used.value() : 0);
    return reply;
  }

  // A request with a correct header around `args`.
  std::vector<uint8_t> Build(uint32_t opcode, uint64_t nodeid,
                             const Bytes& args) {
    fuse_in_header header{};
    header.len = sizeof(header) + args.data().size();
    header.opcode = opcode;
    header.unique = next_unique_ += 2;
    header.nodeid = nodeid;
    std::vector<uint8_t> bytes(sizeof(header));
    std::memcpy(bytes.data(), &header, sizeof(header));
    bytes.insert(bytes.end(), args.data().begin(), args.data().end());
    return bytes;
  }

  // The errno of a reply (positive), checking the header matches the request.
  int ErrorOf(const std::vector<uint8_t>& request,
              const std::vector<uint8_t>& reply) {
    if (reply.size() < sizeof(fuse_out_header)) return -1;
    fuse_out_header out;
    std::memcpy(&out, reply.data(), sizeof(out));
    fuse_in_header in;
    std::memcpy(&in, request.data(), sizeof(in));
    EXPECT_EQ(out.unique, in.unique);
    EXPECT_EQ(out.len, reply.size());
    return -out.error;
  }

  int Call(uint32_t opcode, uint64_t nodeid, const Bytes& args) {
    std::vector<uint8_t> request = Build(opcode, nodeid, args);
    return ErrorOf(request, Send(request));
  }

  TempShare share_;
  std::string outside_before_;
  std::unique_ptr<Machine> machine_;
  uint64_t next_unique_ = 1000;
};

TEST_P(VirtqueueHostileTest, NamesThatAreNotOneComponentAreRefused) {
  EXPECT_EQ(Call(FUSE_LOOKUP, FUSE_ROOT_ID, Bytes().Name("../outside")),
            EINVAL);
  EXPECT_EQ(Call(FUSE_LOOKUP, FUSE_ROOT_ID, Bytes().Name("")), EINVAL);
  fuse_mkdir_in mkdir_in{.mode = 0755, .umask = 0};
  EXPECT_EQ(Call(FUSE_MKDIR, FUSE_ROOT_ID,
                 Bytes().Add(mkdir_in).Name("../outside/new")),
            EINVAL);
  EXPECT_EQ(Call(FUSE_MKDIR, FUSE_ROOT_ID, Bytes().Add(mkdir_in).Name("..")),
            EINVAL);
  EXPECT_EQ(Call(FUSE_UNLINK, FUSE_ROOT_ID, Bytes().Name("../outside/canary")),
            EINVAL);
}

TEST_P(VirtqueueHostileTest, DotDotOfTheShareRootStaysInside) {
  std::vector<uint8_t> request =
      Build(FUSE_LOOKUP, FUSE_ROOT_ID, Bytes().Name(".."));
  std::vector<uint8_t> reply = Send(request);
  int error = ErrorOf(request, reply);
  if (error == 0) {
    ASSERT_GE(reply.size(), sizeof(fuse_out_header) + sizeof(fuse_entry_out));
    fuse_entry_out entry;
    std::memcpy(&entry, reply.data() + sizeof(fuse_out_header), sizeof(entry));
    struct stat root;
    ASSERT_EQ(::stat(share_.share().c_str(), &root), 0);
    EXPECT_EQ(entry.attr.ino, root.st_ino);  // The share root, not its parent.
  } else {
    EXPECT_EQ(error, EACCES);
  }
}

TEST_P(VirtqueueHostileTest, ForgedStaleAndZeroNodeIdsAreRefused) {
  EXPECT_EQ(Call(FUSE_GETATTR, 0, Bytes().Add(fuse_getattr_in{})), EINVAL);
  int forged = Call(FUSE_GETATTR, 0x7fff'ffff'0000'1234ull,
                    Bytes().Add(fuse_getattr_in{}));
  EXPECT_TRUE(forged == EINVAL || forged == ESTALE) << forged;
  auto entry = machine_->client().Lookup(FUSE_ROOT_ID, "file.txt");
  ASSERT_TRUE(entry.ok());
  ASSERT_TRUE(machine_->client().Forget(entry.value().nodeid, 1).ok());
  EXPECT_EQ(
      Call(FUSE_GETATTR, entry.value().nodeid, Bytes().Add(fuse_getattr_in{})),
      ESTALE);
}

TEST_P(VirtqueueHostileTest, LengthsThatLieAreRefused) {
  // in.len claims more than the chain carries.
  std::vector<uint8_t> longer =
      Build(FUSE_LOOKUP, FUSE_ROOT_ID, Bytes().Name("file.txt"));
  reinterpret_cast<fuse_in_header*>(longer.data())->len += 4096;
  EXPECT_EQ(ErrorOf(longer, Send(longer)), EINVAL);
  // A WRITE whose size runs past its payload.
  auto file = machine_->client().Lookup(FUSE_ROOT_ID, "file.txt");
  ASSERT_TRUE(file.ok());
  auto handle = machine_->client().Open(file.value().nodeid, O_RDWR);
  ASSERT_TRUE(handle.ok());
  fuse_write_in write_in{};
  write_in.fh = handle.value().fh;
  write_in.size = 1 << 20;
  EXPECT_EQ(Call(FUSE_WRITE, file.value().nodeid,
                 Bytes().Add(write_in).Raw("only a few")),
            EINVAL);
  // A reply buffer too small for what was asked.
  fuse_read_in read_in{};
  read_in.fh = handle.value().fh;
  read_in.size = 4096;
  std::vector<uint8_t> read =
      Build(FUSE_READ, file.value().nodeid, Bytes().Add(read_in));
  std::vector<uint8_t> reply = Send(read, sizeof(fuse_out_header) + 2);
  EXPECT_EQ(ErrorOf(read, reply), ERANGE);
  ASSERT_TRUE(
      machine_->client().Release(file.value().nodeid, handle.value().fh).ok());
  EXPECT_EQ(::access((share_.share() + "/file.txt").c_str(), F_OK), 0);
}

TEST_P(VirtqueueHostileTest, TruncatedHeadersAndUnknownOpcodes) {
  std::vector<uint8_t> stub(20, 0xAB);
  EXPECT_TRUE(Send(stub).empty());  // No header to answer: used length 0.
  EXPECT_EQ(Call(9999, FUSE_ROOT_ID, Bytes()), ENOSYS);
}

TEST_P(VirtqueueHostileTest, SymlinksOutOfTheShareAreNeverFollowed) {
  auto link = machine_->client().Lookup(FUSE_ROOT_ID, "escape");
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link.value().attr.mode & S_IFMT, S_IFLNK);
  // Neither looked through, created through, nor opened.
  EXPECT_EQ(Call(FUSE_LOOKUP, link.value().nodeid, Bytes().Name("canary")),
            ENOTDIR);
  fuse_create_in create_in{.flags = O_RDWR, .mode = 0644};
  EXPECT_EQ(Call(FUSE_CREATE, link.value().nodeid,
                 Bytes().Add(create_in).Name("planted")),
            ENOTDIR);
  fuse_open_in open_in{.flags = O_RDONLY};
  int opened = Call(FUSE_OPEN, link.value().nodeid, Bytes().Add(open_in));
  EXPECT_TRUE(opened == ELOOP || opened == EINVAL || opened == EPERM) << opened;
  struct stat st;
  EXPECT_NE(::lstat((share_.outside() + "/planted").c_str(), &st), 0);
}

INSTANTIATE_TEST_SUITE_P(Transports, VirtqueueHostileTest,
                         ::testing::Values(base::TransportKind::kPci,
                                           base::TransportKind::kMmio),
                         [](const auto& info) {
                           return info.param == base::TransportKind::kPci
                                      ? "Pci"
                                      : "Mmio";
                         });

}  // namespace
}  // namespace sim
