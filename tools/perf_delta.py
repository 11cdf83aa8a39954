#!/usr/bin/env python3
"""Per function, the CPU ns per operation one benchmark run spends beyond
another (tools/scaling_profile.sh): each function's share of the run's perf
samples times the run's CPU time per operation (Google Benchmark's cpu_time:
all threads' CPU per operation).

  perf_delta.py ONE.report ONE.json MANY.report MANY.json [ROWS]

A .report is `perf report --no-children --sort sym --stdio -F sample,sym`,
a .json Google Benchmark's --benchmark_out of the same run.
"""
import collections
import json
import re
import sys


def samples_by_function(report):
    counts = collections.Counter()
    with open(report) as f:
        lines = f.read().splitlines()
    for line in lines:
        match = re.match(r'\s+(\d+)\s+\[(.)\]\s+(.*)', line)
        if match:
            where = 'kernel' if match.group(2) == 'k' else 'user'
            counts[(where, match.group(3).strip())] += int(match.group(1))
    return counts


def cpu_ns_per_op(results):
    with open(results) as f:
        text = f.read()
    runs = [b for b in json.loads(text)['benchmarks']
            if b.get('run_type', 'iteration') == 'iteration'] if text else []
    if not runs:
        sys.exit(f'{results}: no benchmark ran (check the row name)')
    scale = {'ns': 1, 'us': 1e3, 'ms': 1e6, 's': 1e9}[runs[0]['time_unit']]
    return runs[0]['name'], runs[0]['cpu_time'] * scale


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__)
    rows = int(sys.argv[5]) if len(sys.argv) == 6 else 30
    sides = []
    for report, results in ((sys.argv[1], sys.argv[2]),
                            (sys.argv[3], sys.argv[4])):
        name, per_op = cpu_ns_per_op(results)
        counts = samples_by_function(report)
        total = sum(counts.values())
        if total == 0:
            sys.exit(f'{report}: no samples')
        sides.append((name, per_op, {k: v / total * per_op
                                     for k, v in counts.items()}))
    (one_name, one_op, one), (many_name, many_op, many) = sides
    print(f'CPU ns per operation: {one_op:.0f} ({one_name}), '
          f'{many_op:.0f} ({many_name})')
    print(f'{"more":>7} {"one":>7} {"many":>7}  function')
    keys = set(one) | set(many)
    grown = sorted(keys, key=lambda k: many.get(k, 0) - one.get(k, 0),
                   reverse=True)
    for where, function in grown[:rows]:
        a = one.get((where, function), 0)
        b = many.get((where, function), 0)
        print(f'{b - a:7.0f} {a:7.0f} {b:7.0f}  {function[:100]}'
              f'{" [kernel]" if where == "kernel" else ""}')


if __name__ == '__main__':
    main()
