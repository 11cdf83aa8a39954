// vfs::FuseFs regular files: OPEN, and the open file description over a FUSE
// file handle (READ, WRITE, GETATTR/SETATTR through the handle, FSYNC, LSEEK,
// FALLOCATE, COPY_FILE_RANGE, FLUSH and RELEASE).
#include <utility>

#include "vfs/fuse_fs_nodes.h"
#include "vfs/fuse_readahead.h"
#include "vfs/location.h"

namespace vfs::fusefs {
namespace {

// The read-ahead window of a file opened in `session` (see Readahead): the
// session's max_readahead, none where the device asked for direct I/O.
uint32_t ReadaheadBytes(FuseFs& fs, uint64_t session,
                        const driver::OpenHandle& handle) {
  if (handle.open_flags & FOPEN_DIRECT_IO) return 0;
  Result<driver::FuseClient*> client = fs.ClientFor(session);
  if (!client.ok()) return 0;
  const driver::Negotiated& negotiated = client.value()->negotiated();
  return negotiated.max_readahead < negotiated.max_read
             ? negotiated.max_readahead
             : negotiated.max_read;
}

class OpenRegularFile final : public OpenFile {
 public:
  OpenRegularFile(RefPtr<File> file, int flags,
                  const driver::OpenHandle& handle, uint64_t session)
      : OpenFile(file->fs().platform(), file, flags),
        file_(std::move(file)),
        fh_(handle.fh),
        session_(session),
        flush_on_close_((handle.open_flags & FOPEN_NOFLUSH) == 0),
        readahead_(file_->fs().platform(), file_->fs().readahead_budget(),
                   ReadaheadBytes(file_->fs(), session, handle)) {}

  // The last descriptor of the description is gone: FLUSH, then RELEASE
  // without waiting for it (FuseClient::PostRelease), as Linux does on the
  // final close (nothing is sent for an ended session).
  // FLUSH is how the device learns of the close (delayed write errors, POSIX
  // locks), so it is skipped only where Linux skips it: the device said so at
  // open (FOPEN_NOFLUSH; this client never caches writes), or it answered
  // ENOSYS once (Linux's no_flush).
  ~OpenRegularFile() override {
    // The handle must outlive its READs, and the window their data.
    readahead_.Drop();
    Result<driver::FuseClient*> client = file_->fs().ClientFor(session_);
    if (!client.ok()) return;
    if (flush_on_close_ && !file_->fs().no_flush()) {
      // Nobody to report an error to any more.
      Result<void> flushed = client.value()->Flush(file_->nodeid(), fh_);
      if (!flushed.ok() && flushed.error() == ENOSYS) {
        file_->fs().set_no_flush(session_);
      }
    }
    Result<void> released = client.value()->PostRelease(
        file_->nodeid(), fh_, static_cast<uint32_t>(flags()));
    (void)released;
  }

 protected:
  Result<size_t> ReadAt(std::span<std::byte> buffer, uint64_t offset) override {
    // Asked first even when the window holds the range: a description of an
    // ended session reads nothing.
    driver::FuseClient* client = TRY(Client());
    if (flags() & base::kOpenDirect) {
      return client->Read(
          file_->nodeid(), fh_, offset,
          std::span<uint8_t>(reinterpret_cast<uint8_t*>(buffer.data()),
                             buffer.size()));
    }
    return readahead_.Read(buffer, offset, file_->data_version(),
                           file_->fs().AttrVersion(),
                           {*client, file_->nodeid(), fh_});
  }

  // FUSE has no atomic append of its own (the device may open the host file
  // with O_APPEND, but the client must know where the data went): as Linux
  // does, the size is asked and the data written there, under the node's
  // append lock so that appenders through this client do not interleave.
  Result<size_t> WriteAt(std::span<const std::byte> data, uint64_t* offset,
                         bool append) override {
    driver::FuseClient* client = TRY(Client());
    std::span<const uint8_t> bytes(
        reinterpret_cast<const uint8_t*>(data.data()), data.size());
    if (!append) return WriteAndAdvance(*client, bytes, offset);
    base::LockGuard guard(file_->append_lock());
    Stat st = TRY(file_->FreshAttr(fh_));
    *offset = static_cast<uint64_t>(st.st_size);
    return WriteAndAdvance(*client, bytes, offset);
  }

  Result<Stat> GetAttr() override { return file_->FetchAttr(fh_); }
  Result<Stat> SetAttr(const AttrChange& change) override {
    return file_->ChangeAttr(change, fh_);
  }

  // SEEK_DATA / SEEK_HOLE ask the device (LSEEK); without it, the whole file
  // is data (Linux: no_lseek).
  Result<uint64_t> SeekDataOrHole(uint64_t offset, int whence) override {
    driver::FuseClient* client = TRY(Client());
    Result<uint64_t> found = client->Lseek(file_->nodeid(), fh_, offset,
                                           static_cast<uint32_t>(whence));
    if (!found.ok() && found.error() == ENOSYS) {
      return OpenFile::SeekDataOrHole(offset, whence);
    }
    return found;
  }

  Result<void> Allocate(int mode, uint64_t offset, uint64_t length) override {
    driver::FuseClient* client = TRY(Client());
    Result<void> allocated = client->Fallocate(
        file_->nodeid(), fh_, static_cast<uint32_t>(mode), offset, length);
    file_->InvalidateAttr();
    file_->NoteDataChanged();
    if (!allocated.ok() && allocated.error() == ENOSYS) {
      return Error{EOPNOTSUPP};  // Linux: no_fallocate.
    }
    return allocated;
  }

  // COPY_FILE_RANGE between two files of this mount (the same filesystem, so
  // `out` is one of these); EXDEV otherwise, or when the device has none, so
  // that the VFS copies by reading and writing.
  Result<size_t> CopyRange(uint64_t in_offset, OpenFile& out,
                           uint64_t out_offset, size_t length) override {
    if (!location() || !out.location() ||
        location()->mount() != out.location()->mount()) {
      return Error{EXDEV};
    }
    auto& target = static_cast<OpenRegularFile&>(out);
    if (target.session_ != session_) return Error{EXDEV};
    driver::FuseClient* client = TRY(Client());
    Result<size_t> copied = client->CopyFileRange(
        {file_->nodeid(), fh_, in_offset},
        {target.file_->nodeid(), target.fh_, out_offset}, length);
    target.file_->InvalidateAttr();
    target.file_->NoteDataChanged();
    if (!copied.ok() && copied.error() == ENOSYS) return Error{EXDEV};
    return copied;
  }

  Result<void> Sync(bool data_only) override {
    driver::FuseClient* client = TRY(Client());
    Result<void> synced = client->Fsync(file_->nodeid(), fh_, data_only);
    // A device without FSYNC has nothing to write back (Linux: no_fsync).
    if (!synced.ok() && synced.error() == ENOSYS) return {};
    return synced;
  }

 private:
  Result<driver::FuseClient*> Client() const {
    return file_->fs().ClientFor(session_);
  }

  Result<size_t> WriteAndAdvance(driver::FuseClient& client,
                                 std::span<const uint8_t> bytes,
                                 uint64_t* offset) {
    Result<size_t> written = client.Write(file_->nodeid(), fh_, *offset, bytes);
    // Size and times changed (even a failed write may have written some).
    file_->InvalidateAttr();
    file_->NoteDataChanged();
    if (!written.ok()) return written;
    *offset += written.value();
    return written;
  }

  RefPtr<File> file_;
  const uint64_t fh_;
  const uint64_t session_;
  const bool flush_on_close_;
  Readahead readahead_;
};

}  // namespace

File::File(RefPtr<FuseFs> fs, uint64_t nodeid, uint64_t session)
    : FuseNode(std::move(fs), nodeid, base::kTypeRegular, session),
      append_lock_(this->fs().platform()) {}

RefPtr<OpenFile> File::MakeOpenFile(RefPtr<File> file, int flags,
                                    const driver::OpenHandle& handle,
                                    uint64_t session) {
  return RefPtr<OpenFile>(
      MakeRef<OpenRegularFile>(std::move(file), flags, handle, session));
}

Result<RefPtr<OpenFile>> File::Open(int flags) {
  driver::FuseClient* client = TRY(Client());
  const uint64_t session = fs().session();
  driver::OpenHandle handle =
      TRY(client->Open(nodeid(), static_cast<uint32_t>(flags)));
  if (flags & base::kOpenTruncate) {
    InvalidateAttr();
    NoteDataChanged();
  }
  return MakeOpenFile(RefPtr<File>(this), flags, handle, session);
}

}  // namespace vfs::fusefs
