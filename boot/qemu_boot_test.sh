#!/usr/bin/env bash
# Boots the image under QEMU on both transports (q35 + vhost-user-fs-pci, microvm +
# vhost-user-fs-device), running every conformance scenario against virtiofsd and checking
# the files they leave on the host; once more with the image assigning the PCI BARs
# itself; and three times as negative controls that must fail: a device tag the guest
# does not expect, a file the guest leaves without announcing it, and a CPU exception.
# The pass verdict is only worth something if these turn into failures.
#
# The same scenarios then run against the project's own vhost-user back-end
# (vfsim_virtiofsd), which also checks every virtio rule the image's driver follows.
#
# Waiters sleep until the device's interrupt (the image's default): every run on either
# machine and back-end must show used-buffer interrupts taken and completions found by
# them, with no unexpected interrupt. (Sleeps the bounding timer ended are reported, not
# checked: a host too busy to answer within the bound causes them too.) One run polls
# instead (completion=poll) and must show no interrupt at all.
#
# usage: qemu_boot_test.sh RUNNER IMAGE VFSIM_VIRTIOFSD
set -uo pipefail
runner=$1 image=$2 vfsim_virtiofsd=$3
logs=${TEST_TMPDIR:-$(mktemp -d)}
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# run NAME EXPECTED_STATUS RUNNER_ARGS...: runs the runner, checks its exit status.
run() {
  local name=$1 expected=$2 status started=$SECONDS
  shift 2
  echo "=== $name: run_qemu.sh $*"
  "$runner" --image "$image" --timeout 45 "$@" >"$logs/$name.log" 2>&1
  status=$?
  sed 's/^/  /' "$logs/$name.log"
  # How long it took tells a guest that hung (near the timeout) from a quick failure.
  echo "=== $name: exit status $status after $((SECONDS - started)) s"
  if ((status == 2)); then
    echo "FAIL: QEMU or virtiofsd is missing: run ./tools/setup.sh (installs qemu-system-x86)"
    exit 1
  fi
  ((status == expected)) || fail "$name: run_qemu.sh exited $status, expected $expected"
}

# expect NAME PATTERN: the run's log has a line matching PATTERN.
expect() {
  grep -qE -- "$2" "$logs/$1.log" || fail "$1: no line matching '$2'"
}

# What every passing run must show: the share mounted through the driver and the VFS,
# each conformance scenario passed (one line per scenario family at least), the files
# the scenarios left checked on the host.
expect_scenarios() {
  local run=$1 scenario
  expect "$run" '^share: mounted at /root'
  for scenario in create_write_read_back reads_file_the_host_wrote \
    removes_file_the_host_wrote large_file_over_several_requests truncate_and_ftruncate \
    large_directory_listed_whole_and_once mkdir_and_rmdir rename_files rename_directories \
    hard_links_share_one_file symlinks_followed_or_not \
    stat_reports_type_size_mode_and_links errors_for_missing_names \
    errors_for_existing_names errors_for_wrong_file_types errors_for_wrong_access_modes \
    errors_for_names_too_long format_renders_numbers_and_strings; do
    expect "$run" "^PASS $scenario \\([0-9]+ ms\\)"
  done
  expect "$run" '^scenarios: [1-9][0-9]* passed, 0 failed'
  expect "$run" '^HOST-EXPECT file large_file.bin [0-9]+'
  expect "$run" '^HOST-EXPECT absent seed/remove-me.txt'
  expect "$run" '^boot: heap in use [0-9]+ bytes, DMA in use 0 bytes'
  expect "$run" '^run_qemu: guest PASSED \(QEMU status 33\)'
  expect "$run" '^run_qemu: share check passed \(2 announced path'
  if grep -qE '(^|: )FAIL ' "$logs/$run.log"; then fail "$run: a FAIL line"; fi
}

# What a run that waits for interrupts must show on TRANSPORT: the interrupt routed, taken,
# and completions found by it.
expect_interrupts() {
  local run=$1 transport=$2
  expect "$run" '^interrupts: local APIC id [0-9]+ \(xAPIC\), legacy PICs masked'
  expect "$run" '^boot: completion by interrupt, each sleep bounded to [0-9]+ ms by the local APIC timer'
  if [[ $transport == pci ]]; then
    expect "$run" '^interrupts: MSI-X table of [0-9]+ entries in BAR[0-5], [0-9]+ routed'
    # Entry 2 is the request queue's (entry 0 configuration, entry 1 the hiprio queue).
    expect "$run" '^interrupts: vector 0x42 \(msix 2, queue 1\): [1-9]'
  else
    expect "$run" '^interrupts: virtio-mmio slot [0-9]+: GSI [0-9]+ \(DSDT\), level, active high'
    expect "$run" '^interrupts: vector 0x40 \(GSI [0-9]+\): [1-9]'
  fi
  expect "$run" '^completion: interrupt, used-buffer interrupts [1-9][0-9]*, by interrupt [1-9][0-9]*, '
  expect "$run" '^interrupts: unexpected 0, spurious 0'
}

run pci 0 --transport pci
expect pci '^boot: virtio-fs device found on pci'
expect pci '^driver: pci transport probed'
expect pci '^driver: device type 26, .*tag "root"'
expect_scenarios pci
expect_interrupts pci pci

run mmio 0 --transport mmio
expect mmio '^boot: virtio-fs device found on mmio'
expect mmio '^driver: mmio transport probed'
expect mmio '^driver: device type 26, .*tag "root"'
expect_scenarios mmio
expect_interrupts mmio mmio

# The project's back-end with packed rings; Debian's virtiofsd above keeps split ones.
for transport in pci mmio; do
  run "${transport}_vfsim" 0 --transport "$transport" --backend vfsim --packed \
    --vfsim-virtiofsd "$vfsim_virtiofsd"
  expect "${transport}_vfsim" '^run_qemu: back-end: .*vfsim_virtiofsd'
  expect "${transport}_vfsim" "^boot: virtio-fs device found on $transport"
  expect "${transport}_vfsim" '^share: device up, tag "root", 1 packed request queue'
  expect "$transport" '^share: device up, tag "root", 1 split request queue'
  expect_scenarios "${transport}_vfsim"
  expect_interrupts "${transport}_vfsim" "$transport"
done

run mmio_poll 0 --transport mmio --append completion=poll
expect mmio_poll '^boot: completion by polling, interrupts stay off'
expect_scenarios mmio_poll
expect mmio_poll '^completion: poll, used-buffer interrupts 0, by interrupt 0, without interrupt [1-9][0-9]*, sleeps 0, timer wake-ups 0'
if grep -q '^interrupts: ' "$logs/mmio_poll.log"; then fail "mmio_poll: interrupts were routed"; fi

run pci_image_assigned_bars 0 --transport pci --append pci.reassign_bars
expect pci_image_assigned_bars 'BAR4 memory 64-bit at 0x[0-9a-f]+, [0-9]+ bytes \(assigned by the image\)'
expect pci_image_assigned_bars '^driver: pci transport probed'
expect_interrupts pci_image_assigned_bars pci

run wrong_tag 1 --transport mmio --device-tag elsewhere
expect wrong_tag '^boot: FAIL tag "elsewhere", expected "root"'
expect wrong_tag '^run_qemu: guest FAILED \(QEMU status 35\)'

run undeclared_file 1 --transport mmio --append boot.undeclared_file_test
expect undeclared_file '^run_qemu: guest PASSED \(QEMU status 33\)'
expect undeclared_file '^run_qemu: SHARE: the share changed in ways the guest did not announce'
expect undeclared_file 'undeclared-by-guest.txt'

run cpu_exception 1 --transport pci --append boot.fault_test
expect cpu_exception '^boot: CPU exception 6 \(invalid opcode\)'
expect cpu_exception '^run_qemu: guest FAILED \(QEMU status 35\)'

if ((failures)); then
  echo "qemu_boot_test: $failures failure(s)"
  exit 1
fi
echo "qemu_boot_test: all runs as expected"
