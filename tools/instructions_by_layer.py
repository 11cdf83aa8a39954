#!/usr/bin/env python3
"""Splits a callgrind profile's instructions by the layer of the code that ran them.

usage: callgrind_annotate --tree=caller --auto=no --threshold=100 FILE \
         | tools/instructions_by_layer.py COUNT

A function's own instructions (not its callees') go to the layer its name places it in:
the first of the project's namespaces the name qualifies (vfs::, driver::, sim:: split by
class, base::), or libfuse for libfuse's. The C and C++ runtime (malloc, memcpy, locks,
templates of std:: and absl::) works for whoever called it: its instructions go to its
callers' layers in proportion to what each call cost, and are also shown apart. A function
inlined into another is counted where the compiler put it, in the caller."""
import collections
import re
import sys

# sim:: classes by role; any other sim:: code is the device model (virtqueues, registers,
# the backends' wrappers, guest memory).
FUSE_SERVER = ("FuseServer", "ReplyRouter", "ChainReader", "ChainWriter", "CheckFuseRequest")
PASSTHROUGH = ("PassthroughOps", "PassthroughFs", "InodeTable", "InodeReopener",
               "OpenHostFile", "HandleTable", "host::", "RequesterIds")
LAYERS = ("VFS", "driver", "device model", "FUSE server", "libfuse", "passthrough handlers",
          "base", "benchmark loop")
RUNTIME = "runtime"

# "1,234 ( 5.6%)  < file:function (12x) [object]" (a caller and what its calls cost) or
# "1,234 ( 5.6%)  *  file:function [object]" (the function and its own instructions).
LINE = re.compile(r"^\s*([\d,]+)\s+\([\s\d.]+%\)\s+([<*])\s+(.*?)(?:\s+\(\d[\d,]*x\))?"
                  r"(?:\s+\[([^\]]*)\])?\s*$")


def layer(where, obj):
    """The layer of the function at `where` ("file:name(args)") from `obj`, or RUNTIME."""
    # "file:name(args)": the first single colon ends the file ("???" when unknown).
    name = re.split(r"(?<!:):(?!:)", where, maxsplit=1)[-1].split("(", 1)[0]
    m = re.search(r"\b(vfs|driver|sim|base|bench)::", name)
    if m:
        if m.group(1) == "sim":
            rest = name[m.start():]
            if any(c in rest for c in FUSE_SERVER):
                return "FUSE server"
            if any(c in rest for c in PASSTHROUGH):
                return "passthrough handlers"
            return "device model"
        return {"vfs": "VFS", "driver": "driver", "base": "base",
                "bench": "benchmark loop"}[m.group(1)]
    if "MeasuredRequests" in name:
        return "benchmark loop"
    if "libfuse" in obj:
        return "libfuse"
    return RUNTIME


def parse(lines):
    """{function: (own instructions, layer)}, {function: {caller: cost of its calls}}."""
    own, callers, pending = {}, collections.defaultdict(dict), []
    for line in lines:
        m = LINE.match(line)
        if not m:
            pending = []
            continue
        cost, kind, where, obj = int(m.group(1).replace(",", "")), m.group(2), m.group(3), \
            m.group(4) or ""
        if kind == "<":
            pending.append((where, cost, obj))
            continue
        own[where] = (cost, layer(where, obj))
        for caller, edge, caller_obj in pending:
            callers[where][caller] = edge
            own.setdefault(caller, (0, layer(caller, caller_obj)))
        pending = []
    return own, callers


def owners(function, own, callers, seen=()):
    """{layer: share} of the code `function` works for: its own layer, or for the
    runtime, its callers' in proportion to what their calls cost."""
    kind = own[function][1]
    if kind != RUNTIME:
        return {kind: 1.0}
    edges = {c: e for c, e in callers.get(function, {}).items() if c not in seen}
    total = sum(edges.values())
    if not total:
        return {RUNTIME: 1.0}
    shares = collections.defaultdict(float)
    for caller, edge in edges.items():
        for name, share in owners(caller, own, callers, seen + (function,)).items():
            shares[name] += share * edge / total
    return shares


def main():
    count = int(sys.argv[1])
    own, callers = parse(sys.stdin)
    totals, runtime = collections.defaultdict(float), collections.defaultdict(float)
    for function, (cost, kind) in own.items():
        for name, share in owners(function, own, callers).items():
            totals[name] += cost * share
            if kind == RUNTIME:
                runtime[name] += cost * share
    whole = sum(totals.values()) or 1
    print("  by layer, per operation (instructions; of which in the C/C++ runtime):")
    for name in LAYERS + (RUNTIME,):
        if totals[name] >= count:
            print("    %-22s %7.0f  %3.0f%%   (%.0f)" % (
                name, totals[name] / count, 100 * totals[name] / whole,
                runtime[name] / count))


if __name__ == "__main__":
    main()
