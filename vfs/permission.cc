#include "vfs/permission.h"

#include "base/abi.h"

namespace vfs {
namespace {

constexpr uint32_t kNoChange = 0xffffffff;

}  // namespace

bool PrivilegedAccess(const Credentials& creds, uint32_t type, int mask) {
  if (!creds.fs_privileged()) return false;
  return !(mask & kMayExec) || (type & base::kTypeMask) == base::kTypeDirectory;
}

base::Result<void> CheckAccess(const Credentials& creds, const Stat& st,
                               int mask) {
  mask &= kMayRead | kMayWrite | kMayExec;
  if (creds.fs_privileged()) {
    // CAP_DAC_OVERRIDE: all but executing a file no one may execute.
    const bool is_dir = (st.st_mode & base::kTypeMask) == base::kTypeDirectory;
    if ((mask & kMayExec) && !is_dir && !(st.st_mode & base::kAnyExecute)) {
      return base::Error{EACCES};
    }
    return {};
  }
  uint32_t granted;
  if (creds.fsuid == st.st_uid) {
    granted = (st.st_mode >> 6) & 7;
  } else if (creds.InGroup(st.st_gid)) {
    granted = (st.st_mode >> 3) & 7;
  } else {
    granted = st.st_mode & 7;
  }
  if ((static_cast<uint32_t>(mask) & ~granted) != 0) {
    return base::Error{EACCES};
  }
  return {};
}

base::Result<void> CheckOwner(const Credentials& creds, const Stat& st) {
  if (creds.fs_privileged() || creds.fsuid == st.st_uid) return {};
  return base::Error{EPERM};
}

base::Result<void> CheckStickyDelete(const Credentials& creds, const Stat& dir,
                                     const Stat& victim) {
  if (!(dir.st_mode & base::kSticky) || creds.fs_privileged()) return {};
  if (creds.fsuid == victim.st_uid || creds.fsuid == dir.st_uid) return {};
  return base::Error{EPERM};
}

base::Result<void> CheckChown(const Credentials& creds, const Stat& st,
                              uint32_t uid, uint32_t gid) {
  if (creds.fs_privileged()) return {};  // CAP_CHOWN.
  const bool owner = creds.fsuid == st.st_uid;
  // chown_ok and chgrp_ok: the owner may keep the user and give the file to a
  // group of its own.
  if (uid != kNoChange && !(owner && uid == st.st_uid)) {
    return base::Error{EPERM};
  }
  if (gid != kNoChange &&
      !(owner && (gid == st.st_gid || creds.InGroup(gid)))) {
    return base::Error{EPERM};
  }
  return {};
}

uint32_t ChmodMode(const Credentials& creds, const Stat& st,
                   uint32_t requested) {
  uint32_t mode = requested & base::kPermissionMask;
  if (!creds.fs_privileged() && !creds.InGroup(st.st_gid)) {
    mode &= ~base::kSetGid;
  }
  return mode;
}

uint32_t ModeAfterModification(const Credentials& creds, const Stat& st,
                               bool by_chown) {
  uint32_t mode = st.st_mode & base::kPermissionMask;
  if ((st.st_mode & base::kTypeMask) == base::kTypeDirectory) return mode;
  if (creds.fs_privileged() && !by_chown) return mode;
  mode &= ~base::kSetUid;
  if (mode & 0010) mode &= ~base::kSetGid;  // S_IXGRP.
  return mode;
}

}  // namespace vfs
