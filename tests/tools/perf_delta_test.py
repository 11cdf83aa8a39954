"""tools/perf_delta.py: each function's CPU per operation is its share of the run's
samples times the run's CPU per operation, and functions are listed by how much more
the second run spends in them."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

from tests import junit_main

DELTA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools',
                     'perf_delta.py')

# perf report --no-children --sort sym --stdio -F sample,sym (header lines start '#').
ONE_REPORT = """\
# Samples: 100 of event 'cpu-clock'
#
       60  [k] pvm_irq_enable
       30  [.] sim::InodeTable::Get
       10  [.] driver::FuseClient::Transact
"""
MANY_REPORT = """\
# Samples: 200 of event 'cpu-clock'
#
      100  [k] pvm_irq_enable
       80  [.] sim::InodeTable::Get
       20  [.] driver::FuseClient::Transact
"""


def Results(name, cpu_time, unit):
    return json.dumps({'benchmarks': [
        {'name': name, 'run_type': 'iteration', 'cpu_time': cpu_time, 'time_unit': unit}]})


class PerfDeltaTest(unittest.TestCase):

    def Run(self, one_report, one_json, many_report, many_json):
        with tempfile.TemporaryDirectory() as work:
            paths = []
            for name, text in (('one.report', one_report), ('one.json', one_json),
                               ('many.report', many_report), ('many.json', many_json)):
                path = os.path.join(work, name)
                with open(path, 'w') as f:
                    f.write(text)
                paths.append(path)
            return subprocess.run([sys.executable, DELTA] + paths, capture_output=True,
                                  text=True)

    def testSharesTimesCpuPerOperationSortedByGrowth(self):
        # One: 1000 ns per op (600 kernel, 300 Get, 100 Transact). Many: 2 us per op
        # (1000, 800, 200).
        run = self.Run(ONE_REPORT, Results('row/sim-inline', 1000, 'ns'), MANY_REPORT,
                       Results('row_2threads/sim-inline', 2, 'us'))
        self.assertEqual(run.returncode, 0, run.stderr)
        lines = run.stdout.splitlines()
        self.assertIn('1000 (row/sim-inline), 2000 (row_2threads/sim-inline)', lines[0])
        self.assertEqual(lines[2].split(), ['500', '300', '800', 'sim::InodeTable::Get'])
        self.assertEqual(lines[3].split(),
                         ['400', '600', '1000', 'pvm_irq_enable', '[kernel]'])
        self.assertEqual(lines[4].split(),
                         ['100', '100', '200', 'driver::FuseClient::Transact'])

    def testARowThatDidNotRunIsSaidSo(self):
        run = self.Run(ONE_REPORT, '', MANY_REPORT, Results('x', 1, 'ns'))
        self.assertNotEqual(run.returncode, 0)
        self.assertIn('no benchmark ran', run.stderr)

    def testAReportWithoutSamplesIsSaidSo(self):
        run = self.Run('# nothing\n', Results('x', 1, 'ns'), MANY_REPORT,
                       Results('y', 1, 'ns'))
        self.assertNotEqual(run.returncode, 0)
        self.assertIn('no samples', run.stderr)


if __name__ == '__main__':
    junit_main.main()
