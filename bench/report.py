#!/usr/bin/env python3
"""Runs the file system benchmarks and prints one table: an operation a row, the back ends
as columns, each cell the back end's figure and its speed relative to the host's own calls.
Then where the time of the back ends served by the passthrough handlers goes, how the
reads and uncached stats scale with threads, the project's targets, PASS or MISS, and the
first table as a PNG chart (gnuplot).

usage (from the workspace):
  bazel run -c opt //bench:report -- --quick        a short run, about a minute
  bazel run -c opt //bench:report                   the full run (3 repetitions, medians)
  bazel run -c opt //bench:report -- --json FILE    the report of an earlier run's JSON

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
the kernel FUSE mount the kernel's FUSE client, /dev/fuse and the server's libfuse loop. For the simulated machines it
is also given per FUSE request (the device counts them); the kernel FUSE mount's requests
are not counted, so it has a cost per operation only. An operation that makes fewer than
MIN_REQ_PER_OP (0.5) requests (mostly answered from the VFS's caches) gets no per-request
figure: it would charge the cost of the cache hits to the rare request. The hand-off is
what the device thread costs over processing in the caller's notify, per request:
(sim-thread time - sim-inline time) / FUSE requests per operation. Rows of several threads
are left out: their host calls overlap, so the subtraction means nothing.

A target MISS on a ratio to the host is checked against the physical limit: the device
must make its host calls, so even with no cost of its own a simulated machine takes at
least host call time per operation (divided by the threads that can run at once: the
row's threads, at most the machine's CPUs); sim-thread also hands each FUSE request to its
device thread and back, at least a cross-CPU round trip per request (counted where the
row's threads and their device threads fit the CPUs, as in handoff_limit). When host
time / that is below the target, the target cannot be met by making the simulation
cheaper, and the line says so with the arithmetic; otherwise it is a plain MISS.

The rule that sim-thread be within 1.25x of sim-inline counts apart a row whose hand-off
alone costs more than the rule allows (handoff_limit): each FUSE request crosses to a
device thread and back, at least a cross-CPU round trip; and where the row's threads and
their device threads outnumber the CPUs, at least the cheaper of two thread switches on
one CPU and a CPU left idle through the request's host calls. Both round trips are
measured in the same run (fs_bench's cross_cpu_round_trip and same_cpu_switch_round_trip).
"""
import argparse
import json
import os
import subprocess
import sys

from bench import chart

BACKENDS = ["host", "fuse", "sim-inline", "sim-thread"]
SIM_BACKENDS = ["sim-inline", "sim-thread"]

# Operation -> (label, kind): "bytes" rows show GB/s, "time" rows a time per operation,
# "iter" rows (the workloads, bench/workloads.h) a time per run of the whole workload.
OPERATIONS = [
    ("seq_read_4KiB", "sequential read, 4 KiB calls", "bytes"),
    ("seq_read_64KiB", "sequential read, 64 KiB calls", "bytes"),
    ("seq_read_1MiB", "sequential read, 1 MiB calls", "bytes"),
    ("seq_write_4KiB", "sequential write, 4 KiB calls", "bytes"),
    ("seq_write_64KiB", "sequential write, 64 KiB calls", "bytes"),
    ("seq_write_1MiB", "sequential write, 1 MiB calls", "bytes"),
    ("rand_pread_4KiB", "random pread, 4 KiB", "bytes"),
    ("read_1thread_4KiB", "pread 4 KiB, 1 thread", "bytes"),
    ("read_2threads_4KiB", "pread 4 KiB, 2 threads", "bytes"),
    ("read_4threads_4KiB", "pread 4 KiB, 4 threads", "bytes"),
    ("read_1thread_64KiB", "pread 64 KiB, 1 thread", "bytes"),
    ("read_2threads_64KiB", "pread 64 KiB, 2 threads", "bytes"),
    ("read_4threads_64KiB", "pread 64 KiB, 4 threads", "bytes"),
    ("stat_cached", "stat a/b/c.txt, caches on", "time"),
    ("stat_uncached", "stat a/b/c.txt, caches off", "time"),
    ("stat_uncached_2threads", "stat, caches off, 2 threads", "time"),
    ("stat_uncached_4threads", "stat, caches off, 4 threads", "time"),
    ("open_close", "open+close", "time"),
    ("rand_pread_4KiB_packed", "packed rings: random pread, 4 KiB", "bytes"),
    ("open_close_packed", "packed rings: open+close", "time"),
    ("create_unlink", "create+unlink", "time"),
    ("getdents64_10", "list 10 entries", "time"),
    ("getdents64_1000", "list 1 000 entries", "time"),
    ("getdents64_10000", "list 10 000 entries", "time"),
    ("ls_l_1000", "ls -l of 1 000 entries", "iter"),
    ("untar_1000", "untar 1 000 files of 4 KiB", "iter"),
    ("find_tree", "find: 10 110 entries", "iter"),
    ("git_status_tree", "git status: lstat 10 000 x2", "iter"),
    ("stream_1GiB", "stream 1 GiB, 1 MiB reads", "bytes"),
]
LABELS = {op: label for op, label, _ in OPERATIONS}

# The scaling rows: (what, {threads: operation}). Each thread reads its own part of the
# data file sequentially; all threads stat the same path. The simulated machines have a
# request queue per thread.
SCALING = [
    ("pread 4 KiB", {1: "read_1thread_4KiB", 2: "read_2threads_4KiB",
                     4: "read_4threads_4KiB"}),
    ("pread 64 KiB", {1: "read_1thread_64KiB", 2: "read_2threads_64KiB",
                      4: "read_4threads_64KiB"}),
    ("stat, caches off", {1: "stat_uncached", 2: "stat_uncached_2threads",
                          4: "stat_uncached_4threads"}),
]
THREADS = {op: n for _, ops in SCALING for n, op in ops.items()}

# Fewer FUSE requests than this per operation: no cost per request (see above).
MIN_REQ_PER_OP = 0.5

# The suffix of the rows the simulated machines repeat on packed virtqueues.
PACKED = "_packed"

_NS_PER_UNIT = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


class Result:
    """One benchmark's figures (the median of repetitions when there are several)."""

    def __init__(self, time_ns, bytes_per_second=None, fuse_req_per_op=None,
                 peak_rss_mib=None, error=None, host_calls_per_op=None,
                 host_call_ns_per_op=None, label=None):
        self.time_ns = time_ns
        self.bytes_per_second = bytes_per_second
        self.fuse_req_per_op = fuse_req_per_op
        self.peak_rss_mib = peak_rss_mib
        self.error = error
        self.host_calls_per_op = host_calls_per_op
        self.host_call_ns_per_op = host_call_ns_per_op
        self.label = label


class Results(dict):
    """{(operation, back end): Result}, and the CPUs of the machine that ran them."""

    def __init__(self, items=(), cpus=None):
        super().__init__(items)
        self.cpus = cpus


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
            host_calls_per_op=b.get("host_calls_per_op"),
            host_call_ns_per_op=b.get("host_call_ns_per_op"),
            label=b.get("label") or None,
        )
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[key] = result
        else:
            runs.setdefault(key, []).append(result)
    results = Results(medians, doc.get("context", {}).get("num_cpus"))
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


def _ok(results, op, backend):
    """The result of `op` on `backend` when it ran without error, else None."""
    r = results.get((op, backend))
    return r if r is not None and not r.error else None


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


def _own_ns(r):
    """Time per operation beyond the device's host calls, or None."""
    if r is None or r.host_call_ns_per_op is None:
        return None
    return r.time_ns - r.host_call_ns_per_op


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
               "own ns/FUSE req (inline, thread)", "hand-off ns/req"]
    rows = []
    for op, label, _ in OPERATIONS:
        if THREADS.get(op, 1) > 1:
            continue
        rs = [_ok(results, op, b) for b in PASSTHROUGH_BACKENDS]
        if not any(r is not None and r.host_calls_per_op is not None for r in rs):
            continue
        inline, thread = rs[1], rs[2]
        hand_off = None
        if inline is not None and thread is not None:
            hand_off = _per_request(thread.time_ns - inline.time_ns, thread)
        rows.append([
            label,
            _cells([r.host_calls_per_op if r else None for r in rs],
                   lambda v: "%.1f" % v if v < 100 else "%.0f" % v),
            _cells([r.host_call_ns_per_op / 1e3 if r and r.host_call_ns_per_op is not None
                    else None for r in rs]),
            _cells([_own_ns(r) / 1e3 if _own_ns(r) is not None else None for r in rs]),
            _cells([_per_request(_own_ns(r), r) for r in (inline, thread)],
                   lambda v: "%.0f" % v),
            "%.0f" % hand_off if hand_off is not None else "-",
        ])
    return _format_table(headers, rows)


def scaling_factor(results, ops, threads, backend):
    """Throughput of `threads` threads / that of one, or None. The time of a row of N
    threads is per operation of all of them: the factor is t(1) / t(N)."""
    one, many = _ok(results, ops[1], backend), _ok(results, ops[threads], backend)
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


class Target:
    """A goal of the project: `backend`'s speed on `op` relative to `reference` must be at
    least `minimum`."""

    def __init__(self, text, op, backend, reference, minimum):
        self.text, self.op, self.backend = text, op, backend
        self.reference, self.minimum = reference, minimum


def targets():
    out = []
    for b in SIM_BACKENDS:
        out += [
            Target("random 4 KiB pread >= 0.6x host", "rand_pread_4KiB", b, "host", 0.6),
            Target("sequential 4 KiB reads >= 0.5x host", "seq_read_4KiB", b, "host", 0.5),
            Target("stat, caches on, >= 1.0x host", "stat_cached", b, "host", 1.0),
            Target("open+close >= 0.35x host", "open_close", b, "host", 0.35),
            Target("create+unlink >= 0.6x host", "create_unlink", b, "host", 0.6),
            Target("listing 10 entries >= 0.5x host", "getdents64_10", b, "host", 0.5),
            Target("2 threads 64 KiB pread, 2 queues, >= 0.7x host", "read_2threads_64KiB",
                   b, "host", 0.7),
        ]
    return out


RSS_LIMIT_MIB = 64
# sim-thread must be within 1.25x of sim-inline on every row both ran.
THREAD_VS_INLINE = 1 / 1.25
# The row of fs_bench's cross-CPU round trip (harness.h, CrossCpuRoundTrip).
ROUND_TRIP = "cross_cpu_round_trip"
# The row of fs_bench's same-CPU switch round trip (harness.h, SameCpuSwitchRoundTrip).
SWITCH_ROUND_TRIP = "same_cpu_switch_round_trip"
# The rows a MISS of that rule names, worst first.
WORST_SHOWN = 4


def _cpus(results):
    """The CPUs of the machine the figures come from."""
    return getattr(results, "cpus", None) or os.cpu_count() or 1


def physical_limit(results, op, backend):
    """(best ratio to the host reachable with no cost of the simulation's own, the text of
    the arithmetic), or None when the host calls were not counted."""
    r, host = _ok(results, op, backend), _ok(results, op, "host")
    if r is None or host is None or not r.host_call_ns_per_op:
        return None
    # Host calls of N threads overlap, at most as many at once as there are CPUs.
    threads, cpus = THREADS.get(op, 1), _cpus(results)
    overlap = min(threads, cpus)
    least_ns, handoff = r.host_call_ns_per_op, ""
    rt = _ok(results, ROUND_TRIP, "host")
    if backend == "sim-thread" and 2 * threads <= cpus and rt and r.fuse_req_per_op:
        least_ns += r.fuse_req_per_op * rt.time_ns
        handoff = ", and %.1f req x %.0f ns round trip" % (r.fuse_req_per_op, rt.time_ns)
    limit = host.time_ns * overlap / least_ns
    spread = " on %d threads" % overlap if overlap > 1 else ""
    return limit, "limit: the device's %.1f host calls/op take %.2f us%s%s; host %.2f us " \
        "-> at most %.2fx" % (r.host_calls_per_op or 0, r.host_call_ns_per_op / 1e3, spread,
                              handoff, host.time_ns / 1e3, limit)


def _not_measured(results, op, backends):
    return "; ".join("%s: %s" % (b, results[(op, b)].error if (op, b) in results
                                 else "not run")
                     for b in backends if _ok(results, op, b) is None)


def handoff_limit(results, op):
    """(the best sim-thread / sim-inline ratio of `op`, the arithmetic), or None when what it
    needs was not measured. sim-thread does sim-inline's work and, per FUSE request, hands
    the request to a device thread and gets the reply back. While the row's threads and as
    many device threads (a queue per thread) fit the CPUs, that costs at least the measured
    cross-CPU round trip. With more busy threads than CPUs, a waiting thread shares its CPU
    with a thread that has work: per request it either keeps the CPU, idle, through the
    device's host calls, or gives it away and takes it back, two thread switches (the
    measured same-CPU switch round trip); the cheaper of the two is added to the CPU time
    sim-inline spends per operation (its time per operation on all the CPUs it keeps busy)."""
    inline = _ok(results, op, "sim-inline")
    if inline is None or not inline.fuse_req_per_op:
        return None
    req = inline.fuse_req_per_op
    threads, cpus = THREADS.get(op, 1), _cpus(results)
    if 2 * threads <= cpus:
        rt = _ok(results, ROUND_TRIP, "host")
        if rt is None:
            return None
        ratio = inline.time_ns / (inline.time_ns + req * rt.time_ns)
        return ratio, "%s: %.1f req x %.0f ns round trip on %.2f us -> at most %.2fx" % (
            LABELS[op], req, rt.time_ns, inline.time_ns / 1e3, ratio)
    switch = _ok(results, SWITCH_ROUND_TRIP, "host")
    if switch is None or not inline.host_call_ns_per_op:
        return None
    spun = inline.host_call_ns_per_op / req
    cpu_ns = inline.time_ns * min(threads, cpus)
    ratio = cpu_ns / (cpu_ns + req * min(switch.time_ns, spun))
    return ratio, "%s: %d+%d busy threads on %d CPUs, %.1f req x min(%.0f ns switch round " \
        "trip, %.0f ns host calls) on %.2f us of CPU -> at most %.2fx" % (
            LABELS[op], threads, threads, cpus, req, switch.time_ns, spun, cpu_ns / 1e3, ratio)


def _thread_vs_inline(results):
    """The 1.25x rule over every row both simulated machines ran: (status, detail). A row
    whose requests alone, crossing CPUs there and back, cost more than the rule allows is
    a limit of the machine, counted apart with its arithmetic."""
    ratios = []
    for op, _, _ in OPERATIONS:
        if _ok(results, op, "sim-inline") is None:  # Not another row's figure.
            continue
        r = speed_ratio(results, op, "sim-thread", "sim-inline")
        if r is not None:
            ratios.append((r, op))
    if not ratios:
        return "N/A", "no row ran on both simulated machines"
    need = "(need >= %.2fx sim-inline on all %d rows)" % (THREAD_VS_INLINE, len(ratios))
    misses, limited = [], []
    for r, op in sorted(ratios):
        if r >= THREAD_VS_INLINE:
            continue
        limit = handoff_limit(results, op)
        (limited if limit and limit[0] < THREAD_VS_INLINE else misses).append((r, op, limit))
    if not misses and not limited:
        worst = min(ratios)
        return "PASS", "worst: %s %.2fx %s" % (LABELS[worst[1]], worst[0], need)
    parts = []
    if misses:
        shown = ", ".join("%s %.2fx" % (LABELS[op], r) for r, op, _ in misses[:WORST_SHOWN])
        parts.append("%d below; worst: %s%s" % (len(misses), shown,
                                                ", ..." if len(misses) > WORST_SHOWN else ""))
    if limited:
        each = ", ".join("%s %.2fx (at most %.2fx)" % (LABELS[op], r, limit[0])
                         for r, op, limit in limited[:WORST_SHOWN])
        parts.append("%d %sbelow their limit: %s%s; e.g. %s" % (
            len(limited), "more " if misses else "", each,
            ", ..." if len(limited) > WORST_SHOWN else "", limited[0][2][1]))
    detail = "; ".join(parts)
    return "MISS", "%s %s" % (detail, need)


def evaluate_targets(results):
    """[(status, back end, text, detail)]: status PASS, MISS or N/A. A MISS that the host
    calls alone already cause has the limit's arithmetic in its detail: "(limit: ...)"."""
    out = []
    for t in targets():
        r = speed_ratio(results, t.op, t.backend, t.reference)
        if r is None:
            out.append(("N/A", t.backend, t.text,
                        _not_measured(results, t.op, (t.backend, t.reference))))
            continue
        detail = "%.2fx %s (need >= %.2fx)" % (r, t.reference, t.minimum)
        if r >= t.minimum:
            out.append(("PASS", t.backend, t.text, detail))
            continue
        limit = physical_limit(results, t.op, t.backend) if t.reference == "host" else None
        if limit is not None and limit[0] < t.minimum:
            detail += " (%s)" % limit[1]
        out.append(("MISS", t.backend, t.text, detail))
    status, detail = _thread_vs_inline(results)
    out.append((status, "sim-thread", "within 1.25x of sim-inline on every row", detail))
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
        lines.append("%-4s  %-10s  %-46s  %s" % (status, backend, text, detail))
    return lines


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
    rt = _ok(results, ROUND_TRIP, "host")
    if rt is not None:
        lines += ["", "A flag handed to a thread on another CPU and back: %.0f ns (the least "
                  "a request costs sim-thread over sim-inline)." % rt.time_ns]
    switch = _ok(results, SWITCH_ROUND_TRIP, "host")
    if switch is not None:
        lines += ["Two threads on one CPU handing it to each other and back: %.0f ns (what a "
                  "request costs a thread that yields its CPU while it waits)."
                  % switch.time_ns]
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
