"""unittest.main for the project's Python tests that also writes the JUnit XML Bazel asks
for ($XML_OUTPUT_FILE): a <testcase> per test, so that CI counts test cases, not targets
(tools/count_test_results.py). Without it Bazel writes one <testcase> for the whole target.

    if __name__ == "__main__":
        junit_main.main()
"""
import os
import sys
import unittest
from xml.etree import ElementTree


class _Recorder(unittest.TextTestResult):
    """Each test's outcome, in order: (test, kind, text), kind None when it passed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcomes = []

    def addSuccess(self, test):
        super().addSuccess(test)
        self.outcomes.append((test, None, ""))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.outcomes.append((test, "failure", self.failures[-1][1]))

    def addError(self, test, err):
        # Also a setUpClass that failed, its "test" then named after it.
        super().addError(test, err)
        self.outcomes.append((test, "error", self.errors[-1][1]))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.outcomes.append((test, "skipped", reason))

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.outcomes.append((test, None, ""))

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.outcomes.append((test, "failure", "unexpected success"))


def _write_junit(path, outcomes):
    suite = ElementTree.Element("testsuite", name=os.path.basename(sys.argv[0]),
                                tests=str(len(outcomes)))
    for attribute, kind in (("failures", "failure"), ("errors", "error"),
                            ("skipped", "skipped")):
        suite.set(attribute, str(sum(1 for _, k, _ in outcomes if k == kind)))
    for test, kind, text in outcomes:
        name = test.id()
        case = ElementTree.SubElement(suite, "testcase", name=name.rsplit(".", 1)[-1],
                                      classname=name.rsplit(".", 1)[0])
        if kind is not None:
            ElementTree.SubElement(case, kind, message=text.splitlines()[-1] if text
                                   else kind).text = text
    root = ElementTree.Element("testsuites")
    root.append(suite)
    ElementTree.ElementTree(root).write(path, encoding="UTF-8", xml_declaration=True)


def main():
    runner = unittest.TextTestRunner(resultclass=_Recorder)
    result = unittest.main(testRunner=runner, exit=False).result
    if os.environ.get("XML_OUTPUT_FILE"):
        _write_junit(os.environ["XML_OUTPUT_FILE"], result.outcomes)
    sys.exit(0 if result.wasSuccessful() else 1)
