"""Unit tests of the outputs of `run`/`report`: JSON, markdown, plots."""
import json
import re
import tempfile
import unittest
from pathlib import Path

import plot
import report
import stats
from parse import parse_log

HERE = Path(__file__).resolve().parent / "testdata"


class Meta:
    accel, smp, mem = "tcg", 8, "512M"


def results():
    text = (HERE / "sample.log").read_text()
    p = parse_log(text)
    p2 = parse_log(re.sub(r"tsc_hz=2000000000", "tsc_hz=1333333333", text))
    hung = parse_log("BENCHINFO os=mello\n" + "\n".join("line %d" % i for i in range(30)))
    mello = stats.analyze([{"log": "a", "ok": True, "status": "ok", "parsed": p},
                           {"log": "b", "ok": False, "status": "hung: test", "parsed": hung},
                           {"log": "c", "ok": True, "status": "ok", "parsed": p2}])
    lp = parse_log((HERE / "sample-linux.log").read_text())
    linux = stats.analyze([{"log": "l%d" % i, "ok": True, "status": "ok", "parsed": lp} for i in range(3)])
    return mello, linux


class Outputs(unittest.TestCase):
    def setUp(self):
        self.mello, self.linux = results()
        self.meta = report.make_meta(Meta, "test")
        self.meta["host_cores"] = 2
        self.td = tempfile.TemporaryDirectory()
        self.addCleanup(self.td.cleanup)

    def test_json_and_markdown(self):
        md, paths = report.write_outputs(self.meta, self.mello, self.linux, self.td.name, plots=False)
        doc = json.loads(paths[0].read_text())
        self.assertEqual((doc["smp"], doc["host"]["cores"]), (8, 2))
        self.assertEqual(len(doc["mello"]["runs"]), 3)
        self.assertEqual(doc["mello"]["runs"][0]["info"]["steal"], "half")
        self.assertEqual(doc["mello"]["aggregate"]["timer_wake"]["p50"], self.mello["aggregate"]["timer_wake"]["p50"])
        self.assertIn("wake_cross_idle", doc["mello"]["counts_per_op"])
        comp = {(c["metric"], c["linux_metric"]): c for c in doc["comparison"]}
        c = comp[("wake_cross_idle", "futex_pingpong_cross")]
        # pairs: (mello run 1, linux run 1) and (mello run 3, linux run 3); run 2 hung
        self.assertEqual(len([r for r in c["ratio_pairs"]]), 2)
        self.assertIn(("ipc_pingpong_user", "pipe_pingpong_cross"), comp)
        self.assertIn("host looks too noisy: 8 vCPUs on 2 host cores", md)
        self.assertIn("exceeds 25% for timer_wake (40%)", md)
        self.assertIn("## mello run 2: hung: test", md)
        self.assertIn("line 29", md)
        self.assertIn("| timer_wake | ns | ", md)
        self.assertIn("linux/mello p50 (pairs)", md)
        self.assertIn("| wake_cross_idle | mello | 16,800 |", md)

    def test_skipped_linux(self):
        md, _ = report.write_outputs(self.meta, self.mello, {"skipped": "no network"}, self.td.name, plots=False)
        self.assertIn("Linux comparison skipped: no network", md)
        self.assertNotIn("linux p50", md)

    @unittest.skipUnless(plot.available(), "matplotlib is not installed")
    def test_plots(self):
        _, paths = report.write_outputs(self.meta, self.mello, self.linux, self.td.name)
        pngs = [p for p in paths if p.suffix == ".png"]
        names = {p.name for p in pngs}
        self.assertIn("timer_wake.png", names)
        self.assertIn("spawn_rate.png", names)
        for p in pngs:
            self.assertEqual(p.read_bytes()[:8], b"\x89PNG\r\n\x1a\n", p.name)

    @unittest.skipUnless(plot.available(), "matplotlib is not installed")
    def test_histogram_linear_and_log(self):
        for vals in ([5, 5, 6, 7], [0, 1, 10 ** 6]):
            path = Path(self.td.name) / "h.png"
            plot.histogram(path, "t", "ns", [{"label": "x", "values": vals, "p50": 5, "p99": 7}])
            self.assertGreater(path.stat().st_size, 1000)

    def test_bin_edges(self):
        edges, log = plot.bin_edges([1, 10 ** 6])
        self.assertTrue(log)
        self.assertEqual(len(edges), 61)
        edges, log = plot.bin_edges([5, 5])
        self.assertFalse(log)
        self.assertLess(edges[0], edges[-1])


if __name__ == "__main__":
    unittest.main()
