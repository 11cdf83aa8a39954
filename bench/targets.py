"""The project's speed targets for the simulated machines, PASS or MISS, and the limits of
the machine a MISS is checked against.

A target MISS on a ratio to the host is checked against the physical limit: the device
must make its host calls, so even with no cost of its own a simulated machine takes at
least host call time per operation (divided by the threads that can run at once: the
row's threads, at most the machine's CPUs); sim-thread also hands each FUSE request a
caller waits for (results.waited_requests: not the FORGETs and RELEASEs the driver posts)
to its device thread and back, where the row's threads and their device threads fit the
CPUs: at least a cross-CPU round trip of the request's and reply's cache lines on the
row's ring format (round_trip). Where they outnumber the CPUs, a waiting thread does the
device's work itself (sim::VirtioDeviceModel::ProcessForWaiter), as sim-inline does, and
no hand-off is owed. When host time / that is below the target, the target cannot be met
by making the simulation cheaper, and the line says so with the arithmetic; otherwise it
is a plain MISS, and the line says how far: the back end's own cost per operation (its time
beyond the host calls, hand-offs included) against what the target leaves it, and for
sim-thread what its hand-offs leave of that beside sim-inline's own cost (own_budget).

The rule that sim-thread be within 1.25x of sim-inline counts apart a row whose hand-off
alone costs more than the rule allows (handoff_limit): each FUSE request a caller waits for
crosses to a device thread and back, at least a cross-CPU round trip of its ring's lines,
where the row's threads and their device threads fit the CPUs; and the device thread makes
the host calls on its own CPU, which a VM may run slower at system calls than the caller's
(bench/fastest_cpu.h): what they took beyond sim-inline's, both measured on the row, counts
too. The round trips are measured in the same run (fs_bench's split_ring_round_trip and
packed_ring_round_trip); at its start and again at its end (rows ending in END; anywhere in
a run of interleaved repetitions), and by each one-thread sim-thread row just before and
just after itself (its round_trip_ns), since a VM's CPUs may be moved closer together or
further apart in between: on the VM the project is measured on, 200 ns at one moment and
900 ns minutes later. A limit takes the row's own round trip where it has one, else the
smaller of the run's start and end.
"""
from bench.results import (LABELS, OPERATIONS, PACKED, SIM_BACKENDS, THREADS, cpu_count,
                           ok, own_ns, speed_ratio, waited_requests)


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
# The rows of fs_bench's cross-CPU round trips of a request's cache lines on each ring
# format (harness.h, CrossCpuRoundTrip).
SPLIT_ROUND_TRIP = "split_ring_round_trip"
PACKED_ROUND_TRIP = "packed_ring_round_trip"
# The suffix of the same rows measured again at the end of the run (or anywhere in it,
# interleaved).
END = "_end"
# The rows a MISS of that rule names, worst first.
WORST_SHOWN = 4


def round_trip(results, op):
    """The measured cross-CPU round trip, in ns, of one request of `op` on its ring format
    (rows ending in PACKED run on packed rings, the others on split ones): the one the
    sim-thread row measured around itself, else the smaller of the run's start and end;
    or None."""
    thread = ok(results, op, "sim-thread")
    if thread is not None and thread.round_trip_ns:
        return thread.round_trip_ns
    row = PACKED_ROUND_TRIP if op.endswith(PACKED) else SPLIT_ROUND_TRIP
    measured = [r.time_ns for r in (ok(results, row, "host"), ok(results, row + END, "host"))
                if r]
    return min(measured) if measured else None


def physical_limit(results, op, backend):
    """(best ratio to the host reachable with no cost of the simulation's own, the text of
    the arithmetic), or None when the host calls were not counted."""
    r, host = ok(results, op, backend), ok(results, op, "host")
    if r is None or host is None or not r.host_call_ns_per_op:
        return None
    # Host calls of N threads overlap, at most as many at once as there are CPUs.
    overlap = _overlap(results, op)
    least_ns, handoff = r.host_call_ns_per_op, ""
    owed = _owed_round_trips(results, op, backend)
    if owed:
        least_ns += owed[0] * owed[1]
        handoff = ", and %.1f waited req x %.0f ns round trip" % owed
    limit = host.time_ns * overlap / least_ns
    spread = " on %d threads" % overlap if overlap > 1 else ""
    return limit, "limit: the device's %.1f host calls/op take %.2f us%s%s; host %.2f us " \
        "-> at most %.2fx" % (r.host_calls_per_op or 0, r.host_call_ns_per_op / 1e3, spread,
                              handoff, host.time_ns / 1e3, limit)


def _owed_round_trips(results, op, backend):
    """(waited requests per operation, round trip in ns) that `backend`'s row owes on top
    of the device's host calls, as in handoff_limit: sim-thread's, while the row's threads
    and their device threads fit the CPUs; else None."""
    r = ok(results, op, backend)
    rt = round_trip(results, op)
    if backend != "sim-thread" or r is None or not rt or \
            2 * THREADS.get(op, 1) > cpu_count(results) or waited_requests(r) <= 0:
        return None
    return waited_requests(r), rt


def _overlap(results, op):
    """How many of the row's threads run at once: at most the machine's CPUs."""
    return min(THREADS.get(op, 1), cpu_count(results))


def own_budget(results, op, backend, minimum):
    """The text of a plain MISS's distance: the own cost per operation (results.own_ns, the
    host calls overlapping as in physical_limit) and what a ratio of `minimum` to the host
    leaves it; for sim-thread, also what the hand-offs it owes (_owed_round_trips) leave
    of that, beside sim-inline's own cost: the work both do. "" when the host calls were
    not counted."""
    r, host = ok(results, op, backend), ok(results, op, "host")
    overlap = _overlap(results, op)
    own = own_ns(r, overlap)
    if own is None or host is None:
        return ""
    allowed = host.time_ns * overlap / minimum - r.host_call_ns_per_op
    text = "own cost %.2f us/op beside %.2f us of host calls; the target allows %.2f us" % (
        own / 1e3, r.host_call_ns_per_op / 1e3, allowed / 1e3)
    owed = _owed_round_trips(results, op, backend)
    if not owed:
        return text
    inline_own = own_ns(ok(results, op, "sim-inline"), overlap)
    if inline_own is not None:
        # What the hand-offs leave for the work sim-inline does too.
        text += ", %.2f us beside %.1f waited req x %.0f ns round trip, where " \
            "sim-inline's own cost is %.2f us" % (
                (allowed - owed[0] * owed[1]) / 1e3, owed[0], owed[1], inline_own / 1e3)
    return text


def _variation(results, op, backend, reference):
    """'; cv B%, host H%': how much both rows of a ratio varied over their repetitions
    (results.Result.cv), where both were repeated, else '': a ratio near its target whose
    rows varied more than the distance reads as the machine's minute, not a change."""
    a, r = ok(results, op, backend), ok(results, op, reference)
    if a is None or r is None or a.cv is None or r.cv is None:
        return ""
    return "; cv %.0f%%, %s %.0f%%" % (100 * a.cv, reference, 100 * r.cv)


def _not_measured(results, op, backends):
    return "; ".join("%s: %s" % (b, results[(op, b)].error if (op, b) in results
                                 else "not run")
                     for b in backends if ok(results, op, b) is None)


def handoff_limit(results, op):
    """(the best sim-thread / sim-inline ratio of `op`, the arithmetic), or None when what
    it needs was not measured or no hand-off is owed. sim-thread does sim-inline's work and,
    per FUSE request a caller waits for, hands the request to a device thread and gets the
    reply back: while the row's threads and as many device threads (a queue per thread)
    fit the CPUs, at least the measured cross-CPU round trip of its ring's lines
    (round_trip). With more busy threads than CPUs, a waiting thread does the device's
    work itself, as sim-inline does. The device thread's host calls run on its CPU: the
    time they took beyond sim-inline's, where both timed them, is the machine's too."""
    inline = ok(results, op, "sim-inline")
    if inline is None or not inline.fuse_req_per_op:
        return None
    threads, cpus = THREADS.get(op, 1), cpu_count(results)
    rt = round_trip(results, op)
    if 2 * threads > cpus or rt is None:
        return None
    req = waited_requests(inline)
    slower = _slower_host_calls_ns(results, op)
    ratio = inline.time_ns / (inline.time_ns + req * rt + slower)
    calls = ", and host calls %.2f us longer on the device thread's CPU" % (
        slower / 1e3) if slower else ""
    return ratio, "%s: %.1f waited req x %.0f ns round trip%s on %.2f us -> at most %.2fx" % (
        LABELS[op], req, rt, calls, inline.time_ns / 1e3, ratio)


def _host_calls_of_both(results, op):
    """(sim-thread's, sim-inline's) time in host calls per operation of `op`, in ns, where
    both timed them; else None."""
    thread, inline = ok(results, op, "sim-thread"), ok(results, op, "sim-inline")
    if not (thread and inline and thread.host_call_ns_per_op and inline.host_call_ns_per_op):
        return None
    return thread.host_call_ns_per_op, inline.host_call_ns_per_op


def _slower_host_calls_ns(results, op):
    """How much longer sim-thread's host calls took per operation of `op` than sim-inline's,
    in ns (0 when not longer or not both timed)."""
    both = _host_calls_of_both(results, op)
    return max(0.0, both[0] - both[1]) if both else 0.0


def _host_calls_apart(results, op):
    """' (host calls T vs I us)', sim-thread's and sim-inline's, where both timed their
    host calls on `op`, else '': a row below the 1.25x rule because the device thread's
    host calls took longer (the host's own time, which varies on a VM) reads apart from
    one whose own cost grew."""
    both = _host_calls_of_both(results, op)
    return " (host calls %.2f vs %.2f us)" % (both[0] / 1e3, both[1] / 1e3) if both else ""


def _thread_vs_inline(results):
    """The 1.25x rule over every row both simulated machines ran: (status, detail). A row
    whose requests alone, crossing CPUs there and back, cost more than the rule allows is
    a limit of the machine, counted apart with its arithmetic."""
    ratios = []
    for op, _, _ in OPERATIONS:
        if ok(results, op, "sim-inline") is None:  # Not another row's figure.
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
        shown = ", ".join("%s %.2fx%s" % (LABELS[op], r, _host_calls_apart(results, op))
                          for r, op, _ in misses[:WORST_SHOWN])
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
    calls alone already cause has the limit's arithmetic in its detail: "(limit: ...)"; any
    other, the own cost and what the target allows it: "(own cost ...)"."""
    out = []
    for t in targets():
        r = speed_ratio(results, t.op, t.backend, t.reference)
        if r is None:
            out.append(("N/A", t.backend, t.text,
                        _not_measured(results, t.op, (t.backend, t.reference))))
            continue
        detail = "%.2fx %s (need >= %.2fx%s)" % (
            r, t.reference, t.minimum, _variation(results, t.op, t.backend, t.reference))
        if r >= t.minimum:
            out.append(("PASS", t.backend, t.text, detail))
            continue
        if t.reference == "host":
            limit = physical_limit(results, t.op, t.backend)
            note = limit[1] if limit is not None and limit[0] < t.minimum else \
                own_budget(results, t.op, t.backend, t.minimum)
            if note:
                detail += " (%s)" % note
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
