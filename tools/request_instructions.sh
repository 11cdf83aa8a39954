#!/usr/bin/env bash
# Instructions per 4 KiB vfs::pread or vfs::pwrite, per open+close, per
# create+close+unlink, per listing of a 10-file directory, per stat of a
# 3-component path with warm caches or per the same stat with the device's
# timeouts at zero (lookup: a LOOKUP per component), on the simulated
# machine (inline device), counted by callgrind inside the measured loop only:
# repeatable whatever else the machine is doing. Then the same split by layer
# (tools/instructions_by_layer.py), and the atomic read-modify-writes among them
# by layer and by function (tools/atomics_by_layer.py).
#   tools/request_instructions.sh [pread|pwrite|open|create|list|stat|lookup] [COUNT]
#   (pread, 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
op=${1:-pread}
count=${2:-2000}
case "$op" in
  pread | pwrite | open | create | list | stat | lookup) ;;
  *) echo "usage: $0 [pread|pwrite|open|create|list|stat|lookup] [COUNT]" >&2; exit 2 ;;
esac
command -v valgrind >/dev/null || apt-get install -y valgrind >/dev/null
# Without link-time optimisation (--config=opt, which the report measures): its
# inlining across files would hand a layer's instructions to the layer calling it.
bazel build -c opt //bench:request_instructions >/dev/null 2>&1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out" \
  --dump-instr=yes --compress-pos=no --compress-strings=no \
  --toggle-collect='*MeasuredRequests*' bazel-bin/bench/request_instructions \
  "$op" "$count" >/dev/null 2>&1
total=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "instructions per $op: $((total / count)) ($total over $count)"
callgrind_annotate --tree=caller --auto=no --threshold=100 "$out" 2>/dev/null |
  python3 tools/instructions_by_layer.py "$count"
python3 tools/atomics_by_layer.py "$out" "$count"
