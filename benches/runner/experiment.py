"""`bench.py experiment`: is B better than A, by how much, and is that more than
noise? Boots the two sides alternately (run.pair_order), pairs the runs and
applies the verdict rule of stats.paired to every metric. A side is tunables
(kernel command-line tokens after `bench=<name>`), `@<git revision>` (a kernel
built from that revision), or both: `@<rev> tok tok`."""
import os
import time

import report
import run
import stats
from config import ROOT, order


def parse_side(spec):
    """'@rev tok tok' -> {"rev": "rev", "tunables": ["tok", "tok"]}; rev None
    means the working tree's build."""
    toks = (spec or "").split()
    rev = None
    if toks and toks[0].startswith("@"):
        rev = toks.pop(0)[1:]
        if not rev:
            raise ValueError("'@' without a revision in %r" % spec)
    if any(t.startswith("@") for t in toks):
        raise ValueError("a revision (@rev) must come first in %r" % spec)
    return {"spec": spec or "", "rev": rev, "tunables": toks}


def cmdline(bench, tunables):
    return " ".join(["bench=" + bench] + list(tunables))


def prepare_side(side, bench):
    """Fills in the kernel, initrd, command line and a description of the build."""
    if side["rev"]:
        sha, kernel, initrd = run.build_rev(side["rev"])
        side.update(sha=sha, build="kernel of %s (%s)" % (side["rev"], sha[:12]))
    else:
        kernel, initrd = run.working_tree_build()
        side.update(sha=None, build="working tree")
    side.update(kernel=str(kernel), initrd=str(initrd), cmdline=cmdline(bench, side["tunables"]))
    return side


def run_experiment(sides, args, prefix):
    """Boots the pairs in run.pair_order; returns (runs, stopped or None). Stops
    early after args.max_failures failed boots."""
    runs, failures, stopped = [], 0, None
    env = run.qemu_env(args)
    plan = run.pair_order(args.runs)
    for k, (pair, s) in enumerate(plan, 1):
        side = sides[s]
        log = run.log_path("exp-%s-run%d.log" % (s, pair + 1))
        title = "%d/%d pair %d side %s [%s]" % (k, len(plan), pair + 1, s, side["cmdline"])
        r = run.run_one(title, run.mello_cmd(prefix, side["kernel"], side["initrd"], side["cmdline"]),
                        log, 33, args.timeout + 30, env)
        r.update(side=s, pair=pair, cmdline=side["cmdline"])
        runs.append(r)
        if not r["ok"]:
            failures += 1
            if failures >= args.max_failures:
                stopped = "stopped after %d failed boot(s) (--max-failures %d); the last: %s" % (
                    failures, args.max_failures, r["status"])
                print("[bench] " + stopped, flush=True)
                break
    return runs, stopped


def analyze_experiment(sides, runs, pairs):
    """Per metric: stats.paired over the pairs (B over A), plus per side the
    BENCHINFO of its runs and its counts per operation."""
    by_side = {s: [r for r in runs if r["side"] == s] for s in ("A", "B")}
    analyzed = {s: stats.analyze(rs) for s, rs in by_side.items()}
    per_pair = {s: {r["pair"]: r for r in rs} for s, rs in by_side.items()}
    names = set()
    for s in ("A", "B"):
        names |= set(analyzed[s]["aggregate"])
    results = {}
    for name in order(names):
        units = {analyzed[s]["aggregate"][name]["unit"] for s in ("A", "B") if name in analyzed[s]["aggregate"]}
        if len(units) != 1:
            continue

        def p50(s, i):
            r = per_pair[s].get(i)
            return r["metrics"][name]["p50"] if r and name in r.get("metrics", {}) else None
        a = [p50("A", i) for i in range(pairs)]
        b = [p50("B", i) for i in range(pairs)]
        results[name] = stats.paired(a, b, units.pop())
        results[name]["a_p50s"], results[name]["b_p50s"] = a, b
    out_sides = {}
    for s in ("A", "B"):
        info = {}
        for r in by_side[s]:
            info.update(r["parsed"]["info"])
        out_sides[s] = {k: sides[s][k] for k in ("spec", "rev", "sha", "tunables", "cmdline", "build",
                                                 "kernel", "initrd")}
        out_sides[s].update(info=info, runs=len(by_side[s]), ok_runs=sum(r["ok"] for r in by_side[s]),
                            counts=analyzed[s]["counts"], warnings=analyzed[s]["warnings"])
    labels = ["%s%d" % (r["side"], r["pair"] + 1) for r in runs]
    return {"sides": out_sides, "results": results, "runs": runs, "order_labels": labels}


def main(args):
    """The `experiment` command. Returns the exit status."""
    try:
        sides = {"A": parse_side(args.a), "B": parse_side(args.b)}
    except ValueError as e:
        print("error: %s" % e)
        return 2
    if sides["A"]["spec"].split() == sides["B"]["spec"].split():
        print("[bench] note: A and B are the same (%r): an A/A run, every verdict should be 'no difference'"
              % args.a, flush=True)
    bench = args.only or "all"
    try:
        for s in ("A", "B"):
            prepare_side(sides[s], bench)
    except RuntimeError as e:
        print("error: %s" % e)
        return 2
    for s in ("A", "B"):
        for f in (sides[s]["kernel"], sides[s]["initrd"]):
            if not os.path.exists(f):
                print("error: %s is missing; build first (make kernel initrd, or use make experiment)" % f)
                return 2
    prefix, notes = run.noise_prefix(args.rt, args.pin)
    for n in notes:
        print("[bench] " + n, flush=True)
    command = "bench.py experiment --a %r --b %r --runs %d --smp %s --accel %s%s%s%s" % (
        args.a, args.b, args.runs, args.smp, args.accel, " --only " + args.only if args.only else "",
        " --rt" if args.rt else "", " --pin " + args.pin if args.pin else "")
    meta = report.make_meta(args, command)
    meta["extra_warnings"] = list(notes)
    t0 = time.monotonic()
    runs, stopped = run_experiment(sides, args, prefix)
    exp = analyze_experiment(sides, runs, args.runs)
    exp["stopped"] = stopped
    if stopped:
        meta["extra_warnings"].append(stopped)
    if args.runs < stats.min_pairs():
        meta["extra_warnings"].append("%d pairs give no %.0f%% interval: use RUNS=%d or more" % (
            args.runs, stats.CONFIDENCE * 100, stats.min_pairs()))
    md, paths = report.write_experiment(meta, exp, ROOT / args.out)
    print()
    print(md)
    print("[bench] wrote %s in %.0f s" % (", ".join(report.rel(p) for p in paths), time.monotonic() - t0))
    return 1 if stopped or any(not r["ok"] for r in runs) else 0
