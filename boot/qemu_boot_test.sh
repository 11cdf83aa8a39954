#!/usr/bin/env bash
# Boots the image under QEMU on both transports (q35 + vhost-user-fs-pci, microvm +
# vhost-user-fs-device), once more with the image assigning the PCI BARs itself, and twice
# as negative controls that must fail: a device tag the guest does not expect, and a CPU
# exception. The pass verdict is only worth something if these turn into failures.
#
# usage: qemu_boot_test.sh RUNNER IMAGE
set -uo pipefail
runner=$1 image=$2
logs=${TEST_TMPDIR:-$(mktemp -d)}
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# run NAME EXPECTED_STATUS RUNNER_ARGS...: runs the runner, checks its exit status.
run() {
  local name=$1 expected=$2 status
  shift 2
  echo "=== $name: run_qemu.sh $*"
  "$runner" --image "$image" --timeout 45 "$@" >"$logs/$name.log" 2>&1
  status=$?
  sed 's/^/  /' "$logs/$name.log"
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

run pci 0 --transport pci
expect pci '^boot: virtio-fs device found on pci'
expect pci '^driver: pci transport probed'
expect pci '^driver: device type 26, .*tag "root"'
expect pci '^fuse: read seed/hello.txt'
expect pci '^fuse: wrote and read back written-by-guest.txt'
expect pci '^PASS format_renders_numbers_and_strings'
expect pci '^run_qemu: guest PASSED \(QEMU status 33\)'
expect pci '^run_qemu: share check passed \(1 announced path'

run mmio 0 --transport mmio
expect mmio '^boot: virtio-fs device found on mmio'
expect mmio '^driver: mmio transport probed'
expect mmio '^driver: device type 26, .*tag "root"'
expect mmio '^fuse: wrote and read back written-by-guest.txt'
expect mmio '^PASS result_carries_errno_through_try'
expect mmio '^run_qemu: guest PASSED \(QEMU status 33\)'
expect mmio '^run_qemu: share check passed \(1 announced path'

run pci_image_assigned_bars 0 --transport pci --append pci.reassign_bars
expect pci_image_assigned_bars 'BAR4 memory 64-bit at 0x[0-9a-f]+, [0-9]+ bytes \(assigned by the image\)'
expect pci_image_assigned_bars '^driver: pci transport probed'

run wrong_tag 1 --transport mmio --device-tag elsewhere
expect wrong_tag '^boot: FAIL tag "elsewhere", expected "root"'
expect wrong_tag '^run_qemu: guest FAILED \(QEMU status 35\)'

run cpu_exception 1 --transport pci --append boot.fault_test
expect cpu_exception '^boot: CPU exception 6 \(invalid opcode\)'
expect cpu_exception '^run_qemu: guest FAILED \(QEMU status 35\)'

if ((failures)); then
  echo "qemu_boot_test: $failures failure(s)"
  exit 1
fi
echo "qemu_boot_test: all runs as expected"
