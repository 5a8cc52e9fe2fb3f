#!/usr/bin/env python3
"""mello benchmark runner (Python standard library only; see docs/benchmarking.md).

  bench.py run [--runs 3] [--smp 8] [--accel tcg] [--compare] [--only NAME]
      Boots the already-built kernel (make kernel initrd) with bench=all (or
      bench=NAME) --runs times, and with --compare also the Linux guest of
      benches/linux/ (built by build-initramfs.sh); writes
      benches/results/<date>-<commit>.{json,md} and one histogram PNG per metric
      in benches/results/<date>-<commit>/, and prints the markdown table.
  bench.py report --mello LOG... [--linux LOG...]
      The same outputs from saved serial logs (e.g. build/bench/*.log).
  bench.py selftest
      Checks the parser, statistics, JSON/markdown and PNG output on
      benches/runner/testdata/ (no QEMU; a few seconds).

Exit status: 0, or 1 if any guest run failed or hung (outputs are written anyway),
2 on usage errors.
"""
import argparse
import datetime
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import plot  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
KERNEL = "target/x86_64-unknown-none/release/kernel"
INITRD = "build/initrd.cpio"
LOG_DIR = "build/bench"
LINUX_DIR = "build/linux"
RESULTS = "benches/results"

# Our metrics, in table order (others that a log reports are appended).
OUR_METRICS = [
    "timer_wake", "sleep_accuracy", "wake_same_cpu", "wake_cross_idle", "wake_cross_busy",
    "ipi_roundtrip", "ipc_pingpong_kernel", "ipc_pingpong_user", "syscall_getpid",
    "rdtsc_overhead", "user_ctx_switch",
] + ["spawn_rate_%dcpu" % n for n in range(1, 9)] + ["ap_bringup"]

# THE mapping: Linux guest metric (benches/linux/<name>.c) -> our metrics it is
# compared with. Edit only here.
LINUX_MAP = {
    # clock_nanosleep(TIMER_ABSTIME) lateness, 1 ms sleeps, timer slack 1 ns
    "timer_wake": ["timer_wake", "sleep_accuracy"],
    # one-way futex wake between threads pinned to CPUs 0 and 1
    "futex_pingpong_cross": ["wake_cross_idle", "ipc_pingpong_user"],
    # one-way pipe message between processes pinned to CPUs 0 and 1
    "pipe_pingpong_cross": ["ipc_pingpong_user"],
    # raw syscall(SYS_getpid), per call
    "syscall_getpid": ["syscall_getpid"],
    # sched_yield between two processes pinned to one CPU, per switch
    "sched_yield_pingpong": ["user_ctx_switch"],
    # one clock_gettime(CLOCK_MONOTONIC): the clock-read cost inside each sample
    "clock_overhead": ["rdtsc_overhead"],
}

# Extra Linux command-line options (see docs/benchmarking.md, "The Linux guest"):
# tsc=reliable: under TCG Linux's TSC sync check fails and it falls back to the
#   HPET, making every clock_gettime a ~1 us trap; mello reads the TSC directly.
# idle=halt: -cpu max under TCG is an AMD family 0xf CPU, for which Linux picks
#   the E400-erratum idle routine; it delays cross-CPU pipe wake-ups to the next
#   4 ms tick. HLT idle is what mello does.
LINUX_APPEND = "console=ttyS0 quiet panic=-1 tsc=reliable idle=halt"

NOISE_SPREAD_PCT = 25.0
TAIL_LINES = 20

_KEYWORD = re.compile(r"(?<![A-Za-z0-9_])(BENCHINFO|BENCHDONE|BSAMPLES|BENCH)(?=\s|$)")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b[=>c]")


# ---------------------------------------------------------------- parsing ---

def _num(s):
    """int if integral, else float; ValueError if not a number."""
    try:
        return int(s)
    except ValueError:
        v = float(s)
        if not math.isfinite(v):
            raise
        return v


def _kv(tokens):
    out = {}
    for t in tokens:
        if "=" in t:
            k, v = t.split("=", 1)
            out[k] = v
    return out


def parse_log(text):
    """Parses one serial log. Returns {info, metrics: {name: {unit, summary,
    samples}}, done, warnings, tail}."""
    info, metrics, warnings, done, errors = {}, {}, [], False, []
    lines = [_ANSI.sub("", l).replace("\r", "") for l in text.split("\n")]
    for lineno, line in enumerate(lines, 1):
        if "BENCHERR" in line:  # benches/linux: a program failed (not part of the contract)
            errors.append(line[line.index("BENCHERR"):].strip())
            continue
        m = _KEYWORD.search(line)
        if not m:
            continue
        kw, rest = m.group(1), line[m.end():].split()
        if kw == "BENCHDONE":
            done = True
        elif kw == "BENCHINFO":
            info.update(_kv(rest))
        elif kw == "BSAMPLES":
            kv = _kv(t for t in rest if "=" in t)
            name = kv.get("name")
            if not name:
                warnings.append("line %d: BSAMPLES without name=" % lineno)
                continue
            met = metrics.setdefault(name, {"unit": None, "summary": None, "samples": []})
            unit = kv.get("unit")
            if met["unit"] and unit and unit != met["unit"]:
                warnings.append("line %d: %s: unit %s after %s" % (lineno, name, unit, met["unit"]))
            met["unit"] = met["unit"] or unit
            bad = 0
            for t in rest:
                if "=" in t:
                    continue
                try:
                    met["samples"].append(_num(t))
                except ValueError:
                    bad += 1
            if bad:
                warnings.append("line %d: %s: %d garbled sample(s) skipped" % (lineno, name, bad))
        else:  # BENCH
            kv = _kv(rest)
            name = kv.get("name")
            try:
                summary = {k: _num(kv[k]) for k in ("min", "p50", "p99", "max", "n")}
            except (KeyError, ValueError):
                warnings.append("line %d: malformed BENCH line: %s" % (lineno, line.strip()))
                continue
            if not name:
                warnings.append("line %d: BENCH without name=" % lineno)
                continue
            met = metrics.setdefault(name, {"unit": None, "summary": None, "samples": []})
            if met["summary"]:
                warnings.append("line %d: %s reported twice; keeping the last" % (lineno, name))
            met["summary"] = summary
            met["unit"] = kv.get("unit", met["unit"])
    tail = [l for l in lines if l.strip()][-TAIL_LINES:]
    return {"info": info, "metrics": metrics, "done": done, "warnings": warnings, "tail": tail,
            "errors": errors}


# ------------------------------------------------------------- statistics ---

def nearest_rank(sorted_vals, p):
    """The nearest-rank p-th percentile: the value at 1-based rank ceil(p*n/100)."""
    n = len(sorted_vals)
    r = max(1, -(-p * n // 100))
    return sorted_vals[r - 1]


def summarize(samples):
    s = sorted(samples)
    return {"min": s[0], "p50": nearest_rank(s, 50), "p99": nearest_rank(s, 99),
            "max": s[-1], "n": len(s)}


def _agrees(sorted_vals, p, value):
    """A summary percentile computed with a slightly different rank rule (e.g.
    index (n-1)*p/100) still agrees: within 2 ranks of nearest-rank, or 1%."""
    n = len(sorted_vals)
    i = max(1, -(-p * n // 100)) - 1
    lo, hi = sorted_vals[max(0, i - 2)], sorted_vals[min(n - 1, i + 2)]
    ref = sorted_vals[i]
    return lo <= value <= hi or abs(value - ref) <= 0.01 * abs(ref)


def metric_stats(name, met, tsc_hz):
    """Per-run statistics of one metric, in ns where the unit was cycles.
    Returns (stats dict, samples in output unit, warnings)."""
    warns = []
    unit = met["unit"] or "?"
    summ, samples = met["summary"], met["samples"]
    source = "summary"
    stats = None
    if samples:
        s = sorted(samples)
        recomputed = summarize(s)
        if summ is None:
            warns.append("%s: BSAMPLES but no BENCH summary; using the samples" % name)
            stats, source = recomputed, "samples"
        elif summ["n"] != len(s):
            warns.append("%s: %d BSAMPLES values but n=%s; using the summary (samples only for the histogram)"
                         % (name, len(s), summ["n"]))
            stats = dict(summ)
        else:
            bad = [k for k, p in (("min", 0), ("p50", 50), ("p99", 99), ("max", 100))
                   if not (_agrees(s, p, summ[k]) if 0 < p < 100 else summ[k] == recomputed[k])]
            if bad:
                warns.append("%s: summary %s disagrees with the samples (summary %s, samples %s)"
                             % (name, "/".join(bad), {k: summ[k] for k in bad},
                                {k: recomputed[k] for k in bad}))
            stats, source = recomputed, "samples"
    elif summ is not None:
        stats = dict(summ)
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
    """per_run: list of stats dicts of one metric (one per run that has it)."""
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


def analyze(runs):
    """runs: list of {log, status, ok, seconds, parsed}. Adds per-run stats;
    returns {runs, aggregate, samples (pooled, output unit), warnings, info}."""
    agg_in, pooled, warnings = {}, {}, []
    info = {}
    for i, run in enumerate(runs, 1):
        parsed = run["parsed"]
        info = info or parsed["info"]
        tsc_hz = None
        if "tsc_hz" in parsed["info"]:
            try:
                tsc_hz = float(parsed["info"]["tsc_hz"])
            except ValueError:
                warnings.append("run %d: bad tsc_hz=%s" % (i, parsed["info"]["tsc_hz"]))
        run["metrics"] = {}
        for w in parsed["warnings"]:
            warnings.append("run %d: %s" % (i, w))
        for name, met in parsed["metrics"].items():
            stats, vals, warns = metric_stats(name, met, tsc_hz)
            warnings += ["run %d: %s" % (i, w) for w in warns]
            if stats is None:
                continue
            run["metrics"][name] = stats
            agg_in.setdefault(name, []).append(stats)
            pooled.setdefault(name, []).extend(vals)
    aggregate_ = {}
    for name, lst in agg_in.items():
        units = {s["unit"] for s in lst}
        if len(units) > 1:
            warnings.append("%s: runs disagree on the unit (%s); aggregating the first" % (name, units))
            lst = [s for s in lst if s["unit"] == lst[0]["unit"]]
        aggregate_[name] = aggregate(lst)
    return {"runs": runs, "aggregate": aggregate_, "samples": pooled, "warnings": warnings, "info": info}


def order(names):
    known = [m for m in OUR_METRICS if m in names]
    return known + sorted(n for n in names if n not in OUR_METRICS)


# ----------------------------------------------------------------- output ---

def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        if abs(v) >= 100:
            return "{:,}".format(int(round(v)))
        return "%.1f" % v if abs(v) >= 10 else "%.2f" % v
    return "{:,}".format(v)


def compare_rows(mello, linux):
    """[(our metric, linux metric, mello agg, linux agg, ratio)] for every
    mapped pair where both sides have data, in table order."""
    rows = []
    inverse = {}
    for lname, ours in LINUX_MAP.items():
        for o in ours:
            inverse.setdefault(o, []).append(lname)
    for name in order(set(mello["aggregate"]) | set(inverse)):
        m = mello["aggregate"].get(name)
        for lname in inverse.get(name, []):
            l_ = linux["aggregate"].get(lname) if linux else None
            ratio = None
            if m and l_ and m["unit"] == l_["unit"] and m["p50"]:
                ratio = l_["p50"] / m["p50"]
            rows.append((name, lname, m, l_, ratio))
    return rows


def run_status_line(label, runs):
    ok = sum(1 for r in runs if r["ok"])
    return "%d run(s) of %s (%d ok)" % (len(runs), label, ok)


def markdown(meta, mello, linux):
    out = []
    title = "# Benchmarks %s, commit %s%s" % (meta["date"], meta["commit"], " (dirty)" if meta["dirty"] else "")
    out.append(title)
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
    out.append("")
    for w in meta["warnings"]:
        out.append("> **warning:** %s" % w)
    if meta["warnings"]:
        out.append("")
    comparing = linux is not None and not linux.get("skipped")
    head = ["metric", "unit", "min", "p50", "p99", "max", "p50 spread (runs)"]
    if comparing:
        head += ["linux metric", "linux p50", "linux p99", "linux/mello p50"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "|".join("---" if i < 2 or (comparing and i == 7) else "--:" for i in range(len(head))) + "|")
    inverse = {}
    if comparing:
        for name, lname, m, l_, ratio in compare_rows(mello, linux):
            inverse.setdefault(name, []).append((lname, l_, ratio))
    for name in order(set(mello["aggregate"]) | set(inverse)):
        a = mello["aggregate"].get(name)
        if a:
            spread = "%s..%s (%.0f%%, %d runs)" % (fmt(a["p50_spread"][0]), fmt(a["p50_spread"][1]),
                                                   a["p50_spread_pct"], a["runs"])
            cells = [name, a["unit"], fmt(a["min"]), fmt(a["p50"]), fmt(a["p99"]), fmt(a["max"]), spread]
        else:
            cells = [name, "-", "-", "-", "-", "-", "(no data)"]
        pairs = inverse.get(name) or [None]
        for pair in pairs:
            row = list(cells)
            if comparing:
                if pair is None:
                    row += ["", "", "", ""]
                else:
                    lname, l_, ratio = pair
                    row += [lname, fmt(l_["p50"]) if l_ else "-", fmt(l_["p99"]) if l_ else "-",
                            "%.2fx" % ratio if ratio else "-"]
            out.append("| " + " | ".join(row) + " |")
    if comparing and linux["aggregate"]:
        out.append("")
        out.append("Linux guest (%s, clocksource %s), all metrics:"
                   % (linux["info"].get("kernel", "?"), linux["info"].get("clocksource", "?")))
        out.append("")
        out.append("| linux metric | unit | min | p50 | p99 | max | p50 spread (runs) | compared with |")
        out.append("|---|---|--:|--:|--:|--:|--:|---|")
        for lname in sorted(linux["aggregate"]):
            a = linux["aggregate"][lname]
            spread = "%s..%s (%.0f%%, %d runs)" % (fmt(a["p50_spread"][0]), fmt(a["p50_spread"][1]),
                                                   a["p50_spread_pct"], a["runs"])
            out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                lname, a["unit"], fmt(a["min"]), fmt(a["p50"]), fmt(a["p99"]), fmt(a["max"]), spread,
                ", ".join(LINUX_MAP.get(lname, [])) or "-"))
    if meta.get("plots"):
        out.append("")
        out.append("Histograms: " + ", ".join("[%s](%s)" % (Path(p).stem, p) for p in meta["plots"]))
    failures = [(lab, i, r) for lab, res in (("mello", mello), ("linux", linux)) if res and res.get("runs")
                for i, r in enumerate(res["runs"], 1) if not r["ok"]]
    for lab, i, r in failures:
        out.append("")
        out.append("## %s run %d: %s" % (lab, i, r["status"]))
        out.append("")
        out.append("Log: `%s`. Last %d lines:" % (r["log"], TAIL_LINES))
        out.append("")
        out.append("```")
        out.extend(r["parsed"]["tail"])
        out.append("```")
    return "\n".join(out) + "\n"


def write_plots(outdir, mello, linux):
    """One histogram per metric that has samples (mello, with every mapped
    Linux metric in its own panel below) and a spawn-rate bar chart."""
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in order(set(mello["samples"])):
        vals = mello["samples"][name]
        if not vals:
            continue
        a = mello["aggregate"].get(name, {})
        unit = a.get("unit", "?")
        runs = len(mello["runs"])
        series = [{"label": "MELLO: N=%d (%d RUNS) P50=%s P99=%s %s" % (
            len(vals), runs, plot.fmt_num(a.get("p50", 0)), plot.fmt_num(a.get("p99", 0)), unit),
            "values": vals, "p50": a.get("p50"), "p99": a.get("p99"), "color": plot.PALETTE[0]}]
        title = name
        if linux and not linux.get("skipped"):
            k = 1
            for lname, ours in LINUX_MAP.items():
                lv = linux["samples"].get(lname)
                la = linux["aggregate"].get(lname)
                if name in ours and lv and la and la["unit"] == unit:
                    series.append({"label": "LINUX %s: N=%d P50=%s P99=%s %s" % (
                        lname, len(lv), plot.fmt_num(la["p50"]), plot.fmt_num(la["p99"]), unit),
                        "values": lv, "p50": la["p50"], "p99": la["p99"], "color": plot.PALETTE[k]})
                    k += 1
            if len(series) > 1:
                title += " - MELLO VS LINUX"
        path = outdir / (name + ".png")
        path.write_bytes(plot.histogram_png(title, unit, series))
        written.append(path)
    # Linux metrics none of whose mello counterparts had samples: a plot of their own.
    if linux and not linux.get("skipped"):
        for lname in sorted(linux["samples"]):
            lv, la = linux["samples"][lname], linux["aggregate"].get(lname)
            if not lv or not la or any(mello["samples"].get(o) for o in LINUX_MAP.get(lname, [])):
                continue
            path = outdir / ("linux_%s.png" % lname)
            path.write_bytes(plot.histogram_png("LINUX " + lname, la["unit"], [{
                "label": "LINUX %s: N=%d (%d RUNS) P50=%s P99=%s %s" % (
                    lname, len(lv), len(linux["runs"]), plot.fmt_num(la["p50"]),
                    plot.fmt_num(la["p99"]), la["unit"]),
                "values": lv, "p50": la["p50"], "p99": la["p99"], "color": plot.PALETTE[1]}]))
            written.append(path)
    spawn = [(n, mello["aggregate"].get("spawn_rate_%dcpu" % n)) for n in range(1, 65)]
    spawn = [(n, a) for n, a in spawn if a]
    if spawn:
        path = outdir / "spawn_rate.png"
        path.write_bytes(plot.bars_png("SPAWN RATE (P50 OVER RUNS)", spawn[0][1]["unit"],
                                       [("%d CPU" % n, [("MELLO", a["p50"])]) for n, a in spawn]))
        written.append(path)
    return written


def jsonable(res):
    if res is None:
        return None
    if res.get("skipped"):
        return {"skipped": res["skipped"]}
    return {
        "info": res["info"],
        "runs": [{"log": r["log"], "ok": r["ok"], "status": r["status"], "seconds": r.get("seconds"),
                  "exit": r.get("exit"),
                  "info": r["parsed"]["info"], "metrics": r["metrics"]} for r in res["runs"]],
        "aggregate": res["aggregate"],
        "warnings": res["warnings"],
    }


def rel(p):
    """p relative to the repository if it is inside it."""
    try:
        return str(Path(p).resolve().relative_to(ROOT))
    except ValueError:
        return str(p)


def git(*args):
    try:
        return subprocess.run(["git", "-C", str(ROOT)] + list(args), capture_output=True, text=True,
                              timeout=20).stdout.strip()
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
    commit = git("rev-parse", "--short", "HEAD") or "nogit"
    return {
        "date": datetime.date.today().isoformat(),
        "commit": commit,
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "host_cores": os.cpu_count(),
        "qemu": qemu_version(),
        "accel": args.accel, "smp": args.smp, "mem": args.mem,
        "command": command,
        "warnings": [],
    }


def noise_warnings(meta, mello, linux):
    w = []
    cores = meta["host_cores"] or 0
    if int(meta["smp"]) > cores:
        w.append("host looks too noisy: %s vCPUs on %d host cores; latency numbers are oversubscribed"
                 % (meta["smp"], cores))
    for label, res in (("mello", mello), ("linux", linux)):
        if not res or res.get("skipped"):
            continue
        noisy = ["%s (%.0f%%)" % (name, res["aggregate"][name]["p50_spread_pct"])
                 for name in order(set(res["aggregate"]))
                 if res["aggregate"][name]["runs"] > 1
                 and res["aggregate"][name]["p50_spread_pct"] > NOISE_SPREAD_PCT]
        if noisy:
            w.append("%s: p50 spread across runs exceeds %.0f%% for %s; treat those as noise-dominated"
                     % (label, NOISE_SPREAD_PCT, ", ".join(noisy)))
    for label, res in (("mello", mello), ("linux", linux)):
        if res and res.get("runs"):
            bad = [i for i, r in enumerate(res["runs"], 1) if not r["ok"]]
            if bad:
                w.append("%s run(s) %s failed or hung (see the end of this report)"
                         % (label, ", ".join(map(str, bad))))
    return w


def write_outputs(meta, mello, linux, outdir):
    """Writes <date>-<commit>.json/.md and the PNGs; returns (md text, paths)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    stem = "%s-%s" % (meta["date"], meta["commit"])
    meta["warnings"] = noise_warnings(meta, mello, linux) + meta.get("extra_warnings", [])
    plots = write_plots(outdir / stem, mello, linux)
    meta["plots"] = [str(p.relative_to(outdir)) for p in plots]
    md = markdown(meta, mello, linux)
    doc = {
        "schema": 1,
        "date": meta["date"], "commit": meta["commit"], "dirty": meta["dirty"],
        "command": meta["command"],
        "host": {"cores": meta["host_cores"], "qemu": meta["qemu"]},
        "accel": meta["accel"], "smp": meta["smp"], "mem": meta["mem"],
        "warnings": meta["warnings"],
        "mello": jsonable(mello),
        "linux": jsonable(linux),
        "linux_map": LINUX_MAP,
        "linux_append": LINUX_APPEND,
        "comparison": [{"metric": n, "linux_metric": l, "unit": m["unit"] if m else None,
                        "mello_p50": m["p50"] if m else None, "mello_p99": m["p99"] if m else None,
                        "linux_p50": l_["p50"] if l_ else None, "linux_p99": l_["p99"] if l_ else None,
                        "ratio_linux_over_mello_p50": r}
                       for n, l, m, l_, r in compare_rows(mello, linux)] if linux and not linux.get("skipped") else [],
        "plots": meta["plots"],
    }
    jpath, mpath = outdir / (stem + ".json"), outdir / (stem + ".md")
    jpath.write_text(json.dumps(doc, indent=1) + "\n")
    mpath.write_text(md)
    return md, [jpath, mpath] + plots


# ---------------------------------------------------------------- running ---

def run_guest(cmd, log_path, timeout, env=None):
    """Runs a QEMU command with stdout+stderr to log_path, killing its whole
    process group after timeout seconds. Returns (exit status or None if
    killed, seconds)."""
    t0 = time.monotonic()
    with open(log_path, "wb") as f:
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             cwd=str(ROOT), env=env, start_new_session=True)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = None
        except KeyboardInterrupt:
            os.killpg(p.pid, signal.SIGKILL)
            raise
        if rc is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        else:
            try:  # leftovers of the group (none expected)
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return rc, time.monotonic() - t0


def judge(parsed, rc, ok_rc, timeout):
    if rc is None or rc == 124:
        return False, "hung: no BENCHDONE within %d s, killed" % timeout if not parsed["done"] else \
            "killed after BENCHDONE (timeout %d s)" % timeout
    if not parsed["done"]:
        return False, "failed: exited with status %d without BENCHDONE" % rc
    if ok_rc is not None and rc != ok_rc:
        return False, "failed: BENCHDONE but exit status %d (expected %d)" % (rc, ok_rc)
    if parsed["errors"]:
        return False, "failed: " + "; ".join(parsed["errors"][:3])
    return True, "ok"


def run_series(label, count, make_cmd, ok_rc, timeout, env=None):
    runs = []
    logdir = ROOT / LOG_DIR
    logdir.mkdir(parents=True, exist_ok=True)
    for i in range(1, count + 1):
        log = logdir / ("%s-run%d.log" % (label, i))
        print("[bench] %s run %d/%d ... " % (label, i, count), end="", flush=True)
        rc, secs = run_guest(make_cmd(), log, timeout, env)
        parsed = parse_log(log.read_text(errors="replace"))
        ok, status = judge(parsed, rc, ok_rc, timeout)
        print("%s (%.1f s, %d metrics) -> %s" % (status, secs, len(parsed["metrics"]), rel(log)),
              flush=True)
        if not ok:
            print("[bench]   last %d lines:" % TAIL_LINES)
            for l in parsed["tail"]:
                print("[bench]   | " + l)
        runs.append({"log": rel(log), "ok": ok, "status": status, "seconds": round(secs, 1),
                     "exit": rc, "parsed": parsed})
    return runs


def linux_benches(only):
    if not only:
        return list(LINUX_MAP)
    return [l for l, ours in LINUX_MAP.items() if only in ours or only == l]


def prepare_linux():
    """Builds build/linux/{vmlinuz,initramfs.cpio}; returns None or why not."""
    script = ROOT / "benches/linux/build-initramfs.sh"
    print("[bench] building the Linux guest (benches/linux/build-initramfs.sh) ...", flush=True)
    t0 = time.monotonic()
    try:
        r = subprocess.run(["bash", str(script)], cwd=str(ROOT), timeout=1800)
    except subprocess.TimeoutExpired:
        return "build-initramfs.sh timed out"
    if r.returncode == 3:
        return "the Debian kernel / busybox packages could not be downloaded (see above)"
    if r.returncode != 0:
        return "build-initramfs.sh failed with status %d (see above)" % r.returncode
    print("[bench] Linux guest ready (%.1f s)" % (time.monotonic() - t0), flush=True)
    return None


def accel_args(accel):
    if accel == "kvm":
        return ["-accel", "kvm", "-cpu", "host,-arch-capabilities"]
    return ["-accel", "tcg,thread=multi", "-cpu", "max"]


def cmd_run(args):
    os.chdir(str(ROOT))
    if args.linux_only:
        args.compare = True
    for f in (KERNEL, INITRD) if not args.linux_only else ():
        if not (ROOT / f).exists():
            print("error: %s is missing; build first (make kernel initrd, or use make bench)" % f,
                  file=sys.stderr)
            return 2
    command = "bench.py run --runs %d --smp %s --accel %s%s%s" % (
        args.runs, args.smp, args.accel,
        " --linux-only" if args.linux_only else " --compare" if args.compare else "",
        " --only " + args.only if args.only else "")
    meta = make_meta(args, command)
    if int(args.smp) > (os.cpu_count() or 1):
        print("[bench] warning: host looks too noisy: %s vCPUs on %d host cores; latency numbers are "
              "oversubscribed" % (args.smp, os.cpu_count()), flush=True)
    total0 = time.monotonic()
    env = dict(os.environ, SMP=str(args.smp), MEM=str(args.mem), ACCEL=args.accel, TIMEOUT=str(args.timeout))
    bench_arg = "bench=" + (args.only or "all")
    mello_runs = [] if args.linux_only else run_series(
        "mello", args.runs,
        lambda: ["boot/qemu.sh", KERNEL, INITRD, bench_arg], 33, args.timeout + 30, env)
    mello = analyze(mello_runs)
    linux = None
    if args.compare:
        benches = linux_benches(args.only)
        why = None if benches else "no Linux benchmark maps to %s" % args.only
        why = why or prepare_linux()
        if why:
            print("[bench] Linux comparison skipped: %s" % why, flush=True)
            linux = {"skipped": why}
        else:
            ld = ROOT / LINUX_DIR
            append = LINUX_APPEND + " benches=" + ",".join(benches)
            linux_runs = run_series(
                "linux", args.runs,
                lambda: ["qemu-system-x86_64", "-machine", "q35"] + accel_args(args.accel)
                + ["-smp", str(args.smp), "-m", str(args.mem), "-kernel", str(ld / "vmlinuz"),
                   "-initrd", str(ld / "initramfs.cpio"), "-append", append,
                   "-nographic", "-no-reboot"],
                None, args.linux_timeout)
            linux = analyze(linux_runs)
    meta["extra_warnings"] = []
    md, paths = write_outputs(meta, mello, linux, ROOT / args.out)
    print()
    print(md)
    for label, res in (("mello", mello), ("linux", linux)):
        if res and res.get("warnings"):
            print("[bench] %s parse notes:" % label)
            for w in res["warnings"][:30]:
                print("[bench]   " + w)
    print("[bench] wrote %s (+%d plots) in %.0f s total"
          % (", ".join(rel(p) for p in paths[:2]), len(paths) - 2,
             time.monotonic() - total0))
    failed = any(not r["ok"] for res in (mello, linux) if res and res.get("runs") for r in res["runs"])
    return 1 if failed else 0


def load_runs(paths, ok_rc):
    runs = []
    for p in paths:
        parsed = parse_log(Path(p).read_text(errors="replace"))
        ok, status = (True, "ok") if parsed["done"] else (False, "failed/hung: no BENCHDONE in the log")
        runs.append({"log": str(p), "ok": ok, "status": status, "seconds": None, "exit": None,
                     "parsed": parsed})
    return runs


def cmd_report(args):
    meta = make_meta(args, "bench.py report")
    mello = analyze(load_runs(args.mello, 33))
    linux = analyze(load_runs(args.linux, None)) if args.linux else None
    md, paths = write_outputs(meta, mello, linux, Path(args.out))
    print(md)
    print("[bench] wrote %s (+%d plots)" % (", ".join(map(str, paths[:2])), len(paths) - 2))
    return 1 if any(not r["ok"] for res in (mello, linux) if res for r in res["runs"]) else 0


# --------------------------------------------------------------- selftest ---

def cmd_selftest(_args):
    here = Path(__file__).resolve().parent / "testdata"
    failures, checks = [], [0]

    def check(cond, what):
        checks[0] += 1
        if not cond:
            failures.append(what)

    # percentiles
    check(nearest_rank(list(range(1, 101)), 50) == 50, "nearest_rank p50 of 1..100")
    check(nearest_rank(list(range(1, 101)), 99) == 99, "nearest_rank p99 of 1..100")
    check(nearest_rank([7], 99) == 7, "nearest_rank of one sample")
    check(nearest_rank(list(range(1, 11)), 99) == 10, "nearest_rank p99 of 1..10")

    # parser on the sample mello log
    text = (here / "sample.log").read_text()
    p = parse_log(text)
    check(p["done"], "sample.log: BENCHDONE found")
    check(p["info"].get("os") == "mello" and p["info"].get("tsc_hz") == "2000000000", "BENCHINFO parsed")
    check(len(p["metrics"]["timer_wake"]["samples"]) == 200, "timer_wake: 200 samples across lines")
    check(p["metrics"]["spawn_rate_4cpu"]["summary"]["p50"] == 412000, "spawn_rate_4cpu summary")
    check("BENCHX" not in p["metrics"] and "bogus" not in p["metrics"], "junk lines ignored")
    check(any("garbled" in w for w in p["warnings"]), "garbled sample reported")
    res = analyze([{"log": "sample.log", "ok": True, "status": "ok", "parsed": p}])
    tw = res["aggregate"]["timer_wake"]
    # samples are 1000..20900 cycles step 100 => ns = cycles / 2 at 2 GHz
    check(tw["unit"] == "ns", "cycles converted to ns")
    check(tw["min"] == 500 and tw["max"] == 10450, "timer_wake min/max in ns: %s/%s" % (tw["min"], tw["max"]))
    check(tw["p50"] == 5450 and tw["p99"] == 10350, "timer_wake p50/p99 (nearest rank): %s/%s" % (tw["p50"], tw["p99"]))
    check(not any("timer_wake: summary" in w for w in res["warnings"]),
          "timer_wake summary computed with index (n-1)*p/100 agrees")
    check(any("syscall_getpid: summary p50 disagrees" in w for w in res["warnings"]),
          "a wrong summary is flagged: %s" % res["warnings"])
    check(any("wake_cross_busy: 50 BSAMPLES values but n=100" in w for w in res["warnings"]),
          "sample count mismatch flagged")
    check(res["aggregate"]["wake_cross_busy"]["p50"] == 1500, "count mismatch uses the summary")
    check(res["aggregate"]["ap_bringup"]["unit"] == "us", "unit us kept")

    # hung log
    hung = parse_log("BENCHINFO os=mello tsc_hz=1000\nBENCH name=x unit=ns min=1 p50=1 p99=1 max=1 n=1\n"
                     + "\n".join("line %d" % i for i in range(30)))
    check(not hung["done"] and len(hung["tail"]) == TAIL_LINES and hung["tail"][-1] == "line 29", "hung log tail")
    ok, status = judge(hung, 124, 33, 180)
    check(not ok and status.startswith("hung"), "hung judged: %s" % status)
    ok, status = judge(p, 35, 33, 180)
    check(not ok and "35" in status, "exit 35 after BENCHDONE is a failure")
    check(judge(p, 33, 33, 180) == (True, "ok"), "exit 33 + BENCHDONE is ok")
    e = parse_log("BENCHERR name=pipe_pingpong_cross exit=1\nBENCHDONE\n")
    ok, status = judge(e, 0, None, 300)
    check(not ok and "pipe_pingpong_cross" in status, "BENCHERR fails a Linux run: %s" % status)

    # two runs (the second scaled by 1.5 => 50% spread) + the Linux sample; outputs
    text2 = re.sub(r"tsc_hz=2000000000", "tsc_hz=1333333333", text)
    p2 = parse_log(text2)
    lp = parse_log((here / "sample-linux.log").read_text())
    check(lp["done"] and lp["info"].get("os") == "linux", "linux sample parsed")
    mello = analyze([{"log": "a", "ok": True, "status": "ok", "parsed": p},
                     {"log": "b", "ok": False, "status": "hung: test", "parsed": hung},
                     {"log": "c", "ok": True, "status": "ok", "parsed": p2}])
    linux = analyze([{"log": "l", "ok": True, "status": "ok", "parsed": lp}])
    check(mello["aggregate"]["timer_wake"]["runs"] == 2, "aggregate over the runs that have the metric")
    check(abs(mello["aggregate"]["timer_wake"]["p50_spread_pct"] - 40.0) < 0.5,
          "spread %% = (max-min)/median: %s" % mello["aggregate"]["timer_wake"]["p50_spread_pct"])

    class A:
        accel, smp, mem = "tcg", 8, "512M"
    meta = make_meta(A, "selftest")
    meta["host_cores"] = 2
    with tempfile.TemporaryDirectory() as td:
        md, paths = write_outputs(meta, mello, linux, td)
        doc = json.loads(paths[0].read_text())
        check(doc["smp"] == 8 and doc["host"]["cores"] == 2, "json meta")
        check(doc["mello"]["aggregate"]["timer_wake"]["p50"] == mello["aggregate"]["timer_wake"]["p50"], "json agg")
        check(len(doc["mello"]["runs"]) == 3, "json runs")
        comp = {(c["metric"], c["linux_metric"]): c for c in doc["comparison"]}
        c = comp.get(("wake_cross_idle", "futex_pingpong_cross"))
        check(c is not None and c["ratio_linux_over_mello_p50"] is not None, "comparison row with ratio")
        check(("ipc_pingpong_user", "pipe_pingpong_cross") in comp, "two Linux metrics for one of ours")
        check("host looks too noisy: 8 vCPUs on 2 host cores" in md, "oversubscription warning")
        check("exceeds 25% for timer_wake (40%)" in md, "spread warning in markdown")
        check("## mello run 2: hung: test" in md and "line 29" in md, "failed run + tail in markdown")
        check("| timer_wake | ns | " in md and "linux/mello p50" in md, "markdown table")
        pngs = [x for x in paths if x.suffix == ".png"]
        check(any(x.name == "timer_wake.png" for x in pngs), "timer_wake.png written")
        check(any(x.name == "spawn_rate.png" for x in pngs), "spawn_rate.png written")
        for x in pngs:
            try:
                w, h = plot.png_read_header(x.read_bytes())
                check(w == 1000 and h > 100, "%s size %dx%d" % (x.name, w, h))
            except ValueError as e:
                check(False, "%s: %s" % (x.name, e))
        md2, _ = write_outputs(dict(meta), mello, {"skipped": "no network"}, Path(td) / "skip")
        check("Linux comparison skipped: no network" in md2 and "linux p50" not in md2,
              "skipped Linux comparison reported")
        if os.environ.get("BENCH_SELFTEST_KEEP"):
            keep = Path(os.environ["BENCH_SELFTEST_KEEP"])
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(td, keep)
            print("selftest outputs copied to %s" % keep)
    # a single-series linear histogram and a log one render
    plot.png_read_header(plot.histogram_png("t", "ns", [{"label": "x", "values": [5, 5, 6, 7]}]))
    plot.png_read_header(plot.histogram_png("t", "ns", [{"label": "x", "values": [0, 1, 10 ** 6]}]))
    for f in failures:
        print("FAIL: " + f)
    print("selftest: %d passed, %d failed" % (checks[0] - len(failures), len(failures)))
    return 1 if failures else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(p):
        p.add_argument("--smp", default=os.environ.get("SMP") or "8", help="vCPUs (default $SMP or 8)")
        p.add_argument("--mem", default=os.environ.get("MEM") or "512M", help="guest RAM (default $MEM or 512M)")
        p.add_argument("--accel", default=os.environ.get("ACCEL") or "tcg", choices=["tcg", "kvm"],
                       help="QEMU accelerator (default $ACCEL or tcg)")
        p.add_argument("--out", default=str(ROOT / RESULTS), help="results directory (default benches/results)")

    r = sub.add_parser("run", help="boot the guests and write results")
    common(r)
    r.add_argument("--runs", type=int, default=3, help="boots per OS (default 3)")
    r.add_argument("--compare", action="store_true", help="also run the Linux guest")
    r.add_argument("--linux-only", action="store_true",
                   help="run only the Linux guest (to check the comparison set-up)")
    r.add_argument("--only", metavar="NAME", help="one benchmark: bench=NAME, and the Linux ones mapped to it")
    r.add_argument("--timeout", type=int, default=180, help="seconds per mello boot (default 180)")
    r.add_argument("--linux-timeout", type=int, default=300, help="seconds per Linux boot (default 300)")
    rp = sub.add_parser("report", help="outputs from saved serial logs")
    common(rp)
    rp.add_argument("--mello", nargs="+", required=True, metavar="LOG")
    rp.add_argument("--linux", nargs="*", default=[], metavar="LOG")
    sub.add_parser("selftest", help="check parser and outputs on testdata/ (no QEMU)")
    args = ap.parse_args(argv)
    if args.cmd == "run":
        if args.runs < 1:
            ap.error("--runs must be at least 1")
        return cmd_run(args)
    if args.cmd == "report":
        return cmd_report(args)
    return cmd_selftest(args)


if __name__ == "__main__":
    sys.exit(main())
