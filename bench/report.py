#!/usr/bin/env python3
"""Runs the file system benchmarks and prints one table: an operation a row, the back ends
as columns, each cell the back end's figure and its speed relative to the host's own calls.
Then where the time of the back ends served by the passthrough handlers goes, how the
reads and uncached stats scale with threads, the project's targets, PASS or MISS, and the
first table as a PNG chart (gnuplot).

usage (from the workspace):
  bazel run --config=opt //bench:report -- --quick       a short run, about a minute
  bazel run --config=opt //bench:report                  the full run (repetitions, medians)
  bazel run --config=opt //bench:report -- --json FILE   the report of an earlier run's JSON
(--config=opt: -c opt and link-time optimisation, .bazelrc.)

The full run takes each figure as the median of FULL_REPETITIONS repetitions of its row,
and runs the repetitions of all rows interleaved in random order (Google Benchmark's
--benchmark_enable_random_interleaving): a VM's speed drifts by tens of percent over
minutes, and a ratio of two rows run minutes apart would measure that drift; interleaved,
both sides of every ratio sample the whole run.

How to read a cell: "1.23 (0.45x)" is the back end's figure in the row's unit, and in
parentheses its speed relative to the host's own system calls on the same files: 1.00x is
the host's speed, 0.50x twice as slow, 2.00x twice as fast (for a time per operation the
ratio is host time / back end time; for a throughput, back end / host). A row of N
threads gives the time per operation of all N together (the inverse of their throughput).

Where the time goes. fs_bench counts, for the back ends whose file system requests are
served by the passthrough handlers in its own process (fuse, sim-inline, sim-thread), the
host system calls those handlers made and the time spent in them (sim/host_calls.h), per
operation. What is left of the time per operation is the back end's own cost: for the
simulated machines the driver, the VFS, the virtqueues, the device model and libfuse; for
the kernel FUSE mount the kernel's FUSE client, /dev/fuse and the server's libfuse loop.
For the simulated machines it is also given per FUSE request (the device counts them); the
kernel FUSE mount's requests are not counted, so it has a cost per operation only. An
operation that makes fewer than MIN_REQ_PER_OP (0.5) requests (mostly answered from the
VFS's caches) gets no per-request figure: it would charge the cost of the cache hits to
the rare request. The hand-off is what a request costs between the driver and the device
beyond the device's work, measured directly: the driver's mean round trip (from making the
chain available to seeing it complete) less the device's mean time from popping a chain to
writing its used element, both on the same sampled requests (driver::VirtioFs::
kRoundTripSampling, sim::kChainTimeSampling, base/sampler.h; fs_bench's handoff_ns_per_req;
none where the device timed many more: READs sent ahead, which the driver does not wait for).
In sim-inline it is the notify, the interrupt and the reaping around the device's work, all
in the caller's thread; in sim-thread it also holds the crossings to the device thread and
back, and the device thread's work on posted requests (FORGETs, a last close's RELEASE) a
chain waits behind (on open+close, the OPEN behind the previous close's RELEASE); the
round trip beside it is the least those crossings cost, measured just around the row
(fs_bench's round_trip_ns: a request's ring lines handed to another CPU and the reply's
back, with nothing else done). Rows of several threads are left out: their host calls
overlap, so the subtraction of the own cost means nothing.

How a MISS is checked against the limits of the machine: bench/targets.py.
"""
import argparse
import json
import os
import subprocess
import sys

from bench import chart
from bench.results import (BACKENDS, MIN_REQ_PER_OP, OPERATIONS, SCALING, SIM_BACKENDS,
                           LABELS, THREADS, load_results, ok, own_ns, speed_ratio)
from bench.targets import END, PACKED_ROUND_TRIP, SPLIT_ROUND_TRIP, target_lines

# How many times the full run measures each row (fs_bench's --benchmark_repetitions).
FULL_REPETITIONS = 5
# The row of fs_bench's same-CPU switch round trip (harness.h, SameCpuSwitchRoundTrip).
SWITCH_ROUND_TRIP = "same_cpu_switch_round_trip"
# fs_bench's "fsbench_build" when built with --config=opt (bench/fs_bench.cc).
MEASURED_BUILD = "optimized, link-time"


def _figure(result, kind):
    if kind == "bytes" and result.bytes_per_second:
        return "%.2f" % (result.bytes_per_second / 1e9)
    return _number(result.time_ns / (1e6 if kind == "iter" else 1e3))


def _number(v):
    return "%.2f" % v if v < 100 else "%.0f" % v


def _unit(kind):
    return {"bytes": "GB/s", "iter": "ms/run"}.get(kind, "us/op")


def _format_table(headers, rows):
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return lines



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
    return _format_table(headers, rows)


PASSTHROUGH_BACKENDS = ["fuse"] + SIM_BACKENDS


def _per_request(ns, r):
    if ns is None or r is None or (r.fuse_req_per_op or 0) < MIN_REQ_PER_OP:
        return None
    return ns / r.fuse_req_per_op


def _cells(values, fmt=_number):
    return ", ".join(fmt(v) if v is not None else "-" for v in values)


def build_time_table(results):
    """Where the time goes (see the module's docstring), as a list of text lines."""
    headers = ["operation", "host calls/op (fuse, inline, thread)",
               "in host calls us/op (same)", "own us/op (same)",
               "own ns/FUSE req (inline, thread)", "hand-off ns/req (inline, thread)",
               "round trip ns (thread)"]
    rows = []
    for op, label, _ in OPERATIONS:
        if THREADS.get(op, 1) > 1:
            continue
        rs = [ok(results, op, b) for b in PASSTHROUGH_BACKENDS]
        if not any(r is not None and r.host_calls_per_op is not None for r in rs):
            continue
        inline, thread = rs[1], rs[2]
        rows.append([
            label,
            _cells([r.host_calls_per_op if r else None for r in rs],
                   lambda v: "%.1f" % v if v < 100 else "%.0f" % v),
            _cells([r.host_call_ns_per_op / 1e3 if r and r.host_call_ns_per_op is not None
                    else None for r in rs]),
            _cells([own_ns(r) / 1e3 if own_ns(r) is not None else None for r in rs]),
            _cells([_per_request(own_ns(r), r) for r in (inline, thread)],
                   lambda v: "%.0f" % v),
            _cells([r.handoff_ns_per_req if r else None for r in (inline, thread)],
                   lambda v: "%.0f" % v),
            _cells([thread.round_trip_ns if thread else None], lambda v: "%.0f" % v),
        ])
    return _format_table(headers, rows)


def scaling_factor(results, ops, threads, backend):
    """Throughput of `threads` threads / that of one, or None. The time of a row of N
    threads is per operation of all of them: the factor is t(1) / t(N)."""
    one, many = ok(results, ops[1], backend), ok(results, ops[threads], backend)
    if one is None or many is None or not many.time_ns:
        return None
    return one.time_ns / many.time_ns


def build_scaling_table(results):
    """N-thread throughput / 1-thread throughput per back end, as text lines."""
    rows = []
    for what, ops in SCALING:
        for threads in sorted(n for n in ops if n > 1):
            factors = [scaling_factor(results, ops, threads, b) for b in BACKENDS]
            if any(f is not None for f in factors):
                rows.append(["%s, %d threads" % (what, threads)] +
                            ["%.2fx" % f if f is not None else "-" for f in factors])
    return _format_table(["operation"] + BACKENDS, rows)


def errors(results):
    return ["%s/%s: %s" % (op, b, r.error) for (op, b), r in sorted(results.items())
            if r.error]


def notes(results):
    """What benchmarks said of their own figures (Google Benchmark's label)."""
    return ["%s/%s: %s" % (op, b, r.label) for (op, b), r in sorted(results.items())
            if r.label and not r.error]


def write_chart(results, png_path):
    """The table as a grouped bar chart of speed relative to host (log scale). Returns None,
    or why no chart was written."""
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
    return chart.write_bars([(label, [ratio_of(op, b) for b in shown]) for op, label in ops],
                            shown, png_path)


def round_trip_lines(results):
    """The cross-CPU round trips measured at the run's start and, when they were, at its
    end; in a run of interleaved repetitions, both sets anywhere in it."""
    start = [ok(results, row, "host") for row in (SPLIT_ROUND_TRIP, PACKED_ROUND_TRIP)]
    end = [ok(results, row + END, "host") for row in (SPLIT_ROUND_TRIP, PACKED_ROUND_TRIP)]
    if None in start:
        return []
    line = ("A request's cache lines handed to a thread on another CPU and the reply's "
            "back: %.0f ns on a split ring, %.0f ns on a packed one (the least a request "
            "costs sim-thread over sim-inline)" % tuple(r.time_ns for r in start))
    if None in end:
        return ["", line + "."]
    when = ("measured again, interleaved with the rows like the first" if results.interleaved
            else "at the end of the run")
    return ["", line + "; %s: %.0f and %.0f ns (a VM's CPUs may be moved closer or further "
            "apart; limits take the smaller, or the one a sim-thread row measured around "
            "itself)." % ((when,) + tuple(r.time_ns for r in end))]


def cpu_spread_lines(results):
    """How far apart the CPUs' speeds were before the one-thread rows, which ran on the
    fastest: on a VM one CPU may run at half the speed of another for minutes."""
    spreads = [(r.cpu_spread, key) for key, r in results.items()
               if r.cpu_spread and not r.error]
    if not spreads:
        return []
    worst, (op, backend) = max(spreads)
    return ["One-thread rows ran on the fastest CPU, measured just before each; the "
            "slowest CPU took up to %.2fx its time (before %s on %s): a device thread "
            "runs on another CPU, slow or not." % (worst, LABELS.get(op, op), backend)]


# Rows during which other processes took at least this share of the CPUs are named: alone,
# a row reads a few percent (bench/cpu_usage.h).
OTHERS_NAMED_PCT = 15
OTHERS_NAMED_ROWS = 4


def others_cpu_lines(results):
    """The rows during which other processes took a share of the CPUs: their figures
    measure that load as well."""
    busy = sorted(((r.others_cpu_pct, key) for key, r in results.items()
                   if r.others_cpu_pct is not None and r.others_cpu_pct >= OTHERS_NAMED_PCT
                   and not r.error), reverse=True)
    if not busy:
        return []
    named = ", ".join("%s (%s) %.0f%%" % (LABELS.get(op, op), backend, pct)
                      for pct, (op, backend) in busy[:OTHERS_NAMED_ROWS])
    return ["Other processes took CPU time during %d row%s, which measure their load as "
            "well (%% of all CPUs' time): %s%s" % (
                len(busy), "s" if len(busy) > 1 else "", named,
                ", ..." if len(busy) > OTHERS_NAMED_ROWS else ".")]


def report(results, png_path=None):
    """The whole report as text; writes the chart when png_path is given."""
    lines = build_table(results)
    for title, more in (("Notes:", notes(results)), ("Not measured:", errors(results))):
        if more:
            lines += ["", title] + ["  " + e for e in more]
    time_table = build_time_table(results)
    if len(time_table) > 2:
        lines += ["", "Where the time goes (the device's host calls; the rest is the back "
                  "end's own cost; see report.py):"] + time_table
    lines += round_trip_lines(results)
    lines += cpu_spread_lines(results)
    lines += others_cpu_lines(results)
    switch = ok(results, SWITCH_ROUND_TRIP, "host")
    if switch is not None:
        lines += ["Two threads on one CPU handing a line to each other and back: %.0f ns "
                  "(what a request costs a thread that yields its CPU while it waits, where "
                  "it cannot do the device's work itself)." % switch.time_ns]
    scaling = build_scaling_table(results)
    if len(scaling) > 2:
        cpus = getattr(results, "cpus", None) or "?"
        lines += ["", "Scaling: throughput of N threads / 1 thread (%s CPUs; simulated "
                  "machines: a request queue per thread):" % cpus] + scaling
    lines += ["", "Targets (sim back ends):"] + ["  " + t for t in target_lines(results)]
    if png_path:
        why_not = write_chart(results, png_path)
        lines += ["", "Chart: " + (png_path if why_not is None else "not written: " + why_not)]
    return "\n".join(lines)


def build_warning(context):
    """A warning when fs_bench was not built as the figures are meant to be measured
    (--config=opt), else None (also for a JSON that does not say)."""
    build = context.get("fsbench_build")
    if build in (None, MEASURED_BUILD):
        return None
    return ("WARNING: fs_bench was built %s, not as the targets are measured (%s); run "
            "with `bazel run --config=opt`." % (build, MEASURED_BUILD))


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
    parser.add_argument("--work_dir", help="where fs_bench makes the share "
                        "(default: fs_bench's, tmpfs when there is one)")
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
        if args.work_dir:
            cmd.append("--work_dir=" + args.work_dir)
        if args.quick:
            cmd += ["--benchmark_min_time=0.05"]
        else:
            cmd += ["--benchmark_min_time=0.3",
                    "--benchmark_repetitions=%d" % FULL_REPETITIONS,
                    "--benchmark_enable_random_interleaving=true",
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
    warning = build_warning(context)
    if warning:
        text = warning + "\n\n" + text
    print(text)
    with open(os.path.join(out_dir, "fs_bench.txt"), "w") as f:
        f.write(text + "\n")
    print("\nJSON: %s\nTable: %s" % (json_path, os.path.join(out_dir, "fs_bench.txt")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
