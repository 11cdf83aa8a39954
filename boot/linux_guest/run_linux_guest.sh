#!/usr/bin/env bash
# Boots the Debian kernel + test initramfs (fetch_guest.sh) under QEMU TCG with a virtio-fs
# device served by a vhost-user backend from DIR, and reports the guest's verdict.
#
# usage: run_linux_guest.sh --kernel K --initrd I --share DIR [--transport pci|mmio]
#          [--timeout S] [--backend-cmd "CMD"] [--tag TAG] [--smp N] [--append WORDS]
#          [--packed] [--log FILE] [--keep] [--verbose]
#   --kernel K        bzImage (vmlinuz) or ELF vmlinux (PVH); both work on q35 and microvm
#   --initrd I        the initramfs built by fetch_guest.sh
#   --share DIR       the host directory to share (created if missing); the workload works
#                     in DIR/workload, replacing whatever is there
#   --transport pci   q35 + vhost-user-fs-pci (default)
#   --transport mmio  microvm + vhost-user-fs-device (virtio-mmio, found by the guest from
#                     microvm's ACPI tables: Debian's kernel lacks VIRTIO_MMIO_CMDLINE_DEVICES)
#   --timeout S       time limit for the guest in seconds (default 90)
#   --backend-cmd CMD another vhost-user-fs backend; run as: CMD --socket-path=SOCK
#                     --shared-dir=DIR (CMD is shell words, e.g. "/path/virtiofsd --cache=auto").
#                     Default: Debian's virtiofsd (boot/virtiofsd_path.sh) --socket-path=SOCK
#                     -o source=DIR -o cache=auto
#   --tag TAG         the device's tag, also given to the guest as vfstag= (default root)
#   --guest-tag TAG   a different tag for the guest only (negative test: the mount must fail)
#   --smp N           guest CPUs (default 2). Not 1 on QEMU before 8.1 (Debian 12 has 7.2):
#                     a single TCG vCPU's memory barriers are dropped (tcg_gen_mb without
#                     CF_PARALLEL), so the guest's "publish, barrier, read the device's event
#                     area" can pass the back-end's and a kick is lost for good (seen on
#                     packed rings: umount waiting for a FORGET the back-end was never told
#                     about; on split rings with Debian's virtiofsd: guests stalled mid-run or
#                     at umount). Two vCPUs make TCG emit them, about as fast on 2 host cores.
#   --append WORDS    extra kernel command-line words
#   --packed          packed virtqueues: the device property packed=on (QEMU then
#                     negotiates VIRTIO_F_RING_PACKED when the back-end offers it)
#   --log FILE        also keep the serial console log in FILE
#   --backend-log F   also keep the backend's output in F
#   --mmio-acpi off   microvm without ACPI (QEMU then puts virtio_mmio.device=... on the
#                     command line, which Debian's kernel ignores: the mount fails; a
#                     negative control)
#   --keep            keep the work directory (logs, socket dir)
#   --verbose         kernel messages on the console (default: quiet)
#
# Exit status: 0 when the guest printed "WORKLOAD PASS", no DMESG:/KERNEL-PROBLEM: line
# reports a virtio/fuse error, the guest powered off by itself and the host-side
# sha256sum -c of DIR/workload/SHA256SUMS passed; 1 otherwise (fail, crash, timeout);
# 2 for usage or setup problems.
set -euo pipefail

readonly QEMU=${QEMU:-qemu-system-x86_64}
# shellcheck source=boot/virtiofsd_path.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../virtiofsd_path.sh"

die2() { echo "run_linux_guest: SETUP ERROR: $*" >&2; exit 2; }
say() { echo "run_linux_guest: $*"; }

kernel="" initrd="" share="" transport=pci limit=90 backend_cmd="" tag=root guest_tag=""
smp=2 append="" log_copy="" backend_log_copy="" keep=0 verbose=0 mmio_acpi=on packed=0
while (($#)); do
  case $1 in
    --kernel | --initrd | --share | --transport | --timeout | --backend-cmd | --tag | \
      --guest-tag | --smp | --append | --log | --backend-log | --mmio-acpi)
      (($# >= 2)) || die2 "$1 needs a value"
      case $1 in
        --kernel) kernel=$2 ;; --initrd) initrd=$2 ;; --share) share=$2 ;;
        --transport) transport=$2 ;; --timeout) limit=$2 ;; --backend-cmd) backend_cmd=$2 ;;
        --tag) tag=$2 ;; --guest-tag) guest_tag=$2 ;; --smp) smp=$2 ;;
        --append) append=$2 ;; --log) log_copy=$2 ;; --mmio-acpi) mmio_acpi=$2 ;;
        --backend-log) backend_log_copy=$2 ;;
      esac
      shift 2 ;;
    --keep) keep=1; shift ;;
    --packed) packed=1; shift ;;
    --verbose) verbose=1; shift ;;
    -h | --help) sed -n '2,${/^#/!q;p}' "$0"; exit 0 ;;
    *) die2 "unknown argument '$1' (see --help)" ;;
  esac
done
[[ -n $kernel && -s $kernel ]] || die2 "--kernel: no kernel at '$kernel'"
[[ -n $initrd && -s $initrd ]] || die2 "--initrd: no initramfs at '$initrd'"
[[ -n $share ]] || die2 "--share DIR is required"
[[ $limit =~ ^[1-9][0-9]*$ ]] || die2 "--timeout takes whole seconds"
[[ $smp =~ ^[1-9][0-9]*$ ]] || die2 "--smp takes a number"
[[ $mmio_acpi == on || $mmio_acpi == off ]] || die2 "--mmio-acpi takes on or off"
[[ $tag =~ ^[A-Za-z0-9._-]+$ ]] || die2 "--tag: use letters, digits, . _ -"
[[ -z $guest_tag || $guest_tag =~ ^[A-Za-z0-9._-]+$ ]] || die2 "--guest-tag: use letters, digits, . _ -"
command -v "$QEMU" >/dev/null || die2 "$QEMU not found (apt-get install qemu-system-x86)"
command -v timeout >/dev/null && command -v setsid >/dev/null || die2 "timeout/setsid missing"
if [[ -z $backend_cmd ]]; then
  [[ -x $VIRTIOFSD ]] || die2 "$VIRTIOFSD not found (apt-get install qemu-system-common)"
  ((EUID == 0)) || die2 "virtiofsd needs root (it switches to the share's owners)"
fi
mkdir -p "$share" || die2 "cannot create $share"
share=$(cd "$share" && pwd)
kernel=$(realpath "$kernel") initrd=$(realpath "$initrd")

device_props="chardev=char0,tag=$tag"
((packed)) && device_props+=",packed=on"
case $transport in
  pci)
    machine=(-machine q35,memory-backend=mem)
    device=(-device "vhost-user-fs-pci,$device_props")
    ;;
  mmio)
    # microvm: the virtio-mmio slots must be modern (virtio 1.x) for vhost-user-fs. ACPI
    # stays on (the default): the guest finds the device in the DSDT (LNRO0005) and powers
    # off through the ACPI GED. With acpi=off QEMU would add virtio_mmio.device=... to the
    # command line, which Debian's kernel ignores (no VIRTIO_MMIO_CMDLINE_DEVICES).
    machine=(-machine "microvm,memory-backend=mem,pit=on,pic=on,rtc=on,isa-serial=on,acpi=$mmio_acpi"
             -global virtio-mmio.force-legacy=false)
    device=(-device "vhost-user-fs-device,$device_props")
    ;;
  *) die2 "--transport must be pci or mmio" ;;
esac

# A short path: a vhost-user socket path must fit in sun_path (108 bytes).
work=$(mktemp -d /tmp/lguest.XXXXXX)
socket=$work/vhost-fs.sock serial_log=$work/serial.log
groups=()

stop_all() {
  local group
  for group in "${groups[@]}"; do kill -TERM -- "-$group" 2>/dev/null || true; done
  for group in "${groups[@]}"; do
    for _ in $(seq 25); do
      kill -0 -- "-$group" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL -- "-$group" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [[ -n $log_copy && -f $serial_log ]]; then cp "$serial_log" "$log_copy" || true; fi
  if [[ -n $backend_log_copy && -f $work/backend.log ]]; then
    cp "$work/backend.log" "$backend_log_copy" || true
  fi
  if ((keep)); then say "kept $work"; else rm -rf "$work"; fi
}
trap stop_all EXIT
trap 'say "interrupted: stopping everything"; exit 1' INT TERM HUP

start=$(date +%s.%N)
elapsed() { awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# ---- The backend, in its own process group under timeout(1).
if [[ -z $backend_cmd ]]; then
  backend=("$VIRTIOFSD" "--socket-path=$socket" -o "source=$share" -o cache=auto)
else
  # CMD is shell words; the two options are appended as the Rust virtiofsd takes them.
  backend=(bash -c "exec $backend_cmd \"\$@\"" backend "--socket-path=$socket" "--shared-dir=$share")
fi
say "backend: ${backend[*]}"
setsid timeout -k 5 $((limit + 30)) "${backend[@]}" </dev/null >"$work/backend.log" 2>&1 &
groups+=("$!")
backend_pid=$!
for _ in $(seq 100); do
  [[ -S $socket ]] && break
  kill -0 "$backend_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ ! -S $socket ]]; then
  say "the backend did not create its socket $socket; its log:"
  sed 's/^/  /' "$work/backend.log"
  exit 1
fi

# host_tsc_khz: the host's TSC frequency in kHz, or nothing when it is not known. Under TCG
# the guest's TSC is the host's. The guest is told it (tsc_early_khz=) because it cannot
# measure it reliably: Linux calibrates the TSC against the PIT in a window of a few
# milliseconds that fails when the host deschedules QEMU inside it, and microvm has no
# HPET or ACPI PM timer to fall back on: the kernel then marks the TSC unstable and made no
# progress for the rest of the time limit (1 boot in 8 here, before reaching any device).
host_tsc_khz() {
  local mhz
  mhz=$(dmesg 2>/dev/null | sed -nE 's/.*tsc: (Refined TSC clocksource calibration|Detected): ([0-9]+\.[0-9]+) MHz.*/\2/p' | tail -1)
  if [[ -z $mhz ]] && grep -qw constant_tsc /proc/cpuinfo; then
    mhz=$(awk -F': ' '/^cpu MHz/ { print $2; exit }' /proc/cpuinfo)
  fi
  [[ $mhz =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v m="$mhz" 'BEGIN { printf "%d", m * 1000 }'
  return 0
}

# ---- QEMU, TCG only (/dev/kvm here crashes guests).
cmdline="console=ttyS0 panic=-1 vfstag=${guest_tag:-$tag}"
tsc_khz=$(host_tsc_khz)
[[ -n $tsc_khz ]] && cmdline+=" tsc_early_khz=$tsc_khz"
((verbose)) || cmdline+=" quiet"
[[ -n $append ]] && cmdline+=" $append"
qemu_args=(
  -accel tcg -cpu max -m 512M -smp "$smp"
  -object memory-backend-memfd,id=mem,size=512M,share=on
  "${machine[@]}"
  -chardev "socket,id=char0,path=$socket"
  "${device[@]}"
  -serial "file:$serial_log" -monitor none -display none -nodefaults -no-reboot
  -kernel "$kernel" -initrd "$initrd" -append "$cmdline"
)
say "$transport transport: $QEMU ${qemu_args[*]}"
: >"$serial_log"
setsid timeout -k 5 "$limit" "$QEMU" "${qemu_args[@]}" </dev/null >"$work/qemu.log" 2>&1 &
qemu_pid=$!
groups+=("$qemu_pid")
tail_pid=""
if [[ -t 1 ]]; then
  tail -n +1 -s 0.2 -f --pid="$qemu_pid" "$serial_log" 2>/dev/null &
  tail_pid=$!
fi
# Wait for QEMU; if the guest said GUEST DONE but QEMU is still there 10 s later (the guest
# halted instead of powering off), stop QEMU.
done_at="" no_poweroff=0
while kill -0 "$qemu_pid" 2>/dev/null; do
  if [[ -z $done_at ]] && grep -qa '^GUEST DONE' "$serial_log"; then done_at=$SECONDS; fi
  if [[ -n $done_at ]] && ((SECONDS - done_at >= 10)); then
    no_poweroff=1
    kill -TERM -- "-$qemu_pid" 2>/dev/null || true
    break
  fi
  sleep 0.2
done
status=0
wait "$qemu_pid" || status=$?
guest_time=$(elapsed)
if [[ -n $tail_pid ]]; then wait "$tail_pid" 2>/dev/null || true; fi
[[ -t 1 ]] || cat "$serial_log"

# ---- Verdict.
ok=1
console=$(tr -d '\r' <"$serial_log")
if grep -qx 'WORKLOAD PASS' <<<"$console"; then
  say "guest verdict: WORKLOAD PASS"
else
  ok=0
  verdict=$(grep -m1 '^WORKLOAD FAIL' <<<"$console" || true)
  say "guest verdict: ${verdict:-none (no WORKLOAD line on the console)}"
fi
if grep -q '^WORKLOAD FAIL' <<<"$console"; then ok=0; fi
dmesg_errors=$(grep -E '^(DMESG|KERNEL-PROBLEM): ' <<<"$console" |
  grep -iE '^KERNEL-PROBLEM|error|fail|warn|bug|oops|timed? ?out|corrupt|unable|invalid|cannot|refus|lost|broken' || true)
if [[ -n $dmesg_errors ]]; then
  ok=0
  say "the guest kernel reported problems:"
  sed 's/^/  /' <<<"$dmesg_errors"
fi
if ! grep -qx 'GUEST DONE' <<<"$console"; then
  ok=0
  say "the guest did not finish (no 'GUEST DONE' line)"
fi
if ((no_poweroff)); then
  say "WARNING: the guest finished but did not power off; QEMU was stopped after 10 s"
  status=0
fi
case $status in
  0) say "QEMU exited by itself after ${guest_time}s (guest powered off or rebooted)" ;;
  124 | 137) ok=0; say "TIMEOUT: QEMU killed after ${limit}s" ;;
  *) ok=0; say "QEMU failed with status $status" ;;
esac
if [[ -s $work/qemu.log ]]; then
  say "QEMU's own output:"; sed 's/^/  /' "$work/qemu.log"
fi
# The share, checked on the host: the guest's expectations against what the backend wrote.
if ((ok)) && [[ -f $share/workload/SHA256SUMS ]]; then
  if (cd "$share/workload" && sha256sum --quiet --strict -c SHA256SUMS); then
    say "host check: sha256sum -c workload/SHA256SUMS passed ($(wc -l <"$share/workload/SHA256SUMS") files)"
  else
    ok=0
    say "host check: sha256sum -c workload/SHA256SUMS FAILED"
  fi
fi

if ((ok)); then
  say "PASS ($transport, ${guest_time}s from backend start to QEMU exit)"
  exit 0
fi
say "FAIL ($transport); backend log:"
sed 's/^/  /' "$work/backend.log"
exit 1
