"""Outputs: the markdown tables, the results JSON and the pictures of `bench.py
run`/`report` (one OS, or mello against Linux) and of `bench.py experiment`."""
import datetime
import json
import os
import re
import subprocess
from pathlib import Path

import plot
import stats
from config import LINUX_APPEND, LINUX_MAP, NOISE_SPREAD_PCT, ROOT, TAIL_LINES, order

COUNTERS = ["ipis", "halts", "poll_hits", "poll_us", "starved", "polls", "steals", "timer_irqs", "timer_arms", "wakes", "remote_wakes"]


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        if abs(v) >= 100:
            return "{:,}".format(int(round(v)))
        return "%.1f" % v if abs(v) >= 10 else "%.2f" % v
    return "{:,}".format(v)


def fmt_ratio(r):
    return "-" if r is None else "%.3f" % r


def rel(p):
    """p relative to the repository if it is inside it."""
    try:
        return str(Path(p).resolve().relative_to(ROOT))
    except ValueError:
        return str(p)


def git(*args, cwd=None):
    try:
        return subprocess.run(["git", "-C", str(cwd or ROOT)] + list(args), capture_output=True,
                              text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def qemu_version():
    try:
        out = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True,
                             timeout=20).stdout
        m = re.search(r"version (\S+)", out)
        return m.group(1) if m else out.split("\n")[0]
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def make_meta(args, command):
    return {
        "date": datetime.date.today().isoformat(),
        "time": datetime.datetime.now().strftime("%H%M%S"),
        "commit": git("rev-parse", "--short", "HEAD") or "nogit",
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "host_cores": os.cpu_count(),
        "qemu": qemu_version(),
        "accel": args.accel, "smp": args.smp, "mem": args.mem,
        "noise": {"rt": getattr(args, "rt", False), "pin": getattr(args, "pin", None)},
        "command": command,
        "warnings": [],
    }


# ------------------------------------------------------- run (and compare) ---

def compare_rows(mello, linux):
    """[(our metric, linux metric, mello agg, linux agg, pair stats)] for every
    mapped pair, in table order. pair stats: stats.paired over the runs taken
    pairwise (mello run i with Linux run i), B = Linux, so its ratio is
    linux/mello p50; None when a side has no data."""
    rows = []
    inverse = {}
    for lname, ours in LINUX_MAP.items():
        for o in ours:
            inverse.setdefault(o, []).append(lname)
    for name in order(set(mello["aggregate"]) | set(inverse)):
        m = mello["aggregate"].get(name)
        for lname in inverse.get(name, []):
            l_ = linux["aggregate"].get(lname) if linux else None
            pair = None
            if m and l_ and m["unit"] == l_["unit"]:
                n = min(len(mello["runs"]), len(linux["runs"]))
                a = [mello["runs"][i]["metrics"].get(name, {}).get("p50") for i in range(n)]
                b = [linux["runs"][i]["metrics"].get(lname, {}).get("p50") for i in range(n)]
                pair = stats.paired(a, b, m["unit"])
            rows.append((name, lname, m, l_, pair))
    return rows


def run_status_line(label, runs):
    ok = sum(1 for r in runs if r["ok"])
    return "%d run(s) of %s (%d ok)" % (len(runs), label, ok)


def _spread(a):
    return "%s..%s (%.0f%%, %d runs)" % (fmt(a["p50_spread"][0]), fmt(a["p50_spread"][1]),
                                         a["p50_spread_pct"], a["runs"])


def _pair_cell(p):
    if not p or p["ratio"] is None:
        return "-"
    return "%.2fx (%.2f..%.2f, %d pairs)" % (p["ratio"], p["range"][0], p["range"][1], p["pairs"])


def counts_table(counts_by_side, benches=None):
    """Markdown rows of counts per operation; counts_by_side: [(label, {bench:
    per-op row})]. One row per bench and side."""
    names = order(set().union(*(set(c) for _, c in counts_by_side)) if counts_by_side else set())
    if benches is not None:
        names = [n for n in names if n in benches]
    if not names:
        return []
    out = ["| bench | side | ops | " + " | ".join("%s/op" % c for c in COUNTERS) + " |",
           "|---|---|--:|" + "--:|" * len(COUNTERS)]
    for name in names:
        for label, counts in counts_by_side:
            c = counts.get(name)
            if not c:
                continue
            out.append("| %s | %s | %s | %s |" % (
                name, label, fmt(c["ops"]),
                " | ".join("-" if c.get(k) is None else "%.3f" % c[k] for k in COUNTERS)))
    return out


def failed_runs_md(groups):
    out = []
    for lab, runs in groups:
        for i, r in enumerate(runs, 1):
            if r["ok"]:
                continue
            out += ["", "## %s run %d: %s" % (lab, i, r["status"]), "",
                    "Log: `%s`. Last %d lines:" % (r["log"], TAIL_LINES), "", "```"]
            out.extend(r["parsed"]["tail"])
            out.append("```")
    return out


def markdown(meta, mello, linux):
    out = []
    out.append("# Benchmarks %s, commit %s%s" % (meta["date"], meta["commit"], " (dirty)" if meta["dirty"] else ""))
    out.append("")
    desc = ("QEMU %s, accel %s, %s vCPUs, %s RAM; host: %s cores. %s"
            % (meta["qemu"], meta["accel"], meta["smp"], meta["mem"], meta["host_cores"],
               run_status_line("mello", mello["runs"])))
    if linux is not None:
        if linux.get("skipped"):
            desc += "; Linux comparison skipped: %s" % linux["skipped"]
        else:
            desc += "; %s %s" % (run_status_line("Linux", linux["runs"]), linux["info"].get("kernel", ""))
    out.append(desc + ".")
    out.append("Command: `%s`. Values are medians over runs of each run's statistic "
               "(nearest-rank percentiles); 'p50 spread' is the range of the per-run p50s." % meta["command"])
    comparing = linux is not None and not linux.get("skipped")
    if comparing:
        out.append("mello and Linux were booted alternately; 'linux/mello p50' is the median over "
                   "pairs (mello run i, Linux run i) of the ratio of their p50s, with its range.")
    out.append("")
    for w in meta["warnings"]:
        out.append("> **warning:** %s" % w)
    if meta["warnings"]:
        out.append("")
    head = ["metric", "unit", "min", "p50", "p99", "max", "p50 spread (runs)"]
    if comparing:
        head += ["linux metric", "linux p50", "linux p99", "linux/mello p50 (pairs)"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "|".join("---" if i < 2 or (comparing and i == 7) else "--:" for i in range(len(head))) + "|")
    inverse = {}
    if comparing:
        for name, lname, m, l_, pair in compare_rows(mello, linux):
            inverse.setdefault(name, []).append((lname, l_, pair))
    for name in order(set(mello["aggregate"]) | set(inverse)):
        a = mello["aggregate"].get(name)
        if a:
            cells = [name, a["unit"], fmt(a["min"]), fmt(a["p50"]), fmt(a["p99"]), fmt(a["max"]), _spread(a)]
        else:
            cells = [name, "-", "-", "-", "-", "-", "(no data)"]
        for pair in inverse.get(name) or [None]:
            row = list(cells)
            if comparing:
                if pair is None:
                    row += ["", "", "", ""]
                else:
                    lname, l_, p = pair
                    row += [lname, fmt(l_["p50"]) if l_ else "-", fmt(l_["p99"]) if l_ else "-", _pair_cell(p)]
            out.append("| " + " | ".join(row) + " |")
    if comparing and linux["aggregate"]:
        out += ["", "Linux guest (%s, clocksource %s), all metrics:"
                % (linux["info"].get("kernel", "?"), linux["info"].get("clocksource", "?")), "",
                "| linux metric | unit | min | p50 | p99 | max | p50 spread (runs) | compared with |",
                "|---|---|--:|--:|--:|--:|--:|---|"]
        for lname in sorted(linux["aggregate"]):
            a = linux["aggregate"][lname]
            out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                lname, a["unit"], fmt(a["min"]), fmt(a["p50"]), fmt(a["p99"]), fmt(a["max"]), _spread(a),
                ", ".join(LINUX_MAP.get(lname, [])) or "-"))
    ct = counts_table([("mello", mello["counts"])])
    if ct:
        out += ["", "Kernel counters per operation (`BCOUNTS`; see docs/benchmarking.md):", ""] + ct
    if meta.get("plots"):
        out.append("")
        out.append("Histograms: " + ", ".join("[%s](%s)" % (Path(p).stem, p) for p in meta["plots"]))
    out += failed_runs_md([("mello", mello["runs"])] + ([("linux", linux["runs"])] if comparing else []))
    return "\n".join(out) + "\n"


def write_plots(outdir, mello, linux):
    """One histogram per metric that has samples (mello, with every mapped Linux
    metric in its own panel below) and a spawn-rate bar chart. Nothing (and a
    warning) without matplotlib. Returns (paths, warnings)."""
    if not plot.available():
        return [], ["matplotlib is missing (apt-get install python3-matplotlib): no histograms"]
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    linux_ok = linux and not linux.get("skipped")
    for name in order(set(mello["samples"])):
        vals = mello["samples"][name]
        if len(vals) < 2:  # one value (ap_bringup of one boot) makes no histogram
            continue
        a = mello["aggregate"].get(name, {})
        unit = a.get("unit", "?")
        series = [{"label": "mello: n=%d (%d runs) p50=%s p99=%s %s" % (
            len(vals), len(mello["runs"]), plot.fmt_num(a.get("p50")), plot.fmt_num(a.get("p99")), unit),
            "values": vals, "p50": a.get("p50"), "p99": a.get("p99")}]
        title = name
        if linux_ok:
            for lname, ours in LINUX_MAP.items():
                lv, la = linux["samples"].get(lname), linux["aggregate"].get(lname)
                if name in ours and lv and la and la["unit"] == unit:
                    series.append({"label": "Linux %s: n=%d p50=%s p99=%s %s" % (
                        lname, len(lv), plot.fmt_num(la["p50"]), plot.fmt_num(la["p99"]), unit),
                        "values": lv, "p50": la["p50"], "p99": la["p99"]})
            if len(series) > 1:
                title += " - mello vs Linux"
        path = outdir / (name + ".png")
        plot.histogram(path, title, unit, series)
        written.append(path)
    if linux_ok:  # Linux metrics none of whose mello counterparts had samples
        for lname in sorted(linux["samples"]):
            lv, la = linux["samples"][lname], linux["aggregate"].get(lname)
            if not lv or not la or any(mello["samples"].get(o) for o in LINUX_MAP.get(lname, [])):
                continue
            path = outdir / ("linux_%s.png" % lname)
            plot.histogram(path, "Linux " + lname, la["unit"], [{
                "label": "Linux %s: n=%d (%d runs) p50=%s p99=%s %s" % (
                    lname, len(lv), len(linux["runs"]), plot.fmt_num(la["p50"]),
                    plot.fmt_num(la["p99"]), la["unit"]),
                "values": lv, "p50": la["p50"], "p99": la["p99"]}])
            written.append(path)
    spawn = [(n, mello["aggregate"].get("spawn_rate_%dcpu" % n)) for n in range(1, 65)]
    spawn = [(n, a) for n, a in spawn if a]
    if spawn:
        path = outdir / "spawn_rate.png"
        plot.bars(path, "spawn rate (p50 over runs)", spawn[0][1]["unit"],
                  [("%d CPU" % n, a["p50"]) for n, a in spawn])
        written.append(path)
    return written, []


def jsonable_runs(runs):
    return [{"log": r["log"], "ok": r["ok"], "status": r["status"], "seconds": r.get("seconds"),
             "exit": r.get("exit"), "cmdline": r.get("cmdline"), "side": r.get("side"),
             "pair": r.get("pair"), "info": r["parsed"]["info"], "metrics": r.get("metrics", {}),
             "counts": r["parsed"]["counts"]} for r in runs]


def jsonable(res):
    if res is None:
        return None
    if res.get("skipped"):
        return {"skipped": res["skipped"]}
    return {"info": res["info"], "runs": jsonable_runs(res["runs"]), "aggregate": res["aggregate"],
            "counts_per_op": res["counts"], "warnings": res["warnings"]}


def noise_warnings(meta, results):
    """results: [(label, analyze() result or None)]."""
    w = []
    cores = meta["host_cores"] or 0
    if int(meta["smp"]) > cores:
        w.append("host looks too noisy: %s vCPUs on %d host cores; latency numbers are oversubscribed"
                 % (meta["smp"], cores))
    for label, res in results:
        if not res or res.get("skipped"):
            continue
        noisy = ["%s (%.0f%%)" % (name, res["aggregate"][name]["p50_spread_pct"])
                 for name in order(set(res["aggregate"]))
                 if res["aggregate"][name]["runs"] > 1
                 and res["aggregate"][name]["p50_spread_pct"] > NOISE_SPREAD_PCT]
        if noisy:
            w.append("%s: p50 spread across runs exceeds %.0f%% for %s; treat those as noise-dominated"
                     % (label, NOISE_SPREAD_PCT, ", ".join(noisy)))
    for label, res in results:
        if res and res.get("runs"):
            bad = [i for i, r in enumerate(res["runs"], 1) if not r["ok"]]
            if bad:
                w.append("%s run(s) %s failed or hung (see the end of this report)"
                         % (label, ", ".join(map(str, bad))))
    return w


def write_outputs(meta, mello, linux, outdir, plots=True):
    """Writes <date>-<commit>.json/.md and (with plots) the PNGs; returns (md text,
    paths)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    stem = "%s-%s" % (meta["date"], meta["commit"])
    plots, pwarn = write_plots(outdir / stem, mello, linux) if plots else ([], [])
    meta["warnings"] = noise_warnings(meta, [("mello", mello), ("linux", linux)]) + pwarn + meta.get(
        "extra_warnings", [])
    meta["plots"] = [str(p.relative_to(outdir)) for p in plots]
    md = markdown(meta, mello, linux)
    comparing = linux and not linux.get("skipped")
    doc = {
        "schema": 2,
        "date": meta["date"], "commit": meta["commit"], "dirty": meta["dirty"],
        "command": meta["command"],
        "host": {"cores": meta["host_cores"], "qemu": meta["qemu"]},
        "accel": meta["accel"], "smp": meta["smp"], "mem": meta["mem"], "noise": meta["noise"],
        "warnings": meta["warnings"],
        "mello": jsonable(mello),
        "linux": jsonable(linux),
        "linux_map": LINUX_MAP,
        "linux_append": LINUX_APPEND,
        "comparison": [{"metric": n, "linux_metric": l, "unit": m["unit"] if m else None,
                        "mello_p50": m["p50"] if m else None, "mello_p99": m["p99"] if m else None,
                        "linux_p50": l_["p50"] if l_ else None, "linux_p99": l_["p99"] if l_ else None,
                        "ratio_linux_over_mello_p50": p["ratio"] if p else None,
                        "ratio_range": p["range"] if p else None,
                        "ratio_pairs": p["ratios"] if p else None}
                       for n, l, m, l_, p in compare_rows(mello, linux)] if comparing else [],
        "plots": meta["plots"],
    }
    jpath, mpath = outdir / (stem + ".json"), outdir / (stem + ".md")
    jpath.write_text(json.dumps(doc, indent=1) + "\n")
    mpath.write_text(md)
    return md, [jpath, mpath] + plots


# -------------------------------------------------------------- experiment ---

def experiment_markdown(meta, exp):
    """exp: experiment.analyze_experiment's result."""
    out = ["# Experiment %s, commit %s%s" % (meta["date"], meta["commit"], " (dirty)" if meta["dirty"] else ""), ""]
    for s in ("A", "B"):
        side = exp["sides"][s]
        out.append("- **%s**: `%s` (%s; %d of %d boots ok)" % (
            s, side["cmdline"], side["build"], side["ok_runs"], side["runs"]))
    out.append("")
    noise = "real-time priority %s, pinned to %s" % (
        "on" if meta["noise"]["rt"] else "off", meta["noise"]["pin"] or "no CPUs")
    out.append("QEMU %s, accel %s, %s vCPUs, %s RAM; host: %s cores; noise options: %s. Command: `%s`."
               % (meta["qemu"], meta["accel"], meta["smp"], meta["mem"], meta["host_cores"], noise,
                  meta["command"]))
    out.append("Boot order: %s. Ratio = B p50 / A p50 within each pair; 'B/A' is the median over pairs, "
               "'CI' its %.0f%% distribution-free interval (sign test), 'range' min..max of the pair ratios. "
               "Verdict: faster/slower only when the CI excludes 1 and the median ratio is at least %.0f%% "
               "from 1; otherwise no difference." % (
                   " ".join(exp["order_labels"]), stats.CONFIDENCE * 100, stats.MIN_EFFECT * 100))
    out.append("")
    for w in meta["warnings"]:
        out.append("> **warning:** %s" % w)
    if meta["warnings"]:
        out.append("")
    out.append("| metric | unit | A p50 | B p50 | B/A | CI | range | pairs | verdict |")
    out.append("|---|---|--:|--:|--:|--:|--:|--:|---|")
    for name, r in exp["results"].items():
        verdict = "**B %s**" % r["verdict"] if r["verdict"] != "no difference" else \
            "no difference (%s)" % r["why"]
        out.append("| %s | %s | %s | %s | %s | %s | %s | %d | %s |" % (
            name, r["unit"], fmt(r["a_p50"]), fmt(r["b_p50"]), fmt_ratio(r["ratio"]),
            "%s..%s" % (fmt_ratio(r["ci"][0]), fmt_ratio(r["ci"][1])) if r["ci"] else "-",
            "%s..%s" % (fmt_ratio(r["range"][0]), fmt_ratio(r["range"][1])) if r["range"] else "-",
            r["pairs"], verdict))
    ct = counts_table([("A", exp["sides"]["A"]["counts"]), ("B", exp["sides"]["B"]["counts"])])
    if ct:
        out += ["", "Kernel counters per operation (`BCOUNTS`, sums over the runs of a side / their ops):", ""] + ct
    out += failed_runs_md([("experiment", exp["runs"])])
    return "\n".join(out) + "\n"


def write_experiment(meta, exp, outdir):
    """Writes <date>-<time>-<commit>-experiment.json/.md; returns (md, paths)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    meta["warnings"] = noise_warnings(meta, []) + meta.get("extra_warnings", [])
    md = experiment_markdown(meta, exp)
    doc = {
        "schema": 2, "kind": "experiment",
        "date": meta["date"], "time": meta["time"], "commit": meta["commit"], "dirty": meta["dirty"],
        "command": meta["command"],
        "host": {"cores": meta["host_cores"], "qemu": meta["qemu"]},
        "accel": meta["accel"], "smp": meta["smp"], "mem": meta["mem"], "noise": meta["noise"],
        "rule": {"ratio": "B p50 / A p50 per pair; median over pairs",
                 "interval": "sign-test order-statistic CI of the median ratio",
                 "confidence": stats.CONFIDENCE, "min_effect": stats.MIN_EFFECT},
        "warnings": meta["warnings"],
        "sides": {s: {k: v for k, v in side.items()} for s, side in exp["sides"].items()},
        "order": exp["order_labels"],
        "results": exp["results"],
        "runs": jsonable_runs(exp["runs"]),
        "stopped": exp.get("stopped"),
    }
    stem = "%s-%s-%s-experiment" % (meta["date"], meta["time"], meta["commit"])
    jpath, mpath = outdir / (stem + ".json"), outdir / (stem + ".md")
    jpath.write_text(json.dumps(doc, indent=1) + "\n")
    mpath.write_text(md)
    return md, [jpath, mpath]
