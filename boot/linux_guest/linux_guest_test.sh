#!/usr/bin/env bash
# A stock Linux guest on the project's vhost-user back-end: Debian's kernel (virtio,
# virtio_pci, virtio_mmio, fuse and virtiofs modules in a busybox initramfs) mounts the
# share with `mount -t virtiofs` and runs guest/workload.sh, under QEMU TCG with two vCPUs
# (run_linux_guest.sh's default, which says why):
#   1. on vfsim_virtiofsd over virtio-pci (q35), with the FUSE trace kept;
#   2. the same with packed virtqueues (the device's packed=on);
#   3. on vfsim_virtiofsd over virtio-mmio (microvm), unless --no-mmio (the sanitizer
#      builds: QEMU owns the transport, so the back-end runs the same code as for run 1);
#   4. on Debian's virtiofsd over virtio-pci: the reference. Its share's digest depends
#      only on the guest (the workload is in its initramfs), QEMU, virtiofsd and the
#      scripts that run and digest it; it is kept in the guest cache under their checksum,
#      and a run with the same inputs (this test in another build configuration, say)
#      takes it from there instead of booting the same guest again.
# Each run must pass (the guest's own checks, no virtio or FUSE error in its kernel log,
# the checksums on the host), the back-end must report no virtio rule broken, the
# share directories must be identical (tree_digest.sh), the trace must show the requests
# Linux's virtiofs sends (INIT, READDIRPLUS, FORGET on the hiprio queue ...), and the
# back-end's log must show the rings of run 2 packed and those of run 1 split.
#
# The guest is fetched once with apt-get download into fetch_guest.sh's cache
# ($VFSIM_GUEST_CACHE, else /var/cache/vfsim/linux-guest) and reused offline afterwards.
#
# usage: linux_guest_test.sh VFSIM_VIRTIOFSD [--no-mmio]
set -uo pipefail
vfsim_virtiofsd=$(realpath "$1")
mmio=1
case ${2:-} in
  "") ;;
  --no-mmio) mmio=0 ;;
  *) echo "usage: linux_guest_test.sh VFSIM_VIRTIOFSD [--no-mmio]" >&2; exit 2 ;;
esac
vfsim_runs=(vfsim_pci vfsim_pci_packed)
((mmio)) && vfsim_runs+=(vfsim_mmio)
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# In Bazel's runfiles the scripts are links: find their directory through one of them.
dir=$(dirname "$(readlink -f "$(dirname "${BASH_SOURCE[0]}")/run_linux_guest.sh")")
[[ -x $dir/run_linux_guest.sh ]] || dir=$here
work=${TEST_TMPDIR:-$(mktemp -d)}
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

command -v qemu-system-x86_64 >/dev/null ||
  { echo "FAIL: qemu-system-x86_64 missing: run ./tools/setup.sh"; exit 1; }

echo "=== fetching the guest"
if ! guest=$("$dir/fetch_guest.sh"); then
  echo "FAIL: fetch_guest.sh could not fetch or build the guest (see above)"
  exit 1
fi
eval "$guest"  # CACHE=... KERNEL=... VMLINUX=... INITRD=...
echo "    in $CACHE"

# run NAME TRANSPORT [BACKEND_CMD [EXTRA_ARGS...]]: one guest run on a fresh share.
run() {
  local name=$1 transport=$2 backend=${3:-} status
  local args=(--kernel "$KERNEL" --initrd "$INITRD" --share "$work/share-$name"
              --transport "$transport" --timeout 100 --backend-log "$work/$name.backend.log"
              "${@:4}")
  [[ -n $backend ]] && args+=(--backend-cmd "$backend")
  echo "=== $name: run_linux_guest.sh ${args[*]}"
  "$dir/run_linux_guest.sh" "${args[@]}" >"$work/$name.log" 2>&1
  status=$?
  grep -E '^run_linux_guest: |^WORKLOAD|^DMESG|^KERNEL-PROBLEM' "$work/$name.log" | sed 's/^/  /'
  ((status == 0)) || { fail "$name: run_linux_guest.sh exited $status"; tail -40 "$work/$name.log"; }
  if grep -q 'violation: ' "$work/$name.backend.log" 2>/dev/null; then
    fail "$name: the back-end saw the guest break a virtio rule:"
    grep 'violation: ' "$work/$name.backend.log" | sed 's/^/  /'
  fi
}

# ring_format NAME FORMAT: the back-end's log of run NAME shows VIRTIO_F_RING_PACKED
# negotiated (FORMAT packed) or not (split), and every vring it started in FORMAT.
ring_format() {
  local name=$1 format=$2 log=$work/$1.backend.log negotiated started other want=0
  [[ $format == packed ]] && want=1
  negotiated=$(grep -c '^vfsim_virtiofsd: features: .*RING_PACKED' "$log" 2>/dev/null)
  started=$(grep -c "^vfsim_virtiofsd: vring [0-9]* started: $format ring" "$log" 2>/dev/null)
  other=$(grep '^vfsim_virtiofsd: vring [0-9]* started: ' "$log" 2>/dev/null |
    grep -vc "started: $format ring")
  negotiated=${negotiated:-0} started=${started:-0} other=${other:-0}
  echo "  $name: RING_PACKED negotiated $negotiated time(s); $started vrings started $format, $other otherwise"
  if (((negotiated > 0) != want)); then
    fail "$name: VIRTIO_F_RING_PACKED was$( ((want)) && echo " not") negotiated:"
    grep '^vfsim_virtiofsd: features: ' "$log" | sed 's/^/  /'
  fi
  # Linux starts the hiprio queue and one request queue.
  ((started >= 2 && other == 0)) || fail "$name: not every vring started $format"
}

run vfsim_pci pci "$vfsim_virtiofsd --trace_json=$work/trace.jsonl --stats"
run vfsim_pci_packed pci "$vfsim_virtiofsd" --packed
((mmio)) && run vfsim_mmio mmio "$vfsim_virtiofsd"
# shellcheck source=boot/virtiofsd_path.sh
source "$dir/../virtiofsd_path.sh"
reference_key=$(cat "$KERNEL" "$INITRD" "$VIRTIOFSD" "$(command -v qemu-system-x86_64)" \
  "$dir/run_linux_guest.sh" "$dir/tree_digest.sh" | sha256sum | cut -c1-32)
reference=$CACHE/reference-$reference_key.digest
if [[ -s $reference ]]; then
  echo "=== virtiofsd_pci: the share's digest of an earlier run with the same inputs ($reference)"
  cp "$reference" "$work/virtiofsd_pci.digest"
else
  failures_before=$failures
  run virtiofsd_pci pci
  if "$dir/tree_digest.sh" "$work/share-virtiofsd_pci" >"$work/virtiofsd_pci.digest"; then
    # Kept only from a run that passed; written whole, then renamed.
    ((failures == failures_before)) &&
      cp "$work/virtiofsd_pci.digest" "$reference.tmp$$" && mv "$reference.tmp$$" "$reference"
  else
    fail "virtiofsd_pci: tree_digest.sh failed"
  fi
fi

echo "=== the ring format the back-end negotiated"
ring_format vfsim_pci split
ring_format vfsim_pci_packed packed

echo "=== the shares after the runs"
for name in "${vfsim_runs[@]}" virtiofsd_pci; do
  [[ $name == virtiofsd_pci ]] ||
    "$dir/tree_digest.sh" "$work/share-$name" >"$work/$name.digest" ||
    fail "$name: tree_digest.sh failed"
  echo "  $name: $(wc -l <"$work/$name.digest") entries, $(sha256sum <"$work/$name.digest" | cut -c1-16)"
done
for name in "${vfsim_runs[@]}"; do
  diff -q "$work/virtiofsd_pci.digest" "$work/$name.digest" >/dev/null ||
    { fail "$name: the share differs from virtiofsd's:";
      diff "$work/virtiofsd_pci.digest" "$work/$name.digest" | head -20; }
done

echo "=== what Linux sent (the trace of vfsim_pci)"
for want in '"op":"INIT"' '"op":"READDIRPLUS"' '"queue":"hiprio","vq":0[^}]*"op":"FORGET"|"queue":"hiprio","vq":0[^}]*"op":"BATCH_FORGET"' \
  '"op":"CREATE"' '"op":"RENAME"' '"op":"LINK"' '"op":"SYMLINK"' '"op":"SETATTR"'; do
  count=$(grep -cE "$want" "$work/trace.jsonl" 2>/dev/null || true)
  echo "  ${count:-0} requests matching $want"
  ((${count:-0} > 0)) || fail "the trace has no request matching $want"
done
grep -m1 '"op":"INIT"' "$work/trace.jsonl" | sed 's/^/  /'

if ((failures)); then
  echo "linux_guest_test: $failures failure(s)"
  exit 1
fi
echo "linux_guest_test: a stock Linux guest ran the workload on the project's back-end as on virtiofsd"
