// `vfsim demo`: a guided walk through the driver at work. Each step makes a
// few system calls as a guest program would (create, write, read back, list,
// rename, symlink, stat, a failing open, delete), prints them with their
// results, then the FUSE requests the device saw because of them, and the demo
// ends with the requests per opcode and the violations found.
#ifndef CLI_DEMO_H_
#define CLI_DEMO_H_

#include "cli/session.h"

namespace cli {

// `on_sample_share`: the share is vfsim's own temporary one, so the demo works
// at its top; on a user's share it works in a new directory "vfsim-demo". The
// recorder should have been capturing since before the machine booted, so the
// boot's requests are shown too.
int RunDemo(Session& session, bool on_sample_share);

}  // namespace cli

#endif  // CLI_DEMO_H_
