#!/usr/bin/env bash
# Where a row's CPU goes when it runs on more threads: fs_bench's one-thread
# row and its many-thread row, each under perf (cpu-clock samples), and per
# function the CPU ns per operation the many-thread run spends beyond the
# one-thread run (tools/perf_delta.py). What threads write on shared cache
# lines (a table's lock, a counter, a reference count) shows as functions whose
# cost grows, most often at the instruction after the write (perf annotate).
#   tools/scaling_profile.sh ONE_ROW MANY_ROW [BACKEND] [SECONDS]
#   e.g. tools/scaling_profile.sh read_1thread_4KiB read_2threads_4KiB
#   (BACKEND sim-inline, SECONDS 2 per row)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -lt 2 ]]; then
  echo "usage: $0 ONE_ROW MANY_ROW [BACKEND] [SECONDS]" >&2
  exit 2
fi
one=$1
many=$2
backend=${3:-sim-inline}
seconds=${4:-2}
command -v perf >/dev/null || apt-get install -y linux-perf >/dev/null
bazel build --config=opt //bench:fs_bench >/dev/null 2>&1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for side in one many; do
  row=${!side}
  if ! perf record -q -e cpu-clock -o "$work/$side.data" \
    bazel-bin/bench/fs_bench --benchmark_filter="^$row/$backend/" \
    --benchmark_min_time="$seconds" --benchmark_out="$work/$side.json" \
    --benchmark_out_format=json >"$work/$side.log" 2>&1; then
    cat "$work/$side.log" >&2
    exit 1
  fi
  perf report -i "$work/$side.data" --no-children --sort sym --stdio \
    -F sample,sym >"$work/$side.report" 2>/dev/null
done
python3 tools/perf_delta.py "$work/one.report" "$work/one.json" \
  "$work/many.report" "$work/many.json"
