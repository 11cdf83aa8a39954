#!/usr/bin/env python3
"""Counts pjdfstest's assertions per back end and directory from the TAP logs
tools/pjdfstest/run.sh keeps, and judges each back end against the host's run
and the expected-failure list.

An assertion is "file:number" (chmod/00.t:12). Its outcome is pass ("ok"),
todo ("not ok # TODO": the suite itself expects Linux to fail it) or fail.
Assertions a script never reached (it died before its plan's end) fail.
A back end named with --reused has logs of an earlier run (run.sh keeps the
host's): it is judged by and shown, but its assertions are not counted as
passed in this run. The host's run may cover only some test files (run.sh
--host-on-demand runs it on those --files-to-judge names); an assertion of a
file it did not run is judged as without the host.
"""
import argparse
import collections
import os
import re
import sys

LINE = re.compile(r'^(not )?ok (\d+)(.*)$')
PLAN = re.compile(r'^1\.\.(\d+)')


def read_backend(logs):
    """{assertion: (outcome, message)} from one back end's logs."""
    results = {}
    for dirpath, _, files in os.walk(logs):
        for name in files:
            if not name.endswith('.tap'):
                continue
            path = os.path.join(dirpath, name)
            test = os.path.relpath(path, logs)[:-len('.tap')]
            planned = 0
            with open(path, errors='replace') as tap:
                for line in tap:
                    line = line.rstrip('\n')
                    plan = PLAN.match(line)
                    if plan:
                        planned = int(plan.group(1))
                        continue
                    m = LINE.match(line)
                    if not m:
                        continue
                    failed, number, rest = m.group(1), int(m.group(2)), m.group(3)
                    if not failed:
                        outcome = 'pass'
                    elif '# TODO' in rest:
                        outcome = 'todo'
                    else:
                        outcome = 'fail'
                    results[f'{test}:{number}'] = (outcome, rest.strip(' -'))
            for number in range(1, planned + 1):
                results.setdefault(f'{test}:{number}',
                                   ('fail', 'never reached (the script stopped)'))
    return results


def read_expected(path):
    """[(backends, assertion, reason)] from the checked-in list."""
    expected = []
    with open(path) as listing:
        for number, line in enumerate(listing, 1):
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            parts = line.split(None, 2)
            if len(parts) < 3:
                sys.exit(f'{path}:{number}: want "BACKENDS FILE:N REASON"')
            expected.append((set(parts[0].split(',')), parts[1], parts[2]))
    return expected


def directory(assertion):
    return assertion.split('/', 1)[0]


def test_file(assertion):
    return assertion.rsplit(':', 1)[0]


def files_to_judge(runs, expected):
    """The test files whose verdict the host's reference can change: those
    where a back end failed an assertion, and those the list names."""
    files = {test_file(a) for r in runs.values()
             for a, (outcome, _) in r.items() if outcome == 'fail'}
    files.update(test_file(e[1]) for e in expected)
    return sorted(files)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--work', required=True)
    parser.add_argument('--expected', required=True)
    parser.add_argument('--reused', action='append', default=[],
                        help='a back end whose logs come from an earlier run')
    parser.add_argument('--files-to-judge', action='store_true',
                        help='print the test files to run the host on, and stop')
    parser.add_argument('backends', nargs='+')
    args = parser.parse_args()

    runs = {b: read_backend(os.path.join(args.work, b, 'logs'))
            for b in args.backends}
    expected = read_expected(args.expected)
    if args.files_to_judge:
        print('\n'.join(files_to_judge(runs, expected)))
        return 0
    host = runs.get('host')
    host_files = {test_file(a) for a in host} if host else set()

    # Per directory: passed / failed for each back end.
    dirs = sorted({directory(a) for r in runs.values() for a in r})
    width = max([len(d) for d in dirs] + [9])
    print('pjdfstest assertions passed/failed per directory')
    print(f'{"directory":<{width}}' + ''.join(f'{b:>14}' for b in args.backends))
    totals = collections.Counter()
    for d in dirs:
        row = f'{d:<{width}}'
        for b in args.backends:
            counts = collections.Counter(o for a, (o, _) in runs[b].items()
                                         if directory(a) == d)
            totals[b, 'pass'] += counts['pass']
            totals[b, 'fail'] += counts['fail']
            if counts:
                row += f'{counts["pass"]:>9}/{counts["fail"]:<4}'
            else:  # None of the directory's files ran (run.sh --mmio-every).
                row += f'{"-":>9} {"":<4}'
        print(row)
    print(f'{"total":<{width}}' + ''.join(
        f'{totals[b, "pass"]:>9}/{totals[b, "fail"]:<4}' for b in args.backends))
    for b in args.reused:
        print(f'{b} (reused): the logs of an earlier run with the same inputs; '
              f'its {totals[b, "pass"]} passed are not counted below')

    # The verdict: what passes on the host passes everywhere, but for the list.
    unexpected, stale, excused = [], [], 0
    for b in args.backends:
        if b == 'host':
            continue
        for assertion, (outcome, message) in sorted(runs[b].items()):
            # Without the host's run of the file, what the suite marks TODO
            # for Linux is not held against a back end.
            if test_file(assertion) in host_files:
                reference = host.get(assertion, ('pass', ''))[0]
            else:
                reference = 'todo' if outcome == 'todo' else 'pass'
            if reference != 'pass':
                continue
            listed = [e for e in expected
                      if e[1] == assertion and b in e[0]]
            if outcome == 'pass':
                if listed:
                    stale.append(f'{b} {assertion} passes: remove it from the list')
            elif listed:
                excused += 1
            else:
                unexpected.append(f'{b} {assertion}: {message}')
        violations = os.path.join(args.work, b, 'violations.log')
        if os.path.exists(violations) and os.path.getsize(violations):
            with open(violations) as log:
                first = log.readline().strip()
            unexpected.append(f'{b}: the driver broke a virtio rule: {first}')
    if host:
        for assertion, (outcome, message) in sorted(host.items()):
            if outcome == 'fail':
                print(f'note: fails on the host too (not held against others): '
                      f'{assertion}: {message}')
    for line in unexpected + stale:
        print('FAIL ' + line)
    passed = sum(totals[b, 'pass'] for b in args.backends
                 if b not in args.reused)
    print(f'pjdfstest: {passed} passed, {len(unexpected) + len(stale)} failed '
          f'({excused} expected failures)')
    return 1 if unexpected or stale else 0


if __name__ == '__main__':
    sys.exit(main())
