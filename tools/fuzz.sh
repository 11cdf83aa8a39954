#!/usr/bin/env bash
# Runs the project's libFuzzer targets (fuzz/): builds them with clang (libFuzzer and
# ASan+UBSan) in an output tree of their own, so the everyday gcc build is untouched, then
# fuzzes each for SECONDS from its checked-in corpus, and prints executions, execution
# rate, coverage and findings per target.
#
# usage: tools/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  per target (default 60)
#   TARGET   fuse_request_fuzzer, virtqueue_fuzzer, fuse_reply_fuzzer (default: all)
# New interesting inputs go to /tmp/vfsim-fuzz/corpus/TARGET (the checked-in corpus stays
# as it is: copy from there what deserves to be kept). A crash leaves crash-* in
# /tmp/vfsim-fuzz/TARGET and makes the script exit 1; replay it with
#   bazel run //fuzz:TARGET_regression -- $PWD/crash-...
# Needs clang-14 and its fuzzer runtime (Debian's clang and libclang-rt-14-dev; installed
# here when missing).
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

seconds=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(fuse_request_fuzzer virtqueue_fuzzer fuse_reply_fuzzer)
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: SECONDS must be a whole number" >&2; exit 2; }

if ! command -v clang-14 >/dev/null ||
  ! ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "fuzz.sh: installing clang-14 and its fuzzer runtime"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-14 libclang-rt-14-dev >/dev/null ||
    { echo "fuzz.sh: apt-get install clang-14 libclang-rt-14-dev failed" >&2; exit 2; }
fi

# A Bazel output base of its own: the C++ toolchain configured for clang there. It makes no
# bazel-* symlinks (--symlink_prefix=/): pointed into this output base, the checkout's would
# send the everyday build's `//...` through the fuzz tree's external repositories, where
# it fails to load.
output_base=${VFSIM_FUZZ_OUTPUT_BASE:-$HOME/.cache/vfsim-fuzz-bazel}
bazel_fuzz() {
  bazel --output_base="$output_base" "$@" --symlink_prefix=/ \
    --repo_env=CC=clang-14 --repo_env=CXX=clang++-14 \
    --copt=-fsanitize=fuzzer-no-link,address,undefined --copt=-fno-sanitize=vptr,function \
    --linkopt=-fsanitize=address,undefined --linkopt=-fno-sanitize=vptr \
    --copt=-O1 --copt=-gline-tables-only --platform_suffix=fuzz
}
labels=()
for t in "${targets[@]}"; do labels+=("//fuzz:$t"); done
echo "fuzz.sh: building ${labels[*]} with clang-14 (first time: the whole stack, a few minutes)"
bazel_fuzz build "${labels[@]}" >/tmp/vfsim-fuzz-build.log 2>&1 ||
  { tail -30 /tmp/vfsim-fuzz-build.log; echo "fuzz.sh: build failed (log: /tmp/vfsim-fuzz-build.log)" >&2; exit 2; }
bin=$(bazel --output_base="$output_base" info --platform_suffix=fuzz bazel-bin 2>/dev/null)/fuzz

status=0
printf '%-22s %12s %10s %8s %8s  %s\n' target executions "exec/s" cov ft result
for t in "${targets[@]}"; do
  work=/tmp/vfsim-fuzz/$t corpus=/tmp/vfsim-fuzz/corpus/$t
  mkdir -p "$work" "$corpus"
  log=$work/fuzz.log
  # -fork would not print one total; one process per core would double the rate.
  (cd "$work" && ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1 \
    "$bin/$t" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=4096 \
    "$corpus" "$repo/fuzz/corpus/${t%_fuzzer}" >"$log" 2>&1)
  rc=$?
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
  rate=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$')
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
  if ((rc == 0)); then
    result="no finding"
  else
    result="FINDING (exit $rc): $(ls "$work"/crash-* "$work"/timeout-* "$work"/oom-* 2>/dev/null | head -1); log $log"
    status=1
  fi
  printf '%-22s %12s %10s %8s %8s  %s\n' "$t" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$result"
done
exit $status
