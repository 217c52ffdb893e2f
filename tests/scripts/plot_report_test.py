#!/usr/bin/env python3
"""scripts/plot-report.py on synthetic reports: a loopback report with histogram buckets, the same
without them (percentiles only), a flood report with probes, a server report with nothing to draw;
each must give a PNG, taller the more the report has to show. A missing file, a file that is not
JSON and JSON that is not a report must each give one line on stderr and exit 2 (the other files
of the same command still drawn). No network, no synwave binary; a few seconds.

Run by meson (`meson test -C build plot-report`) or directly: /usr/bin/python3 THIS_FILE
"""
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, "scripts", "plot-report.py")
PYTHON = "/usr/bin/python3"  # Debian's, which has matplotlib (the project runs its scripts with it)


def bucket_of(ns):
    """The [lowest_ns, highest_ns] of the histogram bucket holding ns, in the layout of
    include/synwave/latency_histogram.hpp: exact below 128 ns, then 64 buckets per power of two."""
    if ns < 128:
        return ns, ns
    width = 1 << (ns.bit_length() - 1 - 6)
    lowest = ns // width * width
    return lowest, lowest + width - 1


def histogram(values_ns, with_buckets):
    values = sorted(values_ns)
    n = len(values)

    def pct(p):
        return values[min(n - 1, int(p / 100 * n))] / 1e3

    h = {"count": n, "min": values[0] / 1e3, "mean": sum(values) / n / 1e3, "p50": pct(50), "p90": pct(90),
         "p99": pct(99), "p99_9": pct(99.9), "max": values[-1] / 1e3}
    if with_buckets:
        counts = {}
        for v in values:
            b = bucket_of(v)
            counts[b] = counts.get(b, 0) + 1
        h["buckets"] = [[lo, hi, c] for (lo, hi), c in sorted(counts.items())]
    return h


def latency_values(rng, n, median_ns, tail_ns):
    """Mostly around the median, one in a hundred in a slow tail (a retransmitted SYN)."""
    return [int(rng.lognormvariate(0, 0.4) * (tail_ns if rng.random() < 0.01 else median_ns)) + 1 for _ in range(n)]


def loopback_report(with_buckets):
    rng = random.Random(7)
    timeline = [{"t_s": t + 1.0, "opened_per_s": 1.0e6 + 1e4 * t, "completed_per_s": 0.99e6 + 1e4 * t,
                 "failed_per_s": 3.0 if t == 4 else 0.0, "http_requests_per_s": 0.99e6 + 1e4 * t,
                 "server_established": 900 + t, "client_established": 1000 + t,
                 "server_rx_gbit_per_s": 0.8, "client_rx_gbit_per_s": 1.1,
                 "server_busy_pct": 80.0 + t, "client_busy_pct": 97.5,
                 "connect_p50_us": 12.0 + t, "connect_p99_us": 80.0 + 10 * t} for t in range(10)]
    return {
        "mode": "loopback", "duration_s": 10.02, "startup_s": 0.01, "active_s": 10.01,
        "started_at_unix_s": 1.7e9, "connections_completed": 9_950_000, "connections_failed": 3,
        "cps": 994_005.0, "http_requests_per_s": 994_005.0, "counters": {"conn_opened": 10_000_000},
        "latency": {"connect": histogram(latency_values(rng, 20000, 15_000, 1_000_000_000), with_buckets),
                    "transaction": histogram(latency_values(rng, 20000, 30_000, 5_000_000), with_buckets)},
        "timeline": timeline,
    }


def flood_report():
    rng = random.Random(11)
    return {
        "mode": "flood", "duration_s": 10.0, "kind": "syn", "target_pps": 2_000_000, "sent": {"syn": 19_000_000},
        "sent_total": 19_000_000, "pps": 1_900_000.0, "attempted": 19_500_000, "attempted_pps": 1_950_000.0,
        "tx_queue_full": 500_000, "no_buffer": 0, "shortfall": "", "data_plane": {"rx_packets": 18_000_000},
        "probes": {"rate": 200, "opened": 2000, "completed": 1990, "failed": 10, "success_pct": 99.5,
                   "failures": {"connect_timeout": 10}, "counters": {"rx_frames": 8000},
                   "latency": {"connect": histogram(latency_values(rng, 2000, 5_000, 1_000_000_000), True),
                               "transaction": histogram(latency_values(rng, 1990, 20_000, 2_000_000), True)},
                   "timeline": [{"t_s": t + 1.0, "opened_per_s": 200.0, "completed_per_s": 199.0 - t,
                                 "failed_per_s": float(t), "http_requests_per_s": 0.0,
                                 "client_busy_pct": 40.0, "connect_p50_us": 4.0, "connect_p99_us": 1000.0 * t + 5}
                                for t in range(10)]},
    }


def server_report_without_timeline():
    return {"mode": "server", "duration_s": 3.0, "active_s": 2.9, "connections_completed": 100,
            "connections_failed": 0, "cps": 34.5, "timeline": []}


def png_size(path):
    """(width, height) from a PNG's IHDR chunk; fails unless the file starts as a PNG does."""
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise AssertionError(f"{path} is not a PNG")
    return struct.unpack(">II", head[16:24])


class PlotReportTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="plot-report-test.")
        self.addCleanup(self.dir.cleanup)

    def write(self, name, content):
        path = os.path.join(self.dir.name, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(content if isinstance(content, str) else json.dumps(content))
        return path

    def run_script(self, *args):
        return subprocess.run([PYTHON, SCRIPT, *args], capture_output=True, text=True, timeout=60)

    def test_reports_become_pngs(self):
        # One process for all four (matplotlib loads once): each REPORT.json gives REPORT.png. A
        # missing file among them is named and skipped (exit 2); the others are still drawn.
        reports = {
            "buckets": loopback_report(with_buckets=True),
            "percentiles": loopback_report(with_buckets=False),
            "flood": flood_report(),
            "server": server_report_without_timeline(),
        }
        paths = {name: self.write(name + ".json", r) for name, r in reports.items()}
        missing = os.path.join(self.dir.name, "missing.json")
        result = self.run_script(paths["buckets"], missing, *list(paths.values())[1:])
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stderr.strip().splitlines(), [f"plot-report.py: cannot read {missing}: No such file or directory"])
        heights = {}
        for name, path in paths.items():
            png = path[:-len(".json")] + ".png"
            self.assertTrue(os.path.isfile(png), f"no {png}; stdout: {result.stdout}")
            self.assertGreater(os.path.getsize(png), 5000, f"{png} is nearly empty")
            heights[name] = png_size(png)[1]
            self.assertIn(f"wrote {png}", result.stdout)
        # A panel per thing the report has: six for the loopback (rates, held, Gbit/s, busy,
        # connect per interval, distribution), four for the flood, one message for the server.
        self.assertEqual(heights["buckets"], heights["percentiles"])
        self.assertGreater(heights["buckets"], heights["flood"])
        self.assertGreater(heights["flood"], heights["server"])

    def test_output_option(self):
        report = self.write("r.json", loopback_report(with_buckets=True))
        out = os.path.join(self.dir.name, "elsewhere.png")
        result = self.run_script(report, "-o", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertGreater(png_size(out)[0], 0)
        self.assertFalse(os.path.exists(os.path.join(self.dir.name, "r.png")))

    def assert_refused(self, path, words):
        result = self.run_script(path)
        self.assertEqual(result.returncode, 2, result.stderr)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertIn(words, lines[0])
        self.assertFalse(os.path.exists(os.path.splitext(path)[0] + ".png"))

    def test_missing_file(self):
        self.assert_refused(os.path.join(self.dir.name, "absent.json"), "cannot read")

    def test_not_json(self):
        self.assert_refused(self.write("bad.json", "{ this is not json"), "is not JSON")

    def test_not_a_report(self):
        self.assert_refused(self.write("other.json", {"workloads": {}}), "not a synwave report")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
