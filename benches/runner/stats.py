"""Every statistic the benchmarks report, computed here and nowhere else.

Per run: nearest-rank percentiles of the raw samples. Over runs: medians of the
per-run statistics and the spread of the p50s. Over pairs of runs (an experiment,
or mello against Linux): the ratio of the two sides' p50s in each pair, the median
of those ratios and a distribution-free confidence interval for it, and the verdict
rule of docs/benchmarking.md.
"""
import math
import statistics

from config import HIGHER_IS_BETTER

# The verdict rule: a difference is reported only when the confidence interval of
# the median per-pair ratio excludes 1 AND the median ratio is at least MIN_EFFECT
# away from 1.
CONFIDENCE = 0.95
MIN_EFFECT = 0.05


def nearest_rank(sorted_vals, p):
    """The nearest-rank p-th percentile: the value at 1-based rank ceil(p*n/100)."""
    n = len(sorted_vals)
    r = max(1, -(-p * n // 100))
    return sorted_vals[r - 1]


def summarize(samples):
    """min/p50/p99/max/n of a non-empty list of samples."""
    s = sorted(samples)
    return {"min": s[0], "p50": nearest_rank(s, 50), "p99": nearest_rank(s, 99),
            "max": s[-1], "n": len(s)}


def metric_stats(name, met, tsc_hz):
    """Per-run statistics of one parsed metric, in ns where the unit was cycles.
    Returns (stats or None, samples in the output unit, warnings)."""
    warns = []
    unit = met["unit"] or "?"
    samples = met["samples"]
    if samples:
        stats, source = summarize(samples), "samples"
    elif met.get("summary"):
        stats, source = dict(met["summary"]), "summary"
        warns.append("%s: no BSAMPLES; using the legacy BENCH summary" % name)
    else:
        return None, [], ["%s: no data" % name]
    scale = 1.0
    if unit == "cycles":
        if tsc_hz:
            scale, unit = 1e9 / tsc_hz, "ns"
        else:
            warns.append("%s: unit=cycles but no BENCHINFO tsc_hz; left in cycles" % name)
    out = {k: (stats[k] * scale if scale != 1.0 else stats[k]) for k in ("min", "p50", "p99", "max")}
    out.update(unit=unit, n=stats["n"], source=source, raw_unit=met["unit"])
    vals = [v * scale for v in samples] if scale != 1.0 else list(samples)
    return out, vals, warns


def aggregate(per_run):
    """per_run: the stats dicts of one metric (one per run that has it)."""
    p50s = [r["p50"] for r in per_run]
    med = statistics.median(p50s)
    spread = (max(p50s) - min(p50s)) / med * 100 if med else 0.0
    return {
        "unit": per_run[0]["unit"], "runs": len(per_run),
        "min": statistics.median(r["min"] for r in per_run),
        "p50": med,
        "p99": statistics.median(r["p99"] for r in per_run),
        "max": statistics.median(r["max"] for r in per_run),
        "max_all": max(r["max"] for r in per_run),
        "n_total": sum(r["n"] for r in per_run),
        "p50_runs": p50s,
        "p50_spread": [min(p50s), max(p50s)],
        "p50_spread_pct": round(spread, 1),
    }


def run_metrics(parsed):
    """Per-run statistics of every metric of one parsed log: ({name: stats},
    {name: samples in the output unit}, warnings)."""
    out, vals, warnings = {}, {}, []
    tsc_hz = None
    if "tsc_hz" in parsed["info"]:
        try:
            tsc_hz = float(parsed["info"]["tsc_hz"])
        except ValueError:
            warnings.append("bad tsc_hz=%s" % parsed["info"]["tsc_hz"])
    warnings += parsed["warnings"]
    for name, met in parsed["metrics"].items():
        stats, v, warns = metric_stats(name, met, tsc_hz)
        warnings += warns
        if stats is not None:
            out[name], vals[name] = stats, v
    return out, vals, warnings


def analyze(runs):
    """runs: list of {log, status, ok, seconds, parsed}. Adds each run's "metrics";
    returns {runs, aggregate, samples (pooled, output unit), counts (per op),
    warnings, info}."""
    agg_in, pooled, warnings = {}, {}, []
    info = {}
    for i, run in enumerate(runs, 1):
        info = info or run["parsed"]["info"]
        run["metrics"], vals, warns = run_metrics(run["parsed"])
        warnings += ["run %d: %s" % (i, w) for w in warns]
        for name, stats in run["metrics"].items():
            agg_in.setdefault(name, []).append(stats)
            pooled.setdefault(name, []).extend(vals[name])
    aggregate_ = {}
    for name, lst in agg_in.items():
        units = {s["unit"] for s in lst}
        if len(units) > 1:
            warnings.append("%s: runs disagree on the unit (%s); aggregating the first" % (name, units))
            lst = [s for s in lst if s["unit"] == lst[0]["unit"]]
        aggregate_[name] = aggregate(lst)
    return {"runs": runs, "aggregate": aggregate_, "samples": pooled,
            "counts": counts_per_op([r["parsed"]["counts"] for r in runs]),
            "warnings": warnings, "info": info}


def counts_per_op(per_run):
    """per_run: the BCOUNTS dicts of several runs ({bench: {ops, ipis, ...}}).
    Returns {bench: {"ops": total ops, "runs": n, counter: total / total ops}}:
    the ratio of sums, so a run with more operations weighs more."""
    totals = {}
    for counts in per_run:
        for bench, c in counts.items():
            t = totals.setdefault(bench, {"runs": 0})
            t["runs"] += 1
            for k, v in c.items():
                t[k] = t.get(k, 0) + v
    out = {}
    for bench, t in totals.items():
        ops = t.get("ops", 0)
        row = {"ops": ops, "runs": t["runs"]}
        for k, v in t.items():
            if k not in ("ops", "runs"):
                row[k] = v / ops if ops else None
        out[bench] = row
    return out


# ------------------------------------------------------------ paired runs ---

def _binom_cdf_half(k, n):
    """P(X <= k) for X ~ Binomial(n, 1/2)."""
    if k < 0:
        return 0.0
    return sum(math.comb(n, i) for i in range(0, min(k, n) + 1)) / 2 ** n


def median_ci(values, confidence=CONFIDENCE):
    """A distribution-free confidence interval for the median of `values` (the
    one behind the sign test): the order statistics (x_(k), x_(n+1-k)) with the
    largest k whose coverage 1 - 2 P(Bin(n, 1/2) <= k-1) is at least
    `confidence`. Returns (lo, hi, coverage), or None when n is too small for any
    k (n < 6 at 95%)."""
    s = sorted(values)
    n = len(s)
    best = None
    for k in range(1, n // 2 + 1):
        coverage = 1 - 2 * _binom_cdf_half(k - 1, n)
        if coverage < confidence:
            break
        best = (s[k - 1], s[n - k], coverage)
    return best


def min_pairs(confidence=CONFIDENCE):
    """The fewest pairs for which median_ci gives an interval."""
    n = 1
    while 1 - 2 * _binom_cdf_half(0, n) < confidence:
        n += 1
    return n


def paired(a_vals, b_vals, unit, confidence=CONFIDENCE, min_effect=MIN_EFFECT):
    """Compares B with A over pairs of runs. a_vals[i], b_vals[i]: the two sides'
    p50 in pair i (None where that side has no value: the pair is skipped).

    Per pair the ratio r_i = B/A. The result: median ratio, its confidence
    interval (median_ci), the range of the ratios, and the verdict:
      "faster" / "slower": the interval excludes 1 and the median ratio is at
          least min_effect away from 1 (for times B/A < 1 is faster; for units in
          HIGHER_IS_BETTER, B/A > 1 is);
      "no difference": otherwise; "why" says which condition failed (the interval
          includes 1, the effect is below min_effect, or too few pairs).
    """
    ratios = [b / a for a, b in zip(a_vals, b_vals) if a is not None and b is not None and a > 0]
    res = {"unit": unit, "pairs": len(ratios), "ratios": ratios,
           "a_p50": statistics.median([a for a in a_vals if a is not None]) if any(
               a is not None for a in a_vals) else None,
           "b_p50": statistics.median([b for b in b_vals if b is not None]) if any(
               b is not None for b in b_vals) else None,
           "ratio": None, "ci": None, "coverage": None, "range": None,
           "verdict": "no difference", "why": None}
    if not ratios:
        res["why"] = "no pair has both sides"
        return res
    med = statistics.median(ratios)
    res.update(ratio=med, range=[min(ratios), max(ratios)])
    ci = median_ci(ratios, confidence)
    if ci is None:
        res["why"] = "too few pairs for a %.0f%% interval (%d, need %d)" % (
            confidence * 100, len(ratios), min_pairs(confidence))
        return res
    lo, hi, cov = ci
    res.update(ci=[lo, hi], coverage=cov)
    if lo <= 1 <= hi:
        res["why"] = "the interval includes 1"
    elif abs(med - 1) < min_effect:
        res["why"] = "effect below %.0f%%" % (min_effect * 100)
    else:
        b_bigger = med > 1
        better = b_bigger if unit in HIGHER_IS_BETTER else not b_bigger
        res["verdict"] = "faster" if better else "slower"
    return res
