"""Unit tests of the parser on testdata/ and of judging a run."""
import re
import unittest
from pathlib import Path

import run
import stats
from config import TAIL_LINES
from parse import parse_log

HERE = Path(__file__).resolve().parent / "testdata"


class SampleLog(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.text = (HERE / "sample.log").read_text()
        cls.p = parse_log(cls.text)

    def test_info_merged(self):
        info = self.p["info"]
        self.assertTrue(self.p["done"])
        self.assertEqual(info["os"], "mello")
        self.assertEqual(info["tsc_hz"], "2000000000")
        self.assertEqual(info["steal"], "half")  # a second BENCHINFO line: tunables
        self.assertEqual(info["balancer_ms"], "100")

    def test_samples(self):
        m = self.p["metrics"]
        self.assertEqual(len(m["timer_wake"]["samples"]), 200)
        self.assertEqual(m["spawn_rate_4cpu"]["samples"], [412000])
        self.assertNotIn("bogus", m)
        self.assertTrue(any("garbled" in w for w in self.p["warnings"]))

    def test_counts(self):
        c = self.p["counts"]
        self.assertEqual(c["timer_wake"]["ops"], 3200)
        self.assertEqual(c["wake_cross_idle"]["ipis"], 8390)
        self.assertEqual(set(c["spawn_rate_4cpu"]),
                         {"ops", "ipis", "halts", "polls", "steals", "timer_irqs", "wakes", "remote_wakes"})

    def test_analyze(self):
        res = stats.analyze([{"log": "sample.log", "ok": True, "status": "ok", "parsed": self.p}])
        tw = res["aggregate"]["timer_wake"]
        # samples are 1000..20900 cycles step 100 => ns = cycles / 2 at 2 GHz
        self.assertEqual(tw["unit"], "ns")
        self.assertEqual((tw["min"], tw["max"]), (500, 10450))
        self.assertEqual((tw["p50"], tw["p99"]), (5450, 10350))
        self.assertEqual(res["aggregate"]["ap_bringup"]["unit"], "us")
        self.assertAlmostEqual(res["counts"]["wake_cross_idle"]["ipis"], 8390 / 8400)

    def test_two_runs_spread(self):
        p2 = parse_log(re.sub(r"tsc_hz=2000000000", "tsc_hz=1333333333", self.text))
        res = stats.analyze([{"log": "a", "ok": True, "status": "ok", "parsed": self.p},
                             {"log": "b", "ok": True, "status": "ok", "parsed": p2}])
        self.assertEqual(res["aggregate"]["timer_wake"]["runs"], 2)
        self.assertAlmostEqual(res["aggregate"]["timer_wake"]["p50_spread_pct"], 40.0, delta=0.5)

    def test_linux_sample(self):
        lp = parse_log((HERE / "sample-linux.log").read_text())
        self.assertTrue(lp["done"])
        self.assertEqual(lp["info"]["os"], "linux")
        self.assertEqual(len(lp["metrics"]["futex_pingpong_cross"]["samples"]), 300)


class Lines(unittest.TestCase):
    def test_legacy_bench_summary_without_samples(self):
        p = parse_log("BENCHINFO os=mello tsc_hz=1000000000\n"
                      "BENCH name=x unit=cycles min=1 p50=20 p99=30 max=40 n=9\nBENCHDONE\n")
        out, _, warns = stats.metric_stats("x", p["metrics"]["x"], 1e9)
        self.assertEqual(out["p50"], 20)
        self.assertEqual(out["source"], "summary")
        self.assertTrue(any("legacy" in w for w in warns))

    def test_samples_win_over_legacy_summary(self):
        p = parse_log("BSAMPLES name=x unit=ns 1 2 3\nBENCH name=x unit=ns min=9 p50=9 p99=9 max=9 n=3\n")
        out, _, _ = stats.metric_stats("x", p["metrics"]["x"], None)
        self.assertEqual(out["p50"], 2)

    def test_prefix_and_ansi(self):
        p = parse_log("\x1b[32m[ 1.0 cpu0 INFO ]\x1b[0m BSAMPLES name=y unit=ns 5 6\r\n"
                      "[ 1.1 cpu0 INFO ] BCOUNTS name=y ops=2 ipis=1\n")
        self.assertEqual(p["metrics"]["y"]["samples"], [5, 6])
        self.assertEqual(p["counts"]["y"], {"ops": 2, "ipis": 1})

    def test_malformed_bcounts(self):
        p = parse_log("BCOUNTS name=y ipis=1\nBCOUNTS ops=3\n")
        self.assertEqual(p["counts"], {})
        self.assertEqual(len(p["warnings"]), 2)


class Judge(unittest.TestCase):
    def test_hung_log(self):
        hung = parse_log("BENCHINFO os=mello\nBSAMPLES name=x unit=ns 1\n"
                         + "\n".join("line %d" % i for i in range(30)))
        self.assertFalse(hung["done"])
        self.assertEqual(len(hung["tail"]), TAIL_LINES)
        self.assertEqual(hung["tail"][-1], "line 29")
        ok, status = run.judge(hung, 124, 33, 180)
        self.assertFalse(ok)
        self.assertTrue(status.startswith("hung"))
        ok, status = run.judge(hung, None, 33, 180)
        self.assertTrue(status.startswith("hung"))

    def test_exit_status(self):
        done = parse_log("BENCHDONE\n")
        self.assertEqual(run.judge(done, 33, 33, 180), (True, "ok"))
        ok, status = run.judge(done, 35, 33, 180)
        self.assertFalse(ok)
        self.assertIn("35", status)

    def test_benchere_fails_linux_run(self):
        e = parse_log("BENCHERR name=pipe_pingpong_cross exit=1\nBENCHDONE\n")
        ok, status = run.judge(e, 0, None, 300)
        self.assertFalse(ok)
        self.assertIn("pipe_pingpong_cross", status)


if __name__ == "__main__":
    unittest.main()
