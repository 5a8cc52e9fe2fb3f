"""Tests of benches/runner/trace.py on a recorded kernel trace and on synthetic ones.

Run: python3 -m unittest discover -s benches/runner
"""

import io
import json
import os
import unittest
from contextlib import redirect_stderr, redirect_stdout

import importlib.util

# benches/runner/trace.py by path: `import trace` could find the standard library's.
_spec = importlib.util.spec_from_file_location(
    "mello_trace", os.path.join(os.path.dirname(os.path.abspath(__file__)), "trace.py"))
tr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tr)

SAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "testdata", "trace-ipc_pingpong_kernel.log")


def load_sample():
    with open(SAMPLE) as f:
        return tr.parse(f)


def slices(chrome, tid):
    return [e for e in chrome["traceEvents"] if e.get("ph") == "X" and e.get("tid") == tid]


def assert_nested(tc, xs):
    """Slices on one track never partly overlap (Chrome JSON needs proper nesting)."""
    stack = []
    for s in sorted(xs, key=lambda s: (s["ts"], -s["dur"])):
        end = s["ts"] + s["dur"]
        while stack and stack[-1] <= s["ts"]:
            stack.pop()
        if stack:
            tc.assertLessEqual(round(end * 1000), round(stack[-1] * 1000), f"{s} overlaps its parent's end")
        stack.append(end)


def enclosing(xs, ts, cat):
    return [s for s in xs if s["cat"] == cat and s["ts"] <= ts <= s["ts"] + s["dur"]]


class RecordedTrace(unittest.TestCase):
    def test_parse(self):
        t = load_sample()
        self.assertEqual(t.tsc_hz, 2617082400)
        self.assertEqual(t.cpus, 2)
        self.assertEqual(t.classes, "all")
        self.assertEqual(len(t.events), 83)
        self.assertEqual(t.lost, 12675)
        self.assertTrue(t.done)
        self.assertEqual(t.names[0], "task")

    def test_json_tracks_slices_and_flows(self):
        t = load_sample()
        chrome = json.loads(json.dumps(tr.to_chrome(t)))
        names = {e["tid"]: e["args"]["name"] for e in chrome["traceEvents"]
                 if e.get("ph") == "M" and e["name"] == "thread_name"}
        self.assertEqual(names, {0: "CPU 0", 1: "CPU 1"})
        for cpu in (0, 1):
            xs = slices(chrome, cpu)
            self.assertTrue(all(s["dur"] >= 0 for s in xs))
            self.assertTrue(any(s["cat"] == "poll" for s in xs))
            self.assertTrue(any(s["cat"] == "halt" for s in xs))
            assert_nested(self, xs)
        flows = {}
        for e in chrome["traceEvents"]:
            if e.get("ph") in ("s", "f"):
                flows.setdefault(e["id"], {})[e["ph"]] = e
        self.assertEqual(len(flows), 12 - 1)  # every wake but one whose poll is past the window
        for fid, pair in flows.items():
            self.assertEqual(set(pair), {"s", "f"}, fid)
            s, f = pair["s"], pair["f"]
            self.assertEqual(f["bp"], "e")
            self.assertLess(s["ts"], f["ts"])
            wake = enclosing(slices(chrome, s["tid"]), s["ts"], "wake")
            poll = enclosing(slices(chrome, f["tid"]), f["ts"], "poll")
            self.assertEqual(len(wake), 1, s)
            self.assertEqual(len(poll), 1, f)
            self.assertEqual(wake[0]["args"]["task"], poll[0]["args"]["task"])
            self.assertNotEqual(s["tid"], f["tid"])  # ping-pong: every wake crosses CPUs

    def test_report_steps(self):
        t = load_sample()
        text = tr.report(t, "sample")
        ipi, no_ipi, same = tr.chains(t)
        self.assertEqual(len(ipi), 11)
        self.assertEqual((no_ipi, same), ([], []))
        for c in ipi:
            parts = ["wake -> ipi_send", "ipi_send -> ipi_recv", "ipi_recv -> halt_end", "halt_end -> poll_begin"]
            self.assertEqual(sum(c[p] for p in parts), c["total wake -> poll_begin"])
            self.assertTrue(all(c[p] >= 0 for p in parts))
        for step in tr.STEP_ORDER:
            self.assertIn(step, text)
        self.assertIn("Cross-CPU wakes of a halted CPU (wake, IPI, halt exit, poll): 11", text)

    def test_cli_writes_json_and_report(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            out, rep = os.path.join(d, "t.json"), os.path.join(d, "t.txt")
            with redirect_stdout(io.StringIO()) as o:
                self.assertEqual(tr.main([SAMPLE, "--json", out, "--report", rep]), 0)
            with open(out) as f:
                self.assertIn("traceEvents", json.load(f))
            with open(rep) as f:
                self.assertEqual(f.read() + f"wrote {out}: open it at https://ui.perfetto.dev (Open trace file)\n",
                                 o.getvalue())
            empty = os.path.join(d, "empty.log")
            with open(empty, "w") as f:
                f.write("BENCHDONE\n")
            with redirect_stderr(io.StringIO()) as e:
                self.assertEqual(tr.main([empty]), 1)
            self.assertIn("no TRACE lines", e.getvalue())


def synth(*rows, hz=1_000_000):
    """A trace from (cpu, tsc, kind, task, a, b) rows; 1 MHz so 1 cycle = 1 us."""
    lines = [f"TRACEINFO tsc_hz={hz} cpus=2 classes=all capacity=8", "TRACENAME 0 user"]
    lines += [f"TRACE {c} {ts:x} {k} {task:x} {a} {b}" for c, ts, k, task, a, b in rows]
    return tr.parse(lines + ["TRACEDONE lost=0", "garbage TRACE line", "TRACE 1 zz wake 0 0 0"])


class SyntheticTrace(unittest.TestCase):
    def test_ring_that_starts_inside_a_poll(self):
        t = synth((0, 10, "ipi_recv", 0, 0, 0), (0, 20, "poll_end", 5, 0, 0), (0, 30, "halt_begin", 0, 0, 0))
        xs = slices(tr.to_chrome(t), 0)
        self.assertEqual([(s["cat"], s["ts"], s["dur"]) for s in xs], [("poll", 0, 10.0), ("halt", 20.0, 0.0)])

    def test_ring_that_starts_inside_a_blocking_syscall(self):
        # As recorded from ipc_pingpong_user: the ring begins inside a poll whose
        # system call blocks; later polls resume it.
        t = synth(
            (0, 10, "syscall_exit", 7, 4, 8), (0, 11, "user_enter", 7, 0, 0), (0, 12, "user_exit", 7, 256, 0),
            (0, 13, "syscall_enter", 7, 4, 0), (0, 14, "poll_end", 7, 0, 0),
            (0, 15, "halt_begin", 0, 0, 0), (0, 16, "ipi_recv", 0, 0, 0), (0, 17, "halt_end", 0, 0, 0),
            (0, 18, "poll_begin", 7, 0, 0), (0, 19, "syscall_exit", 7, 4, 8), (0, 20, "user_enter", 7, 0, 0),
            (0, 21, "user_exit", 7, 256, 0), (0, 22, "syscall_enter", 7, 4, 0), (0, 23, "poll_end", 7, 0, 0),
        )
        xs = slices(tr.to_chrome(t), 0)
        assert_nested(self, xs)
        got = [(s["name"], s["ts"], s["dur"]) for s in xs]
        self.assertEqual(got, [
            ("syscall 4", 0.0, 0.0), ("ring 3", 1.0, 1.0), ("syscall 4 (blocked)", 3.0, 0.999),
            ("user 0x7", 0.0, 4.0), ("halt", 5.0, 2.0), ("ring 3", 10.0, 1.0),
            ("syscall 4 (blocked)", 12.0, 0.999), ("user 0x7", 8.0, 5.0)])

    def test_blocking_syscall_and_ring3(self):
        t = synth(
            (0, 0, "poll_begin", 7, 0, 0), (0, 1, "user_enter", 7, 0, 0), (0, 5, "user_exit", 7, 256, 0),
            (0, 6, "syscall_enter", 7, 4, 0), (0, 8, "syscall_exit", 7, 4, 0),  # returns at once
            (0, 9, "user_enter", 7, 0, 0), (0, 12, "user_exit", 7, 256, 0),
            (0, 13, "syscall_enter", 7, 5, 0), (0, 15, "poll_end", 7, 0, 0),  # blocks
            (1, 20, "wake", 7, 0, 0),
            (0, 30, "poll_begin", 7, 0, 0), (0, 31, "syscall_exit", 7, 5, 3), (0, 32, "poll_end", 7, 0, 0),
        )
        chrome = tr.to_chrome(t)
        xs = slices(chrome, 0)
        assert_nested(self, xs)
        got = [(s["name"], s["ts"], s["dur"]) for s in xs]
        self.assertIn(("ring 3", 1.0, 4.0), got)
        self.assertIn(("syscall 4", 6.0, 2.0), got)
        self.assertIn(("syscall 5 (blocked)", 13.0, 1.999), got)
        self.assertIn(("user 0x7", 0.0, 15.0), got)
        s = [e for e in chrome["traceEvents"] if e.get("ph") == "s"]
        f = [e for e in chrome["traceEvents"] if e.get("ph") == "f"]
        self.assertEqual((len(s), len(f)), (1, 1))
        self.assertEqual((s[0]["tid"], f[0]["tid"]), (1, 0))
        self.assertAlmostEqual(f[0]["ts"], 30.0, places=2)
        _, no_ipi, _ = tr.chains(t)
        self.assertEqual(no_ipi, [10])


if __name__ == "__main__":
    unittest.main()
