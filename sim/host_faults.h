// Host-call faults the fault plan injects (sim/fault_plan.h, host-error=): a
// request handled on this thread finds its host system call failing with the
// armed errno, and the error travels up the real path (the handler's own
// error handling, its FUSE reply, the driver, the VFS). The passthrough
// handlers ask before each host call that changes or reads a file.
#ifndef SIM_HOST_FAULTS_H_
#define SIM_HOST_FAULTS_H_

#include <cerrno>

namespace sim {

namespace host_faults_internal {
inline thread_local int armed = 0;
}  // namespace host_faults_internal

// The next host call on this thread fails with `error` (0: none).
inline void ArmHostFault(int error) { host_faults_internal::armed = error; }

// Whether the host call about to be made fails: then errno is set, as the
// call would have set it, and the fault is used up.
inline bool HostCallFails() {
  const int error = host_faults_internal::armed;
  if (error == 0) return false;
  host_faults_internal::armed = 0;
  errno = error;
  return true;
}

}  // namespace sim

#endif  // SIM_HOST_FAULTS_H_
