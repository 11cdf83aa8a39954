#!/usr/bin/env python3
"""Counts the atomic read-modify-writes a callgrind profile executed, by layer.

usage: tools/atomics_by_layer.py FILE COUNT
  FILE: written by callgrind with --dump-instr=yes --compress-pos=no --compress-strings=no

On the machines this project is measured on, an operation's time follows its atomic
read-modify-writes (lock-prefixed instructions, and xchg with memory, ~20 cycles each even
on a line the CPU holds, far more on one another CPU wrote) more than its instructions:
taking 18 of its 37 out of a cached stat made it a sixth faster with the same
instruction count. This finds them: the instructions callgrind counted at each address, against each
object's disassembly (objdump), and splits them by the layer of the function they ran in
(tools/instructions_by_layer.py's layers; the platform's locks and the C and C++
runtime's apart, not handed to their callers), then the functions that ran the most of
them."""
import collections
import re
import subprocess
import sys

from instructions_by_layer import LAYERS, RUNTIME, layer

# The locks the kernel code takes (base::Lock) are the platform's: in the simulation,
# sim::AdaptiveMutex behind sim::SimPlatform. Counted apart, for whichever layer took them.
LOCKS = "base::Lock (platform)"
LOCK_FUNCTIONS = ("MutexLock::", "AdaptiveMutex::")
# "  1234:\tf0 0f c1 07   \tlock xadd %eax,(%rdi)"
INSN = re.compile(r"^\s*([0-9a-f]+):\t(?:[0-9a-f]{2} )+\s*\t(.*)$")
# A function symbol from `nm`: "0000000000012340 T name".
SYMBOL = re.compile(r"^([0-9a-f]+) [TtWw] (.+)$")
# The functions listed by name, most atomics first.
TOP_FUNCTIONS = 10


def layer_of(function, obj):
    """The layer of `function` in `obj`, the platform's locks apart."""
    if any(name in function for name in LOCK_FUNCTIONS):
        return LOCKS
    return layer(function, obj)


def is_atomic(text):
    """Whether the disassembled instruction `text` is an atomic read-modify-write."""
    mnemonic = text.split()
    if not mnemonic:
        return False
    if mnemonic[0] == "lock":
        return True
    # xchg with a memory operand locks the bus without a prefix.
    return mnemonic[0].startswith("xchg") and "(" in text


def parse(path):
    """{(object, address): executed}, {(object, address): function}, {object: {function:
    lowest address executed}} from a callgrind file without compressed names or
    positions."""
    executed = collections.Counter()
    function_at, lowest = {}, collections.defaultdict(dict)
    ob = fn = ""
    skip_next = False
    with open(path) as f:
        for line in f:
            if line.startswith("ob="):
                ob = line[3:].strip()
            elif line.startswith("fn="):
                fn = line[3:].strip()
            elif line.startswith("calls="):
                skip_next = True  # The next cost line is the call's, not this function's.
            elif line.startswith("0x"):
                if skip_next:
                    skip_next = False
                    continue
                fields = line.split()
                address, cost = int(fields[0], 16), int(fields[-1])
                executed[(ob, address)] += cost
                function_at[(ob, address)] = fn
                known = lowest[ob].get(fn)
                if known is None or address < known:
                    lowest[ob][fn] = address
    return executed, function_at, lowest


def load_base(obj, lowest):
    """Where `obj` was loaded: the offset most of its executed functions' lowest addresses
    agree on against their symbols (a function is entered at its start)."""
    out = subprocess.run(["nm", "--defined-only", "-C", obj], capture_output=True,
                         text=True, check=False).stdout
    if not out.strip():  # Stripped: its dynamic symbols.
        out = subprocess.run(["nm", "-D", "--defined-only", "-C", obj],
                             capture_output=True, text=True, check=False).stdout
    symbols = {}
    for line in out.splitlines():
        m = SYMBOL.match(line)
        if m:  # Without its version ("@@GLIBCXX_3.4"), as callgrind names it.
            symbols.setdefault(m.group(2).split("@", 1)[0], int(m.group(1), 16))
    votes = collections.Counter()
    for fn, address in lowest.items():
        if fn in symbols:
            votes[address - symbols[fn]] += 1
    return votes.most_common(1)[0][0] if votes else None


def atomic_offsets(obj):
    """The offsets of `obj`'s atomic read-modify-writes, from its disassembly."""
    out = subprocess.run(["objdump", "-d", "-w", obj],
                         capture_output=True, text=True, check=False).stdout
    offsets = set()
    for line in out.splitlines():
        m = INSN.match(line)
        if m and is_atomic(m.group(2)):
            offsets.add(int(m.group(1), 16))
    return offsets


def short_name(function):
    """`function` without its parameter list, qualifiers and clone suffix."""
    name = re.sub(r"( \[clone [^]]*\])+$", "", function)
    name = re.sub(r"( const| volatile| &&| &)+$", "", name)
    if not name.endswith(")"):
        return name
    depth = 0
    for i in range(len(name) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(name[i], 0)
        if depth == 0:
            return name[:i]
    return name


def atomics_by_function(path):
    """({(object, function): atomics executed}, [objects without symbols to place
    them]) of the callgrind file `path`."""
    executed, function_at, lowest = parse(path)
    by_function, unmapped = collections.Counter(), []
    for obj in sorted(lowest):
        base = load_base(obj, lowest[obj])
        if base is None:
            unmapped.append(obj)
            continue
        atomic = atomic_offsets(obj)
        for (ob, address), times in executed.items():
            if ob == obj and address - base in atomic:
                by_function[(obj, function_at[(ob, address)])] += times
    return by_function, unmapped


def main():
    path, count = sys.argv[1], int(sys.argv[2])
    by_function, unmapped = atomics_by_function(path)
    by_layer = collections.Counter()
    for (obj, function), times in by_function.items():
        by_layer[layer_of(function, obj)] += times
    total = sum(by_layer.values())
    print("atomic read-modify-writes per operation: %.1f" % (total / count))
    for name in LAYERS + (LOCKS, RUNTIME):
        if by_layer[name] >= count / 20:
            print("    %-22s %7.1f" % (name, by_layer[name] / count))
    print("  the functions that ran the most (1 or more per operation):")
    for (_, function), times in by_function.most_common(TOP_FUNCTIONS):
        if times >= count:
            print("    %5.1f  %s" % (times / count, short_name(function)))
    if unmapped:
        print("  not counted (no symbols to place them): " + ", ".join(unmapped))


if __name__ == "__main__":
    main()
