#!/usr/bin/env python3
"""Counts test cases (not Bazel targets) from the JUnit XML files under a testlogs tree.

GoogleTest writes one <testcase> per TEST, the Python tests one per test
(tests/junit_main.py); for a target that wrote no XML (a shell test, a crash, a timeout)
Bazel writes one <testcase> of its own. A test case passes when it has
neither <failure> nor <error>; skipped ones are counted apart.

usage: count_test_results.py TESTLOGS_DIR  ->  prints "PASSED FAILED SKIPPED"
"""
import pathlib
import sys
import xml.etree.ElementTree as ElementTree


def outcomes(xml: pathlib.Path):
    """(passed, failed, skipped) of one test.xml."""
    try:
        root = ElementTree.parse(xml).getroot()
    except ElementTree.ParseError:
        return 0, 1, 0  # A truncated report means the test died while writing it.
    passed = failed = skipped = 0
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None or case.get("status") == "notrun":
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def count(testlogs: pathlib.Path):
    totals = [0, 0, 0]
    for xml in sorted(testlogs.rglob("test.xml")):
        totals = [t + n for t, n in zip(totals, outcomes(xml))]
    return tuple(totals)


if __name__ == "__main__":
    print(*count(pathlib.Path(sys.argv[1])))
