"""Unit tests of stats: percentiles, aggregation, counts per op, the paired rule."""
import random
import unittest

import stats


def noisy(rng, centre, n, spread=0.10):
    """n p50s around centre with +-spread uniform noise (one per run)."""
    return [centre * (1 + rng.uniform(-spread, spread)) for _ in range(n)]


class Percentiles(unittest.TestCase):
    def test_nearest_rank(self):
        self.assertEqual(stats.nearest_rank(list(range(1, 101)), 50), 50)
        self.assertEqual(stats.nearest_rank(list(range(1, 101)), 99), 99)
        self.assertEqual(stats.nearest_rank([7], 99), 7)
        self.assertEqual(stats.nearest_rank(list(range(1, 11)), 99), 10)
        self.assertEqual(stats.nearest_rank(list(range(1, 11)), 50), 5)

    def test_summarize_unsorted(self):
        s = stats.summarize([5, 1, 4, 2, 3])
        self.assertEqual((s["min"], s["p50"], s["p99"], s["max"], s["n"]), (1, 3, 5, 5, 5))

    def test_metric_stats_converts_cycles(self):
        met = {"unit": "cycles", "samples": [2000, 4000, 6000], "summary": None}
        out, vals, warns = stats.metric_stats("x", met, 2e9)
        self.assertEqual(out["unit"], "ns")
        self.assertEqual(out["p50"], 2000)
        self.assertEqual(vals, [1000, 2000, 3000])
        self.assertEqual(warns, [])

    def test_metric_stats_without_tsc_hz(self):
        out, _, warns = stats.metric_stats("x", {"unit": "cycles", "samples": [1, 2], "summary": None}, None)
        self.assertEqual(out["unit"], "cycles")
        self.assertTrue(any("no BENCHINFO tsc_hz" in w for w in warns))

    def test_aggregate_spread(self):
        runs = [{"unit": "ns", "min": 1, "p50": p, "p99": 9, "max": 10, "n": 5} for p in (100, 140, 120)]
        a = stats.aggregate(runs)
        self.assertEqual(a["p50"], 120)
        self.assertEqual(a["p50_spread"], [100, 140])
        self.assertAlmostEqual(a["p50_spread_pct"], 33.3)

    def test_counts_per_op_is_ratio_of_sums(self):
        c = stats.counts_per_op([{"b": {"ops": 100, "ipis": 50}}, {"b": {"ops": 300, "ipis": 50}}])
        self.assertEqual(c["b"]["ops"], 400)
        self.assertEqual(c["b"]["runs"], 2)
        self.assertAlmostEqual(c["b"]["ipis"], 0.25)
        self.assertIsNone(stats.counts_per_op([{"b": {"ops": 0, "ipis": 3}}])["b"]["ipis"])


class PairedRule(unittest.TestCase):
    def test_min_pairs_at_95(self):
        self.assertEqual(stats.min_pairs(0.95), 6)
        self.assertIsNone(stats.median_ci([1, 2, 3, 4, 5]))
        lo, hi, cov = stats.median_ci(list(range(1, 11)))
        self.assertEqual((lo, hi), (2, 9))  # k = 2 for n = 10
        self.assertGreaterEqual(cov, 0.95)

    def test_clear_effect_latency(self):
        rng = random.Random(1)
        a = noisy(rng, 1000, 10)
        b = [x * 0.7 for x in noisy(rng, 1, 10, 0.05)]
        b = [x * 1000 for x in b]
        r = stats.paired(a, b, "ns")
        self.assertEqual(r["verdict"], "faster", r)
        self.assertLess(r["ci"][1], 1)
        r = stats.paired(b, a, "ns")
        self.assertEqual(r["verdict"], "slower", r)

    def test_throughput_direction(self):
        rng = random.Random(2)
        a = noisy(rng, 1e6, 10)
        b = [x * 1.3 for x in noisy(rng, 1e6, 10)]
        self.assertEqual(stats.paired(a, b, "ops_per_s")["verdict"], "faster")
        self.assertEqual(stats.paired(b, a, "ops_per_s")["verdict"], "slower")

    def test_identical_distributions(self):
        # Over many seeds, identical distributions give "no difference" nearly
        # always (the interval has >= 95% coverage; the 5% floor removes more).
        wrong = 0
        for seed in range(200):
            rng = random.Random(seed)
            r = stats.paired(noisy(rng, 1000, 10, 0.3), noisy(rng, 1000, 10, 0.3), "ns")
            wrong += r["verdict"] != "no difference"
        self.assertLessEqual(wrong, 5)

    def test_small_effect_is_not_reported(self):
        a = [1000.0] * 10
        b = [980.0 + i * 0.1 for i in range(10)]  # consistently 2% faster
        r = stats.paired(a, b, "ns")
        self.assertEqual(r["verdict"], "no difference")
        self.assertIn("below 5%", r["why"])

    def test_too_few_pairs(self):
        r = stats.paired([100, 100, 100], [50, 50, 50], "ns")
        self.assertEqual(r["verdict"], "no difference")
        self.assertIn("too few pairs", r["why"])

    def test_missing_sides_are_skipped(self):
        r = stats.paired([100, None, 100], [50, 50, None], "ns")
        self.assertEqual(r["pairs"], 1)
        self.assertEqual(r["ratios"], [0.5])


if __name__ == "__main__":
    unittest.main()
