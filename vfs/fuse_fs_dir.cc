// vfs::FuseFs directories: names (LOOKUP through the entry cache, CREATE,
// MKDIR, SYMLINK, LINK, UNLINK, RMDIR, RENAME) and reading entries (OPENDIR,
// READDIR, FSYNCDIR, RELEASEDIR).
#include <memory>
#include <utility>

#include "vfs/fuse_fs_nodes.h"

namespace vfs::fusefs {
namespace {

// One READDIR reply's worth of entries, as Linux reads a page per request.
constexpr size_t kDirPageSize = 4096;
static_assert(kDirPageSize >= driver::FuseClient::kMinDirBufferSize);

// An open directory. getdents64 positions are the device's own offsets (0 is
// the start, each entry's next_offset the position after it), so a reader
// resumes exactly where it stopped. The last READDIR reply is kept: a
// getdents64 that continues where the previous one stopped takes its entries
// from there before asking the device for more.
class OpenDirectory final : public OpenFile {
 public:
  OpenDirectory(RefPtr<Directory> dir, int flags,
                const driver::OpenHandle& handle, uint64_t session)
      : OpenFile(dir->fs().platform(), dir, flags),
        dir_(std::move(dir)),
        fh_(handle.fh),
        session_(session),
        page_(new uint8_t[kDirPageSize]) {}

  ~OpenDirectory() override {
    Result<driver::FuseClient*> client = dir_->fs().ClientFor(session_);
    if (!client.ok()) return;
    Result<void> released = client.value()->ReleaseDir(dir_->nodeid(), fh_);
    (void)released;  // Nobody to tell.
  }

 protected:
  // Called with the description's position lock held, which also guards the
  // page.
  Result<void> ReadDirectory(DirentWriter& out, uint64_t position) override {
    size_t skip = 0;
    // Position 0 is a fresh start (or a rewind): it sees the directory as it
    // is now.
    if (page_valid_ && position != 0 && position == resume_position_) {
      skip = resume_index_;
    } else {
      TRY(Fetch(position));
    }
    for (;;) {
      if (entries_.empty()) {
        page_valid_ = false;  // The end; asking again later sees additions.
        return {};
      }
      size_t index = 0;
      for (driver::DirEntry entry : entries_) {
        if (index++ < skip) continue;
        if (!out.Add(entry.ino, entry.next_offset,
                     static_cast<uint8_t>(entry.type), entry.name)) {
          resume_index_ = index - 1;
          resume_position_ = position;
          return {};
        }
        position = entry.next_offset;
      }
      skip = 0;
      Result<void> fetched = Fetch(position);
      if (!fetched.ok()) {
        // What was added stands; the error comes on the next call.
        if (out.entries() > 0) return {};
        return fetched;
      }
    }
  }

  Result<void> Sync(bool data_only) override {
    driver::FuseClient* client = TRY(dir_->fs().ClientFor(session_));
    Result<void> synced = client->FsyncDir(dir_->nodeid(), fh_, data_only);
    if (!synced.ok() && synced.error() == ENOSYS) return {};
    return synced;
  }

 private:
  // One READDIR from `position` into the page.
  Result<void> Fetch(uint64_t position) {
    page_valid_ = false;
    driver::FuseClient* client = TRY(dir_->fs().ClientFor(session_));
    entries_ =
        TRY(client->ReadDir(dir_->nodeid(), fh_, position,
                            std::span<uint8_t>(page_.get(), kDirPageSize)));
    page_valid_ = true;
    resume_index_ = 0;
    resume_position_ = position;
    return {};
  }

  RefPtr<Directory> dir_;
  const uint64_t fh_;
  const uint64_t session_;
  std::unique_ptr<uint8_t[]> page_;
  driver::DirentList entries_;  // Points into page_ while page_valid_.
  bool page_valid_ = false;
  // The first entry of the page not yet returned, and the position it starts
  // at (where the caller will resume).
  size_t resume_index_ = 0;
  uint64_t resume_position_ = 0;
};

}  // namespace

Directory::~Directory() {
  DroppedNodes dropped;  // Released when this returns, after the cache lock.
  if (nodeid() == FUSE_ROOT_ID) {
    fs().entries().Clear(dropped);
  } else {
    fs().entries().RemoveChildren(children_, dropped);
  }
}

Result<RefPtr<OpenFile>> Directory::Open(int flags) {
  driver::FuseClient* client = TRY(Client());
  const uint64_t session = fs().session();
  driver::OpenHandle handle =
      TRY(client->OpenDir(nodeid(), static_cast<uint32_t>(flags)));
  return RefPtr<OpenFile>(
      MakeRef<OpenDirectory>(RefPtr<Directory>(this), flags, handle, session));
}

RefPtr<FuseNode> Directory::Adopt(std::string_view name,
                                  const driver::Entry& entry, uint64_t session,
                                  uint64_t attr_version) {
  RefPtr<FuseNode> node = fs().Instantiate(entry, session, attr_version);
  // Cached even when entry_valid is zero: the entry is then no answer to a
  // lookup, but says which node a later unlink or rename of the name touches.
  const uint64_t now = fs().platform().MonotonicNanos();
  DroppedNodes dropped;
  fs().entries().Insert(children_, name, node,
                        Deadline(now, entry.entry_valid_ns), dropped);
  return node;
}

void Directory::DropName(std::string_view name) {
  DroppedNodes dropped;
  Node* child = fs().entries().Remove(children_, name, dropped);
  if (child) {
    static_cast<FuseNode*>(child)->InvalidateAttr();
  } else {
    // The node may still be alive (an open file) with attributes cached:
    // without knowing which, none can be trusted.
    fs().InvalidateAllAttributes();
  }
}

Result<RefPtr<Node>> Directory::Lookup(std::string_view name) {
  const uint64_t now = fs().platform().MonotonicNanos();
  if (RefPtr<Node> cached = fs().entries().FindValid(children_, name, now)) {
    return cached;
  }
  driver::FuseClient* client = TRY(Client());
  const uint64_t session = fs().session();
  const uint64_t attr_version = fs().AttrVersion();
  Result<driver::Entry> entry = client->Lookup(nodeid(), name);
  if (!entry.ok()) {
    if (entry.error() == ENOENT) {
      DroppedNodes dropped;  // The name went behind our back.
      fs().entries().Remove(children_, name, dropped);
    }
    return Error{entry.error()};
  }
  return RefPtr<Node>(Adopt(name, entry.value(), session, attr_version));
}

Result<RefPtr<OpenFile>> Directory::Create(std::string_view name, uint32_t mode,
                                           int flags) {
  driver::FuseClient* client = TRY(Client());
  const uint64_t session = fs().session();
  const uint64_t attr_version = fs().AttrVersion();
  const uint32_t open_flags = static_cast<uint32_t>(flags | kOpenExclusive);
  Result<driver::CreatedFile> created =
      client->Create(nodeid(), name, open_flags, mode);
  if (!created.ok() && created.error() == ENOSYS) {
    // No CREATE: MKNOD then OPEN, as Linux falls back.
    driver::Entry entry =
        TRY(client->Mknod(nodeid(), name, kTypeRegular | mode, 0));
    InvalidateAttr();
    RefPtr<FuseNode> node = Adopt(name, entry, session, attr_version);
    return node->Open(flags & ~kOpenTruncate);
  }
  if (!created.ok()) return Error{created.error()};
  InvalidateAttr();  // Our mtime changed.
  RefPtr<FuseNode> node =
      Adopt(name, created.value().entry, session, attr_version);
  return File::MakeOpenFile(RefPtr<File>(static_cast<File*>(node.get())), flags,
                            created.value().handle, session);
}

Result<void> Directory::Mkdir(std::string_view name, uint32_t mode) {
  driver::FuseClient* client = TRY(Client());
  const uint64_t session = fs().session();
  const uint64_t attr_version = fs().AttrVersion();
  driver::Entry entry = TRY(client->Mkdir(nodeid(), name, mode));
  InvalidateAttr();  // Link count and mtime.
  Adopt(name, entry, session, attr_version);
  return {};
}

Result<void> Directory::Symlink(std::string_view name,
                                std::string_view target) {
  driver::FuseClient* client = TRY(Client());
  const uint64_t session = fs().session();
  const uint64_t attr_version = fs().AttrVersion();
  driver::Entry entry = TRY(client->Symlink(nodeid(), name, target));
  InvalidateAttr();
  Adopt(name, entry, session, attr_version);
  return {};
}

Result<void> Directory::Link(std::string_view name, Node& target) {
  auto& source = static_cast<FuseNode&>(target);
  driver::FuseClient* client = TRY(Client());
  TRY(source.Client());
  const uint64_t session = fs().session();
  source.InvalidateAttr();  // Its link count changes.
  const uint64_t attr_version = fs().AttrVersion();
  driver::Entry entry = TRY(client->Link(source.nodeid(), nodeid(), name));
  InvalidateAttr();
  Adopt(name, entry, session, attr_version);
  return {};
}

Result<void> Directory::Unlink(std::string_view name) {
  driver::FuseClient* client = TRY(Client());
  TRY(client->Unlink(nodeid(), name));
  InvalidateAttr();
  DropName(name);
  return {};
}

Result<void> Directory::Rmdir(std::string_view name) {
  driver::FuseClient* client = TRY(Client());
  TRY(client->Rmdir(nodeid(), name));
  InvalidateAttr();
  DropName(name);
  return {};
}

Result<void> Directory::Rename(std::string_view old_name, Node& new_dir,
                               std::string_view new_name) {
  auto& target_dir = static_cast<Directory&>(new_dir);
  driver::FuseClient* client = TRY(Client());
  TRY(target_dir.Client());
  TRY(client->Rename(nodeid(), old_name, target_dir.nodeid(), new_name));
  InvalidateAttr();
  target_dir.InvalidateAttr();
  // The moved node (its ctime) and the one it replaced (its link count).
  target_dir.DropName(new_name);
  DropName(old_name);
  return {};
}

}  // namespace vfs::fusefs
