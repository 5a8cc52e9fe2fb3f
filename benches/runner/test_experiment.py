"""Unit tests of the experiment: side specs, boot order, pairing and verdicts
(with a fake QEMU run), failure handling and the results JSON."""
import contextlib
import io
import json
import random
import tempfile
import unittest
from types import SimpleNamespace
from unittest import mock

import experiment
import report
import run
from parse import parse_log


def args(**kw):
    a = dict(runs=10, smp=2, mem="512M", accel="tcg", timeout=60, max_failures=3, only="wake_same_cpu",
             rt=False, pin=None, a="", b="", out=None)
    a.update(kw)
    return SimpleNamespace(**a)


class FakeBoots:
    """Stands in for run.run_one: a log whose wake_same_cpu samples are centred on
    1000 cycles, times `factor(cmdline)`; `fail` = boots (1-based) that hang."""

    def __init__(self, factor, fail=()):
        self.factor, self.fail, self.cmdlines = factor, set(fail), []
        self.rng = random.Random(7)

    def __call__(self, title, cmd, log, ok_rc, timeout, env=None):
        cmdline = cmd[-1]
        self.cmdlines.append(cmdline)
        k = len(self.cmdlines)
        centre = 1000 * self.factor(cmdline) * (1 + self.rng.uniform(-0.1, 0.1))
        vals = " ".join(str(int(centre + self.rng.uniform(-50, 50))) for _ in range(101))
        text = "BENCHINFO os=mello tsc_hz=1000000000 cpus=2\nBENCHINFO %s\n" % " ".join(
            t for t in cmdline.split() if "=" in t)
        text += "BSAMPLES name=wake_same_cpu unit=cycles %s\n" % vals
        text += "BCOUNTS name=wake_same_cpu ops=100 ipis=%d halts=3 polls=200 steals=0 timer_irqs=1 " \
                "wakes=100 remote_wakes=0\n" % (50 if "steal=none" in cmdline else 0)
        hung = k in self.fail
        if not hung:
            text += "BENCHDONE\n"
        parsed = parse_log(text)
        ok, status = run.judge(parsed, None if hung else 33, 33, timeout)
        return {"log": str(log), "ok": ok, "status": status, "seconds": 0.1, "exit": 33, "parsed": parsed}


def sides(a, b, bench="wake_same_cpu"):
    out = {}
    for label, spec in (("A", a), ("B", b)):
        s = experiment.parse_side(spec)
        s.update(kernel="k", initrd="i", sha=None, build="working tree",
                 cmdline=experiment.cmdline(bench, s["tunables"]))
        out[label] = s
    return out


class Sides(unittest.TestCase):
    def test_parse_side(self):
        self.assertEqual(experiment.parse_side("steal=half idle=halt"),
                         {"spec": "steal=half idle=halt", "rev": None, "tunables": ["steal=half", "idle=halt"]})
        self.assertEqual(experiment.parse_side("@HEAD~1")["rev"], "HEAD~1")
        s = experiment.parse_side("@abc123 steal=none")
        self.assertEqual((s["rev"], s["tunables"]), ("abc123", ["steal=none"]))
        self.assertEqual(experiment.parse_side(""), {"spec": "", "rev": None, "tunables": []})
        with self.assertRaises(ValueError):
            experiment.parse_side("steal=none @HEAD")
        with self.assertRaises(ValueError):
            experiment.parse_side("@")

    def test_cmdline(self):
        self.assertEqual(experiment.cmdline("all", ["steal=none"]), "bench=all steal=none")


class Order(unittest.TestCase):
    def test_pair_order_alternates_and_counterbalances(self):
        self.assertEqual(run.pair_order(4), [(0, "A"), (0, "B"), (1, "B"), (1, "A"),
                                             (2, "A"), (2, "B"), (3, "B"), (3, "A")])

    def test_boots_follow_the_order(self):
        fake = FakeBoots(lambda c: 1.0)
        with mock.patch.object(run, "run_one", fake):
            runs, stopped = experiment.run_experiment(sides("steal=half", "steal=none"), args(runs=3), [])
        self.assertIsNone(stopped)
        self.assertEqual([(r["pair"], r["side"]) for r in runs], run.pair_order(3))
        self.assertEqual(fake.cmdlines, ["bench=wake_same_cpu steal=half", "bench=wake_same_cpu steal=none",
                                         "bench=wake_same_cpu steal=none", "bench=wake_same_cpu steal=half",
                                         "bench=wake_same_cpu steal=half", "bench=wake_same_cpu steal=none"])


class Verdicts(unittest.TestCase):
    def experiment(self, factor, a="steal=half", b="steal=none", n=10, fail=()):
        fake = FakeBoots(factor, fail)
        s = sides(a, b)
        with mock.patch.object(run, "run_one", fake), contextlib.redirect_stdout(io.StringIO()):
            runs, stopped = experiment.run_experiment(s, args(runs=n), [])
        return experiment.analyze_experiment(s, runs, n), stopped

    def test_injected_effect_is_found(self):
        exp, _ = self.experiment(lambda c: 0.7 if "steal=none" in c else 1.0)
        r = exp["results"]["wake_same_cpu"]
        self.assertEqual(r["verdict"], "faster", r)
        self.assertAlmostEqual(r["ratio"], 0.7, delta=0.08)
        exp, _ = self.experiment(lambda c: 1.4 if "steal=none" in c else 1.0)
        self.assertEqual(exp["results"]["wake_same_cpu"]["verdict"], "slower")

    def test_same_distribution_no_difference(self):
        exp, _ = self.experiment(lambda c: 1.0)
        self.assertEqual(exp["results"]["wake_same_cpu"]["verdict"], "no difference")

    def test_counts_and_info_per_side(self):
        exp, _ = self.experiment(lambda c: 1.0)
        self.assertEqual(exp["sides"]["A"]["counts"]["wake_same_cpu"]["ipis"], 0)
        self.assertEqual(exp["sides"]["B"]["counts"]["wake_same_cpu"]["ipis"], 0.5)
        self.assertEqual(exp["sides"]["B"]["info"]["steal"], "none")
        self.assertEqual(exp["sides"]["A"]["info"]["bench"], "wake_same_cpu")

    def test_failed_boot_drops_its_pair_and_continues(self):
        exp, stopped = self.experiment(lambda c: 1.0, fail=(3,))
        self.assertIsNone(stopped)
        self.assertEqual(len(exp["runs"]), 20)
        r = exp["results"]["wake_same_cpu"]
        self.assertEqual(r["pairs"], 10)  # a hung boot still printed its samples here
        self.assertFalse(exp["runs"][2]["ok"])

    def test_stops_after_max_failures(self):
        _, stopped = self.experiment(lambda c: 1.0, n=5, fail=(1, 2, 4))
        self.assertIn("stopped after 3 failed", stopped)

    def test_results_json_records_sides(self):
        exp, _ = self.experiment(lambda c: 0.7 if "steal=none" in c else 1.0)
        exp["stopped"] = None
        meta = report.make_meta(args(), "test")
        with tempfile.TemporaryDirectory() as td:
            md, paths = report.write_experiment(meta, exp, td)
            doc = json.loads(paths[0].read_text())
        self.assertEqual(doc["sides"]["A"]["cmdline"], "bench=wake_same_cpu steal=half")
        self.assertEqual(doc["sides"]["B"]["cmdline"], "bench=wake_same_cpu steal=none")
        self.assertEqual(doc["sides"]["B"]["info"]["steal"], "none")
        self.assertEqual(doc["sides"]["A"]["info"]["tsc_hz"], "1000000000")
        self.assertEqual(doc["results"]["wake_same_cpu"]["verdict"], "faster")
        self.assertEqual(doc["order"][:4], ["A1", "B1", "B2", "A2"])
        self.assertIn("**B faster**", md)
        self.assertIn("ipis/op", md)


if __name__ == "__main__":
    unittest.main()
