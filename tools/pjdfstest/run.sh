#!/usr/bin/env bash
# Runs the unchanged pjdfstest suite with prove against each back end, the back ends at the
# same time, and prints the assertions passed and failed per back end and per directory:
#   host  the host directory itself (the reference)
#   fuse  a host kernel FUSE mount of the device's handlers, mounted as a virtiofs guest
#         mounts (allow_other,default_permissions)
#   pci   pjdfstest's system calls through vfs:: on a simulated machine, virtio-pci
#   mmio  the same over virtio-mmio
# An assertion that passes on the host must pass on every other back end, unless
# tools/pjdfstest/expected_failures.txt lists it (with its reason). Exits 1 when one
# fails unexpectedly, when a listed one passes (the list must shrink), or when the
# driver broke a virtio rule; the last line reads
#   pjdfstest: N passed, M failed (E expected failures)
#
# The host's run is the reference and runs none of the project's code: its TAP logs are
# kept under the checksum of what it depends on (the suite, its build, this script, the
# shell, the host's kernel and its fs.protected_* settings, the filesystem under --work,
# the tests chosen) and a later run with the same inputs reads them instead of running
# the suite on the host again. The summary marks such a back end "(reused)" and leaves
# its assertions out of the count of passed ones.
#
# usage: tools/pjdfstest/run.sh [--suite DIR] [--work DIR] [--backends host,fuse,pci,mmio]
#                               [--jobs N] [--host-cache DIR] [--mmio-every N]
#                               [--host-on-demand] [TEST_DIR_OR_FILE...]
# TEST_DIR_OR_FILE is relative to the suite's tests/ (chmod, rename/09.t); all by default.
# --mmio-every N runs mmio on every Nth test file of those chosen (sorted, from the first):
# pci and mmio differ only in the transport, which every file's first assertion crosses;
# 1, the default, runs them all.
# --host-cache is where the host's logs are kept (default /var/cache/vfsim/pjdfstest;
# "" runs the host's suite every time and keeps nothing).
# --host-on-demand: without the host's logs in the cache, the host runs after the others and
# only the test files where one of them failed an assertion or that hold an expected failure:
# the only assertions whose verdict its reference can change. The rest are judged as without
# the host (what the suite marks TODO for Linux is not held against a back end).
# Needs root (the suite changes owners), autoconf, automake and prove (tools/setup.sh).
set -euo pipefail

repo=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
suite="$repo/../shared/suites/pjdfstest"
work=/tmp/vfsim-pjdfstest
backends=host,fuse,pci,mmio
jobs=$(nproc)
host_cache=/var/cache/vfsim/pjdfstest
mmio_every=1
host_on_demand=0
selection=()
while (($#)); do
  case $1 in
    --suite) suite=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --backends) backends=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --host-cache) host_cache=$2; shift 2 ;;
    --mmio-every) mmio_every=$2; shift 2 ;;
    --host-on-demand) host_on_demand=1; shift ;;
    -h|--help) sed -n '2,35p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) selection+=("$1"); shift ;;
  esac
done
[[ -f $suite/pjdfstest.c ]] || { echo "run.sh: no pjdfstest suite at $suite" >&2; exit 2; }
suite=$(cd "$suite" && pwd)
((EUID == 0)) || { echo "run.sh: pjdfstest needs root" >&2; exit 2; }
for tool in autoreconf prove objcopy cc; do
  command -v $tool >/dev/null || { echo "run.sh: $tool missing (tools/setup.sh)" >&2; exit 2; }
done
((${#selection[@]})) || selection=(.)
[[ $mmio_every =~ ^[1-9][0-9]*$ ]] ||
  { echo "run.sh: --mmio-every wants a positive number, not '$mmio_every'" >&2; exit 2; }
IFS=, read -r -a backend_list <<<"$backends"
for backend in "${backend_list[@]}"; do
  [[ $backend =~ ^(host|fuse|pci|mmio)$ ]] ||
    { echo "run.sh: unknown back end $backend" >&2; exit 2; }
done
mkdir -p "$work"

# 1. The suite's command, built as its README says, in a copy (the suite stays unchanged),
# and its code once more as position-independent code for the simulated machine's command
# (step 2); rebuilt only when the suite changes.
stamp=$(cd "$suite" && find . -type f -newer /dev/null -printf '%p %s %T@\n' | sort | md5sum)
if [[ ! -x $work/src/pjdfstest || ! -f $work/src/pjdfstest.pic.o ||
      $(cat "$work/src.stamp" 2>/dev/null) != "$stamp" ]]; then
  echo "run.sh: building pjdfstest in $work/src"
  rm -rf "$work/src"
  cp -a "$suite" "$work/src"
  (cd "$work/src" && autoreconf -ifs && ./configure && make pjdfstest &&
    cc -DHAVE_CONFIG_H -I. -g -O2 -fPIC -c pjdfstest.c -o pjdfstest.pic.o) >"$work/build.log" 2>&1 ||
    { echo "run.sh: building pjdfstest failed; see $work/build.log" >&2; exit 1; }
  echo "$stamp" >"$work/src.stamp"
fi

# 2. The simulated machine's command (tools/pjdfstest/suite_main.cc) and the FUSE mount
# server; and the suite's code as the library that command loads, its main renamed and
# its system calls renamed to the command's pjd_* (tools/pjdfstest/vfs_syscalls.cc).
(cd "$repo" && bazel build //tools/pjdfstest:pjdfstest_vfs \
    //tools/pjdfstest:pjdfstest_fuse_mount) >"$work/bazel.log" 2>&1 ||
  { echo "run.sh: bazel build failed; see $work/bazel.log" >&2; exit 1; }
bin=$(cd "$repo" && bazel info bazel-bin 2>/dev/null)/tools/pjdfstest
rm -rf "$work/lib" && mkdir -p "$work/lib"
install -m 0755 "$bin/pjdfstest_vfs" "$work/lib/"
calls=$(nm -u "$work/src/pjdfstest.pic.o" | awk '{print $2}' |
  grep -xE 'bind|chmod|chown|close|connect|fchmod|fchmodat|fchown|fchownat|fpathconf|fstat|fstatat|ftruncate|lchmod|lchown|link|linkat|lstat|mkdir|mkdirat|mkfifo|mkfifoat|mknod|mknodat|open|openat|pathconf|posix_fallocate|pread|pwrite|rename|renameat|rmdir|setegid|setgroups|setuid|socket|stat|symlink|symlinkat|truncate|umask|unlink|unlinkat|utimensat|write')
objcopy $(for c in $calls; do echo "--redefine-sym $c=pjd_$c"; done) \
  --redefine-sym main=pjdfstest_suite_main "$work/src/pjdfstest.pic.o" "$work/lib/suite.o"
cc -shared -o "$work/lib/libpjdfstest_suite.so" "$work/lib/suite.o"

# 3. Each back end: a tree where tests/ finds its own pjdfstest (misc.sh looks upward from
# the test), a fresh 0755 share, and prove run in the directory under test. The .t
# scripts' output is kept per file for the summary.
tap_logger="$work/lib/tap_logger"
cat >"$tap_logger" <<'EOF'
#!/bin/sh
# prove --exec: runs one .t, keeping its TAP output under $PJDFSTEST_LOGS.
log="$PJDFSTEST_LOGS/${1##*/tests/}.tap"
mkdir -p "$(dirname "$log")"
sh "$1" | tee "$log"
EOF
chmod +x "$tap_logger"

# The checksum the host's logs are kept under (see the top).
host_reference_key() {
  {
    cat "$work/src/pjdfstest" "$repo/tools/pjdfstest/run.sh" "$(readlink -f /bin/sh)"
    (cd "$work/src/tests" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
    uname -srvm
    grep -H . /proc/sys/fs/protected_*
    findmnt -n -o FSTYPE,OPTIONS --target "$work"
    printf '%s\n' "${selection[@]}"
  } | sha256sum | cut -c1-32
}

# run_backend NAME: one back end's suite, in a subshell of its own (its environment, its
# FUSE server), so that the back ends run at the same time: most of a run is process
# start-ups, but one back end with prove -j$(nproc) uses about 80% of two cores (pci
# alone: 532 CPU-seconds in 327 s), the rest waiting in the suite's `sleep 1`s. The logs
# are kept in $kept when the caller sets it.
run_backend() (
  backend=$1 root="$work/$1"
  fuse_pid=
  trap '[[ -z $fuse_pid ]] || { kill "$fuse_pid"; wait "$fuse_pid"; } 2>/dev/null' EXIT
  rm -rf "$root" && mkdir -p "$root/share" && chmod 0755 "$root/share"
  ln -s "$work/src/tests" "$root/tests"
  export PJDFSTEST_LOGS="$root/logs"
  unset PJDFSTEST_VFS_SHARE PJDFSTEST_VFS_TRANSPORT PJDFSTEST_VFS_VIOLATIONS PJDFSTEST_VFS_SUITE
  run_dir="$root/share"
  case $backend in
    host) cp "$work/src/pjdfstest" "$root/pjdfstest" ;;
    fuse)
      cp "$work/src/pjdfstest" "$root/pjdfstest"
      mkdir -p "$root/mnt"
      "$bin/pjdfstest_fuse_mount" "$root/share" "$root/mnt" >"$root/mount.log" 2>&1 &
      fuse_pid=$!
      for _ in $(seq 100); do
        grep -q " $root/mnt fuse" /proc/mounts && break
        kill -0 "$fuse_pid" 2>/dev/null || break
        sleep 0.1
      done
      grep -q " $root/mnt fuse" /proc/mounts ||
        { echo "run.sh: the FUSE mount failed: $(cat "$root/mount.log")" >&2; exit 1; }
      chmod 0755 "$root/mnt"
      run_dir="$root/mnt"
      ;;
    pci|mmio)
      cp "$work/lib/pjdfstest_vfs" "$root/pjdfstest"
      export PJDFSTEST_VFS_SHARE="$root/share" PJDFSTEST_VFS_TRANSPORT=$backend
      export PJDFSTEST_VFS_SUITE="$work/lib/libpjdfstest_suite.so"
      export PJDFSTEST_VFS_VIOLATIONS="$root/violations.log"
      ;;
  esac
  targets=()
  for t in "${selection[@]}"; do targets+=("$root/tests/$t"); done
  if [[ $backend == mmio ]] && ((mmio_every > 1)); then
    local all=()
    mapfile -t all < <(find -L "${targets[@]}" -name '*.t' | sort)
    targets=()
    for ((i = 0; i < ${#all[@]}; i += mmio_every)); do targets+=("${all[i]}"); done
    echo "run.sh: mmio: one test file in $mmio_every: ${#targets[@]} of ${#all[@]}"
  fi
  echo "run.sh: $backend: prove -j$jobs in $run_dir"
  start=$SECONDS
  (cd "$run_dir" && prove -j"$jobs" -r --exec "$tap_logger" "${targets[@]}" >"$root/prove.log" 2>&1) || true
  echo "run.sh: $backend: $((SECONDS - start)) s"
  # Kept only from a run prove finished (it prints its result last); written whole, then
  # renamed.
  if [[ -n $kept ]] && grep -q '^Result: ' "$root/prove.log"; then
    mkdir -p "$host_cache" && tar -cf "$kept.tmp$$" -C "$PJDFSTEST_LOGS" . &&
      mv "$kept.tmp$$" "$kept"
  fi
)

reused=()
runs=()
host_deferred=0
for backend in "${backend_list[@]}"; do
  kept=
  [[ $backend == host && -n $host_cache ]] && kept=$host_cache/host-$(host_reference_key).tar
  if [[ -n $kept && -s $kept ]]; then
    echo "run.sh: host: the logs of an earlier run with the same inputs ($kept)"
    rm -rf "$work/host" && mkdir -p "$work/host/logs" && tar -xf "$kept" -C "$work/host/logs"
    reused+=(--reused host)
    continue
  fi
  if [[ $backend == host ]] && ((host_on_demand)); then
    host_deferred=1
    continue
  fi
  run_backend "$backend" &
  runs+=($!)
done
failed_runs=0
for run in "${runs[@]}"; do wait "$run" || failed_runs=1; done
((failed_runs == 0)) || { echo "run.sh: a back end could not run (above)" >&2; exit 1; }

summarize=("$repo/tools/pjdfstest/summarize.py" --work "$work"
  --expected "$repo/tools/pjdfstest/expected_failures.txt")
if ((host_deferred)); then
  others=()
  for backend in "${backend_list[@]}"; do [[ $backend == host ]] || others+=("$backend"); done
  to_judge=$(python3 "${summarize[@]}" --files-to-judge "${others[@]}") || exit 1
  mapfile -t judged <<<"$to_judge"
  [[ -n ${judged[0]} ]] || judged=()
  if ((${#judged[@]})); then
    echo "run.sh: host: on demand, the ${#judged[@]} test file(s) to judge: ${judged[*]}"
    (selection=("${judged[@]}") kept= && run_backend host) ||
      { echo "run.sh: the host could not run (above)" >&2; exit 1; }
  else
    echo "run.sh: host: not run (--host-on-demand): no other back end failed an assertion"
    backend_list=("${others[@]}")
  fi
fi

# 4. The figures, and the verdict against the host and the expected failures.
python3 "${summarize[@]}" "${reused[@]}" "${backend_list[@]}"
