#!/usr/bin/env python3
"""Scheduler trace converter: the kernel's TRACE lines -> Perfetto (Chrome JSON) + report.

A run with `trace=<classes>` on the kernel command line ends by printing its per-CPU
rings (kernel/src/sched/trace.rs):

    TRACEINFO tsc_hz=<hz> cpus=<n> classes=<...> capacity=<records per CPU>
    TRACENAME <index> <task name>
    TRACE <cpu> <tsc hex> <kind> <task hex> <a> <b>
    TRACEDONE lost=<records overwritten>

`trace.py LOG --json OUT.json [--report OUT.txt]` writes a trace that ui.perfetto.dev
opens (one track per CPU; slices for polls, halts, idle polls, ring 3 and system calls;
instants for IPIs, timer interrupts, steals and migrations; a flow arrow from each wake
to the poll it caused) and prints a report of where a wake's time goes, step by step
(medians). Python standard library only.
"""

import argparse
import bisect
import json
import statistics
import sys
from collections import Counter, defaultdict

# Slice kinds: begin kind -> (end kind, slice name prefix).
SLICES = {
    "poll_begin": ("poll_end", None),  # named after the task
    "halt_begin": ("halt_end", "halt"),
    "idle_poll_begin": ("idle_poll_end", "idle poll"),
    "user_enter": ("user_exit", "ring 3"),
    "syscall_enter": ("syscall_exit", "syscall"),
}
ENDS = {end: begin for begin, (end, _) in SLICES.items()}
INSTANTS = {"ipi_send", "ipi_recv", "timer_irq", "timers_fired", "steal", "migrate"}
# Times are whole nanoseconds since the first record, written in microseconds (so the
# viewer gets back exactly those integers). Flow points sit EPS ns inside the slices
# they bind to, and a slice cut short by its parent's end stops EPS ns before it, so
# no two boundaries that must nest ever coincide.
EPS = 1


class Trace:
    """A parsed trace: info, task names, and events (dicts) in per-CPU ring order."""

    def __init__(self):
        self.tsc_hz = 0
        self.cpus = 0
        self.classes = ""
        self.lost = 0
        self.names = {}
        self.events = []
        self.done = False

    def us(self, cycles):
        return cycles * 1e6 / self.tsc_hz if self.tsc_hz else float(cycles)


def parse(lines):
    """Parses a serial log; anything that is not a trace line is ignored."""
    t = Trace()
    for line in lines:
        line = line.strip()
        if line.startswith("TRACEINFO "):
            kv = dict(p.split("=", 1) for p in line.split()[1:] if "=" in p)
            t.tsc_hz = int(kv.get("tsc_hz", 0))
            t.cpus = int(kv.get("cpus", 0))
            t.classes = kv.get("classes", "")
        elif line.startswith("TRACENAME "):
            parts = line.split(maxsplit=2)
            if len(parts) == 3:
                t.names[int(parts[1])] = parts[2]
        elif line.startswith("TRACE "):
            p = line.split()
            if len(p) != 7:
                continue
            try:
                t.events.append({"cpu": int(p[1]), "tsc": int(p[2], 16), "kind": p[3],
                                 "task": int(p[4], 16), "a": int(p[5]), "b": int(p[6])})
            except ValueError:
                continue
        elif line.startswith("TRACEDONE"):
            t.done = True
            for part in line.split()[1:]:
                if part.startswith("lost="):
                    t.lost = int(part[5:])
    t.cpus = max([t.cpus] + [e["cpu"] + 1 for e in t.events])
    return t


def per_cpu(t):
    cpus = defaultdict(list)
    for e in t.events:
        cpus[e["cpu"]].append(e)
    return cpus


def wake_targets(t):
    """[(wake event, the poll_begin event it caused or None)] for every wake."""
    polls = defaultdict(list)
    for e in t.events:
        if e["kind"] == "poll_begin":
            polls[e["task"]].append(e)
    for v in polls.values():
        v.sort(key=lambda e: e["tsc"])
    keys = {task: [e["tsc"] for e in v] for task, v in polls.items()}
    out = []
    for e in t.events:
        if e["kind"] != "wake":
            continue
        v = polls.get(e["task"], [])
        i = bisect.bisect_left(keys.get(e["task"], []), e["tsc"])
        out.append((e, v[i] if i < len(v) else None))
    return out


def to_chrome(t):
    """The trace as a Chrome trace-event JSON object (ui.perfetto.dev opens it)."""
    t0 = min((e["tsc"] for e in t.events), default=0)
    ns = lambda tsc: round(t.us(tsc - t0) * 1000)
    us = lambda n: n / 1000
    out = [{"ph": "M", "pid": 0, "name": "process_name", "args": {"name": "mello CPUs"}}]
    for c in range(t.cpus):
        out.append({"ph": "M", "pid": 0, "tid": c, "name": "thread_name", "args": {"name": f"CPU {c}"}})
        out.append({"ph": "M", "pid": 0, "tid": c, "name": "thread_sort_index", "args": {"sort_index": c}})
    poll_slices = {}  # id(poll_begin event) -> its slice
    task_names = {e["task"]: t.names.get(e["a"], "task") for e in t.events if e["kind"] == "poll_begin"}
    for cpu, evs in sorted(per_cpu(t).items()):
        first, last = evs[0]["tsc"], evs[-1]["tsc"]
        stack = []  # open slices: [begin kind, begin event]
        seen = set()  # begin kinds met so far on this CPU

        def close(begin_kind, b, end_tsc, suffix="", cut=False):
            name = task_names.get(b["task"], "task") if begin_kind == "poll_begin" else SLICES[begin_kind][1]
            args = {}
            if b.get("task"):
                args["task"] = hex(b["task"])
            if begin_kind == "syscall_enter":
                name = f"syscall {b['a']}{suffix}"
            if begin_kind == "poll_begin":
                name = f"{name} {b['task']:#x}"
            s = {"ph": "X", "pid": 0, "tid": cpu, "name": name, "cat": begin_kind.split("_")[0],
                 "ts": us(ns(b["tsc"])), "dur": us(max(0, ns(end_tsc) - ns(b["tsc"]) - (EPS if cut else 0))),
                 "args": args}
            out.append(s)
            if begin_kind == "poll_begin":
                poll_slices[id(b)] = s

        for e in evs:
            k = e["kind"]
            if k in SLICES:
                seen.add(k)
                stack.append([k, e])
            elif k in ENDS:
                begin = ENDS[k]
                at = next((i for i in range(len(stack) - 1, -1, -1) if stack[i][0] == begin), None)
                if at is None:
                    # No begin of this kind yet: the ring began inside this slice, which
                    # then encloses everything still open. Otherwise it is the end of a
                    # system call that blocked (its slice was cut at its poll's end).
                    if begin not in seen:
                        while stack:
                            bk, b = stack.pop()
                            close(bk, b, e["tsc"], " (blocked)", cut=True)
                        close(begin, dict(e, tsc=first, a=e["a"] if begin != "poll_begin" else -1), e["tsc"])
                    continue
                while len(stack) > at + 1:  # inner slices left open (a syscall that blocked)
                    bk, b = stack.pop()
                    close(bk, b, e["tsc"], " (blocked)", cut=True)
                bk, b = stack.pop()
                close(bk, b, e["tsc"])
            elif k == "wake":
                out.append({"ph": "X", "pid": 0, "tid": cpu, "name": f"wake {e['task']:#x} -> CPU {e['a']}",
                            "cat": "wake", "ts": us(ns(e["tsc"])), "dur": us(2 * EPS), "args": {"task": hex(e["task"])}})
            elif k in INSTANTS:
                args = {"a": e["a"], "b": e["b"]}
                if e["task"]:
                    args["task"] = hex(e["task"])
                name = {"ipi_send": f"IPI -> CPU {e['a']}", "ipi_recv": "IPI received",
                        "timers_fired": f"{e['a']} timers fired",
                        "migrate": f"migrate {e['task']:#x} {e['a']}->{e['b']}"}.get(k, k)
                out.append({"ph": "i", "s": "t", "pid": 0, "tid": cpu, "name": name, "cat": k,
                            "ts": us(ns(e["tsc"])), "args": args})
        while stack:
            bk, b = stack.pop()
            close(bk, b, last, cut=bool(stack))
    flow = 0
    for w, p in wake_targets(t):
        if p is None or id(p) not in poll_slices:
            continue
        flow += 1
        common = {"name": "wake", "cat": "wake", "id": flow, "pid": 0}
        out.append(dict(common, ph="s", tid=w["cpu"], ts=us(ns(w["tsc"]) + EPS)))
        out.append(dict(common, ph="f", bp="e", tid=p["cpu"], ts=us(ns(p["tsc"]) + EPS)))
    return {"traceEvents": out, "displayTimeUnit": "ns",
            "otherData": {"tsc_hz": t.tsc_hz, "classes": t.classes, "lost": t.lost}}


def _next(evs, i, pred, until_tsc):
    """Index of the first event in evs[i:] with tsc <= until_tsc satisfying pred."""
    for j in range(i, len(evs)):
        if evs[j]["tsc"] > until_tsc:
            return None
        if pred(evs[j]):
            return j
    return None


def chains(t):
    """Cross-CPU wakes that needed an IPI, as dicts of step -> cycles, and the others."""
    cpus = per_cpu(t)
    index = {id(e): (c, i) for c, evs in cpus.items() for i, e in enumerate(evs)}
    ipi, no_ipi, same = [], [], []
    for w, p in wake_targets(t):
        if p is None:
            continue
        total = p["tsc"] - w["tsc"]
        if w["cpu"] == p["cpu"]:
            same.append(total)
            continue
        a, ia = index[id(w)]
        b, ib = index[id(p)]
        ea, eb = cpus[a], cpus[b]
        s = _next(ea, ia, lambda e: e["kind"] == "ipi_send" and e["a"] == b, p["tsc"])
        # Only if the IPI follows this wake directly (no other wake in between).
        if s is not None and any(e["kind"] == "wake" for e in ea[ia + 1:s]):
            s = None
        steps = {}
        if s is not None:
            r = next((j for j in range(ib - 1, -1, -1) if eb[j]["kind"] == "ipi_recv"
                      and eb[j]["tsc"] >= ea[s]["tsc"]), None)
            h = _next(eb, r, lambda e: e["kind"] == "halt_end", p["tsc"]) if r is not None else None
            if r is not None and h is not None:
                steps["wake -> ipi_send"] = ea[s]["tsc"] - w["tsc"]
                steps["ipi_send -> ipi_recv"] = eb[r]["tsc"] - ea[s]["tsc"]
                steps["ipi_recv -> halt_end"] = eb[h]["tsc"] - eb[r]["tsc"]
                steps["halt_end -> poll_begin"] = p["tsc"] - eb[h]["tsc"]
        if not steps:
            no_ipi.append(total)
            continue
        # The waker's poll up to the wake (e.g. an IPC send), and the woken poll.
        pb = next((j for j in range(ia - 1, -1, -1) if ea[j]["kind"] in ("poll_begin", "poll_end")), None)
        if pb is not None and ea[pb]["kind"] == "poll_begin":
            steps["waker poll_begin -> wake"] = w["tsc"] - ea[pb]["tsc"]
        pe = _next(eb, ib + 1, lambda e: e["kind"] == "poll_end" and e["task"] == p["task"], float("inf"))
        if pe is not None:
            steps["woken poll_begin -> poll_end"] = eb[pe]["tsc"] - p["tsc"]
        steps["total wake -> poll_begin"] = total
        steps["_woken"] = t.names.get(p["a"], "task")
        ipi.append(steps)
    return ipi, no_ipi, same


STEP_ORDER = ["waker poll_begin -> wake", "wake -> ipi_send", "ipi_send -> ipi_recv",
              "ipi_recv -> halt_end", "halt_end -> poll_begin", "woken poll_begin -> poll_end",
              "total wake -> poll_begin"]


def report(t, title=""):
    """A text report: event counts, time per CPU, and a wake's steps with medians."""
    fmt = lambda c: f"{t.us(c):10.2f} us {int(c):>10} cycles"
    lines = [f"Scheduler trace {title}".rstrip(),
             f"  {len(t.events)} records on {t.cpus} CPUs, classes {t.classes or '?'}, "
             f"tsc_hz {t.tsc_hz}, {t.lost} overwritten" + ("" if t.done else ", TRACEDONE missing (cut short?)")]
    if not t.events:
        return "\n".join(lines + ["  no records"]) + "\n"
    counts = Counter(e["kind"] for e in t.events)
    lines.append("  records: " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())))
    lines.append("")
    lines.append("Time per CPU over its recorded span (halted / polling tasks / ring 3):")
    for cpu, evs in sorted(per_cpu(t).items()):
        span = max(1, evs[-1]["tsc"] - evs[0]["tsc"])
        spent = Counter()
        open_ = {}
        for e in evs:
            k = e["kind"]
            if k in SLICES:
                open_[k] = e["tsc"]
            elif k in ENDS and ENDS[k] in open_:
                spent[ENDS[k]] += e["tsc"] - open_.pop(ENDS[k])
        pct = lambda k: 100.0 * spent[k] / span
        lines.append(f"  CPU {cpu}: span {t.us(span):.0f} us, halted {pct('halt_begin'):5.1f}%, "
                     f"polling {pct('poll_begin'):5.1f}%, ring 3 {pct('user_enter'):5.1f}%")
    ipi, no_ipi, same = chains(t)
    lines.append("")
    lines.append(f"Cross-CPU wakes of a halted CPU (wake, IPI, halt exit, poll): {len(ipi)}; medians per step")
    by_task = Counter(c["_woken"] for c in ipi)
    if by_task:
        lines.append("  woken tasks: " + ", ".join(f"{n} x{k}" for n, k in by_task.most_common(5)))
    for step in STEP_ORDER:
        v = [c[step] for c in ipi if step in c]
        if v:
            lines.append(f"  {step:<30} {fmt(statistics.median(v))}   (n={len(v)})")
    if no_ipi:
        lines.append(f"Cross-CPU wakes with no IPI (target awake): {len(no_ipi)}, median wake -> poll_begin "
                     f"{fmt(statistics.median(no_ipi)).strip()}")
    if same:
        lines.append(f"Same-CPU wakes: {len(same)}, median wake -> poll_begin {fmt(statistics.median(same)).strip()}")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("log", help="serial log of a run with trace= on the command line")
    ap.add_argument("--json", help="write the Perfetto / Chrome trace-event JSON here")
    ap.add_argument("--report", help="also write the text report here")
    args = ap.parse_args(argv)
    with open(args.log, errors="replace") as f:
        t = parse(f)
    if not t.events:
        print(f"trace.py: no TRACE lines in {args.log} (was trace= on the command line?)", file=sys.stderr)
        return 1
    if args.json:
        with open(args.json, "w") as f:
            json.dump(to_chrome(t), f, separators=(",", ":"))
    text = report(t, args.log)
    if args.report:
        with open(args.report, "w") as f:
            f.write(text)
    sys.stdout.write(text)
    if args.json:
        print(f"wrote {args.json}: open it at https://ui.perfetto.dev (Open trace file)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
