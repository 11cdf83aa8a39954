#!/usr/bin/env python3
"""Prints, for each failed test under a testlogs tree, its label and the lines of its log
that say why: what CI prints last, so that a reader of only the tail of a long run's output
sees which test failed and how, not just that one did.

A test failed when its JUnit XML has a <failure> or an <error> (as count_test_results.py
counts them), or is truncated. The lines kept are the ones a test or a sanitizer marks a
failure with; the first MAX_LINES of them per test, and the count of the rest.

usage: failure_lines.py TESTLOGS_DIR
"""
import pathlib
import re
import sys
import xml.etree.ElementTree as ElementTree

MAX_LINES = 12
# GoogleTest's "Failure" and "[  FAILED  ]", the shell tests' "FAIL", timeouts, the virtio
# rule checker's "violation:", the sanitizers' reports.
WHY = re.compile(
    r"Failure|FAILED|FAIL\b|TIMEOUT|[Tt]imed out|violation: |Sanitizer|runtime error")


def failed(xml: pathlib.Path) -> bool:
    try:
        root = ElementTree.parse(xml).getroot()
    except ElementTree.ParseError:
        return True
    return any(
        case.find("failure") is not None or case.find("error") is not None
        for case in root.iter("testcase"))


def main(testlogs: pathlib.Path) -> None:
    for xml in sorted(testlogs.rglob("test.xml")):
        if not failed(xml):
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
