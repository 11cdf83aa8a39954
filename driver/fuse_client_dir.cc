// FuseClient: directories.
#include <array>

#include "base/abi.h"
#include "driver/fuse_client.h"

namespace driver {
namespace {

// OPENDIR carries only what a directory handle can use.
constexpr uint32_t kOpenDirFlagsCarried =
    base::kOpenNonBlock | base::kOpenNoAtime;

}  // namespace

base::Result<OpenHandle> FuseClient::OpenDir(uint64_t nodeid, uint32_t flags) {
  TRY(CheckNodeId(nodeid));
  fuse_open_in in = {};
  in.flags = base::kOpenReadOnly | base::kOpenDirectory |
             (flags & kOpenDirFlagsCarried);
  Reply<OpOpenDir> reply = TRY(Call<OpOpenDir>(nodeid, in));
  OpenHandle handle;
  handle.fh = reply.out.fh;
  handle.open_flags = reply.out.open_flags;
  return handle;
}

base::Result<DirentList> FuseClient::ReadDir(uint64_t nodeid, uint64_t fh,
                                             uint64_t offset,
                                             std::span<uint8_t> buffer) {
  return ReadDirPage(nodeid, fh, offset, buffer, DirentFormat::kPlain);
}

base::Result<DirentList> FuseClient::ReadDirPlus(uint64_t nodeid, uint64_t fh,
                                                 uint64_t offset,
                                                 std::span<uint8_t> buffer) {
  return ReadDirPage(nodeid, fh, offset, buffer, DirentFormat::kPlus);
}

base::Result<DirentList> FuseClient::ReadDirPage(uint64_t nodeid, uint64_t fh,
                                                 uint64_t offset,
                                                 std::span<uint8_t> buffer,
                                                 DirentFormat format) {
  TRY(CheckNodeId(nodeid));
  TRY(CheckReady());
  if (buffer.size() < kMinDirBufferSize) return base::Error{EINVAL};
  const uint32_t size = buffer.size() < negotiated_.max_read
                            ? static_cast<uint32_t>(buffer.size())
                            : negotiated_.max_read;
  fuse_read_in in = {};
  in.fh = fh;
  in.offset = offset;
  in.size = size;
  const MutableBuffer data[] = {{buffer.data(), size}};
  uint32_t opcode;
  uint32_t received;
  uint64_t unique;
  if (format == DirentFormat::kPlus) {
    Reply<OpReadDirPlus> reply = TRY(Call<OpReadDirPlus>(nodeid, in, {}, data));
    opcode = OpReadDirPlus::kOpcode;
    received = reply.data_size;
    unique = reply.unique;
  } else {
    Reply<OpReadDir> reply = TRY(Call<OpReadDir>(nodeid, in, {}, data));
    opcode = OpReadDir::kOpcode;
    received = reply.data_size;
    unique = reply.unique;
  }

  std::span<const uint8_t> bytes(buffer.data(), received);
  DirentCheck check = CheckDirents(bytes, format);
  const char* malformed = check.malformed;
  DirentList list(bytes.first(check.valid_bytes), check.count, format);
  // Reading again from an entry's offset must make progress, or a reader loops
  // forever.
  if (!malformed && !list.empty() && check.last_offset == offset) {
    malformed = "directory offsets do not advance";
  }
  if (!malformed) return list;

  if (format == DirentFormat::kPlus) {
    // The device counted a lookup for each entry it looked up; the caller will
    // never see them, so give them back.
    std::array<fuse_forget_one, 32> forgets;
    size_t count = 0;
    for (DirEntry entry : list) {
      if (!entry.HoldsLookup()) continue;
      forgets[count++] = fuse_forget_one{entry.nodeid, 1};
      if (count == forgets.size()) {
        base::Result<void> forgot =
            ForgetMany(std::span(forgets.data(), count));
        (void)forgot;
        count = 0;
      }
    }
    base::Result<void> forgot = ForgetMany(std::span(forgets.data(), count));
    (void)forgot;
  }
  return RejectReply(opcode, unique, malformed);
}

base::Result<void> FuseClient::ReleaseDir(uint64_t nodeid, uint64_t fh) {
  return ReleaseHandle(FUSE_RELEASEDIR, nodeid, fh,
                       base::kOpenReadOnly | base::kOpenDirectory, 0, 0,
                       /*posted=*/false);
}

base::Result<void> FuseClient::PostReleaseDir(uint64_t nodeid, uint64_t fh) {
  return ReleaseHandle(FUSE_RELEASEDIR, nodeid, fh,
                       base::kOpenReadOnly | base::kOpenDirectory, 0, 0,
                       /*posted=*/true);
}

base::Result<void> FuseClient::FsyncDir(uint64_t nodeid, uint64_t fh,
                                        bool datasync) {
  return SyncHandle(FUSE_FSYNCDIR, nodeid, fh, datasync);
}

}  // namespace driver
