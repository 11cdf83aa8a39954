// What every harness puts in the share before the scenarios run, so that
// scenarios can read and remove files the host wrote: boot/run_qemu.sh (the
// QEMU runner) and tests/conformance (the hosted suite) both seed exactly
// this. Keep the three in step.
#ifndef CONFORMANCE_HOST_SHARE_H_
#define CONFORMANCE_HOST_SHARE_H_

namespace conformance {

// A directory of host-written files, relative to the share's root.
inline constexpr char kSeedDirectory[] = "seed";
// Read by a scenario, left as it is.
inline constexpr char kSeedReadPath[] = "seed/hello.txt";
inline constexpr char kSeedReadContent[] = "hello from the host\n";
// Removed by a scenario, which declares it absent afterwards.
inline constexpr char kSeedRemovePath[] = "seed/remove-me.txt";
inline constexpr char kSeedRemoveContent[] = "the guest removes this file\n";

}  // namespace conformance

#endif  // CONFORMANCE_HOST_SHARE_H_
