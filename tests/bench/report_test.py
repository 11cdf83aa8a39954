"""The report tool turns Google Benchmark's JSON into the table and the targets."""
import os
import tempfile
import unittest

from bench import report


def run(name, time_ns, backend_counters=None, **fields):
    b = {"name": name + "/real_time", "run_name": name + "/real_time", "run_type": "iteration",
         "iterations": 1000, "real_time": time_ns, "cpu_time": time_ns, "time_unit": "ns"}
    b.update(backend_counters or {})
    b.update(fields)
    return b


def doc():
    """Figures chosen so every ratio is easy to check by hand."""
    benchmarks = [
        # 4 KiB random pread: host 1000 ns; sim-inline 1500 ns (0.67x, PASS); sim-thread
        # 4000 ns (0.25x, MISS: the target is within 2x, i.e. >= 0.5x).
        run("rand_pread_4KiB/host", 1000, bytes_per_second=4096e6),
        run("rand_pread_4KiB/fuse", 20000, bytes_per_second=204.8e6),
        run("rand_pread_4KiB/sim-inline", 1500, {"fuse_req_per_op": 1.0, "peak_rss_MiB": 9.0},
            bytes_per_second=4096e6 / 1.5),
        run("rand_pread_4KiB/sim-thread", 4000, {"fuse_req_per_op": 1.0, "peak_rss_MiB": 9.5},
            bytes_per_second=1024e6),
        # open+close, times only: host 2 us, fuse 60 us, sim 10 us (6x fuse) and 30 us (2x).
        run("open_close/host", 2000, items_per_second=5e5),
        run("open_close/fuse", 60000, items_per_second=1.6e4),
        run("open_close/sim-inline", 10000, {"fuse_req_per_op": 3.0, "peak_rss_MiB": 8.0},
            items_per_second=1e5),
        run("open_close/sim-thread", 30000, {"fuse_req_per_op": 3.0, "peak_rss_MiB": 8.0},
            items_per_second=3.3e4),
        # The same on packed rings (simulated machines only): 2000 ns (0.50x the host's
        # 4 KiB pread) and 20 us (0.10x the host's open+close).
        run("rand_pread_4KiB_packed/sim-inline", 2000, {"fuse_req_per_op": 1.0},
            bytes_per_second=2048e6),
        run("open_close_packed/sim-thread", 20000, {"fuse_req_per_op": 3.0},
            items_per_second=5e4),
        # Streaming: peak RSS 20 MiB (PASS) and 80 MiB (MISS).
        run("stream_1GiB/host/iterations:1", 1e8, bytes_per_second=10e9),
        run("stream_1GiB/sim-inline/iterations:1", 2e8, {"peak_rss_MiB": 20.0},
            bytes_per_second=5e9),
        run("stream_1GiB/sim-thread/iterations:1", 4e8, {"peak_rss_MiB": 80.0},
            bytes_per_second=2.5e9),
    ]
    # A back end that could not run: reported, not counted.
    benchmarks.append({"name": "stream_1GiB/fuse/iterations:1/real_time",
                       "run_name": "stream_1GiB/fuse/iterations:1/real_time",
                       "run_type": "iteration", "error_occurred": True,
                       "error_message": "skipped: cannot open /dev/fuse: No such device",
                       "iterations": 0, "real_time": 0, "cpu_time": 0, "time_unit": "ns"})
    return {"context": {"fsbench_build": "optimized"}, "benchmarks": benchmarks}


def row(lines, label):
    matches = [l for l in lines if l.startswith(label)]
    assert len(matches) == 1, (label, lines)
    return matches[0].split()


class ReportTest(unittest.TestCase):

    def setUp(self):
        self.results = report.load_results(doc())

    def test_table_has_figures_and_ratios_to_host(self):
        lines = report.build_table(self.results)
        self.assertIn("host", lines[0])
        self.assertIn("sim-thread", lines[0])
        # "random pread, 4 KiB  GB/s  4.10  0.20 (0.05x)  2.73 (0.67x)  1.02 (0.25x)  1.0, 1.0  9, 10"
        cells = row(lines, "random pread, 4 KiB")
        self.assertEqual(cells[4:13], ["GB/s", "4.10", "0.20", "(0.05x)", "2.73", "(0.67x)",
                                       "1.02", "(0.25x)", "1.0,"])
        cells = row(lines, "open+close")
        self.assertEqual(cells[1:9], ["us/op", "2.00", "60.00", "(0.03x)", "10.00", "(0.20x)",
                                      "30.00", "(0.07x)"])
        self.assertEqual(cells[9:11], ["3.0,", "3.0"])
        cells = row(lines, "stream 1 GiB")
        self.assertIn("skipped", cells)

    def test_packed_rows_compare_with_the_hosts_figure_of_the_same_operation(self):
        lines = report.build_table(self.results)
        cells = row(lines, "packed rings: random pread, 4 KiB")
        self.assertEqual(cells[6:11], ["GB/s", "-", "-", "2.05", "(0.50x)"])
        cells = row(lines, "packed rings: open+close")
        self.assertEqual(cells[3:10], ["us/op", "-", "-", "-", "20.00", "(0.10x)", "-,"])

    def test_targets_pass_and_miss(self):
        status = {(b, text): s for s, b, text, _ in report.evaluate_targets(self.results)}
        pread = "random 4 KiB pread within 2x of host"
        self.assertEqual(status[("sim-inline", pread)], "PASS")
        self.assertEqual(status[("sim-thread", pread)], "MISS")
        open_close = "open+close >= 3x faster than kernel FUSE"
        self.assertEqual(status[("sim-inline", open_close)], "PASS")
        self.assertEqual(status[("sim-thread", open_close)], "MISS")
        rss = "streaming 1 GiB keeps peak RSS < 64 MiB"
        self.assertEqual(status[("sim-inline", rss)], "PASS")
        self.assertEqual(status[("sim-thread", rss)], "MISS")
        # Not measured in this document.
        self.assertEqual(status[("sim-inline", "stat, caches on, within 1.5x of host")], "N/A")

    def test_median_aggregate_wins_over_repetitions(self):
        d = {"benchmarks": [
            run("open_close/host", 9000),
            dict(run("open_close/host", 2000), run_type="aggregate", aggregate_name="median"),
            dict(run("open_close/host", 5000), run_type="aggregate", aggregate_name="mean"),
        ]}
        results = report.load_results(d)
        self.assertEqual(results[("open_close", "host")].time_ns, 2000)

    def test_report_text_and_chart(self):
        with tempfile.TemporaryDirectory() as tmp:
            png = os.path.join(tmp, "chart.png")
            text = report.report(self.results, png)
            self.assertIn("MISS  sim-thread  random 4 KiB pread within 2x of host", text)
            self.assertIn("stream_1GiB/fuse: skipped: cannot open /dev/fuse", text)
            self.assertIn("Chart: " + png, text)
            with open(png, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")


if __name__ == "__main__":
    unittest.main()
