#!/usr/bin/env python3
"""Runs the file system benchmarks and prints one table: an operation a row, the back ends
as columns, each cell the back end's figure and its speed relative to the host's own calls.
Then the project's targets, PASS or MISS, and the same table as a PNG chart (gnuplot).

usage (from the workspace):
  bazel run -c opt //bench:report -- --quick        a short run, about a minute
  bazel run -c opt //bench:report                   the full run (3 repetitions, medians)
  bazel run -c opt //bench:report -- --json FILE    the report of an earlier run's JSON

How to read a cell: "1.23 (0.45x)" is the back end's figure in the row's unit, and in
parentheses its speed relative to the host's own system calls on the same files: 1.00x is
the host's speed, 0.50x twice as slow, 2.00x twice as fast (for a time per operation the
ratio is host time / back end time; for a throughput, back end / host).
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

BACKENDS = ["host", "fuse", "sim-inline", "sim-thread"]
SIM_BACKENDS = ["sim-inline", "sim-thread"]

# Operation -> (label, kind): "bytes" rows show GB/s, "time" rows a time per operation.
OPERATIONS = [
    ("seq_read_4KiB", "sequential read, 4 KiB calls", "bytes"),
    ("seq_read_64KiB", "sequential read, 64 KiB calls", "bytes"),
    ("seq_read_1MiB", "sequential read, 1 MiB calls", "bytes"),
    ("seq_write_4KiB", "sequential write, 4 KiB calls", "bytes"),
    ("seq_write_64KiB", "sequential write, 64 KiB calls", "bytes"),
    ("seq_write_1MiB", "sequential write, 1 MiB calls", "bytes"),
    ("rand_pread_4KiB", "random pread, 4 KiB", "bytes"),
    ("read_2threads_64KiB", "2 threads pread, 64 KiB", "bytes"),
    ("stat_cached", "stat a/b/c.txt, caches on", "time"),
    ("stat_uncached", "stat a/b/c.txt, caches off", "time"),
    ("open_close", "open+close", "time"),
    ("rand_pread_4KiB_packed", "packed rings: random pread, 4 KiB", "bytes"),
    ("open_close_packed", "packed rings: open+close", "time"),
    ("create_unlink", "create+unlink", "time"),
    ("getdents64_10", "list 10 entries", "time"),
    ("getdents64_1000", "list 1 000 entries", "time"),
    ("getdents64_10000", "list 10 000 entries", "time"),
    ("stream_1GiB", "stream 1 GiB, 1 MiB reads", "bytes"),
]

# The suffix of the rows the simulated machines repeat on packed virtqueues.
PACKED = "_packed"

_NS_PER_UNIT = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


class Result:
    """One benchmark's figures (the median of repetitions when there are several)."""

    def __init__(self, time_ns, bytes_per_second=None, fuse_req_per_op=None,
                 peak_rss_mib=None, error=None):
        self.time_ns = time_ns
        self.bytes_per_second = bytes_per_second
        self.fuse_req_per_op = fuse_req_per_op
        self.peak_rss_mib = peak_rss_mib
        self.error = error


def load_results(doc):
    """{(operation, back end): Result} from Google Benchmark's JSON output (a dict)."""
    runs = {}
    medians = {}
    for b in doc.get("benchmarks", []):
        name = b.get("run_name") or b["name"]
        parts = name.split("/")
        if len(parts) < 2:
            continue
        key = (parts[0], parts[1])
        if b.get("error_occurred"):
            runs.setdefault(key, []).append(Result(None, error=b.get("error_message", "error")))
            continue
        result = Result(
            b["real_time"] * _NS_PER_UNIT.get(b.get("time_unit", "ns"), 1.0),
            b.get("bytes_per_second"),
            b.get("fuse_req_per_op"),
            b.get("peak_rss_MiB"),
        )
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[key] = result
        else:
            runs.setdefault(key, []).append(result)
    results = dict(medians)
    for key, rs in runs.items():
        failed = [r for r in rs if r.error]
        if failed:
            results[key] = failed[0]
        elif key not in medians:
            results[key] = _median_of(rs)
    return results


def _median_of(rs):
    rs = sorted(rs, key=lambda r: r.time_ns)
    return rs[len(rs) // 2]


def speed_ratio(results, op, backend, reference="host"):
    """How fast `backend` is relative to `reference` (2.0: twice as fast), or None. A row
    only the simulated machines run (on packed rings) is compared with the host's figure
    of the operation it repeats."""
    a = results.get((op, backend))
    r = results.get((op, reference)) or results.get((op.removesuffix(PACKED), reference))
    if a is None or r is None or a.error or r.error:
        return None
    if a.bytes_per_second and r.bytes_per_second:
        return a.bytes_per_second / r.bytes_per_second
    return r.time_ns / a.time_ns if a.time_ns else None


def _figure(result, kind):
    if kind == "bytes" and result.bytes_per_second:
        return "%.2f" % (result.bytes_per_second / 1e9)
    t = result.time_ns / 1e3
    return "%.2f" % t if t < 100 else "%.0f" % t


def _unit(kind):
    return "GB/s" if kind == "bytes" else "us/op"


def build_table(results):
    """The table as a list of text lines."""
    headers = ["operation", "unit"] + BACKENDS + ["FUSE req/op (inline, thread)",
                                                  "peak RSS MiB (inline, thread)"]
    rows = []
    for op, label, kind in OPERATIONS:
        if not any((op, b) in results for b in BACKENDS):
            continue
        row = [label, _unit(kind)]
        for backend in BACKENDS:
            r = results.get((op, backend))
            if r is None:
                row.append("-")
            elif r.error:
                row.append("skipped" if r.error.startswith("skipped") else "error")
            else:
                cell = _figure(r, kind)
                ratio = speed_ratio(results, op, backend)
                if backend != "host" and ratio is not None:
                    cell += " (%.2fx)" % ratio
                row.append(cell)
        for field, fmt in (("fuse_req_per_op", "%.1f"), ("peak_rss_mib", "%.0f")):
            values = []
            for backend in SIM_BACKENDS:
                r = results.get((op, backend))
                v = getattr(r, field) if r is not None and not r.error else None
                values.append(fmt % v if v is not None else "-")
            row.append(", ".join(values))
        rows.append(row)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return lines


class Target:
    """A goal of the project: `ratio(results)` must be at least `minimum`."""

    def __init__(self, text, op, backend, reference, minimum):
        self.text, self.op, self.backend = text, op, backend
        self.reference, self.minimum = reference, minimum


def targets():
    out = []
    for b in SIM_BACKENDS:
        out += [
            Target("random 4 KiB pread within 2x of host", "rand_pread_4KiB", b, "host", 0.5),
            Target("sequential 1 MiB reads >= 0.7x host throughput", "seq_read_1MiB", b,
                   "host", 0.7),
            Target("stat, caches on, within 1.5x of host", "stat_cached", b, "host", 1 / 1.5),
            Target("getdents64 of 10 000 entries within 2x of host", "getdents64_10000", b,
                   "host", 0.5),
            Target("open+close >= 3x faster than kernel FUSE", "open_close", b, "fuse", 3.0),
            Target("create+unlink >= 3x faster than kernel FUSE", "create_unlink", b, "fuse",
                   3.0),
            Target("listing 10 000 entries >= 3x faster than kernel FUSE", "getdents64_10000",
                   b, "fuse", 3.0),
        ]
        for size in ("4KiB", "64KiB", "1MiB"):
            out.append(Target("%s writes >= 3x faster than kernel FUSE" % size,
                              "seq_write_" + size, b, "fuse", 3.0))
    return out


RSS_LIMIT_MIB = 64


def evaluate_targets(results):
    """[(status, back end, text, detail)]: status PASS, MISS or N/A."""
    out = []
    for t in targets():
        r = speed_ratio(results, t.op, t.backend, t.reference)
        if r is None:
            missing = [b for b in (t.backend, t.reference)
                       if results.get((t.op, b)) is None or results[(t.op, b)].error]
            why = "; ".join("%s: %s" % (b, results[(t.op, b)].error
                                        if (t.op, b) in results else "not run")
                            for b in missing)
            out.append(("N/A", t.backend, t.text, why))
            continue
        detail = "%.2fx %s (need >= %.2fx)" % (r, t.reference, t.minimum)
        out.append(("PASS" if r >= t.minimum else "MISS", t.backend, t.text, detail))
    for b in SIM_BACKENDS:
        r = results.get(("stream_1GiB", b))
        text = "streaming 1 GiB keeps peak RSS < %d MiB" % RSS_LIMIT_MIB
        if r is None or r.error or r.peak_rss_mib is None:
            out.append(("N/A", b, text, r.error if r is not None and r.error else "not run"))
        else:
            out.append(("PASS" if r.peak_rss_mib < RSS_LIMIT_MIB else "MISS", b, text,
                        "peak %.1f MiB" % r.peak_rss_mib))
    return out


def target_lines(results):
    lines = []
    for status, backend, text, detail in evaluate_targets(results):
        lines.append("%-4s  %-10s  %-52s  %s" % (status, backend, text, detail))
    return lines


def errors(results):
    return ["%s/%s: %s" % (op, b, r.error) for (op, b), r in sorted(results.items())
            if r.error]


def write_chart(results, png_path, gnuplot="gnuplot"):
    """The table as a grouped bar chart of speed relative to host (log scale). Returns None,
    or why no chart was written."""
    if shutil.which(gnuplot) is None:
        return "gnuplot not found (tools/setup.sh installs gnuplot-nox)"
    # Only back ends with at least one figure get bars: gnuplot refuses an empty column.
    def ratio_of(op, backend):
        r = results.get((op, backend))
        if r is None or r.error:
            return None
        return 1.0 if backend == "host" else speed_ratio(results, op, backend)

    ops = [(op, label) for op, label, _ in OPERATIONS
           if any(ratio_of(op, b) for b in BACKENDS)]
    shown = [b for b in BACKENDS if any(ratio_of(op, b) for op, _ in ops)]
    if not ops or "host" not in shown:
        return "no results to chart"
    rows = []
    for op, label in ops:
        values = [ratio_of(op, b) for b in shown]
        rows.append('"%s" %s' % (label, " ".join("%.6g" % v if v else "NaN" for v in values)))
    titles = {"host": "host", "fuse": "kernel FUSE", "sim-inline": "sim-inline",
              "sim-thread": "sim-thread"}
    plot = ", ".join('"%s" using %d%s title "%s"' % (
        "DATA" if i == 0 else "", i + 2, ":xtic(1)" if i == 0 else "", titles[b])
        for i, b in enumerate(shown))
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data.txt")
        with open(data, "w") as f:
            f.write("\n".join(rows) + "\n")
        script = "\n".join([
            'set terminal pngcairo size 1400,700 font ",10"',
            'set output "%s"' % png_path,
            'set title "File system operations: speed relative to the host\'s own calls '
            '(1 = host, higher is faster)"',
            "set style data histogram",
            "set style histogram clustered gap 1",
            "set style fill solid 0.85 border -1",
            "set boxwidth 0.9",
            "set logscale y 10",
            "set yrange [0.001:10]",
            "set grid ytics",
            'set ylabel "speed / host speed (log scale)"',
            "set xtics rotate by -35 left",
            "set key top right",
            "set bmargin 9",
            "set rmargin 14",
            "plot " + plot.replace("DATA", data, 1),
        ])
        proc = subprocess.run([gnuplot], input=script, text=True, capture_output=True)
        if proc.returncode != 0:
            return "gnuplot failed: " + proc.stderr.strip()
    return None


def report(results, png_path=None):
    """The whole report as text; writes the chart when png_path is given."""
    lines = build_table(results)
    errs = errors(results)
    if errs:
        lines += ["", "Not measured:"] + ["  " + e for e in errs]
    lines += ["", "Targets (sim back ends):"] + ["  " + t for t in target_lines(results)]
    if png_path:
        why_not = write_chart(results, png_path)
        lines += ["", "Chart: " + (png_path if why_not is None else "not written: " + why_not)]
    return "\n".join(lines)


def _find_bench():
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (os.path.join(here, "fs_bench"),
                      os.path.join(os.environ.get("BUILD_WORKSPACE_DIRECTORY", "."),
                                   "bazel-bin", "bench", "fs_bench")):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="short runs (--benchmark_min_time=0.05, one repetition)")
    parser.add_argument("--json", help="report this JSON file instead of running")
    parser.add_argument("--bench", help="the fs_bench binary (default: beside this script)")
    parser.add_argument("--filter", default="", help="--benchmark_filter for the run")
    parser.add_argument("--out_dir", help="where the JSON, the table and the PNG go "
                        "(default: <workspace>/out/bench)")
    args, extra = parser.parse_known_args(argv)

    out_dir = args.out_dir or os.path.join(
        os.environ.get("BUILD_WORKSPACE_DIRECTORY", os.getcwd()), "out", "bench")
    os.makedirs(out_dir, exist_ok=True)
    json_path = args.json
    if json_path is None:
        bench = args.bench or _find_bench()
        if bench is None:
            print("report: fs_bench not found; run through `bazel run //bench:report`",
                  file=sys.stderr)
            return 2
        json_path = os.path.join(out_dir, "fs_bench.json")
        cmd = [bench, "--benchmark_out=" + json_path, "--benchmark_out_format=json"]
        if args.quick:
            cmd += ["--benchmark_min_time=0.05"]
        else:
            cmd += ["--benchmark_min_time=0.5", "--benchmark_repetitions=3",
                    "--benchmark_report_aggregates_only=true"]
        if args.filter:
            cmd.append("--benchmark_filter=" + args.filter)
        cmd += extra
        print("report: running " + " ".join(cmd), file=sys.stderr)
        # The benchmark's own console output is progress: it goes to stderr.
        proc = subprocess.run(cmd, stdout=sys.stderr)
        if proc.returncode != 0:
            print("report: fs_bench exited with %d" % proc.returncode, file=sys.stderr)
            return 1
    with open(json_path) as f:
        doc = json.load(f)
    context = doc.get("context", {})
    text = report(load_results(doc), os.path.join(out_dir, "fs_bench.png"))
    if context.get("fsbench_build") not in (None, "optimized"):
        text = ("WARNING: fs_bench was built without optimization; run with "
                "`bazel run -c opt`.\n\n" + text)
    print(text)
    with open(os.path.join(out_dir, "fs_bench.txt"), "w") as f:
        f.write(text + "\n")
    print("\nJSON: %s\nTable: %s" % (json_path, os.path.join(out_dir, "fs_bench.txt")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
