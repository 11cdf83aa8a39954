// A child process that aborts this process's kernel FUSE connections when this
// process is killed, so that a process serving its own mounts can always end.
//
// Killed while one of its threads waits for a reply that its own server thread
// had read, such a process never ends: the kernel waits out, whatever the
// signals, a request a server has taken, and the waiting thread keeps the
// process's descriptors open, /dev/fuse's among them, so the connection is
// never closed (state D in request_wait_answer; fs_bench killed during a
// kernel FUSE row, half the time on `seq_write_1MiB/fuse/`). The reaper, told
// of each connection as it is made, writes to its abort file under
// /sys/fs/fuse/connections once this process dies: the waiting thread gets
// ENOTCONN and the process ends.
//
// The reaper learns of the death through PR_SET_PDEATHSIG, which the kernel
// sends when the thread that forked it ends; that thread is one started for
// the purpose, which does nothing else, so it ends with the process (a thread
// of a killed process that waits in a FUSE request does not end).
#ifndef SIM_FUSE_CONNECTION_REAPER_H_
#define SIM_FUSE_CONNECTION_REAPER_H_

#include <sys/types.h>

#include "absl/status/status.h"

namespace sim {

// Starts the reaper, once a process. It runs in the caller's mount namespace
// (KeepMountsInThisProcess first, so that the control file system it may
// mount stays there).
absl::Status StartFuseConnectionReaper();

// Tells the reaper, if one runs, about a connection of this process: the
// device of its mount (stat's st_dev of the mount point) ...
void ReapFuseConnection(dev_t mount_device);
// ... and that it is ending: its number may serve another process's mount
// next.
void ForgetFuseConnection(dev_t mount_device);

}  // namespace sim

#endif  // SIM_FUSE_CONNECTION_REAPER_H_
