"""tools/pjdfstest/summarize.py: the count of assertions per back end and the
verdict against the host's run and the expected-failure list."""
import os
import subprocess
import sys
import tempfile
import unittest

from tests import junit_main

SUMMARIZE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..',
                         'tools', 'pjdfstest', 'summarize.py')


class SummarizeTest(unittest.TestCase):

    def setUp(self):
        self.work = tempfile.mkdtemp()
        self.expected = os.path.join(self.work, 'expected.txt')
        self.expect('')
        # The host passes 1 and 2 and fails 3.
        self.tap('host', '1..3\nok 1\nok 2\nnot ok 3 - host-only failure\n')

    def tap(self, backend, text, directory='chmod'):
        logs = os.path.join(self.work, backend, 'logs', directory)
        os.makedirs(logs, exist_ok=True)
        with open(os.path.join(logs, '00.t.tap'), 'w') as f:
            f.write(text)

    def expect(self, text):
        with open(self.expected, 'w') as f:
            f.write('# backends assertion reason\n' + text)

    def summarize(self, *args):
        run = subprocess.run(
            [sys.executable, SUMMARIZE, '--work', self.work, '--expected', self.expected,
             *args], capture_output=True, text=True)
        return run.returncode, run.stdout

    def test_what_fails_only_where_the_host_fails_too_is_not_held_against_it(self):
        self.tap('pci', '1..3\nok 1\nok 2\nnot ok 3\n')
        rc, out = self.summarize('host', 'pci')
        self.assertEqual(rc, 0, out)
        self.assertIn('note: fails on the host too (not held against others): chmod/00.t:3',
                      out)
        self.assertIn('pjdfstest: 4 passed, 0 failed (0 expected failures)', out)

    def test_a_failure_the_host_passes_fails_the_run_unless_listed(self):
        self.tap('pci', '1..3\nok 1\nnot ok 2 - wrong errno\nok 3\n')
        rc, out = self.summarize('host', 'pci')
        self.assertEqual(rc, 1)
        self.assertIn('FAIL pci chmod/00.t:2: wrong errno', out)
        self.expect('pci chmod/00.t:2 a known defect\n')
        rc, out = self.summarize('host', 'pci')
        self.assertEqual(rc, 0, out)
        self.assertIn('pjdfstest: 4 passed, 0 failed (1 expected failures)', out)

    def test_a_listed_failure_that_passes_must_leave_the_list(self):
        self.tap('pci', '1..3\nok 1\nok 2\nok 3\n')
        self.expect('pci,mmio chmod/00.t:2 fixed since\n')
        rc, out = self.summarize('host', 'pci')
        self.assertEqual(rc, 1)
        self.assertIn('FAIL pci chmod/00.t:2 passes: remove it from the list', out)

    def test_an_assertion_the_script_never_reached_fails(self):
        self.tap('pci', '1..3\nok 1\n')
        rc, out = self.summarize('host', 'pci')
        self.assertEqual(rc, 1)
        self.assertIn('FAIL pci chmod/00.t:2: never reached (the script stopped)', out)

    def test_a_reused_back_end_judges_but_is_not_counted(self):
        self.tap('pci', '1..3\nok 1\nnot ok 2\nok 3\n')
        rc, out = self.summarize('--reused', 'host', 'host', 'pci')
        self.assertEqual(rc, 1)
        self.assertIn('FAIL pci chmod/00.t:2', out)
        self.assertIn('host (reused): the logs of an earlier run with the same inputs; '
                      'its 2 passed are not counted below', out)
        self.assertIn('pjdfstest: 2 passed, 1 failed', out)

    def test_a_directory_a_back_end_ran_no_file_of_shows_a_dash(self):
        # run.sh --mmio-every: mmio ran chmod/, not rename/.
        self.tap('host', '1..1\nok 1\n', directory='rename')
        self.tap('pci', '1..1\nok 1\n', directory='rename')
        self.tap('pci', '1..3\nok 1\nok 2\nnot ok 3\n')
        self.tap('mmio', '1..3\nok 1\nok 2\nnot ok 3\n')
        rc, out = self.summarize('host', 'pci', 'mmio')
        self.assertEqual(rc, 0, out)
        rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:5]}
        self.assertEqual(rows['chmod'], ['2/1', '2/1', '2/1'], out)
        self.assertEqual(rows['rename'], ['1/0', '1/0', '-'], out)
        self.assertEqual(rows['total'], ['3/1', '3/1', '2/1'], out)

    def test_the_files_to_judge_are_those_a_back_end_failed_in_and_those_listed(self):
        # run.sh --host-on-demand runs the host on these alone.
        self.tap('pci', '1..2\nok 1\nnot ok 2 # TODO Linux fails it\n')
        self.tap('pci', '1..2\nok 1\n', directory='rename')  # 2 never reached
        self.tap('mmio', '1..1\nok 1\n', directory='mkdir')
        self.expect('fuse open/00.t:4 a known defect\n')
        rc, out = self.summarize('--files-to-judge', 'pci', 'mmio')
        self.assertEqual(rc, 0, out)
        self.assertEqual(out.split(), ['open/00.t', 'rename/00.t'])

    def test_a_file_the_host_did_not_run_is_judged_as_without_the_host(self):
        # The host ran chmod/00.t only (setUp): its failure 3 is excused there.
        self.tap('pci', '1..3\nok 1\nok 2\nnot ok 3\n')
        self.tap('pci', '1..3\nok 1\nnot ok 2 # TODO Linux fails it\nnot ok 3 - wrong errno\n',
                 directory='rename')
        rc, out = self.summarize('host', 'pci')
        self.assertEqual(rc, 1)
        self.assertNotIn('FAIL pci chmod/00.t:3', out)
        self.assertNotIn('FAIL pci rename/00.t:2', out)
        self.assertIn('FAIL pci rename/00.t:3: wrong errno', out)
        self.assertIn('pjdfstest: 5 passed, 1 failed', out)


if __name__ == '__main__':
    junit_main.main()
