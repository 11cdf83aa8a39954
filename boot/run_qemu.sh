#!/usr/bin/env bash
# Boots the image under QEMU against a real virtio-fs device (vhost-user-fs, served by
# Debian's virtiofsd or by the project's own back-end from a fresh share directory), shows
# the guest's serial console, and reports the guest's verdict. Every process it starts
# runs under timeout(1) in its own process group and is stopped on exit, whatever happens.
#
# usage: run_qemu.sh --image IMAGE [--transport pci|mmio] [--timeout SECONDS]
#                    [--backend virtiofsd|vfsim] [--vfsim-virtiofsd PATH]
#                    [--append WORDS] [--device-tag TAG] [--packed] [--keep]
#   --transport pci   q35 with vhost-user-fs-pci (default)
#   --transport mmio  microvm with vhost-user-fs-device (virtio-mmio)
#   --backend         Debian's virtiofsd (default) or the project's vfsim_virtiofsd
#                     (//vhost_user:vfsim_virtiofsd, found at --vfsim-virtiofsd); with
#                     vfsim, a virtio rule the image's driver breaks fails the run
#   --append          extra guest command-line words (e.g. pci.reassign_bars)
#   --device-tag      the tag QEMU gives the device (default: root, the tag the guest
#                     expects; anything else makes the guest fail: a negative control)
#   --packed          offer packed virtqueues (the device's packed=on): the image takes
#                     them when the back-end does too (vfsim_virtiofsd; Debian's does not)
#   --keep            keep the work directory (share, logs) for inspection
#
# Exit status: 0 when the guest passed and the share holds what it should; 1 when the
# guest failed, crashed or timed out, or the share check failed; 2 for a setup problem
# (QEMU or virtiofsd missing: run tools/setup.sh).
#
# Guest verdicts (isa-debug-exit, see boot/qemu_exit.h): QEMU exits 33 = pass, 35 = fail.
# Anything else is a failure: 0 = the guest reset or shut down without a verdict (a
# triple fault under -no-reboot), 1 = QEMU error, 124 = timeout.
set -uo pipefail

readonly QEMU=${QEMU:-qemu-system-x86_64}
# shellcheck source=boot/virtiofsd_path.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/virtiofsd_path.sh"
readonly TAG=root  # The tag the guest is told to expect.
readonly STATUS_PASS=33 STATUS_FAIL=35

image="" transport=pci limit=60 append="" device_tag=$TAG keep=0 packed=off
backend=virtiofsd vfsim_virtiofsd=""
while (($#)); do
  case $1 in
    --backend) backend=$2; shift 2 ;;
    --vfsim-virtiofsd) vfsim_virtiofsd=$2; shift 2 ;;
    --image) image=$2; shift 2 ;;
    --transport) transport=$2; shift 2 ;;
    --timeout) limit=$2; shift 2 ;;
    --append) append=$2; shift 2 ;;
    --device-tag) device_tag=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --packed) packed=on; shift ;;
    *) echo "run_qemu: unknown argument $1" >&2; exit 2 ;;
  esac
done

[[ $limit =~ ^[1-9][0-9]*$ ]] || { echo "run_qemu: --timeout takes whole seconds" >&2; exit 2; }

setup_error() {
  echo "run_qemu: SETUP ERROR: $*" >&2
  echo "run_qemu: install QEMU and virtiofsd with: sudo ./tools/setup.sh" >&2
  exit 2
}
[[ -n $image && -s $image ]] || { echo "run_qemu: no image at '$image'" >&2; exit 2; }
command -v "$QEMU" >/dev/null || setup_error "$QEMU not found (Debian package qemu-system-x86)"
case $backend in
  virtiofsd)
    [[ -x $VIRTIOFSD ]] || setup_error "$VIRTIOFSD not found (Debian package qemu-system-common)"
    ;;
  vfsim)
    [[ -x $vfsim_virtiofsd ]] ||
      { echo "run_qemu: --backend vfsim needs --vfsim-virtiofsd PATH (bazel build //vhost_user:vfsim_virtiofsd)" >&2; exit 2; }
    ;;
  *) echo "run_qemu: --backend must be virtiofsd or vfsim" >&2; exit 2 ;;
esac
((EUID == 0)) || setup_error "virtiofsd needs root (it switches to the share's owners)"

case $transport in
  pci)
    machine=(-machine q35,memory-backend=mem)
    device=(-device "vhost-user-fs-pci,chardev=char0,tag=$device_tag,packed=$packed")
    ;;
  mmio)
    # microvm: no PCI, no firmware tables needed; its virtio-mmio slots must be modern.
    machine=(-machine microvm,memory-backend=mem,pit=on,pic=on,rtc=on,isa-serial=on
             -global virtio-mmio.force-legacy=false)
    device=(-device "vhost-user-fs-device,chardev=char0,tag=$device_tag,packed=$packed")
    ;;
  *) echo "run_qemu: --transport must be pci or mmio" >&2; exit 2 ;;
esac

# A short path: a vhost-user socket path must fit in sun_path (108 bytes).
work=$(mktemp -d /tmp/vfsboot.XXXXXX)
share=$work/share socket=$work/vhost-fs.sock
serial_log=$work/serial.log
groups=()

stop_all() {
  local group
  for group in "${groups[@]}"; do kill -TERM -- "-$group" 2>/dev/null; done
  for group in "${groups[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 -- "-$group" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL -- "-$group" 2>/dev/null
  done
  wait 2>/dev/null
  if ((keep)); then echo "run_qemu: kept $work"; else rm -rf "$work"; fi
}
trap stop_all EXIT
trap 'exit 1' INT TERM HUP

# ---- The share: the seed files of conformance/host_share.h (keep them in step), and a
# manifest to compare against: type, permissions, and for files size and content
# (directory sizes are filesystem noise).
mkdir -p "$share/seed"
printf 'hello from the host\n' >"$share/seed/hello.txt"
printf 'the guest removes this file\n' >"$share/seed/remove-me.txt"
manifest() {
  (cd "$share" && find . \( -type d -printf '%y %m %p\n' \) -o \( ! -type d -printf '%y %m %s %l %p\n' \) | sort &&
    find . -type f -exec sha256sum {} + | sort)
}
manifest >"$work/share.before"

# ---- The back-end. setsid: its own process group (timeout and the daemon's threads in it).
if [[ $backend == vfsim ]]; then
  backend_cmd=("$vfsim_virtiofsd" --socket-path="$socket" --shared-dir="$share" --cache=auto)
else
  backend_cmd=("$VIRTIOFSD" --socket-path="$socket" -o source="$share" -o cache=auto)
fi
echo "run_qemu: back-end: ${backend_cmd[*]}"
setsid timeout -k 5 $((limit + 30)) "${backend_cmd[@]}" >"$work/virtiofsd.log" 2>&1 &
virtiofsd_group=$!
groups+=("$virtiofsd_group")
for _ in $(seq 100); do
  [[ -S $socket ]] && break
  kill -0 "$virtiofsd_group" 2>/dev/null || break
  sleep 0.1
done
if [[ ! -S $socket ]]; then
  echo "run_qemu: $backend did not create its socket; its log:" >&2
  cat "$work/virtiofsd.log" >&2
  exit 1
fi

# ---- QEMU, TCG only (/dev/kvm here crashes guests).
qemu_args=(
  -accel tcg -cpu max -m 256M -smp 1
  -object memory-backend-memfd,id=mem,size=256M,share=on
  "${machine[@]}"
  -chardev "socket,id=char0,path=$socket"
  "${device[@]}"
  -device isa-debug-exit,iobase=0xf4,iosize=0x04
  -serial "file:$serial_log" -monitor none -display none -no-reboot
  -kernel "$image" -append "virtiofs.tag=$TAG $append"
)
echo "run_qemu: $transport transport: $QEMU ${qemu_args[*]}"
: >"$serial_log"
setsid timeout -k 5 "$limit" "$QEMU" "${qemu_args[@]}" </dev/null >"$work/qemu.log" 2>&1 &
qemu_group=$!
groups+=("$qemu_group")
# On a terminal, follow the console live; otherwise (tests, logs) print it whole once
# QEMU is gone, so that no last line can be lost to tail's polling.
if [[ -t 1 ]]; then
  tail -n +1 -s 0.2 -f --pid="$qemu_group" "$serial_log" 2>/dev/null
fi
wait "$qemu_group"
status=$?
[[ -t 1 ]] || cat "$serial_log"

verdict_ok=0
case $status in
  "$STATUS_PASS") echo "run_qemu: guest PASSED (QEMU status $status)"; verdict_ok=1 ;;
  "$STATUS_FAIL") echo "run_qemu: guest FAILED (QEMU status $status)" ;;
  124) echo "run_qemu: TIMEOUT: the guest gave no verdict within ${limit}s" ;;
  0) echo "run_qemu: the guest reset or shut down without a verdict (triple fault?)" ;;
  *) echo "run_qemu: QEMU failed (status $status)" ;;
esac
if [[ -s $work/qemu.log ]]; then
  echo "run_qemu: QEMU's own output:"; sed 's/^/  /' "$work/qemu.log"
fi

# ---- The share after the run. The scenarios announce what they leave on the host with
# serial lines "HOST-EXPECT file PATH SIZE" and "HOST-EXPECT absent PATH"; every other
# path must be as it was before the run.
share_ok=1
expect_lines=$(grep -a '^HOST-EXPECT ' "$serial_log" | tr -d '\r' || true)
expected_paths=()
while read -r _ kind path size; do
  [[ -n ${kind:-} ]] || continue
  case $path in /* | *..*) echo "run_qemu: SHARE: bad path '$path'"; share_ok=0; continue ;; esac
  expected_paths+=("./$path")
  case $kind in
    file)
      actual=$(stat -c %s "$share/$path" 2>/dev/null || echo missing)
      if [[ $actual != "$size" ]]; then
        echo "run_qemu: SHARE: $path: size $actual, expected $size"; share_ok=0
      fi
      ;;
    absent)
      if [[ -e $share/$path || -L $share/$path ]]; then
        echo "run_qemu: SHARE: $path exists, expected absent"; share_ok=0
      fi
      ;;
    *) echo "run_qemu: SHARE: unknown expectation '$kind'"; share_ok=0 ;;
  esac
done <<<"$expect_lines"
manifest >"$work/share.after"
# Paths announced by the guest may differ; everything else must be untouched.
filter_announced() {
  local line p keep_line
  while IFS= read -r line; do
    keep_line=1
    for p in "${expected_paths[@]}"; do
      [[ $line == *" $p" || $line == *" $p/"* ]] && keep_line=0
    done
    ((keep_line)) && printf '%s\n' "$line"
  done
}
if ! diff <(filter_announced <"$work/share.before") <(filter_announced <"$work/share.after") \
  >"$work/share.diff"; then
  echo "run_qemu: SHARE: the share changed in ways the guest did not announce:"
  sed 's/^/  /' "$work/share.diff"
  share_ok=0
fi
((share_ok)) && echo "run_qemu: share check passed (${#expected_paths[@]} announced path(s))"

# The project's back-end checks the image's driver against every virtio rule.
rules_ok=1
if [[ $backend == vfsim ]] && grep -q 'violation: ' "$work/virtiofsd.log"; then
  echo "run_qemu: the driver broke a virtio rule:"
  grep 'violation: ' "$work/virtiofsd.log" | sed 's/^/  /'
  rules_ok=0
fi

if ((!verdict_ok || !share_ok || !rules_ok)); then
  echo "run_qemu: $backend's log:"; sed 's/^/  /' "$work/virtiofsd.log"
  exit 1
fi
exit 0
