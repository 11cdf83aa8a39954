"""fs_bench's figures as the report reads them: the rows, the back ends, and a Result per
(operation, back end) from Google Benchmark's JSON."""
import os

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
    ("stat_cached_2threads", "stat, caches on, 2 threads", "time"),
    ("stat_cached_4threads", "stat, caches on, 4 threads", "time"),
    ("stat_uncached", "stat a/b/c.txt, caches off", "time"),
    ("stat_uncached_2threads", "stat, caches off, 2 threads", "time"),
    ("stat_uncached_4threads", "stat, caches off, 4 threads", "time"),
    ("open_close", "open+close", "time"),
    ("rand_pread_4KiB_packed", "packed rings: random pread, 4 KiB", "bytes"),
    ("open_close_packed", "packed rings: open+close", "time"),
    ("create_unlink", "create+unlink", "time"),
    ("getdents64_10", "list 10 entries", "time"),
    ("getdents64_10_kept", "cache=always: list 10 entries", "time"),
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
    ("stat, caches on", {1: "stat_cached", 2: "stat_cached_2threads",
                         4: "stat_cached_4threads"}),
]
THREADS = {op: n for _, ops in SCALING for n, op in ops.items()}

# Fewer FUSE requests than this per operation: no cost per request (see report.py).
MIN_REQ_PER_OP = 0.5

# The suffixes of the rows only the simulated machines run, each an operation repeated
# with one thing changed: on packed virtqueues, or with listings kept (cache=always).
PACKED = "_packed"
KEPT = "_kept"


def repeated_operation(op):
    """The operation a simulated machines' row repeats, or `op` itself."""
    for suffix in (PACKED, KEPT):
        if op.endswith(suffix):
            return op.removesuffix(suffix)
    return op


_NS_PER_UNIT = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


class Result:
    """One benchmark's figures (the median of repetitions when there are several)."""

    def __init__(self, time_ns, bytes_per_second=None, fuse_req_per_op=None,
                 peak_rss_mib=None, error=None, host_calls_per_op=None,
                 host_call_ns_per_op=None, handoff_ns_per_req=None, round_trip_ns=None,
                 label=None, posted_req_per_op=None, cpu_spread=None,
                 others_cpu_pct=None, overtaken_req_per_op=None):
        self.time_ns = time_ns
        self.bytes_per_second = bytes_per_second
        self.fuse_req_per_op = fuse_req_per_op
        self.posted_req_per_op = posted_req_per_op
        # Of those, the ones the device handled after a request sent later.
        self.overtaken_req_per_op = overtaken_req_per_op
        self.peak_rss_mib = peak_rss_mib
        self.error = error
        self.host_calls_per_op = host_calls_per_op
        self.host_call_ns_per_op = host_call_ns_per_op
        self.handoff_ns_per_req = handoff_ns_per_req
        self.round_trip_ns = round_trip_ns
        self.label = label
        # The slowest CPU's time for a step over the fastest's, just before the row; its
        # thread ran on the fastest (bench/fastest_cpu.h). One-thread rows only.
        self.cpu_spread = cpu_spread
        # The CPU time other processes took while the row ran, in % of all CPUs' time
        # (bench/cpu_usage.h).
        self.others_cpu_pct = others_cpu_pct
        # How much the row's figure (its throughput where it has one, else its time)
        # varied over its repetitions: their standard deviation over their mean (Google
        # Benchmark's "cv" aggregate); None for a row run once.
        self.cv = None


def waited_requests(r):
    """FUSE requests per operation a caller waited for: all the device processed but
    those the driver posted (FORGET, a last close's RELEASE), which cost no caller a
    round trip."""
    return (r.fuse_req_per_op or 0) - (r.posted_req_per_op or 0)


def own_ns(r, threads_at_once=1):
    """A back end's own cost per operation, in ns: its time beyond the device's host
    calls (hand-offs included), where `threads_at_once` threads' host calls overlapped;
    or None when the host calls were not counted."""
    if r is None or r.host_call_ns_per_op is None:
        return None
    return r.time_ns * threads_at_once - r.host_call_ns_per_op


class Results(dict):
    """{(operation, back end): Result}, the CPUs of the machine that ran them, and whether
    the rows' repetitions ran interleaved in random order (fs_bench's row_order)."""

    def __init__(self, items=(), cpus=None, interleaved=False):
        super().__init__(items)
        self.cpus = cpus
        self.interleaved = interleaved


def load_results(doc):
    """{(operation, back end): Result} from Google Benchmark's JSON output (a dict)."""
    runs = {}
    medians = {}
    cvs = {}
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
            handoff_ns_per_req=b.get("handoff_ns_per_req"),
            round_trip_ns=b.get("round_trip_ns"),
            label=b.get("label") or None,
            posted_req_per_op=b.get("posted_req_per_op"),
            cpu_spread=b.get("cpu_spread"),
            others_cpu_pct=b.get("others_cpu_pct"),
            overtaken_req_per_op=b.get("overtaken_req_per_op"),
        )
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[key] = result
            elif b.get("aggregate_name") == "cv":
                cvs[key] = result.bytes_per_second or b["real_time"]
        else:
            runs.setdefault(key, []).append(result)
    context = doc.get("context", {})
    results = Results(medians, context.get("num_cpus"),
                      context.get("row_order") == "interleaved")
    for key, rs in runs.items():
        failed = [r for r in rs if r.error]
        if failed:
            results[key] = failed[0]
        elif key not in medians:
            results[key] = _median_of(rs)
    for key, cv in cvs.items():
        if key in medians:
            medians[key].cv = cv
    return results


def _median_of(rs):
    rs = sorted(rs, key=lambda r: r.time_ns)
    return rs[len(rs) // 2]


def speed_ratio(results, op, backend, reference="host"):
    """How fast `backend` is relative to `reference` (2.0: twice as fast), or None. A row
    only the simulated machines run is compared with the host's figure of the operation
    it repeats."""
    a = results.get((op, backend))
    r = results.get((op, reference)) or results.get((repeated_operation(op), reference))
    if a is None or r is None or a.error or r.error:
        return None
    if a.bytes_per_second and r.bytes_per_second:
        return a.bytes_per_second / r.bytes_per_second
    return r.time_ns / a.time_ns if a.time_ns else None


def ok(results, op, backend):
    """The result of `op` on `backend` when it ran without error, else None."""
    r = results.get((op, backend))
    return r if r is not None and not r.error else None


def cpu_count(results):
    """The CPUs of the machine the figures come from."""
    return getattr(results, "cpus", None) or os.cpu_count() or 1
