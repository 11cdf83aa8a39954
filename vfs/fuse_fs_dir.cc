// vfs::FuseFs directories: names (LOOKUP through the entry cache, CREATE,
// MKDIR, SYMLINK, LINK, UNLINK, RMDIR, RENAME) and reading entries (OPENDIR,
// READDIR or READDIRPLUS, FSYNCDIR, RELEASEDIR).
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "base/dma_buffer.h"
#include "vfs/fuse_fs_nodes.h"

namespace vfs::fusefs {
namespace {

// READDIR sizes: each request is sized from the room in the caller's
// getdents64 buffer (as recent Linux does), at least a page and at most
// what one request may carry (the negotiated max_read, capped here so that an
// open directory never holds more than this much).
constexpr size_t kMinReadDirSize = 4096;
constexpr size_t kMaxReadDirSize = 128 * 1024;
static_assert(kMinReadDirSize >= driver::FuseClient::kMinDirBufferSize);

// The size of a READDIR for a caller with `room` bytes left in its buffer.
size_t ReadDirSize(size_t room, uint32_t max_read) {
  size_t most = max_read < kMaxReadDirSize ? max_read : kMaxReadDirSize;
  if (most < kMinReadDirSize) most = kMinReadDirSize;
  if (room < kMinReadDirSize) return kMinReadDirSize;
  return room < most ? room : most;
}

// Whether the listing request of `dir` from `position` is a READDIRPLUS, in a
// session with init `flags` (Linux's fuse_use_readdirplus, and one rule
// more). Each record costs the device a lookup, so with READDIRPLUS_AUTO it is
// used only where its attributes are likely wanted: after a child was looked
// up since the last request (the reader is stat-ing what it got), and at the
// start of a listing (`ls -l` stats what it lists) unless the last
// READDIRPLUS's attributes went unused. Linux sends one at every start: a
// reader that lists a directory again and again and stats nothing (a shell's
// glob, a build tool's scan) has the device look up every name of the first
// reply each time. Here it pays that once; its first stat brings them back.
bool UseReadDirPlus(Directory& dir, uint32_t flags, uint64_t position) {
  if (!(flags & FUSE_DO_READDIRPLUS)) return false;
  if (!(flags & FUSE_READDIRPLUS_AUTO)) return true;
  // Taken at any position: the lookups it reports were of names listed
  // before this request.
  const bool advised = dir.TakeReadDirPlusAdvice();
  return advised || (position == 0 && !dir.ReadDirPlusUnused());
}

// An open directory. getdents64 positions are the device's own offsets (0 is
// the start, each entry's next_offset the position after it), so a reader
// resumes exactly where it stopped; READDIR and READDIRPLUS give the same
// entries at the same offsets, and the lookups a READDIRPLUS counted are
// settled (Directory::LinkListed) as soon as its reply is in. Each getdents64
// sends at most one request, as Linux does: a FUSE record (plain or plus) is
// never smaller than the linux_dirent64 it becomes, so a reply sized to the
// caller's room fits it whole, and one more request would only find the end a
// call early (and then be asked again). A reply the caller had no room for (a
// buffer smaller than a page) is kept: the next getdents64, if it continues
// where this one stopped, takes its entries from there first. Where the device
// answered OPENDIR with FOPEN_CACHE_DIR, a listing from position 0 is served
// from the directory's kept listing while it is good, and one read from 0 to
// the end is kept (fuse_listing.h).
class OpenDirectory final : public OpenFile {
 public:
  OpenDirectory(RefPtr<Directory> dir, int flags,
                const driver::OpenHandle& handle, uint64_t session)
      : OpenFile(dir->fs().platform(), dir, flags),
        dir_(std::move(dir)),
        fh_(handle.fh),
        session_(session),
        cache_listing_((handle.open_flags & FOPEN_CACHE_DIR) != 0) {}

  ~OpenDirectory() override {
    Result<driver::FuseClient*> client = dir_->fs().ClientFor(session_);
    if (!client.ok()) return;
    // Not waited for (FuseClient::PostReleaseDir): nobody to tell.
    Result<void> released = client.value()->PostReleaseDir(dir_->nodeid(), fh_);
    (void)released;
  }

 protected:
  // Called with the description's position lock held, which also guards the
  // kept reply.
  Result<void> ReadDirectory(DirentWriter& out, uint64_t position) override {
    if (position == 0) {
      // A fresh start (or a rewind): it sees the directory as it is now.
      kept_ = false;
      listing_.reset();
      fill_.reset();
      if (cache_listing_) TRY(StartListing());
    }
    if (listing_ && !(kept_ && position == next_position_)) {
      if (position == listing_->end_position()) return {};  // Its end.
      listing_.reset();  // A seek: the device lists from there.
    }
    if (!(kept_ && position == next_position_)) {
      TRY(Fetch(position, out.room()));
      if (entries_.empty()) {
        kept_ = false;  // The end; asking again later sees additions.
        return {};
      }
    }
    for (; next_ != entries_.end(); ++next_) {
      driver::DirEntry entry = *next_;
      if (!out.Add(entry.ino, entry.next_offset,
                   static_cast<uint8_t>(entry.type), entry.name)) {
        next_position_ = position;
        return {};  // Kept, from this entry on.
      }
      position = entry.next_offset;
    }
    kept_ = false;  // All returned: the next call asks the device.
    return {};
  }

  Result<void> Sync(bool data_only) override {
    driver::FuseClient* client = TRY(dir_->fs().ClientFor(session_));
    Result<void> synced = client->FsyncDir(dir_->nodeid(), fh_, data_only);
    if (!synced.ok() && synced.error() == ENOSYS) return {};
    return synced;
  }

 private:
  // One READDIR or READDIRPLUS from `position`, sized for a caller with
  // `room` bytes, into the reply buffer (allocated on first use, grown when a
  // caller has more room, never past kMaxReadDirSize). The buffer is DMA
  // memory: the device writes the entries into it in place.
  Result<void> Fetch(uint64_t position, size_t room) {
    kept_ = false;
    driver::FuseClient* client = TRY(dir_->fs().ClientFor(session_));
    const size_t size = ReadDirSize(room, client->negotiated().max_read);
    if (!buffer_ || buffer_->size() < size) {
      entries_ = {};
      next_ = entries_.end();
      buffer_.reset();  // Before the new one: both at once may not fit.
      buffer_ = TRY(base::DmaBuffer::Allocate(fs_platform(), size));
    }
    const std::span<uint8_t> reply(buffer_->data(), size);
    if (UseReadDirPlus(*dir_, client->negotiated().flags, position)) {
      // Read before the request: a change made while it is out makes the
      // attributes of its reply too old to cache.
      const uint64_t attr_version = dir_->fs().AttrVersion();
      dir_->NoteReadDirPlusSent();
      entries_ = TRY(client->ReadDirPlus(dir_->nodeid(), fh_, position, reply));
      dir_->LinkListed(entries_, session_, attr_version);
    } else {
      entries_ = TRY(client->ReadDir(dir_->nodeid(), fh_, position, reply));
    }
    if (fill_) AddToFill(position);
    next_ = entries_.begin();
    next_position_ = position;
    kept_ = true;
    return {};
  }

  // From position 0 where the device allows listings to be kept: serves the
  // directory's kept listing if it is still good, else begins one
  // (fuse_listing.h). Linux asks for the directory's mtime at this point
  // (fuse_readdir_cached).
  Result<void> StartListing() {
    const ListingStamp now = TRY(dir_->StampNow());
    listing_ = dir_->KeptListing(now);
    if (!listing_) {
      fill_.emplace(now);
      return {};
    }
    entries_ = listing_->entries();
    next_ = entries_.begin();
    next_position_ = 0;
    kept_ = true;
    return {};
  }

  // The device's reply from `position` (in entries_) to the listing being
  // made; an empty one ends it.
  void AddToFill(uint64_t position) {
    if (!entries_.empty()) {
      if (!fill_->Add(position, entries_)) fill_.reset();
      return;
    }
    if (RefPtr<Listing> made =
            fill_->End(position, dir_->fs().listing_budget())) {
      dir_->KeepListing(std::move(made));
    }
    fill_.reset();
  }

  RefPtr<Directory> dir_;
  const uint64_t fh_;
  const uint64_t session_;
  // The device answered OPENDIR with FOPEN_CACHE_DIR.
  const bool cache_listing_;
  base::Platform& fs_platform() { return dir_->fs().platform(); }

  std::optional<base::DmaBuffer> buffer_;
  RefPtr<Listing> listing_;          // The kept listing being served, if any.
  std::optional<ListingFill> fill_;  // The listing being made, if any.
  // Points into listing_ or else buffer_ while kept_.
  driver::DirentList entries_;
  bool kept_ = false;
  // The first entry of the reply not yet returned, and the position it starts
  // at (where the caller will resume).
  driver::DirentList::Iterator next_ = entries_.end();
  uint64_t next_position_ = 0;
};

}  // namespace

Directory::~Directory() {
  // Released when this returns, after the cache lock.
  DroppedNodes dropped(fs().platform());
  if (nodeid() == FUSE_ROOT_ID) {
    fs().entries().Clear(dropped);
  } else {
    fs().entries().RemoveChildren(children_, dropped);
  }
}

Result<ListingStamp> Directory::StampNow() {
  // Versions first: a change from here on makes the stamp stale.
  ListingStamp stamp{.changed_version = changed_version(),
                     .attr_version = fs().AttrVersion()};
  stamp.mtime = TRY(FetchAttr(std::nullopt)).st_mtim;
  return stamp;
}

RefPtr<Listing> Directory::KeptListing(const ListingStamp& now) {
  RefPtr<Listing> stale;  // Dropped after the lock.
  SpinGuard guard(listing_lock_);
  if (!listing_) return nullptr;
  const ListingStamp& made = listing_->stamp();
  if (made.mtime == now.mtime &&
      made.Current(now.changed_version, fs().all_invalid_before())) {
    return listing_;
  }
  stale = std::move(listing_);
  return nullptr;
}

void Directory::KeepListing(RefPtr<Listing> listing) {
  if (!listing->stamp().Current(changed_version(), fs().all_invalid_before())) {
    return;
  }
  SpinGuard guard(listing_lock_);
  std::swap(listing_, listing);  // The one it replaces goes after the lock.
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
                                  uint64_t attr_version, bool found) {
  RefPtr<FuseNode> node = fs().Instantiate(entry, session, attr_version);
  // Cached even when entry_valid is zero: the entry is then no answer to a
  // lookup, but says which node a later unlink or rename of the name touches.
  const uint64_t now = fs().platform().CoarseMonotonicNanos();
  DroppedNodes dropped(fs().platform());
  fs().entries().InsertUnless(
      children_, name, node, now, entry.entry_valid_ns, dropped,
      [&] { return found && StaleSince(attr_version); });
  return node;
}

void Directory::DropName(std::string_view name, const RefPtr<Node>& removed,
                         bool absent) {
  DroppedNodes dropped(fs().platform());
  Node* child;
  if (absent && removed) {
    const uint64_t now = fs().platform().CoarseMonotonicNanos();
    child = fs().entries().RemoveAsAbsent(children_, name, removed.get(), now,
                                          dropped);
  } else {
    child = fs().entries().Remove(children_, name, dropped);
  }
  if (removed) static_cast<FuseNode*>(removed.get())->InvalidateAttr();
  if (child && child != removed.get()) {
    static_cast<FuseNode*>(child)->InvalidateAttr();
  }
  if (!child && !removed) {
    // The node may still be alive (an open file) with attributes cached:
    // without knowing which, none can be trusted.
    fs().InvalidateAllAttributes();
  }
}

Result<RefPtr<Node>> Directory::Lookup(std::string_view name) {
  const uint64_t now = fs().platform().CoarseMonotonicNanos();
  EntryCache::Answer cached = fs().entries().Find(children_, name, now);
  if (cached.kind == EntryCache::Answer::Kind::kPresent) {
    // The first use of a name a READDIRPLUS cached: its attributes were
    // worth bringing (Linux's fuse_dentry_revalidate).
    if (static_cast<FuseNode*>(cached.node.get())->TakeListed()) {
      AdviseReadDirPlus();
    }
    return std::move(cached.node);
  }
  if (cached.kind == EntryCache::Answer::Kind::kAbsent) return Error{ENOENT};
  driver::FuseClient* client = TRY(Client());
  const uint64_t session = fs().session();
  const uint64_t attr_version = fs().AttrVersion();
  Result<driver::Entry> entry = client->Lookup(nodeid(), name);
  if (!entry.ok()) {
    if (entry.error() == ENOENT) {
      DroppedNodes dropped(fs().platform());  // The name went behind our back.
      fs().entries().Remove(children_, name, dropped);
    }
    return Error{entry.error()};
  }
  // A READDIRPLUS would have answered this (Linux's fuse_lookup).
  AdviseReadDirPlus();
  return RefPtr<Node>(
      Adopt(name, entry.value(), session, attr_version, /*found=*/true));
}

Node* Directory::LookupInSection(std::string_view name) {
  const uint64_t now = fs().platform().CoarseMonotonicNanos();
  Node* child = fs().entries().FindInSection(children_, name, now);
  // As Lookup's answer from the cache.
  if (child && static_cast<FuseNode*>(child)->TakeListed()) AdviseReadDirPlus();
  return child;
}

void Directory::LinkListed(const driver::DirentList& records, uint64_t session,
                           uint64_t attr_version) {
  // The session ended while the reply was on its way: its lookups, and the
  // node ids they were for, went with it.
  if (session != fs().session()) return;
  std::vector<fuse_forget_one> forgets;
  for (driver::DirEntry record : records) {
    if (!record.HoldsLookup()) continue;  // ".", "..", or not looked up.
    if (!LinkListedEntry(record.name, record.entry(), session, attr_version)) {
      forgets.push_back(fuse_forget_one{record.nodeid, 1});
    }
  }
  fs().Forget(forgets, session);
}

bool Directory::LinkListedEntry(std::string_view name,
                                const driver::Entry& entry, uint64_t session,
                                uint64_t attr_version) {
  // What the name named before; another node id (or type) there means the
  // name was removed or replaced behind our back.
  RefPtr<Node> old = fs().entries().Peek(children_, name);
  auto* old_node = static_cast<FuseNode*>(old.get());
  const bool replaced =
      old_node && (old_node->nodeid() != entry.nodeid ||
                   old_node->type() != (entry.attr.mode & base::kTypeMask));
  // Released when this returns, after the cache lock.
  DroppedNodes dropped(fs().platform());
  bool linked = false, cached = false;
  // With zero timeouts there is nothing to keep: the lookup goes straight
  // back rather than through a node made only to retire.
  if (entry.entry_valid_ns > 0 || entry.attr_valid_ns > 0) {
    RefPtr<FuseNode> node = fs().Instantiate(entry, session, attr_version);
    node->MarkListed();
    if (entry.entry_valid_ns > 0) {
      // As a LOOKUP's answer (Adopt).
      const uint64_t now = fs().platform().CoarseMonotonicNanos();
      cached = fs().entries().InsertUnless(
          children_, name, std::move(node), now, entry.entry_valid_ns, dropped,
          [&] { return StaleSince(attr_version); });
    }
    linked = true;
  }
  if (replaced) {
    // Not replaced by Insert above: the stale entry must not outlive this.
    if (!cached) fs().entries().Remove(children_, name, dropped);
    old_node->InvalidateAttr();  // Its link count or ctime changed.
  }
  return linked;
}

bool Directory::PrefersCreateFirst(std::string_view name) {
  return !fs().entries().Peek(children_, name);
}

Result<RefPtr<OpenFile>> Directory::Create(std::string_view name, uint32_t mode,
                                           int flags) {
  driver::FuseClient* client = TRY(Client());
  const uint64_t session = fs().session();
  const uint64_t attr_version = fs().AttrVersion();
  const uint32_t open_flags =
      static_cast<uint32_t>(flags | base::kOpenExclusive);
  Result<driver::CreatedFile> created =
      client->Create(nodeid(), name, open_flags, mode);
  if (!created.ok() && created.error() == ENOSYS) {
    // No CREATE: MKNOD then OPEN, as Linux falls back.
    driver::Entry entry =
        TRY(client->Mknod(nodeid(), name, base::kTypeRegular | mode, 0));
    InvalidateAttr();
    RefPtr<FuseNode> node = Adopt(name, entry, session, attr_version);
    return node->Open(flags & ~base::kOpenTruncate);
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

Result<void> Directory::Mknod(std::string_view name, uint32_t mode,
                              uint64_t device) {
  driver::FuseClient* client = TRY(Client());
  const uint64_t session = fs().session();
  const uint64_t attr_version = fs().AttrVersion();
  if (device > UINT32_MAX) return Error{EINVAL};  // FUSE carries 32 bits.
  driver::Entry entry =
      TRY(client->Mknod(nodeid(), name, mode, static_cast<uint32_t>(device)));
  InvalidateAttr();
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
  // The node the VFS just looked the name up to (it checked its type).
  RefPtr<Node> removed = fs().entries().Peek(children_, name);
  TRY(client->Unlink(nodeid(), name));
  InvalidateAttr();
  DropName(name, removed, /*absent=*/true);
  return {};
}

Result<void> Directory::Rmdir(std::string_view name) {
  driver::FuseClient* client = TRY(Client());
  RefPtr<Node> removed = fs().entries().Peek(children_, name);
  TRY(client->Rmdir(nodeid(), name));
  InvalidateAttr();
  DropName(name, removed, /*absent=*/true);
  return {};
}

Result<void> Directory::Rename(std::string_view old_name, Node& new_dir,
                               std::string_view new_name, unsigned flags) {
  auto& target_dir = static_cast<Directory&>(new_dir);
  driver::FuseClient* client = TRY(Client());
  TRY(target_dir.Client());
  RefPtr<Node> moved = fs().entries().Peek(children_, old_name);
  RefPtr<Node> replaced = fs().entries().Peek(target_dir.children_, new_name);
  TRY(client->Rename(nodeid(), old_name, target_dir.nodeid(), new_name, flags));
  InvalidateAttr();
  target_dir.InvalidateAttr();
  if (flags & base::kRenameExchange) {
    // Both names now name the other node: neither cached entry holds.
    target_dir.DropName(new_name, replaced, /*absent=*/false);
    DropName(old_name, moved, /*absent=*/false);
    return {};
  }
  // The old name is certainly gone unless the rename did nothing: the same
  // name, or two hard links of one file (POSIX leaves both). A directory has
  // no other link; otherwise the replaced name must be known to be another
  // file.
  const bool same_name = this == &target_dir && old_name == new_name;
  const bool old_gone =
      !same_name && moved &&
      (moved->is_directory() || (replaced && replaced != moved));
  // The moved node (its ctime) and the one it replaced (its link count).
  target_dir.DropName(new_name, replaced, /*absent=*/false);
  DropName(old_name, moved, old_gone);
  return {};
}

}  // namespace vfs::fusefs
