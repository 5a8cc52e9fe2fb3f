#!/usr/bin/env python3
"""mello benchmark runner (see docs/benchmarking.md). Modules beside it: parse
(serial logs), stats (every statistic), report (tables, JSON, plots), plot
(matplotlib), run (booting guests), experiment (A/B runs).

  bench.py run [--runs 3] [--smp 8] [--accel tcg] [--compare] [--only NAME]
      Boots the already-built kernel (make kernel initrd) with bench=all (or
      bench=NAME) --runs times; with --compare it alternates with the Linux guest
      of benches/linux/ (built by build-initramfs.sh). Writes
      benches/results/<date>-<commit>.{json,md} and one histogram PNG per metric
      in benches/results/<date>-<commit>/, and prints the markdown table.
  bench.py experiment --a "TUNABLES" --b "@REV TUNABLES" [--runs 10] [--only NAME]
      Boots A and B alternately, pairs the runs and says per metric whether B
      is faster or slower than A beyond noise; counts per operation beside.
  bench.py report --mello LOG... [--linux LOG...]
      The outputs of `run` from saved serial logs (e.g. build/bench/*.log).
  bench.py selftest
      The unit tests (python3 -m unittest discover -s benches/runner).

Exit status: 0, or 1 if any guest run failed or hung (outputs are written anyway),
2 on usage errors.
"""
import argparse
import os
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import experiment  # noqa: E402
import report  # noqa: E402
import run  # noqa: E402
import stats  # noqa: E402
from config import INITRD, KERNEL, RESULTS, ROOT  # noqa: E402
from parse import parse_log  # noqa: E402


def cmd_run(args):
    os.chdir(str(ROOT))
    if args.linux_only:
        args.compare = True
    for f in (KERNEL, INITRD) if not args.linux_only else ():
        if not (ROOT / f).exists():
            print("error: %s is missing; build first (make kernel initrd, or use make bench)" % f,
                  file=sys.stderr)
            return 2
    command = "bench.py run --runs %d --smp %s --accel %s%s%s%s%s" % (
        args.runs, args.smp, args.accel,
        " --linux-only" if args.linux_only else " --compare" if args.compare else "",
        " --only " + args.only if args.only else "", " --rt" if args.rt else "",
        " --pin " + args.pin if args.pin else "")
    meta = report.make_meta(args, command)
    prefix, notes = run.noise_prefix(args.rt, args.pin)
    meta["extra_warnings"] = list(notes)
    for n in notes:
        print("[bench] " + n, flush=True)
    if int(args.smp) > (os.cpu_count() or 1):
        print("[bench] warning: host looks too noisy: %s vCPUs on %d host cores; latency numbers are "
              "oversubscribed" % (args.smp, os.cpu_count()), flush=True)
    total0 = time.monotonic()
    env = run.qemu_env(args)
    linux_skipped = None
    if args.compare:
        benches = run.linux_benches(args.only)
        linux_skipped = (None if benches else "no Linux benchmark maps to %s" % args.only) or run.prepare_linux()
        if linux_skipped:
            print("[bench] Linux comparison skipped: %s" % linux_skipped, flush=True)
    mello_cmd = run.mello_cmd(prefix, KERNEL, INITRD, "bench=" + (args.only or "all"))
    # mello and Linux alternate (A = mello, B = Linux) so host drift hits both.
    plan = [(i, s) for i, s in run.pair_order(args.runs)
            if (s == "A" and not args.linux_only) or (s == "B" and args.compare and not linux_skipped)]
    mello_runs, linux_runs = [], []
    for k, (i, s) in enumerate(plan, 1):
        if s == "A":
            mello_runs.append(run.run_one("mello run %d/%d" % (i + 1, args.runs), mello_cmd,
                                          run.log_path("mello-run%d.log" % (i + 1)), 33, args.timeout + 30, env))
        else:
            linux_runs.append(run.run_one(
                "linux run %d/%d" % (i + 1, args.runs), run.linux_cmd(prefix, args, run.linux_benches(args.only)),
                run.log_path("linux-run%d.log" % (i + 1)), None, args.linux_timeout))
    mello = stats.analyze(mello_runs)
    linux = None
    if args.compare:
        linux = {"skipped": linux_skipped} if linux_skipped else stats.analyze(linux_runs)
    md, paths = report.write_outputs(meta, mello, linux, ROOT / args.out)
    print()
    print(md)
    for label, res in (("mello", mello), ("linux", linux)):
        if res and res.get("warnings"):
            print("[bench] %s parse notes:" % label)
            for w in res["warnings"][:30]:
                print("[bench]   " + w)
    print("[bench] wrote %s (+%d plots) in %.0f s total"
          % (", ".join(report.rel(p) for p in paths[:2]), len(paths) - 2, time.monotonic() - total0))
    failed = any(not r["ok"] for r in mello_runs + linux_runs)
    return 1 if failed else 0


def load_runs(paths):
    runs = []
    for p in paths:
        parsed = parse_log(Path(p).read_text(errors="replace"))
        ok, status = (True, "ok") if parsed["done"] else (False, "failed/hung: no BENCHDONE in the log")
        runs.append({"log": str(p), "ok": ok, "status": status, "seconds": None, "exit": None,
                     "parsed": parsed})
    return runs


def cmd_report(args):
    meta = report.make_meta(args, "bench.py report")
    mello = stats.analyze(load_runs(args.mello))
    linux = stats.analyze(load_runs(args.linux)) if args.linux else None
    md, paths = report.write_outputs(meta, mello, linux, Path(args.out))
    print(md)
    print("[bench] wrote %s (+%d plots)" % (", ".join(map(str, paths[:2])), len(paths) - 2))
    return 1 if any(not r["ok"] for res in (mello, linux) if res for r in res["runs"]) else 0


def cmd_selftest(_args):
    here = Path(__file__).resolve().parent
    suite = unittest.defaultTestLoader.discover(str(here), top_level_dir=str(here))
    return 0 if unittest.TextTestRunner(verbosity=1).run(suite).wasSuccessful() else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(p):
        p.add_argument("--smp", default=os.environ.get("SMP") or "8", help="vCPUs (default $SMP or 8)")
        p.add_argument("--mem", default=os.environ.get("MEM") or "512M", help="guest RAM (default $MEM or 512M)")
        p.add_argument("--accel", default=os.environ.get("ACCEL") or "tcg", choices=["tcg", "kvm"],
                       help="QEMU accelerator (default $ACCEL or tcg)")
        p.add_argument("--out", default=str(ROOT / RESULTS), help="results directory (default benches/results)")

    def booting(p, runs, runs_help):
        p.add_argument("--runs", type=int, default=runs, help=runs_help)
        p.add_argument("--only", metavar="NAME", help="one benchmark: bench=NAME")
        p.add_argument("--timeout", type=int, default=180, help="seconds per mello boot (default 180)")
        p.add_argument("--rt", action="store_true",
                       help="run QEMU at real-time priority (chrt -f 1; root only; off by default)")
        p.add_argument("--pin", metavar="CPUS",
                       help="pin QEMU and its vCPU threads to these host CPUs (taskset -c CPUS)")

    r = sub.add_parser("run", help="boot the guests and write results")
    common(r)
    booting(r, 3, "boots per OS (default 3)")
    r.add_argument("--compare", action="store_true", help="also run the Linux guest, alternating")
    r.add_argument("--linux-only", action="store_true",
                   help="run only the Linux guest (to check the comparison set-up)")
    r.add_argument("--linux-timeout", type=int, default=300, help="seconds per Linux boot (default 300)")
    e = sub.add_parser("experiment", help="A/B: boot two settings alternately and compare")
    common(e)
    booting(e, 10, "pairs (default 10; at least %d for a verdict)" % stats.min_pairs())
    e.add_argument("--a", default="", metavar="SIDE", help="side A: tunables, @REV, or '@REV tunables'")
    e.add_argument("--b", default="", metavar="SIDE", help="side B: the same forms")
    e.add_argument("--max-failures", type=int, default=3, help="stop after this many failed boots (default 3)")
    rp = sub.add_parser("report", help="outputs from saved serial logs")
    common(rp)
    rp.add_argument("--mello", nargs="+", required=True, metavar="LOG")
    rp.add_argument("--linux", nargs="*", default=[], metavar="LOG")
    sub.add_parser("selftest", help="the unit tests (no QEMU)")
    args = ap.parse_args(argv)
    if args.cmd in ("run", "experiment") and args.runs < 1:
        ap.error("--runs must be at least 1")
    if args.cmd == "run":
        return cmd_run(args)
    if args.cmd == "experiment":
        os.chdir(str(ROOT))
        return experiment.main(args)
    if args.cmd == "report":
        return cmd_report(args)
    return cmd_selftest(args)


if __name__ == "__main__":
    sys.exit(main())
