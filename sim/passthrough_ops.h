// Internal to PassthroughFs: the open-file record and the libfuse handler
// functions, defined across passthrough_fs*.cc by area (entries, files,
// directories, xattrs).
#ifndef SIM_PASSTHROUGH_OPS_H_
#define SIM_PASSTHROUGH_OPS_H_

#include <dirent.h>
#include <fuse3/fuse_lowlevel.h>
#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "sim/host_calls.h"
#include "sim/host_closes.h"
#include "sim/inode_table.h"
#include "sim/passthrough_fs.h"

namespace sim {

// A directory's entries as getdents64 returns them, read into a buffer of the
// handle's own: one host call per bufferful, each counted (sim/host_calls.h),
// where readdir(3) would hide its calls.
class HostDirStream {
 public:
  // The next entry of the directory open at `fd`; null at the end (errno 0)
  // or on an error (errno set). Once at the end it stays there, without asking
  // the host again, until a Seek: a READDIR that filled its reply up to the
  // end has seen it, and the one the driver sends next from there (Linux's
  // getdents64 sends it to learn of the end) costs no host call. POSIX leaves
  // it unspecified whether a name added since the listing began shows up.
  const dirent64* Next(int fd);
  // The next entry returned is the one at `offset`: 0 or the d_off of an
  // entry returned before.
  void Seek(int fd, off_t offset);

 private:
  // glibc's readdir reads 32 KiB at a time too.
  static constexpr size_t kBufferBytes = 32 << 10;
  std::unique_ptr<char[]> buffer_;
  size_t position_ = 0;
  size_t end_ = 0;
  bool at_end_ = false;
};

struct OpenHostFile {
  OpenHostFile(int fd, uint64_t nodeid, bool is_dir, bool flush_can_fail,
               DeferredCloses* close_later)
      : fd(fd),
        nodeid(nodeid),
        is_dir(is_dir),
        flush_can_fail(flush_can_fail),
        close_later(close_later) {}
  ~OpenHostFile();
  OpenHostFile(const OpenHostFile&) = delete;
  OpenHostFile& operator=(const OpenHostFile&) = delete;

  const int fd;
  const uint64_t nodeid;
  const bool is_dir;
  // Open for writing on a filesystem whose close can report an error: FLUSH
  // asks the host (PassthroughFs::FlushCanFail).
  const bool flush_can_fail;
  // Where `fd` is closed, or null: at once (PassthroughFs::CloseLater).
  DeferredCloses* const close_later;

  // An entry taken from a directory stream but not yet replied.
  struct PendingDirEntry {
    ino_t ino;
    off_t next_offset;
    unsigned char type;
    std::string name;
  };

  // Directory stream state; READDIRs on one handle are serialised.
  std::mutex mu;
  HostDirStream dir;
  // Offset of the next entry a READDIR starting here returns.
  off_t offset = 0;
  // The entry at `offset` when the last reply had no room for it: the stream
  // is already past it. Pushing it back with seekdir instead would drop the
  // stream's buffer and make the host walk the directory again (ext4 restarts
  // its htree scan) on every reply.
  std::optional<PendingDirEntry> pending;
};

// The requester's filesystem ids on the calling thread while it lives, as
// virtiofsd switches them: the host creates objects with the requester's
// ownership (and the group of a setgid directory), and checks its access to
// the directory as the guest did. setfsuid and setfsgid act on the calling
// thread alone, so requests on other threads are not affected. A root
// requester keeps the device's ids (and capabilities).
class RequesterIds {
 public:
  explicit RequesterIds(const fuse_ctx& requester);
  explicit RequesterIds(fuse_req_t req) : RequesterIds(*fuse_req_ctx(req)) {}
  ~RequesterIds();
  RequesterIds(const RequesterIds&) = delete;
  RequesterIds& operator=(const RequesterIds&) = delete;

 private:
  bool switched_ = false;
  uid_t old_uid_ = 0;
  gid_t old_gid_ = 0;
};

struct PassthroughOps {
  static PassthroughFs& Fs(fuse_req_t req) {
    return *static_cast<PassthroughFs*>(fuse_req_userdata(req));
  }
  // 0 when `name` is one ordinary component; EINVAL for "", ".", ".." or a '/';
  // ENAMETOOLONG above NAME_MAX.
  static int CheckNewName(const char* name);
  // 0 when the request's uid and gid can be taken; EINVAL for -1, which no
  // client sends (Linux sends the overflow id for one it cannot map) and which
  // setfsuid would take as "keep the device's own".
  static int CheckRequester(const fuse_ctx& requester);
  // Resolves `parent_id` and checks `name` and the requester before anything
  // on the host is touched: 0 or an errno.
  static int PrepareNewName(PassthroughFs& fs, const fuse_ctx& requester,
                            fuse_ino_t parent_id, const char* name,
                            std::shared_ptr<Inode>* parent);
  static std::string ProcPath(int fd);
  // Resolves a node id; replies with the error and returns false when invalid.
  static bool GetInode(fuse_req_t req, fuse_ino_t ino,
                       std::shared_ptr<Inode>* out);
  // Resolves a file handle that must belong to `ino` (EBADF otherwise); replies
  // with the error and returns false when invalid.
  static bool GetOpenFile(fuse_req_t req, fuse_ino_t ino,
                          const fuse_file_info* fi, bool want_dir,
                          std::shared_ptr<OpenHostFile>* out);
  // Looks `name` up under `parent` and adds a lookup to the result: 0 or an
  // errno.
  static int DoLookup(PassthroughFs& fs, fuse_ino_t parent_id,
                      const Inode& parent, const char* name,
                      fuse_entry_param* e);
  static void FillEntry(PassthroughFs& fs, uint64_t nodeid,
                        const struct stat& st, fuse_entry_param* e);
  static void ReplyErrno(fuse_req_t req, int err) { fuse_reply_err(req, err); }
  // The permission bits a new object gets: the request's, less the umask it
  // carries (a client that negotiated FUSE_DONT_MASK leaves the umask to the
  // device; one that did not has applied it already, and applying it again
  // changes nothing). The device's own umask plays no part.
  static mode_t RequestedMode(const fuse_ctx& requester, mode_t mode) {
    return mode & 07777 & ~requester.umask;
  }
  // Gives the object behind `fd` (any descriptor, O_PATH included, not of a
  // symlink) the permission bits `mode` when the host's umask took some away;
  // on a directory, a setgid bit inherited from its parent stays. Under the
  // requester's ids, so that the host strips a setgid bit as Linux's chmod
  // would. 0 or an errno.
  static int SetCreatedMode(int fd, mode_t mode);

  // passthrough_fs.cc: session, entries and attributes.
  static void Init(void* userdata, fuse_conn_info* conn);
  static void Destroy(void* userdata);
  static void Lookup(fuse_req_t req, fuse_ino_t parent, const char* name);
  static void Forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
  static void ForgetMulti(fuse_req_t req, size_t count,
                          fuse_forget_data* forgets);
  static void Getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  static void Setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr,
                      int valid, fuse_file_info* fi);
  static void Readlink(fuse_req_t req, fuse_ino_t ino);
  static void Statfs(fuse_req_t req, fuse_ino_t ino);
  static void Access(fuse_req_t req, fuse_ino_t ino, int mask);

  // passthrough_fs_namespace.cc: creating, linking, renaming and removing
  // names.
  static void Mknod(fuse_req_t req, fuse_ino_t parent, const char* name,
                    mode_t mode, dev_t rdev);
  static void Mkdir(fuse_req_t req, fuse_ino_t parent, const char* name,
                    mode_t mode);
  static void Symlink(fuse_req_t req, const char* link, fuse_ino_t parent,
                      const char* name);
  static void Link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
                   const char* newname);
  static void Unlink(fuse_req_t req, fuse_ino_t parent, const char* name);
  static void Rmdir(fuse_req_t req, fuse_ino_t parent, const char* name);
  static void Rename(fuse_req_t req, fuse_ino_t parent, const char* name,
                     fuse_ino_t newparent, const char* newname,
                     unsigned int flags);

  // passthrough_fs_file.cc: open files and the data path.
  static void Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  static void Create(fuse_req_t req, fuse_ino_t parent, const char* name,
                     mode_t mode, fuse_file_info* fi);
  static void Read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                   fuse_file_info* fi);
  static void WriteBuf(fuse_req_t req, fuse_ino_t ino, fuse_bufvec* bufv,
                       off_t off, fuse_file_info* fi);
  static void Flush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  static void Release(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  static void Fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
                    fuse_file_info* fi);
  static void Lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
                    fuse_file_info* fi);
  static void Fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset,
                        off_t length, fuse_file_info* fi);
  static void CopyFileRange(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
                            fuse_file_info* fi_in, fuse_ino_t ino_out,
                            off_t off_out, fuse_file_info* fi_out, size_t len,
                            int flags);
  static void Poll(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi,
                   fuse_pollhandle* ph);

  // passthrough_fs_dir.cc: directory handles.
  static void Opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  static void Readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                      fuse_file_info* fi);
  static void Readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
                          off_t off, fuse_file_info* fi);
  static void Releasedir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  static void Fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
                       fuse_file_info* fi);

  // passthrough_fs_xattr.cc: extended attributes.
  static void Setxattr(fuse_req_t req, fuse_ino_t ino, const char* name,
                       const char* value, size_t size, int flags);
  static void Getxattr(fuse_req_t req, fuse_ino_t ino, const char* name,
                       size_t size);
  static void Listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
  static void Removexattr(fuse_req_t req, fuse_ino_t ino, const char* name);
};

}  // namespace sim

#endif  // SIM_PASSTHROUGH_OPS_H_
