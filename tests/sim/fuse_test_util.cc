#include "tests/sim/fuse_test_util.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

#include "gtest/gtest.h"

namespace sim::testing {
namespace {

int RemoveEntry(const char* path, const struct stat*, int, struct FTW*) {
  remove(path);
  return 0;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TempShare::TempShare() {
  const char* tmp = getenv("TEST_TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr ? tmp : "/tmp") + "/vfs-share-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  base_ = buf.data();
  share_ = base_ + "/share";
  outside_ = base_ + "/outside";
  mkdir(share_.c_str(), 0755);
  mkdir(outside_.c_str(), 0755);
  mkdir((outside_ + "/dir").c_str(), 0755);
  std::ofstream(outside_ + "/secret") << "top secret canary";
  // A known, old mtime so that any write or touch shows.
  struct timespec times[2] = {{1000000, 0}, {1000000, 0}};
  utimensat(AT_FDCWD, (outside_ + "/secret").c_str(), times, 0);
  utimensat(AT_FDCWD, (outside_ + "/dir").c_str(), times, 0);
}

TmpfsMount::TmpfsMount(const std::string& path) : path_(path) {
  if (mkdir(path.c_str(), 0755) != 0) {
    error_ = "mkdir " + path + ": " + std::strerror(errno);
  } else if (mount("test-tmpfs", path.c_str(), "tmpfs", 0, nullptr) != 0) {
    error_ = "cannot mount a tmpfs here: " + std::string(std::strerror(errno));
  }
}

TmpfsMount::~TmpfsMount() {
  if (mounted()) {
    EXPECT_EQ(umount2(path_.c_str(), MNT_DETACH), 0) << std::strerror(errno);
  }
}

TempShare::~TempShare() {
  nftw(base_.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
}

void TempShare::WriteFile(std::string_view rel,
                          std::string_view content) const {
  std::ofstream out(SharePath(rel), std::ios::binary | std::ios::trunc);
  out << content;
}

std::string TempShare::SnapshotOutside() const {
  std::vector<std::string> lines;
  static thread_local std::vector<std::string>* sink;
  sink = &lines;
  nftw(
      base_.c_str(),
      [](const char* path, const struct stat* st, int, struct FTW*) -> int {
        std::ostringstream line;
        line << path << " mode=" << std::oct << st->st_mode << std::dec
             << " size=" << st->st_size << " mtime=" << st->st_mtim.tv_sec
             << "." << st->st_mtim.tv_nsec << " nlink=" << st->st_nlink;
        sink->push_back(line.str());
        return 0;
      },
      16, FTW_PHYS);
  // Only what lies outside the share counts.
  std::string out;
  std::sort(lines.begin(), lines.end());
  for (const std::string& l : lines) {
    if (l.rfind(share_ + "/", 0) == 0 || l.rfind(share_ + " ", 0) == 0)
      continue;
    out += l + "\n";
  }
  out += "secret=" + ReadAll(outside_ + "/secret") + "\n";
  return out;
}

std::vector<uint8_t> RawFuseClient::Build(uint32_t opcode, uint64_t nodeid,
                                          const Bytes& args) {
  fuse_in_header in{};
  in.len = static_cast<uint32_t>(sizeof(in) + args.data().size());
  in.opcode = opcode;
  in.unique = ++unique_;
  in.nodeid = nodeid;
  in.uid = uid_;
  in.gid = gid_;
  std::vector<uint8_t> bytes(sizeof(in));
  memcpy(bytes.data(), &in, sizeof(in));
  bytes.insert(bytes.end(), args.data().begin(), args.data().end());
  return bytes;
}

Reply RawFuseClient::Send(const std::vector<uint8_t>& bytes,
                          size_t reply_capacity) {
  return Reply{endpoint_.Transact(bytes, reply_capacity, lane_)};
}

Reply RawFuseClient::Call(uint32_t opcode, uint64_t nodeid, const Bytes& args,
                          size_t reply_capacity) {
  Reply reply = Send(Build(opcode, nodeid, args), reply_capacity);
  if (reply.has_header()) {
    EXPECT_EQ(reply.header().unique, unique_);
    EXPECT_EQ(reply.header().len, reply.bytes.size());
  }
  return reply;
}

Reply RawFuseClient::Init(uint32_t flags) {
  fuse_init_in init{};
  init.major = FUSE_KERNEL_VERSION;
  init.minor = FUSE_KERNEL_MINOR_VERSION;
  init.max_readahead = 1u << 20;
  init.flags = flags;
  return Call(FUSE_INIT, 0, Bytes().Add(init));
}

Reply RawFuseClient::Lookup(uint64_t parent, std::string_view name) {
  return Call(FUSE_LOOKUP, parent, Bytes().Name(name));
}

Reply RawFuseClient::Getattr(uint64_t nodeid) {
  return Call(FUSE_GETATTR, nodeid, Bytes().Add(fuse_getattr_in{}));
}

Reply RawFuseClient::Mkdir(uint64_t parent, std::string_view name,
                           uint32_t mode) {
  fuse_mkdir_in in{};
  in.mode = mode;
  return Call(FUSE_MKDIR, parent, Bytes().Add(in).Name(name));
}

Reply RawFuseClient::Create(uint64_t parent, std::string_view name,
                            uint32_t flags, uint32_t mode) {
  fuse_create_in in{};
  in.flags = flags;
  in.mode = S_IFREG | mode;
  return Call(FUSE_CREATE, parent, Bytes().Add(in).Name(name));
}

Reply RawFuseClient::Open(uint64_t nodeid, uint32_t flags) {
  fuse_open_in in{};
  in.flags = flags;
  return Call(FUSE_OPEN, nodeid, Bytes().Add(in));
}

Reply RawFuseClient::Opendir(uint64_t nodeid) {
  return Call(FUSE_OPENDIR, nodeid, Bytes().Add(fuse_open_in{}));
}

Reply RawFuseClient::Read(uint64_t nodeid, uint64_t fh, uint64_t offset,
                          uint32_t size, size_t reply_capacity) {
  fuse_read_in in{};
  in.fh = fh;
  in.offset = offset;
  in.size = size;
  return Call(FUSE_READ, nodeid, Bytes().Add(in), reply_capacity);
}

Reply RawFuseClient::Write(uint64_t nodeid, uint64_t fh, uint64_t offset,
                           std::string_view data) {
  fuse_write_in in{};
  in.fh = fh;
  in.offset = offset;
  in.size = static_cast<uint32_t>(data.size());
  return Call(FUSE_WRITE, nodeid, Bytes().Add(in).Raw(data));
}

Reply RawFuseClient::Release(uint64_t nodeid, uint64_t fh, bool dir) {
  fuse_release_in in{};
  in.fh = fh;
  return Call(dir ? FUSE_RELEASEDIR : FUSE_RELEASE, nodeid, Bytes().Add(in));
}

Reply RawFuseClient::Readdir(uint64_t nodeid, uint64_t fh, uint64_t offset,
                             uint32_t size, bool plus) {
  fuse_read_in in{};
  in.fh = fh;
  in.offset = offset;
  in.size = size;
  return Call(plus ? FUSE_READDIRPLUS : FUSE_READDIR, nodeid, Bytes().Add(in));
}

Reply RawFuseClient::Forget(uint64_t nodeid, uint64_t nlookup) {
  fuse_forget_in in{};
  in.nlookup = nlookup;
  return Call(FUSE_FORGET, nodeid, Bytes().Add(in));
}

fuse_entry_out RawFuseClient::MustLookup(uint64_t parent,
                                         std::string_view name) {
  Reply r = Lookup(parent, name);
  EXPECT_EQ(r.error(), 0) << "lookup " << name;
  return r.As<fuse_entry_out>();
}

uint64_t RawFuseClient::MustOpen(uint64_t nodeid, uint32_t flags) {
  Reply r = Open(nodeid, flags);
  EXPECT_EQ(r.error(), 0) << "open " << nodeid;
  return r.As<fuse_open_out>().fh;
}

std::vector<ListedEntry> ListedEntries(const Reply& reply, bool plus) {
  std::vector<ListedEntry> entries;
  size_t pos = 0;
  const size_t size = reply.payload_size();
  const uint8_t* p = reply.payload();
  while (true) {
    const size_t dirent_at = plus ? pos + sizeof(fuse_entry_out) : pos;
    if (dirent_at + FUSE_NAME_OFFSET > size) break;
    fuse_dirent d;
    memcpy(&d, p + dirent_at, FUSE_NAME_OFFSET);
    if (dirent_at + FUSE_NAME_OFFSET + d.namelen > size) break;
    entries.push_back({std::string(reinterpret_cast<const char*>(
                                       p + dirent_at + FUSE_NAME_OFFSET),
                                   d.namelen),
                       d.off});
    pos = dirent_at + FUSE_DIRENT_SIZE(&d);
  }
  return entries;
}

std::vector<std::string> DirentNames(const Reply& reply, bool plus) {
  std::vector<std::string> names;
  for (ListedEntry& entry : ListedEntries(reply, plus)) {
    names.push_back(std::move(entry.name));
  }
  return names;
}

}  // namespace sim::testing
