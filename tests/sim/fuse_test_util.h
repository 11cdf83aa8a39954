// Helpers for device-side FUSE tests: a temporary share with a canary directory
// beside it, and a small client that builds raw FUSE requests and parses the
// replies.
#ifndef TESTS_SIM_FUSE_TEST_UTIL_H_
#define TESTS_SIM_FUSE_TEST_UTIL_H_

#include <linux/fuse.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/raw_fuse_endpoint.h"

namespace sim::testing {

// A tmpfs mounted on a new directory `path` while this lives (a mount inside a
// share, for tests of what the device does across mounts). `error()` says why
// when it could not be mounted (mounting needs root): the test skips with it.
// Unmounted lazily, so descriptors still open do not keep it busy.
class TmpfsMount {
 public:
  explicit TmpfsMount(const std::string& path);
  ~TmpfsMount();
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;
  bool mounted() const { return error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  std::string path_;
  std::string error_;
};

// mkdtemp() base holding "share/" (exported) and "outside/" (a canary the
// device must never touch: a file with known content and a directory). Removed
// on destruction.
class TempShare {
 public:
  TempShare();
  ~TempShare();
  const std::string& base() const { return base_; }
  const std::string& share() const { return share_; }
  const std::string& outside() const { return outside_; }
  std::string SharePath(std::string_view rel) const {
    return share_ + "/" + std::string(rel);
  }
  // Writes a file under the share.
  void WriteFile(std::string_view rel, std::string_view content) const;
  // A listing of everything under "outside/" with each entry's type, size,
  // mode, mtime and content: equal before and after means the device left it
  // alone.
  std::string SnapshotOutside() const;

 private:
  std::string base_;
  std::string share_;
  std::string outside_;
};

// Little-endian byte builder for request arguments.
class Bytes {
 public:
  template <typename T>
  Bytes& Add(const T& value) {
    const auto* p = reinterpret_cast<const uint8_t*>(&value);
    data_.insert(data_.end(), p, p + sizeof(T));
    return *this;
  }
  // Appends `s` and its terminating NUL.
  Bytes& Name(std::string_view s) {
    data_.insert(data_.end(), s.begin(), s.end());
    data_.push_back(0);
    return *this;
  }
  Bytes& Raw(std::string_view s) {
    data_.insert(data_.end(), s.begin(), s.end());
    return *this;
  }
  const std::vector<uint8_t>& data() const { return data_; }

 private:
  std::vector<uint8_t> data_;
};

struct Reply {
  std::vector<uint8_t> bytes;  // everything the device wrote
  bool has_header() const { return bytes.size() >= sizeof(fuse_out_header); }
  fuse_out_header header() const {
    fuse_out_header h{};
    if (has_header()) memcpy(&h, bytes.data(), sizeof(h));
    return h;
  }
  // The reply's errno (positive), or -1 when there is no header at all.
  int error() const { return has_header() ? -header().error : -1; }
  size_t payload_size() const {
    return has_header() ? bytes.size() - sizeof(fuse_out_header) : 0;
  }
  const uint8_t* payload() const {
    return bytes.data() + sizeof(fuse_out_header);
  }
  std::string payload_string() const {
    return std::string(reinterpret_cast<const char*>(payload()),
                       payload_size());
  }
  template <typename T>
  T As() const {
    T value{};
    memcpy(&value, payload(), std::min(sizeof(T), payload_size()));
    return value;
  }
};

class RawFuseClient {
 public:
  // Sends on the endpoint's `lane`.
  explicit RawFuseClient(RawFuseEndpoint& endpoint, uint16_t lane = 0)
      : endpoint_(endpoint), lane_(lane) {}

  // Builds a request with a correct header and sends it.
  Reply Call(uint32_t opcode, uint64_t nodeid, const Bytes& args = Bytes(),
             size_t reply_capacity = RawFuseEndpoint::kDefaultReplyCapacity);
  // Sends `bytes` exactly as given.
  Reply Send(const std::vector<uint8_t>& bytes,
             size_t reply_capacity = RawFuseEndpoint::kDefaultReplyCapacity);
  std::vector<uint8_t> Build(uint32_t opcode, uint64_t nodeid,
                             const Bytes& args);
  uint64_t last_unique() const { return unique_; }
  // The requester later requests carry (fuse_in_header uid and gid).
  void SetRequester(uint32_t uid, uint32_t gid) {
    uid_ = uid;
    gid_ = gid;
  }

  Reply Init(uint32_t flags = FUSE_MAX_PAGES | FUSE_DO_READDIRPLUS |
                              FUSE_BIG_WRITES);
  Reply Lookup(uint64_t parent, std::string_view name);
  Reply Getattr(uint64_t nodeid);
  Reply Mkdir(uint64_t parent, std::string_view name, uint32_t mode = 0755);
  Reply Create(uint64_t parent, std::string_view name, uint32_t flags,
               uint32_t mode = 0644);
  Reply Open(uint64_t nodeid, uint32_t flags);
  Reply Opendir(uint64_t nodeid);
  Reply Read(uint64_t nodeid, uint64_t fh, uint64_t offset, uint32_t size,
             size_t reply_capacity = RawFuseEndpoint::kDefaultReplyCapacity);
  Reply Write(uint64_t nodeid, uint64_t fh, uint64_t offset,
              std::string_view data);
  Reply Release(uint64_t nodeid, uint64_t fh, bool dir = false);
  Reply Readdir(uint64_t nodeid, uint64_t fh, uint64_t offset, uint32_t size,
                bool plus = false);
  Reply Forget(uint64_t nodeid, uint64_t nlookup);

  // LOOKUP that must succeed: the entry.
  fuse_entry_out MustLookup(uint64_t parent, std::string_view name);
  // OPEN that must succeed: the file handle.
  uint64_t MustOpen(uint64_t nodeid, uint32_t flags);

 private:
  RawFuseEndpoint& endpoint_;
  const uint16_t lane_;
  uint64_t unique_ = 0;
  uint32_t uid_ = 0;
  uint32_t gid_ = 0;
};

// The entries in a READDIR / READDIRPLUS reply payload: each name and the
// offset of the entry after it.
struct ListedEntry {
  std::string name;
  uint64_t next_offset;
};
std::vector<ListedEntry> ListedEntries(const Reply& reply, bool plus);
// Their names.
std::vector<std::string> DirentNames(const Reply& reply, bool plus);

}  // namespace sim::testing

#endif  // TESTS_SIM_FUSE_TEST_UTIL_H_
