#!/usr/bin/env python3
"""Prints, for each failed test under a testlogs tree, its path and the lines of its log
that say why: what CI prints last, so that a reader of only the tail of a long run's output
sees which test failed and how, not just that one did.

A test failed when count_test_results.py counts a failure in its JUnit XML. The lines kept
are the ones a test or a sanitizer marks a failure with: the first MAX_LINES of them per
test, and the count of the rest.

usage: failure_lines.py TESTLOGS_DIR
"""
import pathlib
import re
import sys

from count_test_results import outcomes  # Beside this file: on sys.path when run.

MAX_LINES = 12
# GoogleTest's "Failure" and "[  FAILED  ]", the shell tests' "FAIL", timeouts, the virtio
# rule checker's "violation:", the sanitizers' reports.
WHY = re.compile(
    r"Failure|FAILED|FAIL\b|TIMEOUT|[Tt]imed out|violation: |Sanitizer|runtime error")


def main(testlogs: pathlib.Path) -> None:
    for xml in sorted(testlogs.rglob("test.xml")):
        if outcomes(xml)[1] == 0:
            continue
        log = xml.with_name("test.log")
        label = "//" + str(xml.parent.relative_to(testlogs))
        try:
            lines = log.read_text(errors="replace").splitlines()
        except OSError:
            print(f"{label}: no log")
            continue
        why = [line.strip() for line in lines if WHY.search(line)]
        print(f"{label}: {len(why)} line(s) saying why")
        for line in why[:MAX_LINES]:
            print(f"  {line[:200]}")
        if len(why) > MAX_LINES:
            print(f"  ... {len(why) - MAX_LINES} more in {log}")


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]))
