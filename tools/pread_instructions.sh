#!/usr/bin/env bash
# Instructions per 4 KiB vfs::pread on the simulated machine (inline device),
# counted by callgrind inside the measured loop only: repeatable whatever else
# the machine is doing.
#   tools/pread_instructions.sh [COUNT]     (default 2000 preads)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-2000}
command -v valgrind >/dev/null || apt-get install -y valgrind >/dev/null
bazel build -c opt //bench:pread_instructions >/dev/null 2>&1
out=$(mktemp)
valgrind --tool=callgrind --callgrind-out-file="$out" \
  --toggle-collect='*MeasuredPreads*' bazel-bin/bench/pread_instructions \
  "$count" >/dev/null 2>&1
total=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
rm -f "$out"
echo "instructions per 4 KiB pread: $((total / count)) ($total over $count)"
