// Hostile requests through the raw endpoint: each gets an errno (or nothing,
// when not even a header arrived), the session survives, and nothing outside
// the share is read, written or created.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "sim/raw_fuse_endpoint.h"
#include "tests/sim/fuse_test_util.h"

namespace sim {
namespace {

using testing::Bytes;
using testing::RawFuseClient;
using testing::Reply;
using testing::TempShare;

constexpr uint64_t kRoot = FUSE_ROOT_ID;

class FuseServerHostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    share_.WriteFile("file", "inside");
    ASSERT_EQ(mkdir(share_.SharePath("dir").c_str(), 0755), 0);
    // Symlinks leading out of the share, relative and absolute.
    ASSERT_EQ(symlink("../outside/secret", share_.SharePath("evil").c_str()),
              0);
    ASSERT_EQ(symlink((share_.outside() + "/dir").c_str(),
                      share_.SharePath("evil_dir").c_str()),
              0);
    ASSERT_EQ(symlink("..", share_.SharePath("up").c_str()), 0);
    PassthroughOptions options;
    options.share_dir = share_.share();
    auto endpoint = RawFuseEndpoint::Create(options);
    ASSERT_TRUE(endpoint.ok()) << endpoint.status();
    endpoint_ = *std::move(endpoint);
    client_ = std::make_unique<RawFuseClient>(*endpoint_);
    ASSERT_EQ(client_->Init().error(), 0);
    outside_before_ = share_.SnapshotOutside();
  }

  void TearDown() override {
    // The session still answers, and nothing outside the share changed.
    EXPECT_EQ(client_->Getattr(kRoot).error(), 0);
    EXPECT_EQ(share_.SnapshotOutside(), outside_before_);
  }

  RawFuseClient& c() { return *client_; }

  TempShare share_;
  std::unique_ptr<RawFuseEndpoint> endpoint_;
  std::unique_ptr<RawFuseClient> client_;
  std::string outside_before_;
};

TEST_F(FuseServerHostileTest, BadNamesAreRefusedBeforeTheHost) {
  const std::string too_long(NAME_MAX + 1, 'n');
  for (const std::string& name :
       {std::string("../outside/secret"), std::string("a/b"),
        std::string("/etc/passwd"), std::string("")}) {
    EXPECT_EQ(c().Lookup(kRoot, name).error(), EINVAL) << name;
    EXPECT_EQ(c().Mkdir(kRoot, name).error(), EINVAL) << name;
    EXPECT_EQ(c().Create(kRoot, name, O_RDWR).error(), EINVAL) << name;
    EXPECT_EQ(c().Call(FUSE_UNLINK, kRoot, Bytes().Name(name)).error(), EINVAL)
        << name;
  }
  EXPECT_EQ(c().Lookup(kRoot, too_long).error(), ENAMETOOLONG);
  EXPECT_EQ(c().Mkdir(kRoot, too_long).error(), ENAMETOOLONG);
  // "." and ".." are never created, removed or renamed.
  const uint64_t dir = c().MustLookup(kRoot, "dir").nodeid;
  for (const char* dot : {".", ".."}) {
    EXPECT_EQ(c().Mkdir(dir, dot).error(), EINVAL);
    EXPECT_EQ(c().Create(dir, dot, O_RDWR).error(), EINVAL);
    EXPECT_EQ(c().Call(FUSE_RMDIR, dir, Bytes().Name(dot)).error(), EINVAL);
    EXPECT_EQ(c().Call(FUSE_UNLINK, dir, Bytes().Name(dot)).error(), EINVAL);
    EXPECT_EQ(c().Call(FUSE_SYMLINK, dir, Bytes().Name(dot).Name("x")).error(),
              EINVAL);
    fuse_rename_in rn{};
    rn.newdir = kRoot;
    EXPECT_EQ(
        c().Call(FUSE_RENAME, dir, Bytes().Add(rn).Name(dot).Name("moved"))
            .error(),
        EINVAL);
    EXPECT_EQ(
        c().Call(FUSE_RENAME, kRoot, Bytes().Add(rn).Name("file").Name(dot))
            .error(),
        EINVAL);
  }
  struct stat st;
  EXPECT_EQ(stat(share_.SharePath("dir").c_str(), &st), 0);
  EXPECT_EQ(stat(share_.SharePath("file").c_str(), &st), 0);
}

TEST_F(FuseServerHostileTest, ForgedStaleAndZeroNodeIds) {
  EXPECT_EQ(c().Getattr(0).error(), EINVAL);
  EXPECT_EQ(c().Getattr(12345).error(), EINVAL);
  EXPECT_EQ(c().Getattr(~0ull).error(), EINVAL);
  EXPECT_EQ(c().Getattr(reinterpret_cast<uint64_t>(this)).error(), EINVAL);
  EXPECT_EQ(c().Getattr((7ull << 32) | kRoot).error(),
            ESTALE);  // root slot, wrong generation
  EXPECT_EQ(c().Lookup(0, "file").error(), EINVAL);
  EXPECT_EQ(c().Mkdir(999, "x").error(), EINVAL);
  const uint64_t file = c().MustLookup(kRoot, "file").nodeid;
  EXPECT_EQ(c().Getattr(file + (1ull << 32)).error(), ESTALE);
  EXPECT_TRUE(c().Forget(file, 1).bytes.empty());
  EXPECT_EQ(c().Getattr(file).error(), ESTALE);
  EXPECT_EQ(c().Open(file, O_RDONLY).error(), ESTALE);
  fuse_link_in link_in{};
  link_in.oldnodeid = file;
  EXPECT_EQ(c().Call(FUSE_LINK, kRoot, Bytes().Add(link_in).Name("l")).error(),
            ESTALE);
  // FORGET of garbage ids is silently ignored and never frees the root.
  EXPECT_TRUE(c().Forget(0, 1).bytes.empty());
  EXPECT_TRUE(c().Forget(kRoot, 1000).bytes.empty());
  EXPECT_TRUE(c().Forget(~0ull, 1).bytes.empty());
  EXPECT_EQ(c().Getattr(kRoot).error(), 0);
}

TEST_F(FuseServerHostileTest, ForgedAndMismatchedFileHandles) {
  const uint64_t file = c().MustLookup(kRoot, "file").nodeid;
  const uint64_t dir = c().MustLookup(kRoot, "dir").nodeid;
  const uint64_t fh = c().MustOpen(file, O_RDWR);
  const uint64_t dh = c().Opendir(dir).As<fuse_open_out>().fh;
  for (uint64_t forged : std::vector<uint64_t>{
           0, 1, fh + 100, fh + (1ull << 32), ~0ull, 3 /* an fd */}) {
    EXPECT_EQ(c().Read(file, forged, 0, 10).error(), EBADF) << forged;
    EXPECT_EQ(c().Write(file, forged, 0, "x").error(), EBADF) << forged;
    EXPECT_EQ(c().Readdir(dir, forged, 0, 4096).error(), EBADF) << forged;
    EXPECT_EQ(c().Release(file, forged).error(), EBADF) << forged;
  }
  EXPECT_EQ(c().Read(dir, dh, 0, 10).error(), EBADF);  // a directory handle
  EXPECT_EQ(c().Readdir(file, fh, 0, 4096).error(), EBADF);  // a file handle
  EXPECT_EQ(c().Read(kRoot, fh, 0, 10).error(),
            EBADF);  // another node's handle
  EXPECT_EQ(c().Read(file, fh, 0, 10).payload_string(), "inside");
}

TEST_F(FuseServerHostileTest, TruncatedAndMislabelledLengths) {
  const std::vector<uint8_t> good =
      c().Build(FUSE_GETATTR, kRoot, Bytes().Add(fuse_getattr_in{}));
  // Not even a header: nothing is written.
  for (size_t n = 0; n < sizeof(fuse_in_header); ++n) {
    EXPECT_TRUE(c().Send(std::vector<uint8_t>(good.begin(), good.begin() + n))
                    .bytes.empty());
  }
  // in.len larger and smaller than the bytes provided.
  for (uint32_t len : {0u, 1u, 40u, 55u, 57u, 4096u, 0xffffffffu}) {
    std::vector<uint8_t> bad = good;
    memcpy(bad.data(), &len, sizeof(len));
    Reply r = c().Send(bad);
    EXPECT_EQ(r.error(), EINVAL) << len;
  }
  // A header whose arguments are missing.
  EXPECT_EQ(c().Call(FUSE_GETATTR, kRoot).error(), EINVAL);
  EXPECT_EQ(c().Call(FUSE_READ, kRoot, Bytes().Add(uint32_t{0})).error(),
            EINVAL);
  EXPECT_EQ(
      c().Call(FUSE_SETATTR, kRoot, Bytes().Add(fuse_getattr_in{})).error(),
      EINVAL);
  // A WRITE announcing more payload than it carries.
  const uint64_t file = c().MustLookup(kRoot, "file").nodeid;
  const uint64_t fh = c().MustOpen(file, O_RDWR);
  fuse_write_in w{};
  w.fh = fh;
  w.size = 1000;
  EXPECT_EQ(c().Call(FUSE_WRITE, file, Bytes().Add(w).Raw("short")).error(),
            EINVAL);
  w.size = 0xffffffff;
  EXPECT_EQ(
      c().Call(FUSE_WRITE, file, Bytes().Add(w).Raw(std::string(70000, 'z')))
          .error(),
      EINVAL);
  // BATCH_FORGET with a count past its array; SETXATTR with a value past the
  // request.
  fuse_batch_forget_in batch{};
  batch.count = 1u << 30;
  EXPECT_EQ(
      c().Call(FUSE_BATCH_FORGET, 0, Bytes().Add(batch).Add(fuse_forget_one{}))
          .error(),
      EINVAL);
  fuse_setxattr_in set{};
  set.size = 1u << 20;
  EXPECT_EQ(c().Call(FUSE_SETXATTR, file,
                     Bytes().Add(set.size).Add(set.flags).Name("user.x"))
                .error(),
            EINVAL);
  // A READ larger than max_write, and one whose reply does not fit the buffers.
  EXPECT_EQ(c().Read(file, fh, 0, (1u << 20) + 1).error(), EINVAL);
  share_.WriteFile("big", std::string(100000, 'b'));
  const uint64_t big = c().MustLookup(kRoot, "big").nodeid;
  const uint64_t big_fh = c().MustOpen(big, O_RDONLY);
  Reply r = c().Read(big, big_fh, 0, 100000, /*reply_capacity=*/4096);
  EXPECT_EQ(r.error(), ERANGE);
  EXPECT_EQ(r.bytes.size(), sizeof(fuse_out_header));
  EXPECT_TRUE(
      c().Read(big, big_fh, 0, 100, /*reply_capacity=*/8).bytes.empty());
  // A request larger than any the device accepts.
  EXPECT_EQ(c().Call(FUSE_LOOKUP, kRoot,
                     Bytes().Raw(std::string(2 << 20, 'a')).Name(""))
                .error(),
            EINVAL);
}

TEST_F(FuseServerHostileTest, UnterminatedNamesAndMissingSecondNames) {
  EXPECT_EQ(c().Call(FUSE_LOOKUP, kRoot, Bytes().Raw("file")).error(), EINVAL);
  EXPECT_EQ(c().Call(FUSE_LOOKUP, kRoot).error(), EINVAL);
  EXPECT_EQ(c().Call(FUSE_SYMLINK, kRoot, Bytes().Name("only_one")).error(),
            EINVAL);
  fuse_rename_in rn{};
  rn.newdir = kRoot;
  EXPECT_EQ(c().Call(FUSE_RENAME, kRoot, Bytes().Add(rn).Name("file")).error(),
            EINVAL);
  EXPECT_EQ(c().Call(FUSE_RENAME, kRoot, Bytes().Add(rn).Name("file").Raw("x"))
                .error(),
            EINVAL);
  fuse_mkdir_in mk{};
  EXPECT_EQ(c().Call(FUSE_MKDIR, kRoot, Bytes().Add(mk).Raw("noterm")).error(),
            EINVAL);
  struct stat st;
  EXPECT_NE(lstat(share_.SharePath("noterm").c_str(), &st), 0);
}

TEST_F(FuseServerHostileTest, UnknownAndRefusedOpcodes) {
  for (uint32_t opcode :
       {0u, 52u, 999u, 4095u, static_cast<uint32_t>(CUSE_INIT), 0xffffffffu,
        static_cast<uint32_t>(FUSE_INTERRUPT),
        static_cast<uint32_t>(FUSE_NOTIFY_REPLY)}) {
    EXPECT_EQ(
        c().Call(opcode, kRoot, Bytes().Raw(std::string(64, '\0'))).error(),
        ENOSYS)
        << opcode;
  }
  // Opcodes libfuse knows but the device has no handler for: libfuse answers
  // ENOSYS.
  EXPECT_EQ(c().Call(FUSE_GETLK, kRoot, Bytes().Add(fuse_lk_in{})).error(),
            ENOSYS);
  EXPECT_EQ(c().Call(FUSE_BMAP, kRoot, Bytes().Add(fuse_bmap_in{})).error(),
            ENOSYS);
}

TEST_F(FuseServerHostileTest, SymlinksOutOfTheShareAreNeverFollowed) {
  const fuse_entry_out evil = c().MustLookup(kRoot, "evil");
  struct stat link_st;
  ASSERT_EQ(lstat(share_.SharePath("evil").c_str(), &link_st), 0);
  EXPECT_TRUE(S_ISLNK(evil.attr.mode));
  EXPECT_EQ(evil.attr.ino, link_st.st_ino);
  EXPECT_EQ(c().Open(evil.nodeid, O_RDONLY).error(), ELOOP);
  EXPECT_EQ(c().Open(evil.nodeid, O_RDWR | O_TRUNC).error(), ELOOP);
  EXPECT_EQ(c().Call(FUSE_READLINK, evil.nodeid).payload_string(),
            "../outside/secret");
  EXPECT_EQ(c().Create(kRoot, "evil", O_RDWR | O_TRUNC).error(), ELOOP);
  EXPECT_EQ(c().Opendir(evil.nodeid).error(), ENOTDIR);
  fuse_setattr_in set{};
  set.valid = FATTR_SIZE;
  EXPECT_EQ(c().Call(FUSE_SETATTR, evil.nodeid, Bytes().Add(set)).error(),
            EINVAL);
  set.valid = FATTR_MODE;
  set.mode = 0777;
  EXPECT_EQ(c().Call(FUSE_SETATTR, evil.nodeid, Bytes().Add(set)).error(),
            EOPNOTSUPP);
  set.valid = FATTR_MTIME | FATTR_ATIME;  // times of the link itself
  EXPECT_EQ(c().Call(FUSE_SETATTR, evil.nodeid, Bytes().Add(set)).error(), 0);
  set.valid = FATTR_UID;
  set.uid = 4242;  // owner of the link itself
  EXPECT_EQ(c().Call(FUSE_SETATTR, evil.nodeid, Bytes().Add(set)).error(), 0);
  fuse_setxattr_in setx{};
  setx.size = 1;
  EXPECT_EQ(
      c().Call(FUSE_SETXATTR, evil.nodeid,
               Bytes().Add(setx.size).Add(setx.flags).Name("user.x").Raw("v"))
          .error(),
      EOPNOTSUPP);
  fuse_getxattr_in getx{};
  getx.size = 100;
  EXPECT_EQ(
      c().Call(FUSE_GETXATTR, evil.nodeid, Bytes().Add(getx).Name("user.x"))
          .error(),
      EOPNOTSUPP);

  // A symlink to a directory outside is not a directory to the device.
  const uint64_t evil_dir = c().MustLookup(kRoot, "evil_dir").nodeid;
  EXPECT_EQ(c().Lookup(evil_dir, "anything").error(), ENOTDIR);
  EXPECT_EQ(c().Lookup(evil_dir, "..").error(), ENOTDIR);
  EXPECT_EQ(c().Mkdir(evil_dir, "made").error(), ENOTDIR);
  EXPECT_EQ(c().Create(evil_dir, "made", O_RDWR).error(), ENOTDIR);
  fuse_mknod_in mknod{};
  mknod.mode = S_IFREG | 0644;
  EXPECT_EQ(
      c().Call(FUSE_MKNOD, evil_dir, Bytes().Add(mknod).Name("made")).error(),
      ENOTDIR);
  EXPECT_EQ(
      c().Call(FUSE_SYMLINK, evil_dir, Bytes().Name("made").Name("x")).error(),
      ENOTDIR);
  fuse_link_in link_in{};
  link_in.oldnodeid = c().MustLookup(kRoot, "file").nodeid;
  EXPECT_EQ(
      c().Call(FUSE_LINK, evil_dir, Bytes().Add(link_in).Name("made")).error(),
      ENOTDIR);
  fuse_rename_in rn{};
  rn.newdir = evil_dir;
  EXPECT_EQ(
      c().Call(FUSE_RENAME, kRoot, Bytes().Add(rn).Name("file").Name("made"))
          .error(),
      ENOTDIR);
  const uint64_t up = c().MustLookup(kRoot, "up").nodeid;
  EXPECT_EQ(c().Lookup(up, "outside").error(), ENOTDIR);
  struct stat st;
  EXPECT_NE(lstat((share_.outside() + "/dir/made").c_str(), &st), 0);
  EXPECT_EQ(stat(share_.SharePath("file").c_str(), &st), 0);
}

TEST_F(FuseServerHostileTest, RandomBytesNeverBreakTheSession) {
  std::mt19937 rng(1234);
  const uint32_t opcodes[] = {
      FUSE_LOOKUP,      FUSE_GETATTR,  FUSE_SETATTR,      FUSE_MKNOD,
      FUSE_MKDIR,       FUSE_RENAME,   FUSE_RENAME2,      FUSE_SYMLINK,
      FUSE_LINK,        FUSE_OPEN,     FUSE_READ,         FUSE_WRITE,
      FUSE_SETXATTR,    FUSE_GETXATTR, FUSE_BATCH_FORGET, FUSE_IOCTL,
      FUSE_READDIRPLUS, FUSE_CREATE,   FUSE_INIT,         FUSE_POLL};
  for (int i = 0; i < 3000; ++i) {
    const size_t len = rng() % 200;
    std::vector<uint8_t> bytes(len);
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    if (len >= sizeof(fuse_in_header) && (rng() % 4) != 0) {
      fuse_in_header in;
      memcpy(&in, bytes.data(), sizeof(in));
      in.len = static_cast<uint32_t>(len);
      in.opcode = opcodes[rng() % std::size(opcodes)];
      in.nodeid = (rng() % 3 == 0) ? kRoot : in.nodeid;
      memcpy(bytes.data(), &in, sizeof(in));
    }
    Reply r = c().Send(bytes, 1 + rng() % 8192);
    if (!r.bytes.empty()) {
      ASSERT_GE(r.bytes.size(), sizeof(fuse_out_header));
      EXPECT_EQ(r.header().len, r.bytes.size());
      EXPECT_LE(r.header().error, 0);
    }
  }
}

}  // namespace
}  // namespace sim
